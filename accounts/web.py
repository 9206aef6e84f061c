"""The HTML side of the exception families (the API's is `accounts.api.errors`): one mapping, so
pages never restate a service's rules.

- `http_status(exc)`: the status a page answers with for a service error (400, 403, 404, 409);
  `page_status(exc)` the same for a view that shows the refusal itself (404 raised, never shown).
- `ServiceErrorMiddleware`: a service error a view did not turn into a form error or a message
  becomes the matching page — 404 and 403 through Django's handlers, 400 and 409 as a page saying
  what went wrong and that nothing was changed.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from .exceptions import ActionNotAllowed, CairnError, InvalidInput, NotVisible

STATUS = ((NotVisible, 404), (ActionNotAllowed, 403), (InvalidInput, 400))


def http_status(exc: CairnError) -> int:
    return next((status for family, status in STATUS if isinstance(exc, family)), 409)


def page_status(exc: CairnError) -> int:
    """For a view that shows the refusal on its own page: the status to answer with; a record the
    person may not see is a 404 page instead (never disclosed)."""
    if isinstance(exc, NotVisible):
        raise Http404(exc.message) from exc
    return http_status(exc)


def raise_for_page(exc: CairnError) -> None:
    """Turn a 404 or 403 family error into Django's own (its handlers render the pages)."""
    if isinstance(exc, NotVisible):
        raise Http404(exc.message) from exc
    if isinstance(exc, ActionNotAllowed):
        raise PermissionDenied(exc.message) from exc


class ServiceErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, CairnError) or request.path.startswith("/api/"):
            return None
        raise_for_page(exception)
        status = http_status(exception)
        return render(request, "error.html", {"message": exception.message, "status": status}, status=status)


class ResponseHeadersMiddleware:
    """Headers every response gets (docs/security.md, "Headers"):

    - `Cache-Control: no-store` unless the view chose its own caching: pages, PDFs and API answers
      carry personal data, and no browser or proxy cache should keep them. The exception is a
      public open-data endpoint (marked by its rate limit, `accounts.throttles`) answering someone
      who is not signed in: that may be cached. Static files never reach this middleware
      (WhiteNoise answers them first, with its own long-lived caching).
    - `Permissions-Policy`: the browser features Cairn never uses (camera, microphone, location,
      payment, USB, ...) are switched off for its pages and anything framed in them.
    - No `Server` header from the application (the app server's own is removed by gunicorn.conf.py).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if "Server" in response.headers:
            del response.headers["Server"]
        if "Cache-Control" not in response.headers and not _public_and_anonymous(request):
            response.headers["Cache-Control"] = "no-store"
        return response


def _public_and_anonymous(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return getattr(request, "cairn_public", False) and not (user is not None and user.is_authenticated)
