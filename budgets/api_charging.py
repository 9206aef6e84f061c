"""Charging policies and financial assessments (docs/api.md, "Charging policy and financial
assessments")."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.fields import MoneyField
from accounts.api.open_data import SUPPRESS_BELOW, OpenDataView, open_data_schema
from accounts.api.views import RolePredicate
from accounts.exceptions import InvalidInput, NotVisible
from accounts.models import Role, User
from accounts.permissions import has_role, is_admin
from accounts.throttles import PublicRateThrottle

from . import selectors, stats
from .models import Band, ChargingPolicy, ContributionReview, FinancialAssessment, IncomeKind
from .pdf import financial_assessment_letter_pdf
from .permissions import can_record_financial_assessment, can_view_financial_assessments
from .services import charging as services


class ChargingPolicySerializer(serializers.ModelSerializer):
    lower_capital_limit = MoneyField()
    upper_capital_limit = MoneyField()
    tariff_step = MoneyField()
    minimum_income_guarantee = serializers.SerializerMethodField()

    class Meta:
        model = ChargingPolicy
        fields = [
            "id",
            "name",
            "effective_from",
            "lower_capital_limit",
            "upper_capital_limit",
            "tariff_step",
            "taper_percent",
            "minimum_income_guarantee",
            "disregarded_income",
            "review_days",
            "is_example",
        ]
        read_only_fields = fields

    def get_minimum_income_guarantee(self, policy) -> dict:
        return {
            band: {"amount": f"{Decimal(str(v)):.2f}", "currency": "GBP"}
            for band, v in policy.minimum_income_guarantee.items()
        }


class ChargingPolicyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    effective_from = serializers.DateField()
    lower_capital_limit = MoneyField()
    upper_capital_limit = MoneyField()
    tariff_step = MoneyField()
    taper_percent = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100)
    minimum_income_guarantee = serializers.DictField(child=MoneyField())
    disregarded_income = serializers.ListField(child=serializers.ChoiceField(choices=IncomeKind.choices))
    review_days = serializers.IntegerField(required=False, min_value=1, max_value=365, default=28)


class SeesCharging(RolePredicate):
    predicate = staticmethod(
        lambda user: is_admin(user) or has_role(user, Role.FINANCE, Role.SOCIAL_WORKER, Role.TEAM_MANAGER)
    )
    message = "Only staff see the charging policies."


class ManagesCharging(RolePredicate):
    predicate = staticmethod(is_admin)
    message = "Only administrators change the charging policy."


class ChargingPolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ChargingPolicySerializer
    queryset = ChargingPolicy.objects.order_by("-effective_from")

    def get_permissions(self):
        extra = [ManagesCharging()] if self.action == "create" else [SeesCharging()]
        return [*super().get_permissions(), *extra]

    @extend_schema(request=ChargingPolicyCreateSerializer, responses={201: ChargingPolicySerializer})
    def create(self, request):
        body = ChargingPolicyCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        policy = services.charging_policy_create(
            actor=request.user,
            name=data.get("name", ""),
            effective_from=data["effective_from"],
            lower_capital_limit=data["lower_capital_limit"].amount,
            upper_capital_limit=data["upper_capital_limit"].amount,
            tariff_step=data["tariff_step"].amount,
            taper_percent=data["taper_percent"],
            minimum_income_guarantee={band: value.amount for band, value in data["minimum_income_guarantee"].items()},
            disregarded_income=list(data["disregarded_income"]),
            review_days=data.get("review_days", 28),
            request=request._request,
        )
        return Response(ChargingPolicySerializer(policy).data, status=status.HTTP_201_CREATED)


class IncomeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IncomeKind.choices)
    weekly_amount = MoneyField()


class CostSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=200)
    weekly_amount = MoneyField()


class ExplanationSerializer(serializers.Serializer):
    text = serializers.CharField()
    amount = MoneyField(allow_null=True, allow_negative=True)


class FinancialAssessmentSerializer(serializers.ModelSerializer):
    capital = MoneyField()
    tariff_income = MoneyField()
    income_counted = MoneyField()
    minimum_income_guarantee = MoneyField()
    weekly_contribution = MoneyField(allow_null=True)
    income = serializers.SerializerMethodField()
    housing_costs = serializers.SerializerMethodField()
    disability_related_expenditure = serializers.SerializerMethodField()
    explanation = serializers.SerializerMethodField()

    class Meta:
        model = FinancialAssessment
        fields = [
            "id",
            "client",
            "date",
            "policy",
            "band",
            "capital",
            "income",
            "housing_costs",
            "disability_related_expenditure",
            "declined",
            "tariff_income",
            "income_counted",
            "minimum_income_guarantee",
            "weekly_contribution",
            "full_cost",
            "explanation",
            "recorded_at",
        ]
        read_only_fields = fields

    @staticmethod
    def _money_rows(rows: list[dict]) -> list[dict]:
        return [{**row, "weekly_amount": {"amount": row["weekly_amount"], "currency": "GBP"}} for row in rows]

    def get_income(self, assessment) -> list[dict]:
        return self._money_rows(assessment.income)

    def get_housing_costs(self, assessment) -> list[dict]:
        return self._money_rows(assessment.housing_costs)

    def get_disability_related_expenditure(self, assessment) -> list[dict]:
        return self._money_rows(assessment.disability_related_expenditure)

    def get_explanation(self, assessment) -> list[dict]:
        return [
            {
                "text": line["text"],
                "amount": None if line["amount"] is None else {"amount": line["amount"], "currency": "GBP"},
            }
            for line in assessment.explanation
        ]


class FinancialAssessmentCreateSerializer(serializers.Serializer):
    client = serializers.IntegerField(min_value=1)
    date = serializers.DateField(required=False)
    band = serializers.ChoiceField(choices=Band.choices)
    capital = MoneyField(required=False)
    income = IncomeSerializer(many=True, required=False)
    housing_costs = CostSerializer(many=True, required=False)
    disability_related_expenditure = CostSerializer(many=True, required=False)
    declined = serializers.BooleanField(required=False, default=False)


class ReviewRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ContributionReviewSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContributionReview
        fields = [
            "id",
            "assessment",
            "status",
            "reason",
            "requested_at",
            "due",
            "outcome",
            "completed_at",
            "new_assessment",
        ]
        read_only_fields = fields


class ReviewCompleteSerializer(serializers.Serializer):
    outcome = serializers.CharField(max_length=2000)
    new_assessment = serializers.IntegerField(required=False, allow_null=True, min_value=1)


def _rows(items, key: str) -> list[dict]:
    return [{key: item[key], "weekly_amount": item["weekly_amount"].amount} for item in items or []]


class FinancialAssessmentViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = FinancialAssessmentSerializer
    queryset = FinancialAssessment.objects.none()

    def get_object(self):
        return selectors.financial_assessment_get_for(self.request.user, self.kwargs["pk"])

    @extend_schema(
        parameters=[OpenApiParameter("client", int, required=True, description="The client's id.")],
        responses=FinancialAssessmentSerializer(many=True),
    )
    def list(self, request):
        try:
            client_id = int(request.query_params.get("client", ""))
        except ValueError as exc:
            raise InvalidInput("Give the client's id.", field="client") from exc
        client = User.objects.filter(pk=client_id, role=Role.CLIENT).first()
        if client is None or not can_view_financial_assessments(request.user, client):
            raise NotVisible("No such client.")
        rows = FinancialAssessment.objects.filter(client=client).order_by("-date", "-pk")
        return Response(FinancialAssessmentSerializer(rows, many=True).data)

    @extend_schema(request=FinancialAssessmentCreateSerializer, responses={201: FinancialAssessmentSerializer})
    def create(self, request):
        body = FinancialAssessmentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        client = User.objects.filter(pk=data["client"], role=Role.CLIENT).first()
        if client is None or not (
            can_view_financial_assessments(request.user, client)
            or can_record_financial_assessment(request.user, client)
        ):
            raise NotVisible("No such client.")
        assessment = services.financial_assessment_record(
            actor=request.user,
            client=client,
            date=data.get("date"),
            band=data["band"],
            capital=data["capital"].amount if data.get("capital") is not None else 0,
            income=_rows(data.get("income"), "kind"),
            housing_costs=_rows(data.get("housing_costs"), "description"),
            disability_related_expenditure=_rows(data.get("disability_related_expenditure"), "description"),
            declined=data.get("declined", False),
            request=request._request,
        )
        return Response(FinancialAssessmentSerializer(assessment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReviewRequestSerializer, responses={201: ContributionReviewSerializer})
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        assessment = self.get_object()
        body = ReviewRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        review = services.contribution_review_request(
            actor=request.user, assessment=assessment, reason=body.validated_data["reason"], request=request._request
        )
        return Response(ContributionReviewSerializer(review).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"])
    def letter(self, request, pk=None):
        assessment = self.get_object()
        response = HttpResponse(financial_assessment_letter_pdf(assessment), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="contribution-{assessment.pk}.pdf"'
        return response


class ReviewViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Requests to review a financial assessment: finance and social workers list the open ones,
    soonest due first, and answer them."""

    serializer_class = ContributionReviewSerializer
    queryset = ContributionReview.objects.none()

    def get_permissions(self):
        return [*super().get_permissions(), SeesCharging()]

    def get_queryset(self):
        rows = ContributionReview.objects.select_related("assessment__client").order_by("due", "pk")
        status_filter = self.request.query_params.get("status")
        if status_filter:
            rows = rows.filter(status=status_filter)
        return [row for row in rows if can_record_financial_assessment(self.request.user, row.assessment.client)]

    @extend_schema(request=ReviewCompleteSerializer, responses=ContributionReviewSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        review = ContributionReview.objects.select_related("assessment__client").filter(pk=pk).first()
        if review is None or not can_view_financial_assessments(request.user, review.assessment.client):
            raise NotVisible("No such review.")
        body = ReviewCompleteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        new = None
        if body.validated_data.get("new_assessment"):
            new = FinancialAssessment.objects.filter(pk=body.validated_data["new_assessment"]).first()
            if new is None:
                raise InvalidInput("No such assessment.", field="new_assessment")
        review = services.contribution_review_complete(
            actor=request.user,
            review=review,
            outcome=body.validated_data["outcome"],
            new_assessment=new,
            request=request._request,
        )
        return Response(ContributionReviewSerializer(review).data)


class ReviewTimeRow(serializers.Serializer):
    month = serializers.CharField()
    answered = serializers.IntegerField(allow_null=True)
    median_days = serializers.FloatField(allow_null=True)
    on_time_percent = serializers.IntegerField(allow_null=True)
    suppressed = serializers.BooleanField()


class ReviewTimesView(OpenDataView):
    """Public open data: how long requests to review a financial assessment take to answer."""

    csv_fields = stats.REVIEW_CSV_FIELDS
    csv_filename = "cairn-contribution-reviews.csv"
    throttle_classes = [PublicRateThrottle]

    @open_data_schema(
        "ContributionReviewTimes",
        "Time to answer a contribution review, by month (open data)",
        rows=ReviewTimeRow(many=True),
    )
    def get(self, request):
        return super().get(request)

    def data(self) -> dict:
        return {"suppressed_below": SUPPRESS_BELOW, "results": stats.review_times_by_month()}
