"""RAS, assessments and budgets endpoints (docs/api.md)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.fields import MoneyField
from accounts.api.views import RolePredicate
from accounts.models import Role, User
from accounts.permissions import has_role

from . import selectors
from .exceptions import ClientNotVisible
from .models import Assessment, LedgerTransaction, PersonalBudget, RasScheme
from .services import assessments as assessment_services


class AnswerSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()
    points = serializers.IntegerField()
    unable = serializers.BooleanField()
    unable_reason = serializers.CharField()


class QuestionSerializer(serializers.Serializer):
    code = serializers.CharField()
    domain = serializers.CharField()
    text = serializers.CharField()
    help_text = serializers.CharField()
    answers = AnswerSerializer(many=True, source="answers.all")


class BandSerializer(serializers.Serializer):
    up_to_points = serializers.IntegerField(allow_null=True)
    price_per_point = MoneyField()


class ModifierSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()
    percent = serializers.DecimalField(max_digits=5, decimal_places=2)


class SchemeSerializer(serializers.ModelSerializer):
    price_per_point = MoneyField()
    min_budget = MoneyField()
    max_budget = MoneyField()
    questions = QuestionSerializer(many=True, source="questions.all")
    bands = BandSerializer(many=True, source="bands.all")
    modifiers = ModifierSerializer(many=True, source="modifiers.all")

    class Meta:
        model = RasScheme
        fields = [
            "id", "name", "version", "status", "is_example", "effective_from", "content_digest",
            "price_per_point", "min_budget", "max_budget", "bands", "modifiers", "questions",
        ]  # fmt: skip


class ActiveSchemeView(APIView):
    """The RAS scheme in force today, with every question and answer."""

    @extend_schema(responses=SchemeSerializer)
    def get(self, request):
        scheme = RasScheme.objects.prefetch_related("questions__answers", "bands", "modifiers").get(
            pk=selectors.active_scheme().pk
        )
        return Response(SchemeSerializer(scheme).data)


class AssessmentCreateSerializer(serializers.Serializer):
    client = serializers.IntegerField()
    answers = serializers.DictField(child=serializers.CharField())
    impairment = serializers.BooleanField()
    wellbeing_impact = serializers.BooleanField()
    modifiers = serializers.ListField(child=serializers.CharField(), required=False, default=list)


class AssessmentSerializer(serializers.ModelSerializer):
    indicative_budget = MoneyField()
    budget = serializers.SerializerMethodField()

    class Meta:
        model = Assessment
        fields = [
            "id", "client", "assessor", "scheme", "status", "answers", "modifiers", "impairment",
            "wellbeing_impact", "eligible", "reasons", "points", "indicative_budget", "breakdown",
            "created_at", "completed_at", "budget",
        ]  # fmt: skip
        read_only_fields = fields

    def get_budget(self, assessment) -> int | None:
        budget = getattr(assessment, "budget", None) if assessment.status == "completed" else None
        return budget.pk if budget else None


class CompleteSerializer(serializers.Serializer):
    period_start = serializers.DateField(required=False)


class CanAssess(RolePredicate):
    predicate = staticmethod(lambda user: has_role(user, Role.SOCIAL_WORKER, Role.TEAM_MANAGER))
    message = "Only social workers and team managers carry out assessments."


class AssessmentViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = AssessmentSerializer
    # Objects are found by `get_object` (which checks visibility); this tells the schema the id type.
    queryset = Assessment.objects.none()

    def get_permissions(self):
        extra = [CanAssess()] if self.action in {"create", "complete"} else []
        return [*super().get_permissions(), *extra]

    def get_object(self):
        return selectors.assessment_get_for(self.request.user, self.kwargs["pk"])

    @extend_schema(request=AssessmentCreateSerializer, responses={201: AssessmentSerializer})
    def create(self, request):
        data = AssessmentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        client = User.objects.filter(pk=data.validated_data["client"], role=Role.CLIENT).first()
        if client is None:
            raise ClientNotVisible()
        assessment = assessment_services.assessment_create(
            actor=request.user,
            client=client,
            answers=data.validated_data["answers"],
            modifiers=data.validated_data["modifiers"],
            impairment=data.validated_data["impairment"],
            wellbeing_impact=data.validated_data["wellbeing_impact"],
            require_all=True,
            request=request._request,
        )
        return Response(AssessmentSerializer(assessment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CompleteSerializer, responses=AssessmentSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        assessment = self.get_object()
        data = CompleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assessment_services.assessment_complete(
            actor=request.user,
            assessment=assessment,
            period_start=data.validated_data.get("period_start"),
            request=request._request,
        )
        return Response(AssessmentSerializer(Assessment.objects.select_related("budget").get(pk=assessment.pk)).data)


class BudgetSerializer(serializers.ModelSerializer):
    allocated = serializers.SerializerMethodField()
    committed = serializers.SerializerMethodField()
    paid = serializers.SerializerMethodField()
    available = serializers.SerializerMethodField()
    indicative_amount = MoneyField()
    final_amount = MoneyField(allow_null=True)

    class Meta:
        model = PersonalBudget
        fields = [
            "id", "client", "assessment", "period_start", "period_end", "allocated", "committed",
            "paid", "available", "indicative_amount", "final_amount", "final_reason",
        ]  # fmt: skip
        read_only_fields = fields

    def _figures(self, budget):
        figures = self.context.get("figures", {}).get(budget.pk)
        return figures or selectors.budget_figures(budget)

    def get_allocated(self, budget) -> dict:
        return MoneyField().to_representation(self._figures(budget).allocated)

    def get_committed(self, budget) -> dict:
        return MoneyField().to_representation(self._figures(budget).committed)

    def get_paid(self, budget) -> dict:
        return MoneyField().to_representation(self._figures(budget).paid)

    def get_available(self, budget) -> dict:
        return MoneyField().to_representation(self._figures(budget).available)


class PostingSerializer(serializers.Serializer):
    account = serializers.CharField(source="account.code")
    kind = serializers.CharField(source="account.kind")
    amount = MoneyField(allow_negative=True)


class TransactionSerializer(serializers.ModelSerializer):
    postings = PostingSerializer(many=True, source="postings.all")

    class Meta:
        model = LedgerTransaction
        fields = ["id", "kind", "memo", "created_at", "idempotency_key", "reverses", "postings"]
        read_only_fields = fields


class BudgetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Personal budgets visible to the caller, with their four figures and ledger."""

    serializer_class = BudgetSerializer

    def get_queryset(self):
        return selectors.budget_list_visible_to(self.request.user)

    def get_object(self):
        return selectors.budget_get_for(self.request.user, self.kwargs["pk"])

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        figures = selectors.budget_figures_many([b.pk for b in page])
        return self.get_paginated_response(BudgetSerializer(page, many=True, context={"figures": figures}).data)

    @extend_schema(responses=TransactionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def ledger(self, request, pk=None):
        budget = self.get_object()
        page = self.paginate_queryset(selectors.ledger_list(budget))
        return self.get_paginated_response(TransactionSerializer(page, many=True).data)
