"""The product's "Page not found" page even with DEBUG on.

With `DEBUG = True` (as `make run` serves Cairn locally) Django answers an address it does not know,
or a record a person may not see, with its technical 404 page: the URL patterns and a note about
settings, which is not what someone trying the product should meet. This middleware swaps that page
for the product's own (`templates/404.html`, through the same handler as in production; the API's
JSON 404 is left alone). A server error with DEBUG on still shows Django's traceback page: that is
what a developer running the code needs, and the traceback is also printed in the terminal.
"""

from __future__ import annotations

from django.conf import settings

# Django's technical 404 page says why it is shown; nothing Cairn renders contains this.
_TECHNICAL_404_MARK = b"DEBUG = True"


class ProductNotFoundMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and response.get("Content-Type", "").startswith("text/html")
            and not getattr(response, "streaming", False)
            and _TECHNICAL_404_MARK in response.content
        ):
            from .views import page_not_found

            return page_not_found(request)
        return response
