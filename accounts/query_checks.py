"""Refuse query strings no database can compare with (docs/api.md, "Limits").

A NUL character (`?q=%00`) reaches PostgreSQL as a text parameter and psycopg refuses it with a
`ValueError` — a 500 from whichever filter read it first. Every page and API call is spared that
here, before any view runs: such a request is a 400 (JSON naming the parameter under /api/, the
site's 400 page elsewhere). Django decodes the query string with replacement characters, so lone
surrogates cannot arrive this way; JSON bodies are checked by `accounts.api.parsers`.
"""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import JsonResponse

MESSAGE = "Must not contain NUL (%00) characters."


class RefuseNulInQueryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "%00" in request.META.get("QUERY_STRING", "") or "\x00" in request.META.get("QUERY_STRING", ""):
            for name, values in request.GET.lists():
                if "\x00" in name or any("\x00" in value for value in values):
                    field = name if "\x00" not in name else "non_field_errors"
                    if request.path.startswith("/api/"):
                        return JsonResponse({field: [MESSAGE]}, status=400)
                    raise BadRequest(f"The address has a NUL character in {field!r}.")
        return self.get_response(request)
