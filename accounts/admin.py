"""Django admin for configuration. Every save and delete made here is audited; the audit trail
itself is read-only."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.forms.models import model_to_dict
from django.urls import reverse

from accounts.admin_base import ReadOnlyAdmin, ViewOnlyAdmin

from .forms import AdminUserAddForm, AdminUserChangeForm
from .models import (
    AuditAction,
    AuditEvent,
    CaseloadAssignment,
    Notification,
    Representation,
    Role,
    Team,
    TeamMembership,
    User,
)
from .services import audit_record, representation_add, representation_remove
from .tokens import tokens_revoke_all


class AuditedAdmin(admin.ModelAdmin):
    """Writes a create/update/delete audit row for each change made through the admin."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changed = {name: str(form.cleaned_data.get(name)) for name in form.changed_data if "password" not in name}
        audit_record(
            actor=request.user,
            action=AuditAction.UPDATE if change else AuditAction.CREATE,
            target=obj,
            request=request,
            changes=changed,
            message="Through the admin site.",
        )

    def delete_model(self, request, obj):
        audit_record(
            actor=request.user,
            action=AuditAction.DELETE,
            target=obj,
            request=request,
            changes={k: str(v) for k, v in model_to_dict(obj).items() if "password" not in k},
            message="Through the admin site.",
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    form = AdminUserChangeForm
    add_form = AdminUserAddForm
    list_display = ["username", "full_name", "role", "email", "provider", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "full_name", "email", "postcode"]
    ordering = ["username"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Person", {"fields": ["full_name", "email", "postcode", "role", "provider"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["username", "full_name", "email", "role", "provider", "password1", "password2"],
            },
        ),
    ]
    readonly_fields = ["last_login", "date_joined"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            tokens_revoke_all(user=obj, reason="the account was closed.", actor=request.user, request=request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Opening a client's record in the admin is a view of their personal data, like any other.
        if request.method == "GET":
            person = self.get_object(request, object_id)
            if person is not None and person.role == Role.CLIENT:
                audit_record(actor=request.user, action=AuditAction.VIEW, target=person, request=request)
        return super().change_view(request, object_id, form_url, extra_context)


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 1
    autocomplete_fields = ["social_worker"]


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ["name", "manager"]
    search_fields = ["name"]
    inlines = [TeamMembershipInline]
    autocomplete_fields = ["manager"]


@admin.register(CaseloadAssignment)
class CaseloadAssignmentAdmin(AuditedAdmin):
    list_display = ["client", "social_worker", "start_date", "end_date"]
    list_filter = ["end_date"]
    search_fields = ["client__full_name", "social_worker__full_name"]
    autocomplete_fields = ["client", "social_worker", "assigned_by"]
    date_hierarchy = "start_date"


@admin.register(Representation)
class RepresentationAdmin(admin.ModelAdmin):
    """Who acts for which client. Links are added and removed here through the services (so each
    is checked and audited like one made on a client's record); a link is never edited: remove it
    and add the right one."""

    list_display = ["client", "representative", "kind", "created_at", "created_by"]
    list_filter = ["kind"]
    search_fields = ["client__full_name", "client__username", "representative__full_name", "representative__username"]
    autocomplete_fields = ["representative", "client"]
    list_select_related = ["client", "representative", "created_by"]
    fields = ["representative", "client", "kind"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "representative":
            kwargs["queryset"] = User.objects.filter(role=Role.REPRESENTATIVE, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # The form has checked the roles, the open account and that the pair is new.
        link = representation_add(
            actor=request.user, representative=obj.representative, client=obj.client, kind=obj.kind, request=request
        )
        obj.pk = link.pk
        obj.created_at = link.created_at

    def delete_model(self, request, obj):
        representation_remove(actor=request.user, representation=obj, request=request)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_username", "action", "target_repr", "subject", "ip_address"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_username", "target_repr", "message"]
    date_hierarchy = "at"
    list_select_related = ["subject"]


@admin.register(Notification)
class NotificationAdmin(ViewOnlyAdmin):
    list_display = ["recipient", "message", "created_at", "read_at", "emailed_at"]


def admin_sign_in(request, extra_context=None):
    """The admin has no sign-in form of its own: its login page sends people to Cairn's sign-in page,
    so every sign-in goes through the same lock-out and per-address limits (docs/security.md).
    Someone signed in whose role may not use the admin is refused rather than sent round again."""
    if request.user.is_authenticated:
        raise PermissionDenied("Your role may not use the admin site.")
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"), login_url=reverse("login"))


admin.site.login = admin_sign_in
