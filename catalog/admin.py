"""Admin of the catalog: published datasets and their mirror jobs, read-only (the worker writes them)."""

from django.contrib import admin
from django.utils.html import format_html

from catalog import hub
from catalog.models import CardUpdate, Dataset, MirrorJob
from portal.admin import DateHierarchyAdmin, ReadOnlyModelAdmin


@admin.register(Dataset)
class DatasetAdmin(DateHierarchyAdmin, ReadOnlyModelAdmin):
    list_display = ["name", "repo_link", "hosted", "license", "domain", "downloads", "likes", "published_at"]
    list_filter = ["hosted", "domain", "license"]
    search_fields = ["name", "repo_id", "slug"]
    list_select_related = ["submission"]
    date_hierarchy = "published_at"
    exclude = ["card"]

    @admin.display(description="Hub repository", ordering="repo_id")
    def repo_link(self, obj):
        return format_html(
            '<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>',
            hub.dataset_url(obj.repo_id),
            obj.repo_id,
        )


@admin.register(CardUpdate)
class CardUpdateAdmin(ReadOnlyModelAdmin):
    """The commits of corrected cards to the Hub, one per accepted request."""

    list_display = ["dataset", "correction", "step", "attempts", "commit_id", "finished_at", "last_error"]
    list_filter = ["step"]
    list_select_related = ["dataset", "correction__submission"]


@admin.register(MirrorJob)
class MirrorJobAdmin(ReadOnlyModelAdmin):
    list_display = ["dataset", "step", "progress", "attempts", "progress_at", "finished_at", "short_error"]
    list_filter = ["step"]
    list_select_related = ["dataset"]
    search_fields = ["dataset__repo_id", "dataset__name"]

    @admin.display(description="progress")
    def progress(self, obj):
        if obj.percent is None:
            return "—"
        return format_html('<progress max="100" value="{}"></progress> {} %', obj.percent, obj.percent)

    @admin.display(description="last error")
    def short_error(self, obj):
        return (obj.last_error[:120] + "…") if len(obj.last_error) > 120 else obj.last_error
