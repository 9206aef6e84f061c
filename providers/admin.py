from django.contrib import admin
from django.db import models

from accounts.admin import AuditedAdmin
from accounts.admin_widgets import LabelledWidgetsMixin

from .models import Provider, ServiceOffering


@admin.register(Provider)
class ProviderAdmin(LabelledWidgetsMixin, AuditedAdmin):
    list_display = ["name", "status", "postcode", "regulator_id", "regulator_rating", "rating", "review_count"]
    list_filter = ["status", "regulator_rating"]
    search_fields = ["name", "postcode", "regulator_id"]
    # Onboarding moves only through the case manager's verify/suspend/reinstate, never an edit.
    readonly_fields = ["status", "status_reason", "status_changed_at", "rating", "review_count"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(ServiceOffering)
class ServiceOfferingAdmin(LabelledWidgetsMixin, admin.ModelAdmin):
    list_display = ["title", "provider", "category", "unit", "unit_price", "retired_at"]
    list_filter = ["category", "unit"]
    search_fields = ["title", "provider__name"]
    list_select_related = ["provider"]

    def has_add_permission(self, request):
        return False  # services are listed by provider staff, through the service layer

    def has_change_permission(self, request, obj=None):
        return False
