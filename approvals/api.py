"""Workflow endpoints (docs/api.md): `POST /plans/{id}/<action>/`, `GET /plans/{id}/history/`, and the
public approval-time statistics. Each action answers 200 with the plan as it now is."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.fields import MoneyField
from accounts.api.open_data import OpenDataView, open_data_schema
from accounts.exceptions import NotVisible
from accounts.text import FreeTextField
from accounts.throttles import PublicRateThrottle
from careplans.api import PlanSerializer
from careplans.models import CarePlan
from careplans.permissions import can_view_plan
from careplans.selectors import plan_get_for, plan_history

from . import services, stats


class CommentSerializer(serializers.Serializer):
    comment = FreeTextField(required=False, allow_blank=True, max_length=5000)


class RequiredCommentSerializer(serializers.Serializer):
    comment = FreeTextField(
        max_length=5000, error_messages={"required": "Write a comment.", "blank": "Write a comment."}
    )


CHECKLIST_ITEMS = ("outcomes", "costs", "risks", "management", "contacts")


# The server accepts the checklist only with every item true (else 400): the schema says the same.
@extend_schema_field(
    {
        "type": "object",
        "properties": {item: {"type": "boolean", "enum": [True]} for item in CHECKLIST_ITEMS},
        "required": list(CHECKLIST_ITEMS),
    }
)
class ChecklistSerializer(serializers.Serializer):
    outcomes = serializers.BooleanField(required=False)
    costs = serializers.BooleanField(required=False)
    risks = serializers.BooleanField(required=False)
    management = serializers.BooleanField(required=False)
    contacts = serializers.BooleanField(required=False)


class ApproveSerializer(serializers.Serializer):
    checklist = ChecklistSerializer(error_messages={"required": "Confirm every item of the sign-off checklist."})
    comment = FreeTextField(required=False, allow_blank=True, max_length=5000)
    final_budget = MoneyField(required=False)
    final_budget_reason = FreeTextField(required=False, allow_blank=True, max_length=2000)


def _plan(request, pk) -> CarePlan:
    plan = CarePlan.objects.select_related("budget", "client").filter(pk=pk).first()
    if plan is None or not can_view_plan(request.user, plan):
        raise NotVisible("No such plan.")
    return plan


class _TransitionView(APIView):
    """One transition endpoint: subclasses name the body's serializer and `perform(request, plan,
    data)` the service call."""

    body = CommentSerializer

    def post(self, request, pk):
        plan = _plan(request, pk)
        body = self.body(data=request.data)
        body.is_valid(raise_exception=True)
        self.perform(request, plan, dict(body.validated_data))
        return Response(PlanSerializer(plan_get_for(request.user, plan.pk)).data)


def _documented(body, summary: str):
    return extend_schema(request=body, responses={200: PlanSerializer}, summary=summary, tags=["plans"])


def _comment_edge(name: str, service, summary: str, body=CommentSerializer) -> type[_TransitionView]:
    """An endpoint for an edge whose only input is a comment (required when `body` says so)."""

    class View(_TransitionView):
        @_documented(body, summary)
        def post(self, request, pk):
            return super().post(request, pk)

        def perform(self, request, plan, data):
            service(actor=request.user, plan=plan, comment=data.get("comment", ""), request=request)

    View.body = body
    View.__name__ = View.__qualname__ = name
    return View


PlanSubmitView = _comment_edge(
    "PlanSubmitView", services.plan_submit, "Submit a plan for review (client or social worker)"
)
PlanRequestChangesView = _comment_edge(
    "PlanRequestChangesView",
    services.plan_request_changes,
    "Send a plan back for changes (comment required)",
    RequiredCommentSerializer,
)
PlanRejectView = _comment_edge(
    "PlanRejectView", services.plan_reject, "Reject a plan (comment required)", RequiredCommentSerializer
)
PlanWithdrawView = _comment_edge(
    "PlanWithdrawView",
    services.plan_withdraw,
    "Withdraw a plan (the client; from draft, submitted or changes requested)",
)


class PlanStartReviewView(_TransitionView):
    @_documented(None, "Start reviewing a submitted plan (social worker or team manager)")
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, request, plan, data):
        services.plan_start_review(actor=request.user, plan=plan, request=request)


class PlanApproveView(_TransitionView):
    body = ApproveSerializer

    @_documented(
        ApproveSerializer,
        "Approve a plan with the sign-off checklist; above the reviewer's delegated authority it "
        "moves to awaiting senior approval",
    )
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, request, plan, data):
        services.plan_approve(
            actor=request.user,
            plan=plan,
            checklist=data["checklist"],
            comment=data.get("comment", ""),
            final_budget=data.get("final_budget"),
            final_budget_reason=data.get("final_budget_reason", ""),
            request=request,
        )


HistoryEntry = inline_serializer(
    "PlanHistoryEntry",
    {
        "from": serializers.CharField(allow_null=True),
        "to": serializers.CharField(),
        "by": serializers.IntegerField(allow_null=True),
        "by_name": serializers.CharField(),
        "at": serializers.DateTimeField(),
        "comment": serializers.CharField(),
    },
    many=True,
)


class PlanHistoryView(APIView):
    @extend_schema(responses={200: HistoryEntry}, summary="The plan's workflow history", tags=["plans"])
    def get(self, request, pk):
        plan = _plan(request, pk)
        return Response(
            [
                {
                    "from": row["from"],
                    "to": row["to"],
                    "by": row["by"].pk if row["by"] else None,
                    "by_name": row["by"].full_name if row["by"] else "",
                    "at": row["at"],
                    "comment": row["comment"],
                }
                for row in plan_history(plan)
            ]
        )


ApprovalTimeRow = inline_serializer(
    "ApprovalTimeRow",
    {
        "stage": serializers.CharField(),
        "stage_label": serializers.CharField(),
        "month": serializers.CharField(),
        "count": serializers.IntegerField(allow_null=True),
        "median_days": serializers.FloatField(allow_null=True),
        "p90_days": serializers.FloatField(allow_null=True),
        "suppressed": serializers.BooleanField(),
    },
    many=True,
)


class ApprovalTimesView(OpenDataView):
    """How long each approval stage takes, by month."""

    csv_fields = stats.CSV_FIELDS
    csv_filename = "cairn-approval-times.csv"
    throttle_classes = [PublicRateThrottle]

    @open_data_schema(
        "ApprovalTimes",
        "How long each approval stage takes, by month (open data)",
        rows=ApprovalTimeRow,
        stages=serializers.DictField(child=serializers.CharField()),
    )
    def get(self, request):
        return super().get(request)

    def data(self) -> dict:
        return {
            "suppressed_below": stats.SUPPRESS_BELOW,
            "stages": stats.STAGE_LABELS,
            "results": stats.approval_times(),
        }
