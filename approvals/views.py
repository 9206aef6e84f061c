"""Workflow pages: the plan page's actions, the review page, the reviewer's queue, statutory
reviews, notifications, and the public approval-time statistics.

The plan page itself is the care plan designer's (`careplans.views.PlanDetailView`); this app
extends it with the workflow (what the person may do next, and when the review is due), which is
why the `plan-detail` route is declared here rather than in `careplans/urls.py`.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.generic import TemplateView
from djmoney.money import Money

from accounts import stats_cache
from accounts.exceptions import CairnError, NotVisible
from accounts.forms import add_service_errors
from accounts.text import FreeTextFormField
from accounts.throttles import throttle_public_page
from accounts.web import page_status
from budgets.permissions import can_set_final_budget
from budgets.selectors import budget_figures
from careplans import views as careplan_views
from careplans.models import CarePlan, MoneyManagement, PlanStatus
from careplans.selectors import (
    plan_available,
    plan_cost_by_money_management,
    plan_get_for,
    plan_history,
    plan_money_parts,
)

from . import selectors, services, stats
from .models import PlanReview, StatutoryReview
from .permissions import can_review_plan, drafted_or_submitted, is_reviewer

# The edges a reviewer takes from the review page.
REVIEW_EDGES = {"start_review", "request_changes", "refer_to_senior", "approve", "reject"}


def _open_review(plan: CarePlan) -> PlanReview | None:
    return plan.reviews.filter(decided_at__isnull=True).first()


class PlanPageView(careplan_views.PlanDetailView):
    """The plan page with its workflow: submit, withdraw, review, and the review's due date."""

    template_name = "approvals/plan_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        plan, user = context["plan"], self.request.user
        # What this person may do now, from the state machine itself (state and `permission=`).
        edges = {t.name for t in plan.get_available_user_status_transitions(user)}
        review = _open_review(plan)
        last_changes = (
            plan.reviews.filter(outcome="changes_requested").order_by("-decided_at").first()
            if plan.status == PlanStatus.CHANGES_REQUESTED
            else None
        )
        context.update(
            review=review,
            overdue=review is not None and selectors.is_overdue(review),
            changes_comment=last_changes.comment if last_changes else "",
            may_submit="submit" in edges,
            may_withdraw="withdraw" in edges,
            may_review=bool(edges & REVIEW_EDGES),
            action_error=kwargs.get("action_error", ""),
            rate_providers=list(
                {line.provider_id: line.provider for line in plan.lines.all() if line.provider}.values()
            )
            if plan.status == PlanStatus.APPROVED and plan.client_id == user.pk
            else [],
            review_working_days=selectors.workflow_policy().review_working_days,
        )
        return context


def _refused(request, pk: int, exc: CairnError):
    """Show the plan page again with why the action was refused (and the right status)."""
    status = page_status(exc)
    view = PlanPageView()
    view.setup(request, pk=pk)
    return render(request, view.template_name, view.get_context_data(pk=pk, action_error=exc.message), status=status)


class _PlanEdgeView(LoginRequiredMixin, View):
    """A plan page button that takes one workflow edge with an optional comment; a refusal shows
    the plan page again saying why."""

    service = staticmethod(services.plan_submit)
    done = ""

    def post(self, request, pk):
        plan = get_object_or_404(CarePlan, pk=pk)
        try:
            self.service(actor=request.user, plan=plan, comment=request.POST.get("comment", ""), request=request)
        except CairnError as exc:
            return _refused(request, pk, exc)
        messages.success(request, self.done)
        return HttpResponseRedirect(reverse("plan-detail", args=[pk]))


class PlanSubmitView(_PlanEdgeView):
    service = staticmethod(services.plan_submit)
    done = "The plan is submitted. You will be told when the review starts and what is decided."


class PlanWithdrawView(_PlanEdgeView):
    service = staticmethod(services.plan_withdraw)
    done = "The plan is withdrawn."


class ReviewForm(forms.Form):
    checklist = forms.MultipleChoiceField(
        label="Sign-off checklist",
        help_text="Needed to approve. Confirm each one.",
        choices=list(services.CHECKLIST.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    comment = FreeTextFormField(
        label="Comment",
        help_text="Needed when you ask for changes or reject the plan: the client will read it.",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    final_budget = forms.DecimalField(
        label="Final budget (optional)",
        help_text="Only if it should differ from the indicative budget. In pounds, like 18500.00",
        required=False,
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        error_messages={"invalid": "Enter an amount in pounds, like 18500.00"},
    )
    final_budget_reason = FreeTextFormField(
        label="Why the final budget differs", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


ACTIONS = {"start_review", "approve", "request_changes", "reject"}
FIELD_FOR = {
    "checklist": "checklist",
    "comment": "comment",
    "final_budget": "final_budget",
    "final_budget_reason": "final_budget_reason",
    "reason": "final_budget_reason",
    "amount": "final_budget",
}


class PlanReviewView(LoginRequiredMixin, TemplateView):
    """The reviewer's page: the plan, the budget, the chosen providers' ratings, the checklist,
    a comment box, and only the actions this person may take now."""

    template_name = "approvals/review.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            try:
                self.plan = plan_get_for(request.user, kwargs["pk"])
            except NotVisible as exc:
                raise Http404(exc.message) from exc
            if not can_review_plan(request.user, self.plan):
                if is_reviewer(request.user):
                    raise Http404("No such plan.")
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        plan, user = self.plan, self.request.user
        review = _open_review(plan)
        edges = {t.name for t in plan.get_available_status_transitions()}
        deciding = "approve" in edges
        covers = selectors.authority_covers(user, plan.total_cost)
        own = drafted_or_submitted(user, plan, review.submitted_by_id if review else None)
        figures = budget_figures(plan.budget)
        headroom = plan_available(plan)
        parts = plan_cost_by_money_management(plan)
        senior_only = plan.status == PlanStatus.AWAITING_SENIOR_APPROVAL and not covers
        context.update(
            plan=plan,
            review=review,
            overdue=review is not None and selectors.is_overdue(review),
            figures=figures,
            headroom=headroom,
            over_budget=plan.total_cost > headroom,
            limit=selectors.authority_limit(user),
            history=plan_history(plan),
            can_start="start_review" in edges,
            can_decide=deciding and not senior_only,
            can_approve=deciding and not senior_only and not own,
            refers=deciding and not covers,
            senior_only=senior_only,
            own=own,
            can_set_final=can_set_final_budget(user, plan.budget) and covers,
            providers=sorted({line.provider for line in plan.lines.all() if line.provider}, key=lambda p: p.name),
            money_parts=plan_money_parts(plan),
            to_person=parts[MoneyManagement.DIRECT_PAYMENT],
        )
        context.setdefault("form", ReviewForm())
        return context

    def post(self, request, pk):
        form = ReviewForm(request.POST)
        action = request.POST.get("action")
        if action not in ACTIONS:
            form.add_error(None, "Choose what to do with the plan.")
            return self.render_to_response(self.get_context_data(form=form), status=400)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        data = form.cleaned_data
        try:
            if action == "start_review":
                services.plan_start_review(actor=request.user, plan=self.plan, request=request)
                done = "You are reviewing the plan."
            elif action == "request_changes":
                services.plan_request_changes(
                    actor=request.user, plan=self.plan, comment=data["comment"], request=request
                )
                done = "The plan is sent back with your comment."
            elif action == "reject":
                services.plan_reject(actor=request.user, plan=self.plan, comment=data["comment"], request=request)
                done = "The plan is rejected."
            else:
                final = data["final_budget"]
                plan = services.plan_approve(
                    actor=request.user,
                    plan=self.plan,
                    checklist={key: True for key in data["checklist"]},
                    comment=data["comment"],
                    final_budget=Money(final, "GBP") if final is not None else None,
                    final_budget_reason=data["final_budget_reason"],
                    request=request,
                )
                done = (
                    "The plan is approved and the money is set aside."
                    if plan.status == PlanStatus.APPROVED
                    else "The plan is above your delegated authority, so it is waiting for a senior approver."
                )
        except CairnError as exc:
            status = page_status(exc)
            add_service_errors(form, exc, FIELD_FOR)
            self.plan = plan_get_for(request.user, pk)
            return self.render_to_response(self.get_context_data(form=form), status=status)
        messages.success(request, done)
        # After starting a review the reviewer carries on on this page; after a decision, the queue.
        if action == "start_review":
            return HttpResponseRedirect(reverse("plan-review", args=[pk]))
        return HttpResponseRedirect(reverse("review-queue"))


class ReviewerMixin(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_reviewer(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ReviewQueueView(ReviewerMixin, TemplateView):
    """Plans waiting for review or a decision, soonest due first; overdue ones marked."""

    template_name = "approvals/queue.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        rows = list(selectors.review_queue_for(self.request.user))
        for review in rows:
            review.is_overdue = review.due < today
        context.update(reviews=rows, today=today, overdue_count=sum(r.is_overdue for r in rows))
        return context


class StatutoryReviewListView(ReviewerMixin, TemplateView):
    template_name = "approvals/statutory_reviews.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        rows = list(selectors.statutory_reviews_for(self.request.user)[:200])
        for row in rows:
            row.is_overdue = row.due < today
        context["reviews"] = rows
        return context


class StatutoryReviewOutcomeForm(forms.Form):
    outcome = forms.CharField(
        label="What was found and decided",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "Keep the outcome under 5,000 characters"},
    )


class StatutoryReviewDoneView(ReviewerMixin, View):
    """Record a statutory review as done. A refused outcome shows the outcome box again on a page
    of its own, its error by the box and in the summary (the error pattern), not a banner."""

    def post(self, request, pk):
        review = get_object_or_404(StatutoryReview.objects.select_related("plan__client"), pk=pk)
        try:
            services.statutory_review_complete(
                actor=request.user, review=review, outcome=request.POST.get("outcome", ""), request=request
            )
        except NotVisible as exc:
            raise Http404(exc.message) from exc
        except CairnError as exc:
            if exc.field == "outcome":
                form = StatutoryReviewOutcomeForm(request.POST)
                if form.is_valid():
                    add_service_errors(form, exc)
                context = {"review": review, "form": form}
                return render(request, "approvals/statutory_review_done.html", context, status=400)
            messages.error(request, exc.message)
        else:
            messages.success(request, f"The review with {review.plan.client.full_name} is recorded as done.")
        return HttpResponseRedirect(reverse("statutory-reviews"))


@method_decorator(throttle_public_page, name="dispatch")
class ApprovalTimesPageView(TemplateView):
    """Public: how long approval takes (open data, no login)."""

    template_name = "approvals/approval_times.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = stats.approval_times()
        context.update(
            groups=[(stage, [row for row in rows if row["stage"] == stage.code]) for stage in stats.STAGES],
            threshold=stats.SUPPRESS_BELOW,
            stats_version=stats_cache.version(stats.CACHE_NAME),
            stats_timeout=stats_cache.TIMEOUT,
        )
        return context
