"""Provider pages: staff manage their organisation and services; case managers list, add, verify,
suspend and reinstate providers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.views import View
from django.views.generic import ListView, TemplateView
from djmoney.money import Money

from accounts.exceptions import CairnError, NotVisible
from accounts.forms import add_service_errors
from accounts.models import Role
from accounts.money import CURRENCY
from accounts.permissions import has_role

from . import permissions, selectors, services
from .forms import ProfileForm, ProviderAddForm, ReasonForm, ServiceForm
from .models import Provider, ProviderStatus, ServiceOffering


class StaffMixin(LoginRequiredMixin):
    """Pages for a provider's own staff, about their own organisation."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            if not has_role(request.user, Role.PROVIDER) or request.user.provider_id is None:
                raise PermissionDenied
            self.provider = Provider.objects.get(pk=request.user.provider_id)
        return super().dispatch(request, *args, **kwargs)


class MyOrganisationView(StaffMixin, TemplateView):
    template_name = "providers/my_organisation.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["provider"] = self.provider
        context["services"] = self.provider.services.order_by("retired_at", "title")
        return context


class ProfileEditView(StaffMixin, TemplateView):
    template_name = "providers/profile_form.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        p = self.provider
        context.setdefault(
            "form",
            ProfileForm(
                initial={
                    "name": p.name,
                    "description": p.description,
                    "address": p.address,
                    "postcode": p.postcode,
                    "phone": p.phone,
                    "email": p.email,
                    "website": p.website,
                    "areas_served": " ".join(p.areas_served),
                }
            ),
        )
        return context

    def post(self, request):
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                services.provider_update_profile(actor=request.user, provider=self.provider, **form.changes())
            except CairnError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Your organisation's details are saved.")
                return HttpResponseRedirect(reverse("my-organisation"))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ServiceFormView(StaffMixin, TemplateView):
    """Add a service, or change one of the organisation's own."""

    template_name = "providers/service_form.html"

    def get_service(self) -> ServiceOffering | None:
        if "pk" not in self.kwargs:
            return None
        service = ServiceOffering.objects.filter(pk=self.kwargs["pk"], provider=self.provider).first()
        if service is None:
            raise Http404("No such service in your organisation.")
        return service

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        service = self.get_service()
        initial = (
            {
                "title": service.title,
                "category": service.category,
                "unit": service.unit,
                "unit_price": service.unit_price.amount,
                "description": service.description,
                "postcode_districts": " ".join(service.postcode_districts),
            }
            if service
            else {}
        )
        context.setdefault("form", ServiceForm(initial=initial))
        context["service"] = service
        return context

    def post(self, request, pk=None):
        service = self.get_service()
        form = ServiceForm(request.POST)
        if form.is_valid():
            fields = {
                "title": form.cleaned_data["title"],
                "category": form.cleaned_data["category"],
                "unit": form.cleaned_data["unit"],
                "unit_price": Money(form.cleaned_data["unit_price"], CURRENCY),
                "postcode_districts": form.districts(),
                "description": form.cleaned_data["description"],
            }
            try:
                if service:
                    services.service_update(actor=request.user, service=service, **fields)
                else:
                    services.service_create(actor=request.user, **fields)
            except CairnError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "The service is saved.")
                return HttpResponseRedirect(reverse("my-organisation"))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ServiceRetireView(StaffMixin, View):
    def post(self, request, pk):
        service = ServiceOffering.objects.filter(pk=pk, provider=self.provider).first()
        if service is None:
            raise Http404("No such service in your organisation.")
        try:
            services.service_retire(actor=request.user, service=service)
        except CairnError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"“{service.title}” is no longer listed. Plans that use it are not affected.")
        return HttpResponseRedirect(reverse("my-organisation"))


class CaseManagerMixin(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not permissions.can_list_all_providers(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ProviderListView(CaseManagerMixin, ListView):
    template_name = "providers/provider_list.html"
    paginate_by = 50

    def get_queryset(self):
        status = self.request.GET.get("status", "")
        return selectors.provider_list_for(
            self.request.user,
            status=status if status in ProviderStatus.values else "",
            q=self.request.GET.get("q", ""),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["statuses"] = ProviderStatus.choices
        context["status"] = self.request.GET.get("status", "")
        context["q"] = self.request.GET.get("q", "")
        context["can_add"] = permissions.can_add_providers(self.request.user)
        return context


class ProviderAddView(CaseManagerMixin, TemplateView):
    template_name = "providers/provider_add.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", ProviderAddForm())
        return context

    def post(self, request):
        form = ProviderAddForm(request.POST)
        if form.is_valid():
            try:
                provider = services.provider_create(actor=request.user, **form.cleaned_data)
            except CairnError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"{provider.name} is recorded, pending checks.")
                return HttpResponseRedirect(reverse("provider-manage", args=[provider.pk]))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ProviderManageView(CaseManagerMixin, TemplateView):
    """A provider as the case manager sees it, with the onboarding actions its state allows."""

    template_name = "providers/provider_manage.html"
    actions = {
        "verify": services.provider_verify,
        "suspend": services.provider_suspend,
        "reinstate": services.provider_reinstate,
    }

    def get_provider(self) -> Provider:
        try:
            return selectors.provider_get_for(self.request.user, self.kwargs["pk"])
        except NotVisible as exc:
            raise Http404(exc.message) from exc

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        provider = self.get_provider()
        allowed = {t.name for t in provider.get_available_status_transitions()}
        context.update(
            provider=provider,
            services=provider.services.order_by("retired_at", "title"),
            staff=provider.staff.order_by("full_name"),
            can_act=permissions.can_onboard_providers(self.request.user),
            allowed=allowed,
        )
        context.setdefault("form", ReasonForm())
        return context

    def post(self, request, pk):
        provider = self.get_provider()
        action = request.POST.get("action")
        if action not in self.actions:
            raise Http404("No such action.")
        form = ReasonForm(request.POST)
        if form.is_valid():
            try:
                provider = self.actions[action](
                    actor=request.user, provider=provider, reason=form.cleaned_data["reason"]
                )
            except CairnError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"{provider.name} is now {provider.get_status_display().lower()}.")
                return HttpResponseRedirect(reverse("provider-manage", args=[pk]))
        return self.render_to_response(self.get_context_data(form=form), status=400)
