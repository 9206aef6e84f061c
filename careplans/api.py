"""Care plan endpoints (docs/api.md): create, read, edit (draft or changes requested) and the PDF.
The workflow transitions and history are the approvals capability's."""

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.fields import ID_MAX, MoneyField
from accounts.api.views import IgnoreAcceptNegotiation, RolePredicate
from accounts.exceptions import NotVisible
from accounts.models import Role
from accounts.permissions import has_role
from accounts.text import FreeTextField
from budgets.models import Outcome, PersonalBudget

from . import selectors, services
from .models import (
    LINE_DESCRIPTION_MAX_LENGTH,
    MIXED,
    OUTCOME_MAX_LENGTH,
    PLAN_MAX_LINES,
    PLAN_MAX_OUTCOMES,
    PLAN_TEXT_MAX_LENGTH,
    CarePlan,
    MoneyManagement,
    PlanLine,
    PlanOutcome,
)
from .pdf import plan_pdf


class LineSerializer(serializers.ModelSerializer):
    unit_price = MoneyField()
    cost = MoneyField()
    description = serializers.SerializerMethodField(help_text="What an own arrangement buys (blank otherwise).")

    class Meta:
        model = PlanLine
        fields = [
            "id", "service", "provider", "title", "unit", "unit_price", "kind", "units_per_week", "quantity",
            "start", "end", "cost", "money_management", "description",
        ]  # fmt: skip
        read_only_fields = fields

    def get_description(self, line) -> str:
        return line.title if line.is_own_arrangement else ""


class OutcomeSerializer(serializers.ModelSerializer):
    # Blank when the outcome names no domain: the schema's enum says so too.
    domain = serializers.ChoiceField(choices=Outcome.choices, allow_blank=True, read_only=True)

    class Meta:
        model = PlanOutcome
        fields = ["text", "domain"]
        read_only_fields = fields


class MoneyPartsSerializer(serializers.Serializer):
    council_managed = MoneyField()
    direct_payment = MoneyField()
    individual_service_fund = MoneyField()


class PlanSerializer(serializers.ModelSerializer):
    total_cost = MoneyField()
    lines = LineSerializer(many=True, source="lines.all")
    outcomes = OutcomeSerializer(many=True, source="outcomes.all")
    cost_by_money_management = serializers.SerializerMethodField(
        help_text="What the plan's lines cost, by how their money is managed."
    )
    mixed = serializers.SerializerMethodField(help_text="Whether the lines are managed in more than one way.")

    def get_cost_by_money_management(self, plan) -> MoneyPartsSerializer:
        return MoneyPartsSerializer(selectors.plan_cost_by_money_management(plan)).data

    def get_mixed(self, plan) -> bool:
        return selectors.plan_money_management(plan) == MIXED

    class Meta:
        model = CarePlan
        fields = [
            "id", "budget", "client", "version", "previous", "status", "total_cost", "outcomes", "lines",
            "money_management", "risks", "contacts", "contingency_note", "created_at", "updated_at",
            "cost_by_money_management", "mixed",
        ]  # fmt: skip
        read_only_fields = fields


OUTCOME_SCHEMA = {
    "oneOf": [
        {"type": "string", "minLength": 1, "maxLength": OUTCOME_MAX_LENGTH},
        {
            "type": "object",
            "properties": {
                "text": {"type": "string", "minLength": 1, "maxLength": OUTCOME_MAX_LENGTH},
                "domain": {"type": "string", "enum": ["", *Outcome.values]},
            },
            "required": ["text"],
        },
    ]
}


@extend_schema_field(OUTCOME_SCHEMA)
class OutcomeField(serializers.Field):
    """One outcome: its text, or `{"text", "domain"?}`. The shape is checked here; the words by the
    service."""

    default_error_messages = {
        "shape": 'Give an outcome as text, or as {{"text": "...", "domain": "..."}}.',
        "too_long": f"Keep an outcome under {OUTCOME_MAX_LENGTH:,} characters.",
    }

    def to_representation(self, value):
        return value

    def to_internal_value(self, data):
        if isinstance(data, dict):
            if not set(data) <= {"text", "domain"} or not isinstance(data.get("text"), str):
                self.fail("shape")
            if not isinstance(data.get("domain", ""), str | type(None)):
                self.fail("shape")
            text = data["text"]
        elif isinstance(data, str):
            text = data
        else:
            self.fail("shape")
        if len(text) > OUTCOME_MAX_LENGTH:
            self.fail("too_long")
        return data


LINE_VALUE_MAX_LENGTH = 1000
LINE_KEYS = {
    "id", "service", "units_per_week", "quantity", "start", "end", "money_management", "description", "unit",
    "unit_price",
}  # fmt: skip


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            "id": {"type": "integer", "description": "An existing line of this plan, to keep it."},
            "service": {"type": "integer"},
            "units_per_week": {"type": "string", "format": "decimal", "example": "2.5"},
            "quantity": {"type": "string", "format": "decimal", "example": "1"},
            "start": {"type": "string", "format": "date"},
            "end": {"type": "string", "format": "date"},
            "money_management": {"type": "string", "enum": list(MoneyManagement.values)},
            "description": {"type": "string", "maxLength": LINE_DESCRIPTION_MAX_LENGTH},
            "unit": {"type": "string"},
            "unit_price": {
                "type": "object",
                "properties": {"amount": {"type": "string"}, "currency": {"type": "string"}},
            },
        },
        "additionalProperties": False,
    }
)
class LineItemField(serializers.Field):
    """One plan line as a dict (checked term by term by the service): known keys only, each a
    plain value of bounded size, so nothing deep or huge reaches the service."""

    default_error_messages = {
        "shape": "Give each line as an object with service, units_per_week, start and end (or quantity).",
        "unknown": "A line has no field {keys}.",
        "value": "A line's {name} must be a plain value (text, a number, or for unit_price, money).",
    }

    def to_representation(self, value):
        return value

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("shape")
        unknown = sorted(set(data) - LINE_KEYS)
        if unknown:
            self.fail("unknown", keys=", ".join(repr(k[:40]) for k in unknown[:5]))
        for key, value in data.items():
            if key == "unit_price" and isinstance(value, dict):
                value = value.get("amount"), value.get("currency")
                if len(data["unit_price"]) > 2:
                    self.fail("value", name=key)
            else:
                value = (value,)
            for part in value:
                # Text a little over the description's limit reaches the service, which says what is wrong.
                if isinstance(part, dict | list) or (isinstance(part, str) and len(part) > LINE_VALUE_MAX_LENGTH):
                    self.fail("value", name=key)
        return data


class PlanWriteSerializer(serializers.Serializer):
    budget = serializers.IntegerField(min_value=1, max_value=ID_MAX)
    # Outcomes are text or {"text", "domain"}; lines are dicts checked line by line by the service
    # (each may say how its money is managed; an own arrangement gives description, unit and
    # unit_price instead of service). `money_management` is the default for lines that do not say.
    # Every list and text is bounded (docs/api.md, "Limits").
    outcomes = serializers.ListField(child=OutcomeField(), required=False, max_length=PLAN_MAX_OUTCOMES)
    lines = serializers.ListField(child=LineItemField(), required=False, max_length=PLAN_MAX_LINES)
    money_management = serializers.ChoiceField(choices=MoneyManagement.choices, required=False)
    risks = FreeTextField(required=False, allow_blank=True, max_length=PLAN_TEXT_MAX_LENGTH)
    contacts = FreeTextField(required=False, allow_blank=True, max_length=PLAN_TEXT_MAX_LENGTH)
    contingency_note = FreeTextField(required=False, allow_blank=True, max_length=PLAN_TEXT_MAX_LENGTH)


class MayPlan(RolePredicate):
    predicate = staticmethod(
        lambda user: has_role(user, Role.CLIENT, Role.REPRESENTATIVE, Role.SOCIAL_WORKER, Role.TEAM_MANAGER)
    )
    message = "Plans are written by the client (or someone acting for them), or their social worker or team manager."


class PlanViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PlanSerializer
    queryset = CarePlan.objects.none()
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_permissions(self):
        extra = [MayPlan()] if self.action in {"create", "partial_update"} else []
        return [*super().get_permissions(), *extra]

    def get_object(self):
        return selectors.plan_get_for(self.request.user, self.kwargs["pk"])

    def _fresh(self, plan):
        return PlanSerializer(selectors.plan_get_for(self.request.user, plan.pk)).data

    @extend_schema(request=PlanWriteSerializer, responses={201: PlanSerializer})
    def create(self, request):
        data = PlanWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        budget = PersonalBudget.objects.select_related("client").filter(pk=fields.pop("budget")).first()
        if budget is None:
            raise NotVisible("No such budget.")
        plan = services.plan_create(actor=request.user, budget=budget, **fields)
        return Response(self._fresh(plan), status=status.HTTP_201_CREATED)

    @extend_schema(request=PlanWriteSerializer(partial=True), responses=PlanSerializer)
    def partial_update(self, request, pk=None):
        plan = self.get_object()
        data = PlanWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields.pop("budget", None)
        plan = services.plan_update(actor=request.user, plan=plan, **fields)
        return Response(self._fresh(plan))

    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(description="The plan as a PDF")})
    @action(detail=True, methods=["get"], content_negotiation_class=IgnoreAcceptNegotiation)
    def pdf(self, request, pk=None):
        plan = self.get_object()
        response = HttpResponse(
            plan_pdf(plan, history=selectors.plan_history_rows(plan)), content_type="application/pdf"
        )
        response["Content-Disposition"] = f'inline; filename="care-plan-{plan.pk}-v{plan.version}.pdf"'
        return response
