"""Pages of a long list that count their matches only up to a cap (docs/api.md, "Catalogue query").

An exact count of a search with tens of thousands of matches costs more than fetching the page
itself (205 ms of 219 ms for one catalogue search, bench/search.py); nobody pages through 40,000
services, so the count stops at the cap and says so. It counts at most cap + 1 rows, with the
ordering cleared (kept inside, it was slower than the full count). Pages stop at the cap too: a
page past it is 404, with a message saying to narrow the search — so no page is ever fetched with
a deep OFFSET, and keyset paging is not needed.

Kept in the bottom app because the catalogue is listed by two apps (the providers API and the
marketplace's pages) that both need it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

DEFAULT_CAP = 1000


def count_cap() -> int:
    """The cap, from the `CATALOGUE_COUNT_CAP` setting (tests set a small one)."""
    return getattr(settings, "CATALOGUE_COUNT_CAP", DEFAULT_CAP)


def beyond_cap_message(cap: int) -> str:
    return f"Only the first {cap:,} matches are listed. Add a filter or search words to narrow the search."


class CappedCountPaginator(Paginator):
    """A paginator whose `count` is exact up to the cap and the cap above it (`capped` is then
    true), and whose pages end at the cap."""

    def __init__(self, object_list, per_page, orphans: int = 0, allow_empty_first_page: bool = True):
        super().__init__(object_list, per_page, orphans, allow_empty_first_page)
        self.cap = count_cap()

    @cached_property
    def _counted(self) -> int:
        """How many rows there are, up to cap + 1: one query. A queryset may carry `count_source`,
        a queryset of the same number of rows that is cheaper to count (the catalogue's search
        table, without the join to the services the page needs)."""
        if isinstance(self.object_list, QuerySet):
            source = getattr(self.object_list, "count_source", None)
            return (source if source is not None else self.object_list).order_by()[: self.cap + 1].count()
        return len(self.object_list)

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @property
    def capped(self) -> bool:
        return self._counted > self.cap


class CappedCountPagination(PageNumberPagination):
    """The API's page-number pagination with a capped count: the body adds `"count_capped": true`
    when there are more matches than the cap (absent otherwise, so smaller lists are unchanged)."""

    def django_paginator_class(self, object_list, per_page) -> CappedCountPaginator:
        # A method, not the class itself, so the paginator is kept when a page is refused.
        self.paginator = CappedCountPaginator(object_list, per_page)
        return self.paginator

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            paginator = self.paginator
            asked = _page_number(request.query_params.get(self.page_query_param))
            if paginator.capped and asked > paginator.num_pages:
                raise NotFound(f"Invalid page. {beyond_cap_message(paginator.cap)}") from None
            raise

    def get_paginated_response(self, data) -> Response:
        response = super().get_paginated_response(data)
        if self.page.paginator.capped:
            response.data["count_capped"] = True
        return response

    def get_paginated_response_schema(self, schema: dict) -> dict:
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count_capped"] = {
            "type": "boolean",
            "description": (
                "Present, and true, only when there are more matches than the cap (1,000): "
                "`count` is then the cap, and pages stop there."
            ),
            "example": True,
        }
        return schema


def _page_number(raw: str | None) -> int:
    try:
        return int(raw or 0)
    except (TypeError, ValueError):
        return 0
