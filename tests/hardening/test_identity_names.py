"""Usernames are NFKC-normalised and compared without regard to case, at creation and sign-in;
names and free text refuse control and bidirectional-override characters (accounts/text.py)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from rest_framework import serializers

from accounts.models import User
from accounts.text import FreeTextField, NameField, neutralise, validate_free_text, validate_name
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "a-long-and-unusual-passphrase-7"
FULLWIDTH_ADMIN = "ａｄｍｉｎ"
RLO = "\u202e"


def create_user_payload(**overrides):
    return {"username": "new.person", "password": STRONG_PASSWORD, "role": "client", "full_name": "New Person"} | (
        overrides
    )


@pytest.fixture
def admin_named_admin(db):
    return factories.UserFactory(username="admin", role="admin", is_staff=True, is_superuser=True)


@pytest.mark.parametrize("lookalike", [FULLWIDTH_ADMIN, "Admin", "ADMIN", " admin "])
def test_a_lookalike_of_an_existing_username_cannot_be_created_by_the_api(api_as, admin_named_admin, lookalike):
    response = api_as(admin_named_admin).post("/api/v1/users/", create_user_payload(username=lookalike), format="json")
    assert response.status_code == 400
    assert "username" in response.json()
    assert User.objects.count() == 1


def test_a_new_username_is_stored_nfkc_normalised(api_as, admin_named_admin):
    response = api_as(admin_named_admin).post(
        "/api/v1/users/", create_user_payload(username="ｊｏ.ｂｌｏｇｇｓ"), format="json"
    )
    assert response.status_code == 201
    assert response.json()["username"] == "jo.bloggs"


def test_a_lookalike_cannot_be_created_in_the_admin(client, admin_named_admin):
    client.force_login(admin_named_admin)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": FULLWIDTH_ADMIN,
            "password1": STRONG_PASSWORD,
            "password2": STRONG_PASSWORD,
            "usable_password": "true",
        },
    )
    assert response.status_code == 200
    assert "username" in response.context["adminform"].form.errors
    assert User.objects.count() == 1


@pytest.mark.parametrize("typed", ["RUTH.ELLIS", "ｒｕｔｈ.ｅｌｌｉｓ", "Ruth.Ellis"])
def test_sign_in_matches_the_username_whatever_its_case_or_width(api, client, typed):
    factories.UserFactory(username="ruth.ellis")
    page = client.post("/sign-in/", {"username": typed, "password": PASSWORD})
    assert page.status_code == 302
    token = api.post("/api/v1/auth/token/", {"username": typed, "password": PASSWORD}, format="json")
    assert token.status_code == 200


def test_no_second_account_differs_only_by_case_so_any_case_signs_in_as_the_one(client):
    """Two accounts differing only by case cannot be stored (accounts 0007), so `SAM` is `sam`."""
    factories.UserFactory(username="sam")
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.UserFactory(username="Sam")
    assert client.post("/sign-in/", {"username": "SAM", "password": PASSWORD}).status_code == 302


def test_changing_the_case_does_not_start_a_fresh_lock_out_count(client, settings):
    person = factories.UserFactory(username="lee")
    for typed in ["lee", "LEE", "Lee", "lEe", "leE"][: settings.AXES_FAILURE_LIMIT]:
        client.post("/sign-in/", {"username": typed, "password": "wrong"})
    assert client.post("/sign-in/", {"username": "LEE", "password": PASSWORD}).status_code == 429
    assert person.is_active


@pytest.mark.parametrize("bad", [f"Eve {RLO}nhoJ", "Bob\u0000", "Al\u200bice", "Zoë\u2066x\u2069", "Tab\tName"])
def test_a_full_name_with_control_or_bidi_characters_is_refused_by_the_api(api_as, admin_named_admin, bad):
    response = api_as(admin_named_admin).post("/api/v1/users/", create_user_payload(full_name=bad), format="json")
    assert response.status_code == 400
    assert "full_name" in response.json()
    assert User.objects.count() == 1


def test_a_team_name_with_a_bidi_override_is_refused(api_as, admin_named_admin, team_manager):
    response = api_as(admin_named_admin).post(
        "/api/v1/teams/", {"name": f"North {RLO}team", "manager": team_manager.pk}, format="json"
    )
    assert response.status_code == 400
    assert "name" in response.json()


def test_a_full_name_with_a_bidi_override_is_refused_in_the_admin(client, admin_named_admin, client_user):
    client.force_login(admin_named_admin)
    form_class = client.get(f"/admin/accounts/user/{client_user.pk}/change/").context["adminform"].form.__class__
    form = form_class(
        instance=client_user,
        data={
            "username": client_user.username,
            "full_name": f"Ruth {RLO}sillE",
            "role": "client",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert not form.is_valid()
    assert "full_name" in form.errors


@pytest.mark.parametrize(
    "name", ["Siobhán O'Connor-Ní Bhriain", "محمد رضا", "می\u200cخواهم", "Nguyễn Thị Minh Khai", "李小龍"]
)
def test_real_names_in_any_script_are_accepted(name):
    validate_name(name)


def test_free_text_keeps_line_breaks_but_refuses_overrides_and_controls():
    validate_free_text("Line one\nLine two\r\n\tindented, with an emoji 👩\u200d👩\u200d👧")
    for bad in [f"pay {RLO}0001£", "bell\u0007", "isolate\u2067x\u2069"]:
        with pytest.raises(ValidationError):
            validate_free_text(bad)


def test_neutralise_strips_what_free_text_refuses_and_keeps_the_rest():
    assert neutralise(f"a{RLO}b\u0000c\nd") == "abc\nd"


def test_the_drf_fields_answer_with_a_field_message():
    assert NameField().run_validation("Ruth Ellis") == "Ruth Ellis"
    with pytest.raises(serializers.ValidationError) as name_error:
        NameField().run_validation(f"x{RLO}")
    assert "control" in str(name_error.value.detail)
    with pytest.raises(serializers.ValidationError):
        FreeTextField().run_validation("x\u202d")
