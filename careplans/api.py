"""Care plan endpoints (docs/api.md): create, read, edit (draft or changes requested) and the PDF.
The workflow transitions and history are the approvals capability's."""

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.fields import MoneyField
from accounts.api.views import IgnoreAcceptNegotiation, RolePredicate
from accounts.exceptions import NotVisible
from accounts.models import Role
from accounts.permissions import has_role
from budgets.models import PersonalBudget

from . import selectors, services
from .models import MIXED, CarePlan, MoneyManagement, PlanLine, PlanOutcome
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


class PlanWriteSerializer(serializers.Serializer):
    budget = serializers.IntegerField()
    # Outcomes are text or {"text", "domain"}; lines are dicts checked line by line by the service
    # (each may say how its money is managed; an own arrangement gives description, unit and
    # unit_price instead of service). `money_management` is the default for lines that do not say.
    outcomes = serializers.ListField(child=serializers.JSONField(), required=False)
    lines = serializers.ListField(child=serializers.DictField(), required=False)
    money_management = serializers.ChoiceField(choices=MoneyManagement.choices, required=False)
    risks = serializers.CharField(required=False, allow_blank=True)
    contacts = serializers.CharField(required=False, allow_blank=True)
    contingency_note = serializers.CharField(required=False, allow_blank=True)


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
