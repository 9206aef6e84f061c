from django.contrib import admin

from accounts.admin_base import ReadOnlyAdmin, SingletonAdmin
from accounts.admin_widgets import LabelledWidgetsMixin

from .models import FundPolicy, InvoicePolicy, PayeeAccount


@admin.register(InvoicePolicy)
class InvoicePolicyAdmin(LabelledWidgetsMixin, SingletonAdmin):
    list_display = ["__str__", "auto_confirm_days"]


@admin.register(PayeeAccount)
class PayeeAccountAdmin(ReadOnlyAdmin):
    """Read-only: accounts are opened through the gateway's onboarding, never typed in (a typed
    account id could redirect payments)."""

    list_display = ["__str__", "provider", "person", "gateway", "ready", "updated_at"]
    list_filter = ["gateway", "ready"]


@admin.register(FundPolicy)
class FundPolicyAdmin(LabelledWidgetsMixin, SingletonAdmin):
    list_display = ["__str__", "load_period_days", "buffer_weeks", "receipt_required_above", "recovery_notice_days"]
