"""RAS scheme pages for administrators: the schemes, and what-if re-pricing runs under a draft with
their progress and per-client CSV."""

from __future__ import annotations

from django.http import FileResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from accounts.exceptions import CairnError

from .. import permissions, selectors
from ..models import RasScheme, SchemeStatus, WhatIfRun, WhatIfStatus
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
