"""What the wide Schemathesis runs found (tests/hardening/test_schemathesis_api.py with many examples),
each a 400 with a field message and nothing written. Each was a 500 (or, on SQLite, a row the
PostgreSQL column could not have held).
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from accounts.models import Team, User

GOOD = {"password": "Very-long-pass-123", "role": "client", "full_name": "Ada Lovelace"}


def post_user(client, data: dict, how: str):
    if how == "json":
        return client.post("/api/v1/users/", data, format="json")
    if how == "form":
        return client.generic(
            "POST", "/api/v1/users/", urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded"
        )
    return client.post("/api/v1/users/", data, format="multipart")


@pytest.mark.parametrize("how", ["json", "form", "multipart"])
@pytest.mark.parametrize("ids", [["99999999999999999999"], ["0"], ["-3"]])
def test_a_represented_id_no_row_can_have_is_a_400(ids, how, api_as, admin_person):
    """A client id of 20 digits was an OverflowError on SQLite, from junk form data first."""
    data = {**GOOD, "username": "rep1", "role": "representative", "represents": ids}
    response = post_user(api_as(admin_person), data, how)
    assert response.status_code == 400, response.content[:300]
    assert "represents" in response.json()
    assert not User.objects.filter(username="rep1").exists()


@pytest.mark.parametrize("how", ["json", "form"])
def test_a_username_nfkc_lengthens_past_the_column_is_a_400(how, api_as, admin_person):
    """150 characters that NFKC turns into 450 (`㍱` is `hPa`): PostgreSQL refused the row (500);
    SQLite stored a username longer than the column."""
    response = post_user(api_as(admin_person), {**GOOD, "username": "\u3371" * 150}, how)
    assert response.status_code == 400
    assert response.json() == {"username": ["Keep the username to 150 characters."]}
    assert not User.objects.filter(role="client", full_name="Ada Lovelace").exists()


def test_a_postcode_upper_case_lengthens_past_the_column_is_a_400(api_as, admin_person):
    """`ß` upper-cased is `SS`: ten of them became twenty characters in a ten-character column."""
    response = post_user(api_as(admin_person), {**GOOD, "username": "ada", "postcode": "ß" * 10}, "json")
    assert response.status_code == 400
    assert response.json() == {"postcode": ["Keep the postcode to 10 characters."]}
    assert not User.objects.filter(username="ada").exists()


def test_a_postcode_with_a_control_character_is_a_400(api_as, admin_person):
    response = post_user(api_as(admin_person), {**GOOD, "username": "ada", "postcode": "NF1\u202e4QT"}, "json")
    assert response.status_code == 400
    assert "postcode" in response.json()
    assert not User.objects.filter(username="ada").exists()


def test_an_email_longer_than_its_column_is_a_400(api_as, admin_person):
    """Django's email validator allows 320 characters; the column holds 254."""
    email = "a" * 60 + "@" + ".".join(["b" * 60] * 4) + ".org"
    response = post_user(api_as(admin_person), {**GOOD, "username": "ada", "email": email}, "json")
    assert response.status_code == 400
    assert "email" in response.json()
    assert not User.objects.filter(username="ada").exists()


def test_a_team_name_with_a_right_to_left_override_is_refused_by_the_service(admin_person, team_manager):
    """The API's name field refused it already; the service refuses it for every other caller."""
    from accounts.exceptions import InvalidInput
    from accounts.services import team_create

    with pytest.raises(InvalidInput) as refused:
        team_create(actor=admin_person, name="North \u202eteam", manager=team_manager)
    assert "name" in refused.value.as_dict()
    assert not Team.objects.filter(name__startswith="North").exists()
