"""Usage figures (downloads, likes) of the catalog's datasets, refreshed from the Hub.

One listing call for the whole organisation (`catalog.hub.list_usage`), then one bulk update. When the Hub
fails, the last figures stay as they are and the failure is logged: figures a few hours old are better than
none. This module never calls the Hub except through `catalog.hub`.
"""

import dataclasses
import logging

from django.db import transaction
from django.utils import timezone

from catalog import hub
from catalog.models import Dataset

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000


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
    changed = []
    # All rows are read rather than filtered by `repo_id IN (...)`: the list could exceed SQLite's limit
    # on query parameters, and the scan is one query per chunk either way.
    rows = Dataset.objects.only("id", "repo_id", "downloads", "likes").order_by("id")
    with transaction.atomic():
        for dataset in rows.iterator(chunk_size=BATCH_SIZE):
            if dataset.repo_id not in figures:
                continue  # not on the Hub (yet): keep what we have
            dataset.downloads, dataset.likes = figures[dataset.repo_id]
            dataset.usage_refreshed_at = now
            changed.append(dataset)
        Dataset.objects.bulk_update(
            changed, ["downloads", "likes", "usage_refreshed_at"], batch_size=BATCH_SIZE
        )
    logger.info("Usage figures refreshed for %d of %d listed datasets.", len(changed), len(figures))
    return UsageRefresh(updated=len(changed), listed=len(figures))
