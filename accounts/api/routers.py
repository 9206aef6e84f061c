"""The router every app's API uses: ids in paths are integers (docs/api.md), so the URL itself
matches only digits and anything else (`/api/v1/plans/abc/`, `/api/v1/plans/²/`) is a 404 before
a view runs — no view ever hands a non-number to a query."""

from django.urls import register_converter
from rest_framework.routers import SimpleRouter

# At most 18 digits: every such number fits a 64-bit id column, so no query overflows the database.
INTEGER_ID = "[0-9]{1,18}"


class IdConverter:
    """`<id:pk>` in a hand-written API path: an id as the router matches it."""

    regex = INTEGER_ID

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "id")


class Router(SimpleRouter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("trailing_slash", True)
        super().__init__(*args, **kwargs)

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        lookup_field = getattr(viewset, "lookup_field", "pk")
        lookup_url_kwarg = getattr(viewset, "lookup_url_kwarg", None) or lookup_field
        lookup_value = getattr(viewset, "lookup_value_regex", INTEGER_ID)
        return f"(?P<{lookup_prefix}{lookup_url_kwarg}>{lookup_value})"
