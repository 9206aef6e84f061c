"""API tokens expire, are revoked on a password change, a closed account and on request, and their
owner can list and revoke them (docs/security.md, "Tokens")."""

import datetime
import re

import pytest
from django.apps import apps
from django.core import mail
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.authtoken.models import Token

from accounts.models import AuditAction, AuditEvent
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-42"


def sign_in(api, user) -> dict:
    response = api.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def calls_with(api, token: str) -> int:
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api.get("/api/v1/me/").status_code


def test_a_token_says_when_it_expires_and_the_lifetime_is_a_setting(api, client_user, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": datetime.timedelta(hours=2)}
    body = sign_in(api, client_user)
    expires = datetime.datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert abs(expires - (timezone.now() + datetime.timedelta(hours=2))) < datetime.timedelta(minutes=1)
    assert body["token"].startswith(body["id"])


def test_an_expired_token_gets_401_and_is_deleted(api, client_user):
    token = sign_in(api, client_user)["token"]
    AuthToken.objects.filter(user=client_user).update(expiry=timezone.now() - datetime.timedelta(seconds=1))
    assert calls_with(api, token) == 401
    assert not AuthToken.objects.filter(user=client_user).exists()


def test_a_password_change_on_the_page_revokes_every_token(api, client, client_user):
    first, second = sign_in(api, client_user)["token"], sign_in(api, client_user)["token"]
    client.force_login(client_user)
    response = client.post(
        "/password/change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert calls_with(api, first) == 401 and calls_with(api, second) == 401
    assert AuditEvent.objects.filter(actor=client_user, action=AuditAction.TOKEN_REVOKED).exists()


def test_a_password_reset_revokes_every_token(api, client, client_user):
    token = sign_in(api, client_user)["token"]
    client.post("/password/reset/", {"email": client_user.email})
    link = re.search(r"/password/reset/[^/\s]+/[^/\s]+/", mail.outbox[0].body).group(0)
    form_url = client.get(link).headers["Location"]
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert calls_with(api, token) == 401


def test_a_password_set_any_other_way_revokes_every_token(api, client_user):
    token = sign_in(api, client_user)["token"]
    client_user.set_password(NEW_PASSWORD)  # as `manage.py changepassword` does
    client_user.save()
    assert calls_with(api, token) == 401


def test_closing_an_account_in_the_admin_revokes_its_tokens(api, client, client_user):
    token = sign_in(api, client_user)["token"]
    admin = factories.UserFactory(role="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    page = client.get(f"/admin/accounts/user/{client_user.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update(is_active="", date_joined_0="2026-01-01", date_joined_1="00:00:00", provider="")
    data.pop("last_login", None)
    data.pop("groups", None)
    data.pop("user_permissions", None)
    response = client.post(f"/admin/accounts/user/{client_user.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not AuthToken.objects.filter(user=client_user).exists()
    assert calls_with(api, token) == 401


def test_a_closed_account_token_gets_401_even_if_it_was_not_revoked(api, client_user):
    token = sign_in(api, client_user)["token"]
    type(client_user).objects.filter(pk=client_user.pk).update(is_active=False)
    assert calls_with(api, token) == 401


def test_owner_lists_their_tokens_without_the_secrets(api, client_user, social_worker):
    mine = sign_in(api, client_user)
    sign_in(api, social_worker)
    api.credentials(HTTP_AUTHORIZATION=f"Token {mine['token']}")
    body = api.get("/api/v1/auth/tokens/").json()
    assert body["count"] == 1
    [listed] = body["results"]
    assert listed["id"] == mine["id"] and listed["current"] is True
    assert mine["token"] not in str(body)


def test_owner_revokes_one_token_by_its_id(api, client_user):
    keep, drop = sign_in(api, client_user), sign_in(api, client_user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {keep['token']}")
    assert api.delete(f"/api/v1/auth/tokens/{drop['id']}/").status_code == 204
    assert calls_with(api, drop["token"]) == 401
    assert calls_with(api, keep["token"]) == 200


def test_someone_elses_token_cannot_be_revoked_404(api, client_user, social_worker):
    theirs = sign_in(api, social_worker)
    mine = sign_in(api, client_user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {mine['token']}")
    assert api.delete(f"/api/v1/auth/tokens/{theirs['id']}/").status_code == 404
    assert calls_with(api, theirs["token"]) == 200


def test_account_page_lists_tokens_and_revokes_one_or_all(api, client, client_user):
    first, second = sign_in(api, client_user), sign_in(api, client_user)
    client.force_login(client_user)
    page = client.get("/account/").content.decode()
    assert first["id"][:8] in page and second["id"][:8] in page
    assert first["token"] not in page
    assert client.post(f"/account/tokens/{first['id']}/revoke/").status_code == 302
    assert calls_with(api, first["token"]) == 401 and calls_with(api, second["token"]) == 200
    assert client.post("/account/tokens/revoke-all/").status_code == 302
    assert calls_with(api, second["token"]) == 401


def test_account_page_cannot_revoke_someone_elses_token(api, client, client_user, social_worker):
    theirs = sign_in(api, social_worker)
    client.force_login(client_user)
    assert client.post(f"/account/tokens/{theirs['id']}/revoke/").status_code == 404
    assert calls_with(api, theirs["token"]) == 200


def test_only_the_newest_tokens_up_to_the_limit_are_kept(api, client_user, settings):
    settings.API_TOKENS_PER_USER = 2
    oldest, middle, newest = (sign_in(api, client_user)["token"] for _ in range(3))
    assert calls_with(api, oldest) == 401
    assert calls_with(api, middle) == 200 and calls_with(api, newest) == 200


def test_a_token_from_before_the_upgrade_keeps_working_until_one_lifetime_has_passed(api, client_user):
    migration = __import__("accounts.migrations.0006_api_tokens_expire", fromlist=["move_tokens_to_knox"])
    old = Token.objects.create(user=client_user)
    migration.move_tokens_to_knox(apps, None)
    assert not Token.objects.exists()
    assert calls_with(api, old.key) == 200
    moved = AuthToken.objects.get(user=client_user)
    assert moved.expiry > timezone.now() + datetime.timedelta(days=1)
