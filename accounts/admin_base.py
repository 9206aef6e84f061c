"""Admin classes every app uses: records that change only through services are shown, never edited
in the admin; one-row policies are edited, never added twice or deleted."""

from django.contrib import admin


class ViewOnlyAdmin(admin.ModelAdmin):
    """Shown but never added or changed here (a service writes them); may be deleted."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ViewOnlyAdmin):
    """Shown only: never added, changed or deleted here."""

    def has_delete_permission(self, request, obj=None):
        return False


class SingletonAdmin(admin.ModelAdmin):
    """A policy of one row: edited here, added only when missing, never deleted."""

    def has_add_permission(self, request):
        return not self.model.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
