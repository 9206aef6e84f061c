"""Site-wide pages: the role-aware home page and the error pages."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.views.generic import TemplateView

from accounts.api.errors import json_not_found, json_server_error

from .home import acting_for, tasks_for


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "marketplace/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tasks"] = tasks_for(self.request.user)
        context["acting_for"] = acting_for(self.request.user)
        return context


def page_not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return json_not_found(request, exception)
    return render(request, "404.html", status=404)


def server_error(request):
    if request.path.startswith("/api/"):
        return json_server_error(request)
    return render(request, "500.html", status=500)


def permission_denied(request, exception=None):
    """A view may say why (`PermissionDenied("reason")`); the page shows it."""
    reason = str(exception) if exception is not None and str(exception) else ""
    return render(request, "403.html", {"reason": reason}, status=403)


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says; point them at the static one.

    Resolved per request, not at import, because the hashed name exists only after collectstatic.
    """
    return HttpResponsePermanentRedirect(static("govuk/assets/images/favicon.ico"))
