"""One place that turns every failure into the error shapes of docs/api.md, for every endpoint.

- 400 `{"field": ["message"]}` or `{"detail": "message"}` — invalid input;
- 401 — no or bad credentials (token authentication is first, so DRF answers 401 not 403);
- 403 — authenticated, but this role may not do this;
- 404 — the object does not exist or is not visible to this user;
- 409 `{"detail"}` — wrong state, budget exceeded, duplicate.
Service exceptions (`accounts.exceptions`), django-fsm's transition errors and Django's own
`ValidationError`/`PermissionDenied`/`Http404` all pass through here.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.exceptions import ActionNotAllowed, CairnError, InvalidInput, NotVisible, StateConflict

_STATUS_BY_FAMILY: list[tuple[type[CairnError], int]] = [
    (InvalidInput, status.HTTP_400_BAD_REQUEST),
    (ActionNotAllowed, status.HTTP_403_FORBIDDEN),
    (NotVisible, status.HTTP_404_NOT_FOUND),
    (StateConflict, status.HTTP_409_CONFLICT),
]


def _cairn_error_response(exc: CairnError) -> Response:
    code = next((code for family, code in _STATUS_BY_FAMILY if isinstance(exc, family)), 400)
    body = exc.as_dict() if code == status.HTTP_400_BAD_REQUEST else {}
    return Response(body or {"detail": exc.message}, status=code)


def _too_much_message(exc) -> str | None:
    """Django's own caps on a request body (docs/api.md, "Limits"), as JSON rather than its HTML 400."""
    if isinstance(exc, RequestDataTooBig):
        return f"The request body is too large (at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes)."
    if isinstance(exc, TooManyFieldsSent):
        return f"The form has too many fields (at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,})."
    if isinstance(exc, TooManyFilesSent):
        return f"Too many files were sent (at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES:,})."
    return None


def exception_handler(exc, context):
    too_much = _too_much_message(exc)
    if too_much:
        return Response({"detail": too_much}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, CairnError):
        return _cairn_error_response(exc)
    if isinstance(exc, (TransitionNotAllowed, ConcurrentTransition)):
        return Response(
            {"detail": "That cannot be done in the record's current state (it may have just changed)."},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, DjangoValidationError):
        body = exc.message_dict if hasattr(exc, "error_dict") else {"detail": " ".join(exc.messages)}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, DjangoPermissionDenied):
        return Response({"detail": "You are not allowed to do that."}, status=status.HTTP_403_FORBIDDEN)
    return drf_exception_handler(exc, context)


def json_not_found(request, exception=None) -> JsonResponse:
    """404 for an unknown path under /api/: JSON, like every other API answer."""
    return JsonResponse({"detail": "Not found."}, status=404)


def json_server_error(request) -> JsonResponse:
    return JsonResponse({"detail": "Something went wrong on our side; it has been logged."}, status=500)
