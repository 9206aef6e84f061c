"""Reassessing everyone under a new charging policy (finance and administrators): start a run for a
policy, watch its progress, read who would pay more or less (the table and a CSV of everyone), and
confirm it to record the new assessments."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.db.models import F
from django.db.models.functions import Abs
from django.http import Http404, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from accounts.money import format_money

from ..models import ChargingPolicy, ReassessmentOutcome, ReassessmentRun, ReassessmentStatus
from ..services.reassessment import (
    can_reassess,
    reassessment_confirm,
    reassessment_csv_lines,
    reassessment_start,
)
from .access import RoleRequiredMixin

TABLE_ROWS = 200


class ReassessmentListView(RoleRequiredMixin, TemplateView):
    """The charging policies, each with a button to reassess everyone under it, and recent runs.
    POST `policy` starts a run."""

    template_name = "budgets/reassessments.html"
    allowed = staticmethod(can_reassess)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["policies"] = ChargingPolicy.objects.order_by("-effective_from")
        context["runs"] = ReassessmentRun.objects.select_related("policy", "requested_by")[:20]
        context["today"] = timezone.localdate()
        return context

    def post(self, request):
        policy_id = request.POST.get("policy", "")
        if not policy_id.isdigit():
            raise Http404("No such charging policy.")
        policy = get_object_or_404(ChargingPolicy, pk=int(policy_id))
        run = reassessment_start(actor=request.user, policy=policy, request=request)
        return HttpResponseRedirect(reverse("reassessment-detail", args=[run.pk]))


def _figure(full_cost: bool, weekly) -> str:
    return "Full cost" if full_cost else format_money(weekly)


def _change(row) -> str:
    if row.change is not None:
        return format_money(row.change)
    return "Now the full cost" if row.new_full_cost else "No longer the full cost"


class ReassessmentDetailView(RoleRequiredMixin, TemplateView):
    """A run's progress (the page keeps itself current while it runs), then who would pay more or
    less, and the confirmation."""

    template_name = "budgets/reassessment_detail.html"
    allowed = staticmethod(can_reassess)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = get_object_or_404(
            ReassessmentRun.objects.select_related("policy", "requested_by", "confirmed_by"), pk=kwargs["pk"]
        )
        context["run"] = run
        context["today"] = timezone.localdate()
        if run.status in {ReassessmentStatus.DONE, ReassessmentStatus.CONFIRMED}:
            changed = run.summary.get("more", 0) + run.summary.get("less", 0)
            rows = (
                run.rows.filter(outcome__in=[ReassessmentOutcome.MORE, ReassessmentOutcome.LESS])
                .select_related("client")
                .order_by(
                    F("new_full_cost").desc(), F("old_full_cost").desc(), Abs("change").desc(), "client__full_name"
                )[:TABLE_ROWS]
            )
            context["rows"] = [
                {
                    "row": row,
                    "old": _figure(row.old_full_cost, row.old_weekly),
                    "new": _figure(row.new_full_cost, row.new_weekly),
                    "change": _change(row),
                }
                for row in rows
            ]
            context["changed"] = changed
            context["total_weekly_change"] = format_money(Decimal(run.summary.get("total_weekly_change", "0")))
            context["capped"] = changed > TABLE_ROWS
            context["table_rows"] = TABLE_ROWS
            context["policy_started"] = run.policy.effective_from <= context["today"]
        return context


class ReassessmentConfirmView(RoleRequiredMixin, View):
    allowed = staticmethod(can_reassess)

    def post(self, request, pk):
        run = get_object_or_404(ReassessmentRun, pk=pk)
        run = reassessment_confirm(actor=request.user, run=run, request=request)
        recorded = run.summary.get("recorded", 0)
        messages.success(
            request,
            f"{recorded} new financial assessment{'s' if recorded != 1 else ''} recorded, and each person told.",
        )
        return HttpResponseRedirect(reverse("reassessment-detail", args=[run.pk]))


class ReassessmentProgressView(RoleRequiredMixin, View):
    allowed = staticmethod(can_reassess)

    def get(self, request, pk):
        run = get_object_or_404(ReassessmentRun.objects.only("status", "done", "total"), pk=pk)
        return JsonResponse({"status": run.status, "done": run.done, "total": run.total, "percent": run.percent_done})


class ReassessmentCsvView(RoleRequiredMixin, View):
    allowed = staticmethod(can_reassess)

    def get(self, request, pk):
        run = get_object_or_404(
            ReassessmentRun, pk=pk, status__in=[ReassessmentStatus.DONE, ReassessmentStatus.CONFIRMED]
        )
        response = StreamingHttpResponse(reassessment_csv_lines(run), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="reassessment-{run.pk}.csv"'
        return response
