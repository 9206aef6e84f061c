"""A social worker's caseload with where each client has got to, and a client's record with the
people acting for them (added and removed there by the client's social worker or an administrator)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from accounts import permissions as account_permissions
from accounts.exceptions import CairnError, StateConflict
from accounts.forms import RepresentativeAddForm, add_service_errors
from accounts.models import AuditAction, CaseloadAssignment, Representation, Role, User
from accounts.selectors import (
    client_get_for,
    current_social_worker,
    representation_list_for_client,
    representative_candidates,
)
from accounts.services import audit_record, representation_add, representation_remove

from .. import permissions, selectors
from ..caseload import client_progress
from .access import RoleRequiredMixin, visible_or_404


class CaseloadView(RoleRequiredMixin, TemplateView):
    """A social worker's clients with where each has got to (budget, care plan, what needs doing
    next: `budgets.caseload`), and clients waiting for anyone. A fixed number of queries."""

    template_name = "budgets/caseload.html"
    allowed = staticmethod(account_permissions.can_view_own_caseload)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = list(selectors.caseload_with_status(social_worker=self.request.user))
        progress = client_progress(row.client_id for row in rows)
        for row in rows:
            row.status_text = selectors.client_status(row)
            row.progress = progress[row.client_id]
        context["assignments"] = rows
        context["unallocated"] = (
            User.objects.filter(role=Role.CLIENT, is_active=True)
            .exclude(pk__in=CaseloadAssignment.objects.filter(end_date__isnull=True).values("client_id"))
            .order_by("full_name")[:50]
        )
        return context


def _representatives_url(client: User) -> str:
    return reverse("client-detail", args=[client.pk]) + "#representatives"


class ClientDetailView(LoginRequiredMixin, TemplateView):
    """A client's record with their assessments, budgets and the people acting for them. Only
    people who may see it get it (404 otherwise); each opening is audited."""

    template_name = "budgets/client_detail.html"

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        audit_record(
            actor=request.user, action=AuditAction.VIEW, target=response.context_data["client"], request=request
        )
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        client = visible_or_404(client_get_for, user, kwargs["pk"])
        may_manage = account_permissions.can_manage_representatives(user, client)
        if may_manage and "representative_form" not in kwargs:
            context["representative_form"] = RepresentativeAddForm(candidates=representative_candidates(client=client))
        context.update(
            client=client,
            social_worker=current_social_worker(client=client),
            history=client.social_worker_assignments.select_related("social_worker").order_by("-start_date"),
            assessments=client.assessments.select_related("assessor").order_by("-created_at"),
            budgets=client.budgets.order_by("-period_start"),
            can_assess=permissions.can_assess_client(user, client),
            representations=representation_list_for_client(client=client),
            can_manage_representatives=may_manage,
        )
        return context


class _ManageRepresentativesMixin(LoginRequiredMixin):
    """The client from the URL for someone who may change who acts for them: 404 for a client the
    person may not see, 403 for one they may see but not manage."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.client = visible_or_404(client_get_for, request.user, kwargs["pk"])
            if not account_permissions.can_manage_representatives(request.user, self.client):
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ClientRepresentativeAddView(_ManageRepresentativesMixin, ClientDetailView):
    """Link a representative to the client. A refusal shows the record again with the reason."""

    http_method_names = ["post"]

    def post(self, request, pk):
        form = RepresentativeAddForm(request.POST, candidates=representative_candidates(client=self.client))
        if form.is_valid():
            try:
                link = representation_add(
                    actor=request.user,
                    representative=form.cleaned_data["representative"],
                    client=self.client,
                    kind=form.cleaned_data["kind"],
                    request=request,
                )
            except CairnError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"{link.representative.full_name} can now act for {self.client.full_name}.")
                return HttpResponseRedirect(_representatives_url(self.client))
        return self.render_to_response(self.get_context_data(pk=pk, representative_form=form), status=400)


class ClientRepresentativeRemoveView(_ManageRepresentativesMixin, View):
    """Stop someone acting for the client."""

    def post(self, request, pk, link_id):
        link = Representation.objects.select_related("representative", "client").filter(pk=link_id, client=self.client)
        link = link.first()
        if link is None:
            raise Http404("No such representative.")
        try:
            representation_remove(actor=request.user, representation=link, request=request)
        except StateConflict as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{link.representative.full_name} no longer acts for {self.client.full_name}.")
        return HttpResponseRedirect(_representatives_url(self.client))
