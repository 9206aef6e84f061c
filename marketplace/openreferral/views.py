"""The public Open Referral UK endpoints: read-only, no key, CORS open to any origin, bodies and
pages as the UK profile says (docs/open-data.md). They are not part of Cairn's own API contract,
so they stay out of its OpenAPI schema: the profile's OpenAPI document describes them."""

from __future__ import annotations

import uuid

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.throttles import PublicRateThrottle
from providers.models import ServiceOffering

from . import directory, mapping


@extend_schema(exclude=True)
class OpenReferralView(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    renderer_classes = [JSONRenderer]
    throttle_classes = [PublicRateThrottle]
    http_method_names = ["get", "head", "options"]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Access-Control-Allow-Origin"] = "*"
        if request.method == "OPTIONS":  # a browser's preflight: any origin may read, nothing more
            response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            if asked := request.headers.get("Access-Control-Request-Headers"):
                response["Access-Control-Allow-Headers"] = asked
            response["Access-Control-Max-Age"] = "86400"
        return response

    def base_url(self) -> str:
        return self.request.build_absolute_uri("/")


def _uuid_or_404(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise Http404("No such id in this directory.") from exc


class RootView(OpenReferralView):
    def get(self, request):
        return Response(mapping.root_body())


class _ServicePageView(OpenReferralView):
    with_postcode = False

    def item(self, service, base: str) -> dict:
        raise TypeError(f"{type(self).__name__} must say how a listed service is shown")

    def get(self, request):
        page = directory.published_page(request.query_params, with_postcode=self.with_postcode)
        base = self.base_url()
        return Response(
            mapping.page_body(
                contents=[self.item(service, base) for service in page.rows],
                total_items=page.total_items,
                page_number=page.paging.page,
                per_page=page.paging.per_page,
            )
        )


class ServiceListView(_ServicePageView):
    def item(self, service, base: str) -> dict:
        return mapping.service_summary(service, base)


class _PublishedServiceView(OpenReferralView):
    """One published service, looked up by one of its stored ids."""

    lookup = "oruk_id"

    def body(self, service: ServiceOffering, base: str) -> dict:
        return mapping.service_full(service, service.postcode_districts, base)

    def get(self, request, pk: str):
        service = directory.published_service(**{self.lookup: _uuid_or_404(pk)})
        if service is None:
            raise Http404("Nothing published in this directory has this id.")
        return Response(self.body(service, self.base_url()))


class ServiceDetailView(_PublishedServiceView):
    lookup = "oruk_id"


class ServiceAtLocationListView(_ServicePageView):
    with_postcode = True

    def item(self, service, base: str) -> dict:
        return mapping.service_at_location_summary(service, base)


class ServiceAtLocationDetailView(_PublishedServiceView):
    lookup = "oruk_service_at_location_id"

    def body(self, service: ServiceOffering, base: str) -> dict:
        return mapping.service_at_location_full(service, service.postcode_districts, base)


def _static_page(request, items: list[dict]) -> dict:
    paging = directory.paging_or_400(request.query_params)
    return mapping.page_body(
        contents=items[paging.offset : paging.offset + paging.per_page],
        total_items=len(items),
        page_number=paging.page,
        per_page=paging.per_page,
    )


class TaxonomyListView(OpenReferralView):
    def get(self, request):
        return Response(_static_page(request, [mapping.taxonomy_body(t) for t in mapping.TAXONOMIES]))


class TaxonomyDetailView(OpenReferralView):
    def get(self, request, pk: str):
        taxonomy = directory.taxonomy_lookup(_uuid_or_404(pk))
        if taxonomy is None:
            raise Http404("No taxonomy has this id.")
        return Response(mapping.taxonomy_body(taxonomy))


class TaxonomyTermListView(OpenReferralView):
    def get(self, request):
        return Response(_static_page(request, mapping.all_terms()))


class TaxonomyTermDetailView(OpenReferralView):
    def get(self, request, pk: str):
        found = directory.term_lookup(_uuid_or_404(pk))
        if found is None:
            raise Http404("No taxonomy term has this id.")
        return Response(mapping.term_body(*found))
