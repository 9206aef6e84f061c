"""RAS scheme pages for administrators: the schemes, and what-if re-pricing runs under a draft with
their progress and per-client CSV."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from accounts.exceptions import CairnError
from accounts.forms import add_service_errors

from .. import permissions, selectors
from ..models import RasScheme, SchemeStatus, WhatIfRun, WhatIfStatus
from ..scheme_forms import SPARE_BANDS, SchemePricesForm
from ..services.schemes import scheme_draft_from, scheme_prices_update, scheme_publish
from ..services.whatif import whatif_start
from .access import RoleRequiredMixin


class SchemeListView(RoleRequiredMixin, TemplateView):
    """RAS schemes, and what-if runs for the drafts (administrators)."""

    template_name = "budgets/schemes.html"
    allowed = staticmethod(permissions.can_manage_schemes)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["schemes"] = RasScheme.objects.order_by("-effective_from", "-version")
        context["runs"] = WhatIfRun.objects.select_related("scheme", "requested_by")[:20]
        try:
            context["active"] = selectors.active_scheme()
        except CairnError:
            context["active"] = None
        return context


class SchemeDraftStartView(RoleRequiredMixin, View):
    """A new draft version of a published scheme (or the draft already started), to change prices."""

    allowed = staticmethod(permissions.can_manage_schemes)

    def post(self, request, scheme_id):
        scheme = get_object_or_404(RasScheme, pk=scheme_id, status__in=[SchemeStatus.PUBLISHED, SchemeStatus.RETIRED])
        draft = scheme_draft_from(actor=request.user, scheme=scheme)
        return HttpResponseRedirect(reverse("ras-scheme-edit", args=[draft.pk]))


class SchemeEditView(RoleRequiredMixin, TemplateView):
    """A draft's prices and bands (GOV.UK form), its what-if runs, and the button to publish it."""

    template_name = "budgets/scheme_edit.html"
    allowed = staticmethod(permissions.can_manage_schemes)

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and permissions.can_manage_schemes(request.user):
            self.scheme = get_object_or_404(RasScheme, pk=kwargs["scheme_id"])
            if self.scheme.status != SchemeStatus.DRAFT:
                messages.info(
                    request, f"{self.scheme.name} version {self.scheme.version} is published and cannot be changed."
                )
                return HttpResponseRedirect(reverse("ras-schemes"))
        return super().dispatch(request, *args, **kwargs)

    def _form(self, data=None):
        bands = list(self.scheme.bands.all())
        rows = len(bands) + SPARE_BANDS
        if data is not None:  # keep every row the person was shown
            rows = max(rows, sum(1 for key in data if key.startswith("band_") and key.endswith("_price")))
        return SchemePricesForm(data, band_rows=rows, initial=SchemePricesForm.initial_for(self.scheme, bands))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        published = (
            RasScheme.objects.filter(name=self.scheme.name, status=SchemeStatus.PUBLISHED).order_by("-version").first()
        )
        context.update(
            scheme=self.scheme,
            published=published,
            form=kwargs.get("form") or self._form(),
            runs=self.scheme.whatif_runs.order_by("-created_at")[:5],
        )
        return context

    def post(self, request, scheme_id):
        form = self._form(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                scheme_prices_update(
                    actor=request.user,
                    scheme=self.scheme,
                    price_per_point=data["price_per_point"],
                    min_budget=data["min_budget"],
                    max_budget=data["max_budget"],
                    effective_from=data["effective_from"],
                    bands=form.bands(),
                )
            except CairnError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "The prices are saved. Run a what-if to see how budgets would change.")
                return HttpResponseRedirect(reverse("ras-scheme-edit", args=[self.scheme.pk]))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class SchemePublishView(RoleRequiredMixin, View):
    allowed = staticmethod(permissions.can_manage_schemes)

    def post(self, request, scheme_id):
        scheme = get_object_or_404(RasScheme, pk=scheme_id)
        try:
            scheme = scheme_publish(actor=request.user, scheme=scheme)
        except CairnError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("ras-schemes"))
        messages.success(
            request,
            f"{scheme.name} version {scheme.version} is published. It prices new assessments from "
            f"{scheme.effective_from:%-d %B %Y}; budgets already worked out do not change.",
        )
        return HttpResponseRedirect(reverse("ras-schemes"))


class WhatIfStartView(RoleRequiredMixin, View):
    allowed = staticmethod(permissions.can_manage_schemes)

    def post(self, request, scheme_id):
        scheme = get_object_or_404(RasScheme, pk=scheme_id, status=SchemeStatus.DRAFT)
        run = whatif_start(actor=request.user, scheme=scheme)
        return HttpResponseRedirect(reverse("whatif-detail", args=[run.pk]))


class WhatIfDetailView(RoleRequiredMixin, TemplateView):
    """A run's progress (refreshing itself while it runs) and then its report."""

    template_name = "budgets/whatif_detail.html"
    allowed = staticmethod(permissions.can_manage_schemes)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = get_object_or_404(WhatIfRun.objects.select_related("scheme"), pk=kwargs["pk"])
        context["run"] = run
        context["finished"] = run.status in {WhatIfStatus.DONE, WhatIfStatus.FAILED}
        return context


class WhatIfProgressView(RoleRequiredMixin, View):
    allowed = staticmethod(permissions.can_manage_schemes)

    def get(self, request, pk):
        run = get_object_or_404(WhatIfRun, pk=pk)
        return JsonResponse({"status": run.status, "done": run.done, "total": run.total, "percent": run.percent_done})


class WhatIfCsvView(RoleRequiredMixin, View):
    allowed = staticmethod(permissions.can_manage_schemes)

    def get(self, request, pk):
        run = get_object_or_404(WhatIfRun, pk=pk, status=WhatIfStatus.DONE)
        return FileResponse(run.csv_file.open("rb"), as_attachment=True, filename=f"whatif-{run.pk}.csv")
