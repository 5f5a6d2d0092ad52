"""Admin pieces shared by the apps."""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters


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


class DateHierarchyAdmin(admin.ModelAdmin):
    """An admin with a `date_hierarchy` whose year, month or day in the address may be any number.

    Django's change list turns `?published_at__year=9223372036854775808` into a date and catches only the
    ValueError of an impossible date, not the OverflowError of a number too large for one, a 500. Here it
    is a lookup the list can't use, which the admin answers as usual: back to the list, unfiltered.
    """

    def get_changelist_instance(self, request):
        """Return the change list; a date number too large for a date is an unusable lookup."""
        try:
            return super().get_changelist_instance(request)
        except OverflowError as exc:
            raise IncorrectLookupParameters(exc) from exc
