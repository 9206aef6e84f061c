"""POST /api/v1/auth/token/ and how every other call is authenticated (API.md, Conventions)."""

import pytest

from accounts.models import AuditAction, AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_client_gets_a_token_with_correct_credentials(api, client_user):
    response = api.post("/api/v1/auth/token/", {"username": client_user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert {"token", "id", "expires_at"} <= set(response.json())  # fields are only ever added
    assert AuditEvent.objects.filter(actor=client_user, action=AuditAction.TOKEN_ISSUED).count() == 1


def test_bad_password_gets_400_and_a_failed_login_audit_row(api, client_user):
    response = api.post("/api/v1/auth/token/", {"username": client_user.username, "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    failed = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert failed.actor is None and failed.actor_username == client_user.username


def test_missing_fields_get_400_with_field_messages(api):
    response = api.post("/api/v1/auth/token/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


def test_token_authenticates_later_calls(api, api_as, client_user):
    token = api.post(
        "/api/v1/auth/token/", {"username": client_user.username, "password": PASSWORD}, format="json"
    ).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["username"] == client_user.username


def test_call_without_credentials_gets_401_not_403(api):
    response = api.post("/api/v1/users/", {}, format="json")
    assert response.status_code == 401
    assert "detail" in response.json()
    assert response.headers["WWW-Authenticate"].startswith("Token")


def test_bad_token_gets_401(api):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert api.get("/api/v1/me/").status_code == 401


def test_repeated_failures_lock_out_for_a_while_with_429(api, client_user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api.post("/api/v1/auth/token/", {"username": client_user.username, "password": "wrong"}, format="json")
    response = api.post("/api/v1/auth/token/", {"username": client_user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 429
    assert "Too many" in response.json()["detail"]


def test_deactivated_account_cannot_get_a_token(api, client_user):
    client_user.is_active = False
    client_user.save()
    response = api.post("/api/v1/auth/token/", {"username": client_user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 400
