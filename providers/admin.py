from django.contrib import admin

from accounts.admin import AuditedAdmin

from .models import Provider


@admin.register(Provider)
class ProviderAdmin(AuditedAdmin):
    list_display = ["name", "postcode", "email", "phone"]
    search_fields = ["name", "postcode"]
