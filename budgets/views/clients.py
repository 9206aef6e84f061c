"""A social worker's caseload with where each client has got to, and a client's record."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView

from accounts import permissions as account_permissions
from accounts.models import AuditAction, CaseloadAssignment, Role, User
from accounts.selectors import client_get_for, current_social_worker
from accounts.services import audit_record

from .. import permissions, selectors
from .access import RoleRequiredMixin, visible_or_404


class CaseloadView(RoleRequiredMixin, TemplateView):
    """A social worker's clients with where each has got to, and clients waiting for anyone."""

    template_name = "budgets/caseload.html"
    allowed = staticmethod(account_permissions.can_view_own_caseload)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = list(selectors.caseload_with_status(social_worker=self.request.user))
        for row in rows:
            row.status_text = selectors.client_status(row)
        context["assignments"] = rows
        context["unallocated"] = (
            User.objects.filter(role=Role.CLIENT, is_active=True)
            .exclude(pk__in=CaseloadAssignment.objects.filter(end_date__isnull=True).values("client_id"))
            .order_by("full_name")[:50]
        )
        return context


class ClientDetailView(LoginRequiredMixin, TemplateView):
    """A client's record with their assessments and budgets. Only people who may see it get it
    (404 otherwise); each opening is audited."""

    template_name = "budgets/client_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        client = visible_or_404(client_get_for, self.request.user, kwargs["pk"])
        audit_record(actor=self.request.user, action=AuditAction.VIEW, target=client, request=self.request)
        context.update(
            client=client,
            social_worker=current_social_worker(client=client),
            history=client.social_worker_assignments.select_related("social_worker").order_by("-start_date"),
            assessments=client.assessments.select_related("assessor").order_by("-created_at"),
            budgets=client.budgets.order_by("-period_start"),
            can_assess=permissions.can_assess_client(self.request.user, client),
        )
        return context
