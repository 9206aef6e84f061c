"""The provider's *Get paid* page (payee onboarding with the gateway) and the public spend
statistics page."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.generic import TemplateView

from accounts import stats_cache
from accounts.exceptions import CairnError, NotVisible
from accounts.throttles import throttle_public_page

from .. import selectors, services, stats
from ..gateways import gateway
from .invoices import ProviderStaffRequired


class PayoutsView(ProviderStaffRequired, TemplateView):
    """Provider staff set up payouts with the configured gateway: the account is opened through
    its API and they are sent to its onboarding; coming back refreshes whether it is complete."""

    template_name = "payments/payouts.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        provider = self.request.user.provider
        gw = gateway()
        account = selectors.provider_payee_account(provider, gw.name)
        if self.request.GET.get("returned") and account is not None:
            try:
                account = services.provider_payments_refresh(actor=self.request.user, provider=provider)
            except CairnError as exc:
                context["error"] = exc.message
        context.update(provider=provider, gateway=gw, account=account)
        return context

    def post(self, request):
        here = request.build_absolute_uri(reverse("payouts"))
        try:
            url = services.provider_payments_onboard(
                actor=request.user, provider=request.user.provider, refresh_url=here, return_url=f"{here}?returned=1"
            )
        except NotVisible as exc:
            raise Http404(exc.message) from exc
        except CairnError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("payouts"))
        return HttpResponseRedirect(url)


@method_decorator(throttle_public_page, name="dispatch")
class SpendPageView(TemplateView):
    """Public: where the money goes, by kind of support and month."""

    template_name = "payments/spend.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            rows=stats.spend_by_category(),
            threshold=stats.SUPPRESS_BELOW,
            stats_version=stats_cache.version(stats.CACHE_NAME),
            stats_timeout=stats_cache.TIMEOUT,
        )
        return context
