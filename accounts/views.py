"""People pages: sign-in lockout, your account, a team manager's team and allocations.
The caseload and client record pages, which show each client's assessments and budgets, live in
`budgets.views`."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.views import View
from django.views.generic import TemplateView

from . import permissions, selectors, services, tokens
from .exceptions import CairnError, NotVisible
from .forms import AllocateClientForm, SignInForm
from .models import AuditAction, Role
from .throttles import (
    PasswordResetEmailThrottle,
    PasswordResetRateThrottle,
    SignInFailureThrottle,
    SignInRateThrottle,
    throttle_page,
    too_many_requests_page,
)


def lockout_response(request, credentials, *args, **kwargs):
    """What a locked-out sign-in gets: JSON for the API, a page for people. Axes calls this."""
    message = "Too many failed sign-in attempts. Wait 15 minutes and try again, or reset your password."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    return render(request, "registration/locked_out.html", {"message": message}, status=429)


@method_decorator(throttle_page(SignInRateThrottle, methods=("POST",)), name="dispatch")
class SignInView(auth_views.LoginView):
    """Sign-in, limited per address like the API's (accounts/throttles.py): every attempt, and
    failures more tightly, so one address cannot try a few passwords against many usernames."""

    form_class = SignInForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        failures = SignInFailureThrottle()
        if not failures.allow_request(request, None):
            return too_many_requests_page(request, failures.retry_after())
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        if form.has_error(NON_FIELD_ERRORS, "invalid_login"):
            SignInFailureThrottle().record_failure(self.request)
        return super().form_invalid(form)


class PasswordChangeView(auth_views.PasswordChangeView):
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.password_changed_record(user=self.request.user, request=self.request)
        return response


@method_decorator(throttle_page(PasswordResetRateThrottle, methods=("POST",)), name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    """Requests are limited per address, and emails per email address: past that the page says
    the same as ever but sends nothing, so it never tells whether an account exists."""

    extra_email_context = {"council_name": settings.CAIRN_COUNCIL_NAME}

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        # The address typed is recorded, not whether it matched: the page never says which.
        services.audit_record(
            actor=None,
            action=AuditAction.PASSWORD_RESET_REQUESTED,
            request=self.request,
            message=f"Reset requested for {email}"[:500],
        )
        if not PasswordResetEmailThrottle().allow_email(email):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class AccountView(LoginRequiredMixin, TemplateView):
    template_name = "accounts/account.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        context = super().get_context_data(**kwargs)
        context["team"] = user.teams.first() if permissions.has_role(user, Role.SOCIAL_WORKER) else None
        context["managed_teams"] = user.managed_teams.all() if permissions.can_view_team(user) else []
        context["social_worker"] = (
            selectors.current_social_worker(client=user) if permissions.has_role(user, Role.CLIENT) else None
        )
        context["represented"] = selectors.represented_clients(representative=user)
        context["api_tokens"] = tokens.token_list(user=user)
        return context


class TokenRevokePageView(LoginRequiredMixin, View):
    """Revoke one of your API tokens, or all of them, from your account page."""

    def post(self, request, token_id: str | None = None):
        if token_id is None:
            count = tokens.tokens_revoke_all(user=request.user, reason="revoked by their owner.", request=request)
            messages.success(request, f"{count} API token{'s' if count != 1 else ''} revoked.")
        else:
            try:
                tokens.token_revoke(actor=request.user, token_id=token_id, request=request)
            except NotVisible as exc:
                raise Http404(exc.message) from exc
            messages.success(request, "The API token was revoked. Integrations using it must sign in again.")
        return HttpResponseRedirect(reverse("account"))


class TeamView(LoginRequiredMixin, TemplateView):
    """A team manager's team: each social worker's caseload, and allocating a client."""

    template_name = "accounts/team.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not permissions.can_view_team(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def _form(self, data=None):
        manager = self.request.user
        return AllocateClientForm(
            data,
            clients=selectors.clients_allocatable_by(manager=manager),
            social_workers=selectors.team_social_workers(manager=manager),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["teams"] = selectors.team_list_managed(manager=self.request.user)
        context.setdefault("form", self._form())
        return context

    def post(self, request, *args, **kwargs):
        form = self._form(request.POST)
        if form.is_valid():
            try:
                assignment = services.caseload_assign(
                    actor=request.user,
                    social_worker=form.cleaned_data["social_worker"],
                    client=form.cleaned_data["client"],
                    request=request,
                )
            except CairnError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"{assignment.client} is now on {assignment.social_worker}'s caseload.")
                return HttpResponseRedirect(reverse("team"))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class NotificationListView(LoginRequiredMixin, TemplateView):
    template_name = "accounts/notifications.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = Paginator(selectors.notifications_for(self.request.user), 50).get_page(self.request.GET.get("page"))
        context.update(page_obj=page, notifications=page.object_list)
        return context

    def post(self, request):
        count = services.notification_mark_read(actor=request.user)
        messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked as read.")
        return HttpResponseRedirect(reverse("notifications"))
