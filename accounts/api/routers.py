"""The router every app's API uses: ids in paths are integers (docs/api.md), so the URL itself
matches only digits and anything else (`/api/v1/plans/abc/`, `/api/v1/plans/²/`) is a 404 before
a view runs — no view ever hands a non-number to a query."""

from rest_framework.routers import SimpleRouter

INTEGER_ID = "[0-9]+"


class Router(SimpleRouter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("trailing_slash", True)
        super().__init__(*args, **kwargs)

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        lookup_field = getattr(viewset, "lookup_field", "pk")
        lookup_url_kwarg = getattr(viewset, "lookup_url_kwarg", None) or lookup_field
        lookup_value = getattr(viewset, "lookup_value_regex", INTEGER_ID)
        return f"(?P<{lookup_prefix}{lookup_url_kwarg}>{lookup_value})"
