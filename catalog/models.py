"""Catalog models: datasets published on the Hub and the jobs that mirror them there.

A `Dataset` row exists from approval on; it is public (listed in the catalog) once `published_at` is
set by the mirroring task. Models hold data; `catalog.mirror` and `catalog.publishing` do the work.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.cache import cache
from django.db import models
from django.urls import reverse

from submissions.models import ModalitiesMixin, Submission

# The cache key of the "catalog changed" stamp (catalog.search.catalog_stamp); a save forgets it, here and
# in this process's copy (a cached page costs one trip to the shared cache instead of two).
CATALOG_STAMP_KEY = "catalog:stamp"
LOCAL_STAMP = {}


class PublishedQuerySet(models.QuerySet):
    def published(self):
        """Only datasets that are online and verified."""
        return self.filter(published_at__isnull=False)


class Dataset(ModalitiesMixin, models.Model):
    """A dataset of the catalog, mirrored (hosted) or linked on the Hub."""

    submission = models.OneToOneField(
        Submission, null=True, blank=True, on_delete=models.PROTECT, related_name="dataset"
    )
    slug = models.SlugField(max_length=96, unique=True)
    name = models.CharField(max_length=100)
    name_key = models.CharField(max_length=100, db_index=True, editable=False)
    repo_id = models.CharField(max_length=200, unique=True, help_text="Hub repository, organisation/name.")
    hosted = models.BooleanField(help_text="Data copied to the Hub; otherwise the card links to the source.")
    source_url = models.URLField(max_length=2000)
    license = models.CharField(max_length=100, blank=True)
    domain = models.CharField(max_length=60)
    modalities = models.CharField(max_length=40, help_text="Comma-separated Modality values.")
    languages = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=list, blank=True)
    summary = models.TextField(blank=True, help_text="The first paragraph of the card's description.")
    card = models.TextField(blank=True, help_text="The README.md published on the Hub.")
    hub_commit = models.CharField(max_length=40, blank=True)
    manifest = models.JSONField(default=list, blank=True, help_text="Files on the Hub: path, size, sha256.")
    downloads = models.PositiveBigIntegerField(default=0)
    likes = models.PositiveIntegerField(default=0)
    usage_refreshed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    # Full-text search document on PostgreSQL, kept current by a trigger (migration 0002) so that every
    # way of writing a row (save, update, bulk_update, raw SQL) refreshes it; always NULL on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)

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
            # Not declared here: the GIN index over catalog_dataset_facet_keys(...) of migration 0006,
            # PostgreSQL only, used by catalog.search's facet filters.
        ]

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
    def total_size(self):
        """Return the total size of the published files in bytes."""
        return sum(entry.get("size", 0) for entry in self.manifest)


class MirrorJob(models.Model):
    """The work of putting one approved dataset on the Hub; every step is recorded so a re-run resumes."""

    class Step(models.TextChoices):
        PENDING = "pending", "Waiting for a worker"
        CREATE_REPO = "create_repo", "Creating the Hub repository"
        FETCH = "fetch", "Downloading the data"
        UNPACK = "unpack", "Unpacking the archive"
        WRITE_CARD = "write_card", "Writing the dataset card"
        UPLOAD = "upload", "Uploading to the Hub"
        VERIFY = "verify", "Verifying the files on the Hub"
        DONE = "done", "Published"
        FAILED = "failed", "Failed"

    dataset = models.OneToOneField(Dataset, on_delete=models.CASCADE, related_name="job")
    step = models.CharField(max_length=20, choices=Step.choices, default=Step.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    bytes_fetched = models.PositiveBigIntegerField(default=0)
    bytes_uploaded = models.PositiveBigIntegerField(default=0)
    bytes_total = models.PositiveBigIntegerField(null=True, blank=True)
    source_sha256 = models.CharField(max_length=64, blank=True)
    source_content_type = models.CharField(max_length=200, blank=True)
    manifest = models.JSONField(
        default=list, blank=True, help_text="Local files to publish: path, size, sha256."
    )
    commit_id = models.CharField(max_length=40, blank=True)
    repo_requested = models.CharField(
        max_length=200, blank=True, help_text="The Hub repository this job asked the Hub to create."
    )
    repo_ready = models.BooleanField(
        default=False, help_text="The Hub repository exists and is this dataset's."
    )
    rejected_commits = models.JSONField(
        default=list, blank=True, help_text="Commits whose files failed verification; never taken as done."
    )
    last_error = models.TextField(blank=True)
    lock_owner = models.CharField(max_length=64, blank=True)
    lock_expires_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress_at = models.DateTimeField(
        null=True, blank=True, help_text="Last time the job reported progress."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Mirror of {self.dataset.repo_id}: {self.get_step_display()}"

    @property
    def percent(self):
        """Return the progress of the current transfer in percent, or None when the total is unknown."""
        if not self.bytes_total:
            return None
        done = (
            self.bytes_uploaded if self.step in (self.Step.UPLOAD, self.Step.VERIFY) else self.bytes_fetched
        )
        return min(100, round(100 * done / self.bytes_total))
