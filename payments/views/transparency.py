"""The public transparency spend page: one quarter's payments over £500 to organisations, with the
download (payments/transparency.py)."""

from __future__ import annotations

from django.utils.decorators import method_decorator
from django.views.generic import TemplateView

from accounts.exceptions import InvalidInput
from accounts.throttles import throttle_public_page

from .. import transparency


@method_decorator(throttle_public_page, name="dispatch")
class TransparencySpendPageView(TemplateView):
    """Public: the quarter asked for (the last full one by default); a quarter that cannot be read
    is shown as an error on the form, with no table."""

    template_name = "payments/transparency.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        asked = self.request.GET.get("quarter", "").strip()
        context.update(department=transparency.DEPARTMENT, threshold=transparency.THRESHOLD, asked=asked)
        try:
            quarter = transparency.quarter_parse(asked) if asked else transparency.last_full_quarter()
        except InvalidInput as exc:
            context["error"] = exc.message
            return context
        rows = transparency.transparency_spend(quarter)
        context.update(quarter=quarter, rows=rows, total=sum((row["amount"] for row in rows), start=0))
        return context

    def render_to_response(self, context, **response_kwargs):
        if "error" in context:
            response_kwargs["status"] = 400
        return super().render_to_response(context, **response_kwargs)
