"""Catalog models: datasets published on the Hub and the jobs that mirror them there.

A `Dataset` row exists from approval on; it is public (listed in the catalog) once `published_at` is
set by the mirroring task. Models hold data; `catalog.mirror` and `catalog.publishing` do the work.
"""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.cache import cache
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from catalog.labels import domain_label, language_label
from submissions.carddata import license_info
from submissions.models import CorrectionRequest, ModalitiesMixin, Submission

# The cache key of the "catalog changed" stamp (catalog.search.catalog_stamp); a save forgets it, here and
# in this process's copy (a cached page costs one trip to the shared cache instead of two).
CATALOG_STAMP_KEY = "catalog:stamp"
LOCAL_STAMP = {}


class StoredKeysField(ArrayField):
    """An array of text kept by a PostgreSQL trigger; elsewhere a text column that always stays NULL."""

    def __init__(self, **kwargs):
        kwargs.setdefault("base_field", models.TextField())
        super().__init__(**kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("base_field", None)
        kwargs.pop("size", None)
        return name, path, args, kwargs

    def db_type(self, connection):
        return super().db_type(connection) if connection.vendor == "postgresql" else "text"

    def get_placeholder(self, value, compiler, connection):
        return (
            super().get_placeholder(value, compiler, connection)
            if connection.vendor == "postgresql"
            else "%s"
        )

    def get_db_prep_value(self, value, connection, prepared=False):
        if connection.vendor != "postgresql":
            return None
        return super().get_db_prep_value(value, connection, prepared)


class BitStringField(models.Field):
    """A string of bits: PostgreSQL's `bit varying` (text elsewhere, where it is not used)."""

    def db_type(self, connection):
        return "bit varying" if connection.vendor == "postgresql" else "text"


class PublishedQuerySet(models.QuerySet):
    def published(self):
        """Only datasets that are online and verified."""
        return self.filter(published_at__isnull=False)


class Dataset(ModalitiesMixin, models.Model):
    """A dataset of the catalog, mirrored (hosted) or linked on the Hub."""

    submission = models.OneToOneField(
        Submission,
        verbose_name=_("submission"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dataset",
    )
    slug = models.SlugField(_("slug"), max_length=96, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_key = models.CharField(_("name key"), max_length=100, db_index=True, editable=False)
    repo_id = models.CharField(
        _("Hub repository"), max_length=200, unique=True, help_text=_("Hub repository, organisation/name.")
    )
    hosted = models.BooleanField(
        _("hosted"), help_text=_("Data copied to the Hub; otherwise the card links to the source.")
    )
    source_url = models.URLField(_("source URL"), max_length=2000)
    license = models.CharField(_("licence"), max_length=100, blank=True)
    domain = models.CharField(_("domain"), max_length=60)
    modalities = models.CharField(
        _("modalities"), max_length=40, help_text=_("Comma-separated Modality values.")
    )
    languages = models.JSONField(_("languages"), default=list, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    summary = models.TextField(
        _("summary"), blank=True, help_text=_("The first paragraph of the card's description.")
    )
    card = models.TextField(_("card"), blank=True, help_text=_("The README.md published on the Hub."))
    hub_commit = models.CharField(_("Hub commit"), max_length=40, blank=True)
    manifest = models.JSONField(
        _("manifest"),
        default=list,
        blank=True,
        help_text=_(
            "Hosted: the files on the Hub (path, size, sha256). Linked: the files at their source "
            "(path, url, size, checksums)."
        ),
    )
    creators = models.JSONField(
        _("creators"),
        default=list,
        blank=True,
        help_text=_('The creators: [{"name", "orcid", "affiliation"}], from the records.'),
    )
    source_dois = models.JSONField(
        _("source DOIs"),
        default=list,
        blank=True,
        help_text=_("DOIs of the repository records the data comes from."),
    )
    paper = models.CharField(
        _("paper"), max_length=500, blank=True, help_text=_("The paper's address (arXiv, DOI, https).")
    )
    code_url = models.CharField(
        _("code URL"), max_length=2000, blank=True, help_text=_("The code's address.")
    )
    columns = models.JSONField(
        _("columns"),
        default=list,
        blank=True,
        help_text=_(
            'Columns of the data\'s table, from the data check before approval: a list of {"name": str, '
            "\"type\": str}, in the table's order; type is the engine's name for it (BIGINT, DOUBLE, VARCHAR, "
            'DATE, BOOLEAN, ...; "" when not inspected). For an archive, the first table in it. Empty when no '
            "table was found."
        ),
    )
    downloads = models.PositiveBigIntegerField(_("downloads"), default=0)
    likes = models.PositiveIntegerField(_("likes"), default=0)
    usage_refreshed_at = models.DateTimeField(_("usage refreshed at"), null=True, blank=True)
    card_overrides = models.JSONField(
        _("card overrides"),
        default=dict,
        blank=True,
        help_text=_("Card header values set by accepted corrections (license, language, tags, pretty_name)."),
    )
    card_updated_at = models.DateTimeField(
        _("card updated at"),
        null=True,
        blank=True,
        help_text=_("When a corrected card or a new card version last reached the Hub."),
    )
    doi = models.CharField(
        _("DOI"),
        max_length=300,
        blank=True,
        help_text=_(
            "The dataset's DOI once DataCite has registered it, or its repository record's DOI when the "
            "approving curator chose to reuse it; empty otherwise."
        ),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, db_index=True)
    withdrawn_at = models.DateTimeField(
        _("withdrawn at"),
        null=True,
        blank=True,
        help_text=_("When a curator withdrew the published dataset; its page stays and says why."),
    )
    withdrawal_reason = models.TextField(_("why it was withdrawn"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    # Full-text search document on PostgreSQL, kept current by a trigger (migration 0002) so that every
    # way of writing a row (save, update, bulk_update, raw SQL) refreshes it; always NULL on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)
    # The row's facet values as sorted keys such as 'domain:Marine' or 'language:fr', kept by a trigger on
    # PostgreSQL (migration 0010) for the facet filters' GIN index and the `FacetBitmap` counts; NULL on
    # SQLite, where catalog.search reads the facet columns themselves.
    facet_keys = StoredKeysField(null=True, blank=True, editable=False)

    objects = PublishedQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [
            # Created on PostgreSQL only (see migration 0002); SQLite has no GIN.
            GinIndex(fields=["search_vector"], name="catalog_dataset_search_gin"),
            models.Index(fields=["-downloads", "-id"], name="catalog_dataset_downloads"),
            models.Index(fields=["-likes", "-id"], name="catalog_dataset_likes"),
            models.Index(fields=["domain"], name="catalog_dataset_domain"),
            models.Index(fields=["license"], name="catalog_dataset_license"),
            # The catalog's default order and the rows facets are counted over (catalog.search).
            models.Index(
                fields=["-published_at", "-id"],
                name="catalog_dataset_newest",
                condition=models.Q(published_at__isnull=False),
            ),
            # Not declared here: the GIN index over facet_keys of migration 0010, PostgreSQL only, used by
            # catalog.search's facet filters.
        ]
        verbose_name = _("dataset")
        verbose_name_plural = _("datasets")

    def __str__(self):
        return self.repo_id

    def save(self, *args, **kwargs):
        """Save the row and make the catalog's cached pages notice the change."""
        super().save(*args, **kwargs)
        LOCAL_STAMP.clear()
        cache.delete(CATALOG_STAMP_KEY)

    def get_absolute_url(self):
        """Return the dataset's catalog page."""
        return reverse("catalog:dataset", args=[self.slug])

    @property
    def license_name(self):
        """Return the licence's name where it is a known one, else its identifier as the card gives it."""
        info = license_info(self.license) if self.license else None
        return info["name"] if info else self.license

    @property
    def language_names(self):
        """Return the languages' names in the reader's language ("English" for "en"), a code where none is known."""
        return [language_label(str(code)) for code in self.languages or []]

    @property
    def domain_label(self):
        """Return the domain as the page shows it: a seeded one in the reader's language, another as typed."""
        return domain_label(self.domain)

    @property
    def total_size(self):
        """Return the total size of the published files in bytes."""
        return sum(entry.get("size") or 0 for entry in self.manifest)


class FacetBitmap(models.Model):
    """Which published datasets have one facet key: bit n is set when the dataset with id n has it.

    A bitmap index for the catalog's facet counts, kept by a trigger of migration 0010 on PostgreSQL
    whichever way a dataset row is written (publication, correction, unpublishing, deletion). The count of
    datasets matching any selection of facet values is then `bit_count` of the bitmaps' AND and OR, so
    exact facet counts cost a few kilobytes of bit operations per key (an eighth of a byte per dataset)
    instead of reading the matching rows (`catalog.search.facet_counts`). All bitmaps have one length, which
    grows in steps of 8,192 datasets. `datasets` is the number of bits set, so a facet's counts need no bit
    operation while no other facet has a selection. Empty on SQLite.
    """

    key = models.TextField(unique=True, help_text="A facet key such as 'domain:Marine' or 'language:fr'.")
    bits = BitStringField()
    datasets = models.IntegerField(default=0, help_text="The number of bits set.")

    def __str__(self):
        return self.key


class FacetPosting(models.Model):
    """One facet key of one published dataset, with its publication time: the keys' posting lists.

    Kept on PostgreSQL by a trigger of migration 0011 whichever way a dataset row is written. A newest-first
    page of a facet selection walks the lists of the selection's rarest facet newest first and keeps the
    datasets whose bit is set in the selection's bitmap (`catalog.search.FacetMatches`): it reads index
    entries in proportion to the page and the selection's shape, not to the catalog, and only the page's
    own rows. Empty on SQLite.
    """

    pk = models.CompositePrimaryKey("dataset", "key")
    # The trigger deletes a dataset's postings with it, so nothing is collected in Python, and no constraint
    # checks each posting again (nor fails the deletion of a dataset during a bulk load with the trigger off,
    # after which the rebuild drops its postings).
    dataset = models.ForeignKey(Dataset, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    key = models.TextField(help_text="A facet key such as 'domain:Marine' or 'language:fr'.")
    published_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["key", "published_at", "dataset"], name="catalog_facetposting_walk")]

    def __str__(self):
        return f"{self.key} {self.dataset_id}"


class MirrorJob(models.Model):
    """The work of putting one approved dataset on the Hub; every step is recorded so a re-run resumes."""

    class Step(models.TextChoices):
        PENDING = "pending", _("Waiting for a worker")
        CREATE_REPO = "create_repo", _("Creating the Hub repository")
        WRITE_CARD = "write_card", _("Writing the dataset card")
        COPY = "copy", _("Copying the files to the Hub")
        VERIFY = "verify", _("Verifying the files on the Hub")
        DONE = "done", _("Published")
        FAILED = "failed", _("Failed")

    dataset = models.OneToOneField(
        Dataset, verbose_name=_("dataset"), on_delete=models.CASCADE, related_name="job"
    )
    step = models.CharField(_("step"), max_length=20, choices=Step.choices, default=Step.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    bytes_fetched = models.PositiveBigIntegerField(_("bytes fetched"), default=0)
    bytes_uploaded = models.PositiveBigIntegerField(_("bytes uploaded"), default=0)
    bytes_total = models.PositiveBigIntegerField(_("bytes total"), null=True, blank=True)
    source_sha256 = models.CharField(_("source SHA-256"), max_length=64, blank=True)
    source_content_type = models.CharField(_("source content type"), max_length=200, blank=True)
    manifest = models.JSONField(
        _("manifest"),
        default=list,
        blank=True,
        help_text=_("Files published: path, size, sha256 (and git_oid for small ones)."),
    )
    card_files = models.JSONField(
        _("card files"),
        default=dict,
        blank=True,
        help_text=_("The card files committed with the first batch: {path: text}."),
    )
    public_error = models.TextField(
        _("public error"),
        blank=True,
        help_text=_("Why publishing failed, in words for the contributor (no internal detail)."),
    )
    # The same as a stored message (portal.i18n), shown in the contributor's language; `public_error` keeps
    # its English (the admin, rows older than stored messages).
    public_error_message = models.JSONField(null=True, blank=True)
    commit_id = models.CharField(_("commit id"), max_length=40, blank=True)
    repo_requested = models.CharField(
        _("repository requested"),
        max_length=200,
        blank=True,
        help_text=_("The Hub repository this job asked the Hub to create."),
    )
    repo_ready = models.BooleanField(
        _("repository ready"), default=False, help_text=_("The Hub repository exists and is this dataset's.")
    )
    rejected_commits = models.JSONField(
        _("rejected commits"),
        default=list,
        blank=True,
        help_text=_("Commits whose files failed verification; never taken as done."),
    )
    last_error = models.TextField(_("last error"), blank=True)
    lock_owner = models.CharField(_("lock owner"), max_length=64, blank=True)
    lock_expires_at = models.DateTimeField(_("lock expires at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    progress_at = models.DateTimeField(
        _("progress at"), null=True, blank=True, help_text=_("Last time the job reported progress.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("mirror job")
        verbose_name_plural = _("mirror jobs")

    def __str__(self):
        return _("Mirror of %(repository)s: %(step)s") % {
            "repository": self.dataset.repo_id,
            "step": self.get_step_display(),
        }

    @property
    def percent(self):
        """Return the progress of the copy in percent (half fetching, half uploading), or None when the
        total is unknown."""
        if not self.bytes_total:
            return None
        if self.step in (self.Step.VERIFY, self.Step.DONE):
            return 100
        done = (self.bytes_fetched + self.bytes_uploaded) / 2
        return min(100, round(100 * done / self.bytes_total))


class MirrorBatch(models.Model):
    """Some files of a mirror job, copied to the Hub by one Celery task in commits of its own.

    The unit of exactly-once and of scale-out: any mirror worker may take any batch (under its lease), a
    batch's commits are named by their titles so a re-run finds them instead of committing again, and the
    job is published once every batch is verified. Written by `catalog.mirror` only.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for a worker")
        FETCH = "fetch", _("Downloading its files")
        COMMIT = "commit", _("Committing its files to the Hub")
        VERIFY = "verify", _("Verifying its files on the Hub")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    job = models.ForeignKey(MirrorJob, on_delete=models.CASCADE, related_name="batches")
    index = models.PositiveIntegerField()
    files = models.JSONField(
        default=list, help_text="The files to copy: path in the repo, url, size, checksums, unpack."
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    results = models.JSONField(
        default=list, blank=True, help_text="The files as fetched: path, size, sha256 (git_oid when small)."
    )
    commit_ids = models.JSONField(default=list, blank=True)
    rejected_commits = models.JSONField(default=list, blank=True)
    bytes_fetched = models.PositiveBigIntegerField(default=0)
    bytes_uploaded = models.PositiveBigIntegerField(default=0)
    bytes_total = models.PositiveBigIntegerField(default=0)
    last_error = models.TextField(blank=True)
    lock_owner = models.CharField(max_length=64, blank=True)
    lock_expires_at = models.DateTimeField(null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="mirror_batch_unique")]

    def __str__(self):
        return f"Batch {self.index} of {self.job_id}: {self.get_state_display()}"


class UsageSnapshot(models.Model):
    """A dataset's downloads and likes as the Hub reported them on one day (the last refresh of the day wins)."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="usage_snapshots")
    day = models.DateField()
    downloads = models.PositiveBigIntegerField()
    likes = models.PositiveIntegerField()
    taken_at = models.DateTimeField()

    class Meta:
        ordering = ["dataset", "day"]
        constraints = [models.UniqueConstraint(fields=["dataset", "day"], name="usage_snapshot_one_per_day")]

    def __str__(self):
        return f"{self.dataset_id} on {self.day}: {self.downloads} downloads, {self.likes} likes"


class CardUpdate(models.Model):
    """The work of committing a published dataset's changed card to the Hub after an accepted correction.

    One per correction request; the commit title names the request, so a re-run finds its own commit
    instead of committing twice. Runs in `catalog.card_update`.
    """

    class Step(models.TextChoices):
        PENDING = "pending", _("Waiting for a worker")
        UPLOAD = "upload", _("Committing the card to the Hub")
        VERIFY = "verify", _("Verifying the card on the Hub")
        DONE = "done", _("Published")
        FAILED = "failed", _("Failed")

    dataset = models.ForeignKey(
        Dataset, verbose_name=_("dataset"), on_delete=models.CASCADE, related_name="card_updates"
    )
    correction = models.OneToOneField(
        CorrectionRequest,
        verbose_name=_("correction request"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="card_update",
        help_text=_("The accepted request this update publishes; empty for the portal's own (the DOI)."),
    )
    title = models.CharField(
        _("title"),
        max_length=300,
        blank=True,
        help_text=_(
            "The commit title of an update without a correction request (it finds the commit again)."
        ),
    )
    step = models.CharField(_("step"), max_length=20, choices=Step.choices, default=Step.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    files = models.JSONField(
        _("files"), default=dict, blank=True, help_text=_("The files committed: {path: text}.")
    )
    commit_id = models.CharField(_("commit id"), max_length=40, blank=True)
    rejected_commits = models.JSONField(_("rejected commits"), default=list, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    lock_expires_at = models.DateTimeField(_("lock expires at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("card update")
        verbose_name_plural = _("card updates")

    def __str__(self):
        purpose = self.correction if self.correction_id else self.title
        return _("Card update of %(repository)s for %(purpose)s: %(step)s") % {
            "repository": self.dataset.repo_id,
            "purpose": purpose,
            "step": self.get_step_display(),
        }


class DoiRegistration(models.Model):
    """The work of registering a published dataset's DOI with DataCite and keeping its record current.

    One per dataset, created at publication when DataCite is configured. The DOI is chosen once (from the
    submission's reference), so a retry after a lost answer finds it instead of minting another. `findable`
    is what DataCite should say (a withdrawn dataset's DOI stays registered but is no longer findable);
    `state` is where the work stands. Runs in `catalog.doi`.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Being registered with DataCite")
        FINDABLE = "findable", _("Findable")
        REGISTERED = "registered", _("Registered, not findable (the dataset was withdrawn)")
        FAILED = "failed", _("Failed")

    dataset = models.OneToOneField(
        Dataset, verbose_name=_("dataset"), on_delete=models.CASCADE, related_name="doi_registration"
    )
    doi = models.CharField(_("DOI"), max_length=300, unique=True)
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.PENDING, db_index=True
    )
    findable = models.BooleanField(
        _("findable"),
        default=True,
        help_text=_("Findable while published; registered only once the dataset is withdrawn."),
    )
    datacite_state = models.CharField(
        _("DataCite state"),
        max_length=20,
        blank=True,
        help_text=_("The state DataCite last reported: draft, registered, findable."),
    )
    create_sent = models.BooleanField(
        _("creation sent"),
        default=False,
        help_text=_(
            "A creation was sent: a retry looks the DOI up first, since the answer may have been lost."
        ),
    )
    publication_year = models.PositiveSmallIntegerField(_("publication year"))
    revision = models.PositiveIntegerField(
        _("revision"),
        default=0,
        help_text=_("Counts the requests to send; a run that saw an older one runs again."),
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    card_update = models.OneToOneField(
        "CardUpdate",
        verbose_name=_("card update"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="doi_registration",
        help_text=_("The commit that adds the DOI to the card and CITATION.cff on the Hub (once)."),
    )
    lock_expires_at = models.DateTimeField(_("lock expires at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True)
    synced_at = models.DateTimeField(
        _("synced at"), null=True, blank=True, help_text=_("When DataCite last took our metadata.")
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("DOI registration")
        verbose_name_plural = _("DOI registrations")

    def __str__(self):
        return f"{self.doi}: {self.get_state_display()}"
