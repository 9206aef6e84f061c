"""API tokens: issued by signing in, expiring, listed and revoked by their owner (docs/security.md,
"Tokens").

Tokens are django-rest-knox's: the database keeps only a SHA-512 digest of each token and the
first 15 characters (`token_key`, which is also the id the owner sees), and every token has an
expiry, `REST_KNOX["TOKEN_TTL"]` after it was issued (`API_TOKEN_LIFETIME_HOURS`). A person may
hold several tokens (one per integration); past `API_TOKENS_PER_USER` the oldest is revoked when a
new one is issued, so the table cannot grow without bound.

Every token of a person is revoked when their password changes (by any route: the password pages,
a reset link, the admin, `changepassword`: Django tells each password validator, and
`RevokeTokensOnPasswordChange` is one), when their account is closed (the admin) and when they ask.
Each revocation writes a `token_revoked` audit row.

`CairnTokenAuthentication` is knox's authentication with one query per request: the token and its
user in one select, an expired token refused (and deleted) and a closed account's refused.
"""

from __future__ import annotations

import datetime
from hmac import compare_digest

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS
from rest_framework import exceptions

from .exceptions import NotVisible
from .models import AuditAction, User
from .services import audit_record


def token_lifetime() -> datetime.timedelta:
    """`REST_KNOX["TOKEN_TTL"]` (`API_TOKEN_LIFETIME_HOURS`), read on each call."""
    return settings.REST_KNOX["TOKEN_TTL"]


def token_issue(*, user: User, request: HttpRequest | None = None) -> tuple[AuthToken, str]:
    """A new token for `user` (who has just proved their password). Returns the row and the token
    itself, which is shown once and never stored. Deletes the person's expired tokens, and past
    `API_TOKENS_PER_USER` live ones the oldest; writes a `token_issued` audit row."""
    with transaction.atomic():
        AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
        live = list(AuthToken.objects.filter(user=user).order_by("-created").values_list("digest", flat=True))
        excess = live[max(settings.API_TOKENS_PER_USER - 1, 0) :]
        if excess:
            AuthToken.objects.filter(digest__in=excess).delete()
            audit_record(
                actor=user,
                action=AuditAction.TOKEN_REVOKED,
                target=user,
                request=request,
                message=f"{len(excess)} oldest API token(s) revoked: at most {settings.API_TOKENS_PER_USER} a person.",
            )
        token, key = AuthToken.objects.create(user=user, expiry=token_lifetime())
        audit_record(actor=user, action=AuditAction.TOKEN_ISSUED, request=request)
    return token, key


def token_list(*, user: User) -> list[AuthToken]:
    """The person's tokens that still work, newest first."""
    return list(AuthToken.objects.filter(user=user, expiry__gte=timezone.now()).order_by("-created", "token_key"))


def token_revoke(*, actor: User, token_id: str, request: HttpRequest | None = None) -> None:
    """Revoke one of the actor's own tokens, named by its id (`token_key`). Someone else's token, or
    one that does not exist, is `NotVisible` (404)."""
    with transaction.atomic():
        deleted, _ = AuthToken.objects.filter(user=actor, token_key=token_id).delete()
        if not deleted:
            raise NotVisible("You have no API token with that id.")
        audit_record(
            actor=actor,
            action=AuditAction.TOKEN_REVOKED,
            target=actor,
            request=request,
            message="Revoked by its owner.",
        )


def tokens_revoke_all(*, user: User, reason: str, actor: User | None = None, request: HttpRequest | None = None) -> int:
    """Revoke every token `user` holds (a password change, a closed account, "sign out everywhere").
    Returns how many; writes an audit row when there were any."""
    with transaction.atomic():
        deleted, _ = AuthToken.objects.filter(user=user).delete()
        if deleted:
            audit_record(
                actor=actor or user,
                action=AuditAction.TOKEN_REVOKED,
                target=user,
                request=request,
                message=f"All {deleted} API token(s) revoked: {reason}"[:500],
            )
    return deleted


class RevokeTokensOnPasswordChange:
    """Listed in `AUTH_PASSWORD_VALIDATORS`: it checks nothing, but Django calls every validator's
    `password_changed` after a new password is saved, whichever page, command or admin screen set
    it, so no route can change a password and leave the old API tokens working."""

    def validate(self, password, user=None) -> None:
        return None

    def password_changed(self, password, user=None) -> None:
        if user is not None and user.pk is not None:
            tokens_revoke_all(user=user, reason="the password was changed.")

    def get_help_text(self) -> str:
        return "Changing your password also revokes every API token you hold."


class CairnTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <token>`: the token and its user in one query; an expired token is
    deleted and refused, a closed account refused, each with 401."""

    def authenticate_credentials(self, token: bytes):
        invalid = exceptions.AuthenticationFailed("Invalid token.")
        try:
            text = token.decode("ascii")
            digest = hash_token(text)
        except (UnicodeDecodeError, ValueError, TypeError):
            raise invalid from None
        for auth_token in AuthToken.objects.select_related("user").filter(token_key=text[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if not compare_digest(digest, auth_token.digest):
                continue
            if auth_token.expiry is not None and auth_token.expiry < timezone.now():
                auth_token.delete()
                raise exceptions.AuthenticationFailed("This token has expired. Sign in again for a new one.")
            return self.validate_user(auth_token)
        raise invalid


class CairnTokenScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme for `CairnTokenAuthentication`: the same `tokenAuth` scheme,
    `Authorization: Token <token>`, that the schema has always described."""

    target_class = "accounts.tokens.CairnTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")  # noqa: S106
