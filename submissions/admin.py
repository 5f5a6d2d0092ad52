"""Admin registrations of the submissions app.

The state of a submission is read-only here: every change goes through `submissions.services`.
Timeline events can be read, never added, edited or deleted by hand.
"""

from django.contrib import admin

from portal.admin import ReadOnlyModelAdmin
from submissions.models import CardRevision, CheckResult, Domain, Event, StatusLink, TermsVersion
from submissions.review_admin import SubmissionAdmin  # noqa: F401 - registers the review queue


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["name", "group", "position", "active"]
    list_editable = ["position", "active"]
    list_filter = ["group", "active"]
    search_fields = ["name"]


@admin.register(TermsVersion)
class TermsVersionAdmin(admin.ModelAdmin):
    list_display = ["version", "published_on"]

    def has_change_permission(self, request, obj=None):
        # A version that contributors accepted must stay as they saw it; publish a new version instead.
        if obj is not None and obj.submission_set.exists():
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.submission_set.exists():
            return False
        return super().has_delete_permission(request, obj)


# The review queue (SubmissionAdmin) lives in submissions/review_admin.py.


@admin.register(CardRevision)
class CardRevisionAdmin(admin.ModelAdmin):
    list_display = ["submission", "number", "sha256", "size", "uploaded_at"]
    readonly_fields = [
        "submission",
        "number",
        "file",
        "original_filename",
        "sha256",
        "size",
        "metadata",
        "findings",
        "uploaded_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyModelAdmin):
    list_display = ["submission", "created_at", "kind", "actor_kind", "from_state", "to_state", "public"]
    list_filter = ["kind", "public"]
    list_select_related = ["submission"]


@admin.register(StatusLink)
class StatusLinkAdmin(admin.ModelAdmin):
    list_display = ["submission", "created_at", "last_used_at"]
    fields = ["submission", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CheckResult)
class CheckResultAdmin(admin.ModelAdmin):
    list_display = ["revision", "kind", "outcome", "summary", "ran_at"]
    list_filter = ["kind", "outcome"]
    list_select_related = ["revision__submission"]
    readonly_fields = ["revision", "kind", "outcome", "summary", "details", "ran_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
