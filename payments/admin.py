from django.contrib import admin

from .models import InvoicePolicy, PayeeAccount


@admin.register(InvoicePolicy)
class InvoicePolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "auto_confirm_days"]

    def has_add_permission(self, request):
        return not InvoicePolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PayeeAccount)
class PayeeAccountAdmin(admin.ModelAdmin):
    """Read-only: accounts are opened through the gateway's onboarding, never typed in (a typed
    account id could redirect payments)."""

    list_display = ["__str__", "provider", "person", "gateway", "ready", "updated_at"]
    list_filter = ["gateway", "ready"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
