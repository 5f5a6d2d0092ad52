"""The port between the workflow and publication: what `submissions` asks of whoever publishes datasets.

`submissions` never imports `catalog` (dependencies run one way: `catalog` uses `submissions`). The
workflow still has to start a publication when a curator approves, show its progress, and know which
names and locations the catalog already holds. It asks through the `Publisher` protocol below; the
implementation is named by the PORTAL_PUBLISHER setting (`catalog.publishing.CatalogPublisher`) and loaded
on first use. The publisher reports back by calling the workflow's own services (`start_mirroring`,
`mark_published`, `mark_mirror_failed`), which is the allowed direction.
"""

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext

from portal import i18n
from portal.usage_chart import UsagePoint
from submissions.models import ModalitiesMixin


@dataclass(frozen=True)
class Publication:
    """Where the publication of an approved submission stands, as plain data."""

    step: str
    step_label: str
    attempts: int
    bytes_fetched: int
    bytes_uploaded: int
    bytes_total: int | None
    percent: int | None
    published: bool
    repo_id: str
    commit_id: str
    last_error: str
    hub_url: str | None
    catalog_url: str | None
    public_error: str | dict = ""  # why publishing failed, for the contributor (`portal.i18n` stored message)
    batches: int = 0  # while copying: how many batches of files, and how many are done
    batches_done: int = 0
    doi: str = ""  # the dataset's DOI (shown once registered, or the record's when reused)
    doi_state: str = ""  # "" (none), pending, findable, registered, failed, reused
    doi_state_label: str = ""
    doi_error: str = ""  # why the registration (or the card's commit with the DOI) failed, for curators
    doi_retryable: bool = False  # a curator may send the DOI to DataCite again

    # What the contributor's status page may show (never the internal error text).
    PUBLIC_FIELDS = (
        "step",
        "step_label",
        "bytes_fetched",
        "bytes_uploaded",
        "bytes_total",
        "percent",
        "published",
        "hub_url",
        "catalog_url",
        "public_error",
        "batches",
        "batches_done",
        "doi",
        "doi_state",
        "doi_state_label",
    )

    def public(self):
        """Return the fields a contributor may see, as a dict (for the status page's JSON, in its language)."""
        fields = {name: getattr(self, name) for name in self.PUBLIC_FIELDS}
        fields["public_error"] = i18n.translated(self.public_error)
        return fields


@dataclass(frozen=True)
class Categorisation(ModalitiesMixin):
    """How a published dataset is categorised in the catalog and on the Hub, as plain data."""

    name: str
    domain: str
    modalities: str  # comma-separated Modality values, as the models store them
    license: str
    languages: tuple[str, ...]
    tags: tuple[str, ...]
    hosted: bool
    card: str
    card_updated_at: object  # a datetime, or None before the first change after publication

    @property
    def domain_label(self):
        """Return the domain in the reader's language when it is one the portal seeds (and translates)."""
        return gettext(self.domain) if self.domain else ""


class Publisher(Protocol):
    """What the workflow needs from publication."""

    def prepare(self, submission) -> None:
        """Create or reset the publication of an approved submission inside the caller's transaction;
        the work starts after that transaction commits (nothing starts if it rolls back)."""

    def progress(self, submission) -> Publication | None:
        """Return the publication of a submission, or None before approval."""

    def name_clash(self, name_key: str) -> str | None:
        """Return a description of a published dataset whose folded name is `name_key`, or None."""

    def published_entries(self, *, excluding_submission_id=None) -> Iterable[tuple[str, str, str]]:
        """Yield (label, folded name, source URL) of every catalog dataset, for the duplicate check; the
        dataset of `excluding_submission_id` (its own, once approved) is left out."""

    def categorisation(self, submission) -> Categorisation | None:
        """Return the categorisation of a submission's published dataset, or None when it is not published."""

    def usage_history(self, submission) -> list[UsagePoint]:
        """Return the usage history (downloads and likes by day) of a submission's dataset, oldest first."""

    def withdraw(self, submission, *, reason: str) -> None:
        """Take a published dataset out of the catalog inside the caller's transaction: its page stays and
        says why, its DOI stops being findable and its Hub copy is hidden after the transaction commits."""

    def retry_doi(self, submission) -> bool:
        """Send a published dataset's DOI to DataCite again after commit; False when there is none to send."""

    def publish_correction(self, correction) -> None:
        """Apply an accepted correction or card version (a `CorrectionRequest`) inside the caller's
        transaction, and commit the changed card to the Hub after it commits. The publisher reports back
        with `services.mark_correction_published` or `services.mark_correction_failed`."""


@functools.cache
def publisher() -> Publisher:
    """Return the configured publisher (PORTAL_PUBLISHER)."""
    return import_string(settings.PORTAL_PUBLISHER)()
