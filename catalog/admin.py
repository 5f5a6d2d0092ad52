"""Admin of the catalog: published datasets, their mirror jobs, card updates and DOI registrations, read-only
(the workers write them)."""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from catalog import hub
from catalog.models import CardUpdate, Dataset, DoiRegistration, MirrorJob
from portal.admin import DateHierarchyAdmin, ReadOnlyModelAdmin


@admin.register(Dataset)
class DatasetAdmin(DateHierarchyAdmin, ReadOnlyModelAdmin):
    list_display = [
        "name",
        "repo_link",
        "doi",
        "hosted",
        "license",
        "domain",
        "downloads",
        "likes",
        "published_at",
    ]
    list_filter = ["hosted", "domain", "license"]
    search_fields = ["name", "repo_id", "slug", "=doi"]
    list_select_related = ["submission"]
    date_hierarchy = "published_at"
    exclude = ["card"]

    @admin.display(description=_("Hub repository"), ordering="repo_id")
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

    @admin.display(description=_("progress"))
    def progress(self, obj):
        if obj.percent is None:
            return "—"
        return format_html('<progress max="100" value="{}"></progress> {} %', obj.percent, obj.percent)

    @admin.display(description=_("last error"))
    def short_error(self, obj):
        return (obj.last_error[:120] + "…") if len(obj.last_error) > 120 else obj.last_error


@admin.register(DoiRegistration)
class DoiRegistrationAdmin(ReadOnlyModelAdmin):
    """The datasets' DOIs at DataCite: where each registration stands and why it failed (curators retry from
    the submission's review page)."""

    list_display = [
        "doi",
        "dataset",
        "state",
        "findable",
        "datacite_state",
        "attempts",
        "synced_at",
        "last_error",
    ]
    list_filter = ["state", "findable"]
    list_select_related = ["dataset"]
    search_fields = ["=doi", "dataset__name", "dataset__repo_id"]
