"""Admin pieces shared by the apps."""

from django.contrib import admin


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """An admin that shows rows and never changes them: services and workers write them."""

    def has_add_permission(self, request):
        """Nobody adds these rows by hand."""
        return False

    def has_change_permission(self, request, obj=None):
        """Nobody edits these rows by hand."""
        return False

    def has_delete_permission(self, request, obj=None):
        """Nobody deletes these rows by hand."""
        return False
