"""Providers and services endpoints (docs/api.md), including the catalogue listing."""

from decimal import Decimal, InvalidOperation

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from accounts.api.fields import MONEY_MAX, EmailOrBlankField, MoneyField, URLOrBlankField
from accounts.api.views import RolePredicate
from accounts.pagination import CappedCountPagination
from accounts.text import FreeTextField, NameField

from . import permissions, selectors, services
from .models import Provider, ProviderStatus, RegulatorRating, ServiceCategory, ServiceOffering, ServiceUnit
from .validators import validate_cqc_location_id, validate_phone, validate_postcode


class ProviderSerializer(serializers.ModelSerializer):
    email = EmailOrBlankField(read_only=True)
    website = URLOrBlankField(read_only=True)

    class Meta:
        model = Provider
        fields = [
            "id", "name", "status", "status_reason", "rating", "review_count", "regulator_id", "regulator_rating",
            "regulator_rating_date", "regulator_checked_at", "postcode", "address", "email", "phone", "website",
            "description", "areas_served",
        ]  # fmt: skip
        read_only_fields = fields


class ProviderCreateSerializer(serializers.Serializer):
    name = NameField(max_length=200)
    postcode = serializers.CharField(
        max_length=10, required=False, allow_blank=True, default="", validators=[validate_postcode]
    )
    email = serializers.EmailField(required=False, allow_blank=True, default="", max_length=254)
    phone = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default="", validators=[validate_phone]
    )
    regulator_id = serializers.CharField(
        max_length=30, required=False, allow_blank=True, allow_null=True, validators=[validate_cqc_location_id]
    )
    regulator_rating = serializers.ChoiceField(
        choices=RegulatorRating.choices, required=False, default=RegulatorRating.NOT_YET_RATED
    )


class ReasonSerializer(serializers.Serializer):
    reason = FreeTextField(required=False, allow_blank=True, default="", max_length=500)


class ProviderBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Provider
        fields = ["id", "name", "rating", "review_count", "regulator_rating"]
        read_only_fields = fields


class ServiceSerializer(serializers.ModelSerializer):
    unit_price = MoneyField()
    provider = ProviderBriefSerializer(read_only=True)
    retired = serializers.SerializerMethodField()

    class Meta:
        model = ServiceOffering
        fields = [
            "id", "title", "category", "unit", "unit_price", "provider", "postcode_districts", "description",
            "retired",
        ]  # fmt: skip
        read_only_fields = fields

    def get_retired(self, service) -> bool:
        return service.retired_at is not None

    def to_representation(self, service: ServiceOffering) -> dict:
        """The fields above, written out by hand: DRF's field-by-field walk took 5–7 ms of a
        catalogue page of 50 services, as long as the page's query (bench/search.py). The declared
        fields still describe the schema; a test holds the two representations equal."""
        provider = service.provider
        return {
            "id": service.id,
            "title": service.title,
            "category": service.category,
            "unit": service.unit,
            "unit_price": MONEY.to_representation(service.unit_price),
            "provider": {
                "id": provider.id,
                "name": provider.name,
                "rating": None if provider.rating is None else f"{provider.rating:.2f}",
                "review_count": provider.review_count,
                "regulator_rating": provider.regulator_rating,
            },
            "postcode_districts": service.postcode_districts,
            "description": service.description,
            "retired": self.get_retired(service),
        }


MONEY = MoneyField()
SERVICE_MAX_UNIT_PRICE = Decimal("99999.99")  # per hour, session, day...: as for an own arrangement
SERVICE_MAX_DISTRICTS = 100
SERVICE_DESCRIPTION_MAX_LENGTH = 5000


class ServiceWriteSerializer(serializers.Serializer):
    title = NameField(max_length=200)
    category = serializers.ChoiceField(choices=ServiceCategory.choices)
    unit = serializers.ChoiceField(choices=ServiceUnit.choices)
    # Bounded (docs/api.md, "Limits"): a price a plan line can multiply without overflowing its cost.
    unit_price = MoneyField(max_amount=SERVICE_MAX_UNIT_PRICE)
    postcode_districts = serializers.ListField(
        child=serializers.CharField(max_length=10), required=False, default=list, max_length=SERVICE_MAX_DISTRICTS
    )
    description = FreeTextField(required=False, allow_blank=True, default="", max_length=SERVICE_DESCRIPTION_MAX_LENGTH)


class CanAddProviders(RolePredicate):
    predicate = staticmethod(permissions.can_add_providers)
    message = "Only administrators and case managers can add or list providers."


class CanOnboard(RolePredicate):
    predicate = staticmethod(permissions.can_onboard_providers)
    message = "Only case managers verify, suspend and reinstate providers."


class IsProviderStaff(RolePredicate):
    predicate = staticmethod(lambda user: user.role == "provider" and user.provider_id is not None)
    message = "Only provider staff list services, for their own organisation."


class ProviderViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = ProviderSerializer
    queryset = Provider.objects.none()

    def get_permissions(self):
        extra = {
            "create": [CanAddProviders()],
            "list": [CanAddProviders()],
            "verify": [CanOnboard()],
            "suspend": [CanOnboard()],
            "reinstate": [CanOnboard()],
        }.get(self.action, [])
        return [*super().get_permissions(), *extra]

    def get_object(self):
        return selectors.provider_get_for(self.request.user, self.kwargs["pk"])

    @extend_schema(
        parameters=[
            OpenApiParameter("status", enum=ProviderStatus.values),
            OpenApiParameter("q", str),
            OpenApiParameter("regulator_id", str),
        ]
    )
    def list(self, request):
        params = request.query_params
        if params.get("status") and params["status"] not in ProviderStatus.values:
            raise ValidationError({"status": [f"Choose one of: {', '.join(ProviderStatus.values)}."]})
        providers = selectors.provider_list_for(
            request.user,
            status=params.get("status", ""),
            q=params.get("q", ""),
            regulator_id=params.get("regulator_id", ""),
        )
        page = self.paginate_queryset(providers)
        return self.get_paginated_response(ProviderSerializer(page, many=True).data)

    @extend_schema(request=ProviderCreateSerializer, responses={201: ProviderSerializer})
    def create(self, request):
        data = ProviderCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        provider = services.provider_create(actor=request.user, **data.validated_data)
        return Response(ProviderSerializer(provider).data, status=status.HTTP_201_CREATED)

    def _transition(self, request, service):
        provider = self.get_object()
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        provider = service(actor=request.user, provider=provider, reason=data.validated_data["reason"])
        return Response(ProviderSerializer(provider).data)

    @extend_schema(request=ReasonSerializer, responses=ProviderSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        return self._transition(request, services.provider_verify)

    @extend_schema(request=ReasonSerializer, responses=ProviderSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        return self._transition(request, services.provider_suspend)

    @extend_schema(request=ReasonSerializer, responses=ProviderSerializer)
    @action(detail=True, methods=["post"])
    def reinstate(self, request, pk=None):
        return self._transition(request, services.provider_reinstate)


def _decimal_param(params, name: str, maximum: Decimal) -> Decimal | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise ValidationError({name: ["Give a number, like 25 or 25.50."]}) from exc
    if not value.is_finite() or value < 0:
        raise ValidationError({name: ["Give a number of zero or more."]})
    if value > maximum:
        # Beyond any price or rating, and a number this large overflows the database's comparison.
        raise ValidationError({name: [f"Give a number of at most {maximum:,}."]})
    return value


class ServiceViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The catalogue (listing: verified providers' live services only), and provider staff's
    own services."""

    serializer_class = ServiceSerializer
    queryset = ServiceOffering.objects.none()
    http_method_names = ["get", "post", "patch", "head", "options"]
    pagination_class = CappedCountPagination  # the count stops at 1,000 (accounts/pagination.py)

    def get_permissions(self):
        # The role is checked before the body, so a role that may never do this gets 403 at once.
        extra = [IsProviderStaff()] if self.action in {"create", "partial_update"} else []
        return [*super().get_permissions(), *extra]

    def get_object(self):
        service = selectors.service_get_for(self.request.user, self.kwargs["pk"])
        if self.action == "partial_update" and not permissions.can_manage_services(self.request.user, service.provider):
            raise PermissionDenied("You can change only your own organisation's services.")
        return service

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str),
            OpenApiParameter("category", enum=ServiceCategory.values),
            OpenApiParameter("postcode_district", str),
            OpenApiParameter("max_price", str),
            OpenApiParameter("regulator_rating", enum=RegulatorRating.values),
            OpenApiParameter("min_rating", str),
            OpenApiParameter("ordering", enum=list(selectors.ORDERINGS)),
        ]
    )
    def list(self, request):
        params = request.query_params
        errors = {}
        if params.get("category") and params["category"] not in ServiceCategory.values:
            errors["category"] = [f"Choose one of: {', '.join(ServiceCategory.values)}."]
        if params.get("regulator_rating") and params["regulator_rating"] not in RegulatorRating.values:
            errors["regulator_rating"] = [f"Choose one of: {', '.join(RegulatorRating.values)}."]
        if params.get("ordering") and params["ordering"] not in selectors.ORDERINGS:
            errors["ordering"] = [f"Choose one of: {', '.join(selectors.ORDERINGS)}."]
        if errors:
            raise ValidationError(errors)
        found = selectors.catalogue_services(
            q=params.get("q", ""),
            category=params.get("category", ""),
            postcode_district=params.get("postcode_district", ""),
            max_price=_decimal_param(params, "max_price", MONEY_MAX),
            regulator_rating=params.get("regulator_rating", ""),
            min_rating=_decimal_param(params, "min_rating", Decimal(5)),
            ordering=params.get("ordering") or "title",
        )
        page = self.paginate_queryset(found)
        return self.get_paginated_response(ServiceSerializer(page, many=True).data)

    @extend_schema(request=ServiceWriteSerializer, responses={201: ServiceSerializer})
    def create(self, request):
        data = ServiceWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        service = services.service_create(actor=request.user, **data.validated_data)
        return Response(ServiceSerializer(service).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ServiceWriteSerializer(partial=True), responses=ServiceSerializer)
    def partial_update(self, request, pk=None):
        service = self.get_object()
        data = ServiceWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        service = services.service_update(actor=request.user, service=service, **data.validated_data)
        return Response(ServiceSerializer(service).data)
