"""Usage figures (downloads, likes) of the catalog's datasets, refreshed from the Hub, and their history.

One listing call for the whole organisation (`catalog.hub.list_usage`), then one bulk update and one dated
`UsageSnapshot` per dataset and day (the day's last refresh wins), from which the usage chart is drawn. When
the Hub fails, the last figures stay as they are and the failure is logged: figures a few hours old are better
than none. A listed figure that is not a count (negative, not a number) is skipped for that dataset, never
stored. This module never calls the Hub except through `catalog.hub`.
"""

import dataclasses
import datetime
import logging

from django.db import transaction
from django.utils import timezone

from catalog import hub
from catalog.models import Dataset, UsageSnapshot
from portal.usage_chart import UsagePoint

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
# The chart shows a year: enough to see a trend, and a bounded number of rows per page.
HISTORY_DAYS = 365


@dataclasses.dataclass(frozen=True)
class UsageRefresh:
    """What one refresh did: rows updated, datasets the Hub listed, and the error if the Hub failed."""

    updated: int
    listed: int
    error: str = ""

    @property
    def ok(self):
        """Whether the Hub answered."""
        return not self.error


def refresh_usage(*, organization=None):
    """Copy downloads and likes from the Hub's listing of the organisation into the catalog, in bulk."""
    try:
        figures = hub.list_usage(organization)
    except hub.HubError as exc:
        logger.warning("Usage figures not refreshed; keeping the last ones. %s", exc)
        return UsageRefresh(updated=0, listed=0, error=str(exc))
    now = timezone.now()
    today = timezone.localdate(now)
    changed = []
    snapshots = []
    # All rows are read rather than filtered by `repo_id IN (...)`: the list could exceed SQLite's limit
    # on query parameters, and the scan is one query per chunk either way.
    rows = Dataset.objects.only("id", "repo_id", "downloads", "likes").order_by("id")
    with transaction.atomic():
        for dataset in rows.iterator(chunk_size=BATCH_SIZE):
            if dataset.repo_id not in figures:
                continue  # not on the Hub (yet): keep what we have
            downloads, likes = figures[dataset.repo_id]
            if not (_is_count(downloads) and _is_count(likes)):
                logger.warning(
                    "The Hub listed %r for %s; keeping the last figures.", (downloads, likes), dataset
                )
                continue
            dataset.downloads, dataset.likes = downloads, likes
            dataset.usage_refreshed_at = now
            changed.append(dataset)
            snapshots.append(
                UsageSnapshot(dataset=dataset, day=today, downloads=downloads, likes=likes, taken_at=now)
            )
        Dataset.objects.bulk_update(
            changed, ["downloads", "likes", "usage_refreshed_at"], batch_size=BATCH_SIZE
        )
        UsageSnapshot.objects.bulk_create(
            snapshots,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["dataset", "day"],
            update_fields=["downloads", "likes", "taken_at"],
        )
    logger.info("Usage figures refreshed for %d of %d listed datasets.", len(changed), len(figures))
    return UsageRefresh(updated=len(changed), listed=len(figures))


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**62


def usage_history(dataset, *, days=HISTORY_DAYS):
    """Return the dataset's usage snapshots as `UsagePoint`s, oldest first (the last `days` days if given)."""
    snapshots = UsageSnapshot.objects.filter(dataset=dataset)
    if days is not None:
        snapshots = snapshots.filter(day__gt=timezone.localdate() - datetime.timedelta(days=days))
    return [
        UsagePoint(day=day, downloads=downloads, likes=likes)
        for day, downloads, likes in snapshots.order_by("day").values_list("day", "downloads", "likes")
    ]
