"""Submissions: what contributors send, the curated lists they choose from, and the timeline.

Models hold data and invariants. Workflows (submit, confirm, claim, approve, ...) live in
`submissions.services`; nothing here changes a submission's state.
"""

import hashlib
import re
import secrets
import unicodedata

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal import i18n
from portal.orcid import Creator


class Modality(models.TextChoices):
    """Kinds of data a dataset holds."""

    TEXT = "text", "Text"
    IMAGES = "images", "Images"
    AUDIO = "audio", "Audio"
    VIDEO = "video", "Video (may include audio)"


class ModalitiesMixin:
    """For models that store their modalities as comma-separated `Modality` values in `modalities`."""

    @property
    def modality_list(self):
        """Return the modalities as a list of Modality values."""
        return [value for value in self.modalities.split(",") if value]

    def get_modalities_display(self):
        """Return the modalities as human labels, comma-separated."""
        labels = dict(Modality.choices)
        return ", ".join(labels.get(value, value) for value in self.modality_list)


def fold_name(name):
    """Return `name` folded for comparison: accents, case, punctuation and spacing removed."""
    decomposed = unicodedata.normalize("NFKD", name)
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\W_]+", "", without_marks.casefold())


def hash_token(token):
    """Return the SHA-256 hex digest under which a secret token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


class Domain(models.Model):
    """A curated subject domain a contributor can choose; curators edit the list in the admin."""

    class Group(models.TextChoices):
        GENERAL = "general", "General purpose"
        SCIENCE = "science", "Science and industrial"
        OTHER = "other", "Other"

    name = models.CharField(max_length=60, unique=True)
    group = models.CharField(max_length=20, choices=Group.choices, default=Group.OTHER)
    position = models.PositiveIntegerField(default=0, help_text="Order within its group; smaller first.")
    active = models.BooleanField(
        default=True, help_text="Inactive domains are no longer offered on the form."
    )

    class Meta:
        ordering = ["group", "position", "name"]

    def __str__(self):
        return self.name


class TermsVersion(models.Model):
    """One published version of the contribution terms; the newest is the one shown on the form."""

    version = models.CharField(max_length=20, unique=True)
    text = models.TextField()
    published_on = models.DateField()

    class Meta:
        ordering = ["-published_on", "-id"]
        get_latest_by = ["published_on", "id"]

    def __str__(self):
        return f"Terms {self.version} ({self.published_on:%Y-%m-%d})"

    @classmethod
    def current(cls):
        """Return the newest published terms, or None when none exist."""
        return cls.objects.order_by("-published_on", "-id").first()


class Submission(ModalitiesMixin, models.Model):
    """A dataset offered by a contributor, from the form until it is published or closed."""

    class State(models.TextChoices):
        AWAITING_CONFIRMATION = "awaiting_confirmation", "Waiting for e-mail confirmation"
        SUBMITTED = "submitted", "Submitted, waiting for a curator"
        IN_REVIEW = "in_review", "In review"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        APPROVED = "approved", "Approved, waiting to be published"
        MIRRORING = "mirroring", "Being published to the Hub"
        MIRROR_FAILED = "mirror_failed", "Publishing failed, curators are on it"
        PUBLISHED = "published", "Published"
        REJECTED = "rejected", "Not accepted"
        WITHDRAWN = "withdrawn", "Withdrawn"
        ABANDONED = "abandoned", _("Closed: no answer to the requested changes")

    # States in which a submission is still open for withdrawal by its contributor (an abandoned one
    # too: withdrawing it says it will not come back and frees its name).
    WITHDRAWABLE_STATES = (
        State.AWAITING_CONFIRMATION,
        State.SUBMITTED,
        State.IN_REVIEW,
        State.CHANGES_REQUESTED,
        State.ABANDONED,
    )
    # Closed: nothing more happens unless the contributor reopens an abandoned submission.
    CLOSED_STATES = (State.REJECTED, State.WITHDRAWN, State.ABANDONED)
    # Closed for good: the name is free again and the duplicate check no longer compares with them. An
    # abandoned submission keeps its name, since its contributor may reopen it.
    RELEASED_STATES = (State.REJECTED, State.WITHDRAWN)
    # Waiting for the curators: the review SLA (`REVIEW_SLA_DAYS`) counts from when the state began.
    AWAITING_CURATORS_STATES = (State.SUBMITTED, State.IN_REVIEW)

    # NULL until the row has its id (the number is derived from it); NULLs never clash on unique.
    reference = models.CharField(max_length=20, unique=True, null=True, editable=False)  # noqa: DJ001
    name = models.CharField(max_length=100)
    name_key = models.CharField(max_length=100, db_index=True, editable=False)
    location = models.TextField(
        help_text="Where the data is: one https:// file address, repository record or DOI per line."
    )
    announced_checksums = models.JSONField(
        default=list,
        blank=True,
        help_text='Checksums the contributor gave (md5sum/sha256sum output): [{"algorithm", "digest", "name"}].',
    )
    paper = models.CharField(
        max_length=500,
        blank=True,
        help_text="The paper that describes the data: an arXiv, DOI or https address.",
    )
    code_url = models.CharField(max_length=2000, blank=True, help_text="The code that goes with the data.")
    hosting_wanted = models.BooleanField(default=True)
    modalities = models.CharField(max_length=40, help_text="Comma-separated Modality values.")
    domain = models.ForeignKey(Domain, null=True, blank=True, on_delete=models.PROTECT)
    suggested_domain = models.CharField(max_length=60, blank=True)
    contact_email = models.EmailField(db_index=True)
    # The language of the contribution form (one of LANGUAGES): the contributor's e-mails go out in it.
    language = models.CharField(max_length=8, default="en")
    # Filled only from an ORCID sign-in (the view passes the verified iD, the form never posts one); published
    # as the dataset's creator with the names below.
    contributor_orcid = models.CharField(
        _("ORCID iD (verified)"),
        max_length=19,
        blank=True,
        db_index=True,
        editable=False,
        help_text=_("Verified by the contributor's ORCID sign-in; empty when they contributed without it."),
    )
    contributor_given_names = models.CharField(_("contributor's given names"), max_length=100, blank=True)
    contributor_family_names = models.CharField(_("contributor's family names"), max_length=100, blank=True)
    terms_version = models.ForeignKey(TermsVersion, on_delete=models.PROTECT)
    terms_accepted_at = models.DateTimeField()
    state = models.CharField(
        max_length=30, choices=State.choices, default=State.AWAITING_CONFIRMATION, db_index=True
    )
    state_changed_at = models.DateTimeField(help_text="When the current state began (waiting since).")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submission_key = models.UUIDField(
        unique=True,
        null=True,
        editable=False,
        help_text="One per form; a repeated POST finds its submission.",
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    check_summary = models.CharField(
        max_length=10,
        choices=[
            ("pending", "Pending"),
            ("pass", "Pass"),
            ("warn", "Warn"),
            ("fail", "Fail"),
            ("error", "Error"),
        ],
        default="pending",
        help_text="Worst outcome of the automatic checks on the newest card revision.",
    )
    review_checklist = models.JSONField(default=dict, blank=True, editable=False)
    unpack_archives = models.BooleanField(
        default=False, help_text="Chosen by the approving curator: unpack zip and tar archives on the Hub."
    )
    reuse_record_doi = models.BooleanField(
        _("reuse the record's DOI"),
        default=False,
        help_text=_(
            "Chosen by the approving curator: the dataset's DOI is its repository record's own; no DOI is minted."
        ),
    )
    spam = models.BooleanField(
        default=False, editable=False, help_text=_("Rejected as spam (left out of the team's pace figures).")
    )
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="duplicates",
        help_text=_("The submission this one duplicates; it was closed in favour of that one."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["state_changed_at", "id"]
        permissions = [("review_submission", "Can review submissions: claim, message, decide")]
        verbose_name_plural = "submissions (review queue)"
        constraints = [
            models.CheckConstraint(
                name="submission_domain_xor_suggestion",
                condition=(Q(domain__isnull=False) & Q(suggested_domain=""))
                | (Q(domain__isnull=True) & ~Q(suggested_domain="")),
            ),
            # One open submission per name (folded: case, accents, punctuation): the rule holds under
            # concurrent submissions too, whatever the form saw. Rejected and withdrawn ones free their
            # name (RELEASED_STATES); an abandoned one keeps it, as it may be reopened.
            models.UniqueConstraint(
                fields=["name_key"],
                condition=~Q(state__in=["rejected", "withdrawn"]) & ~Q(name_key=""),
                name="submission_open_name_unique",
            ),
        ]

    def __str__(self):
        return f"{self.reference}: {self.name}" if self.reference else self.name

    @property
    def location_lines(self):
        """Return the locations the contributor gave, one per line, in their order."""
        return [line.strip() for line in self.location.splitlines() if line.strip()]

    @property
    def primary_location(self):
        """Return the first location: the dataset's address where a single one is shown."""
        lines = self.location_lines
        return lines[0] if lines else ""

    @property
    def domain_label(self):
        """Return the domain's name, or the suggested domain marked as such."""
        return self.domain.name if self.domain_id else f"{self.suggested_domain} (suggested)"

    @property
    def creator(self):
        """The person the published dataset credits (`portal.orcid.Creator`), or None when nobody signed in."""
        if not self.contributor_orcid:
            return None
        return Creator(
            given_names=self.contributor_given_names,
            family_names=self.contributor_family_names,
            orcid=self.contributor_orcid,
        )

    @property
    def latest_revision(self):
        """Return the newest card revision."""
        return self.revisions.order_by("-number").first()

    @property
    def is_withdrawable(self):
        """Whether the contributor may still withdraw the submission."""
        return self.state in self.WITHDRAWABLE_STATES

    @property
    def accepts_revision(self):
        """Whether the contributor may upload a revised card now: any time before a decision (a card drafted
        from a repository record, a lint warning mended), and while changes are requested."""
        return self.state in (self.State.SUBMITTED, self.State.IN_REVIEW, self.State.CHANGES_REQUESTED)

    @property
    def accepts_location_revision(self):
        """Whether the contributor may give new locations now: changes asked, publication failed, or a
        submitted or reviewed dataset whose location or data check fails (mendable as soon as it shows)."""
        if self.state in (self.State.CHANGES_REQUESTED, self.State.MIRROR_FAILED):
            return True
        return self.state in (self.State.SUBMITTED, self.State.IN_REVIEW) and self.location_check_failed

    @property
    def location_check_failed(self):
        """Whether the newest revision's location or data check failed."""
        return CheckResult.objects.filter(
            revision__submission=self,
            revision__number=self.revisions.order_by("-number").values("number")[:1],
            kind__in=[CheckResult.Kind.LOCATION, CheckResult.Kind.DATA],
            outcome=CheckResult.Outcome.FAIL,
        ).exists()

    @property
    def accepts_reply(self):
        """Whether the contributor may write to the curators now."""
        return self.state not in self.CLOSED_STATES

    @property
    def is_reopenable(self):
        """Whether the contributor may reopen the submission (closed as abandoned)."""
        return self.state == self.State.ABANDONED

    @property
    def state_explanation(self):
        """Return what the current state means for the contributor, in plain words."""
        return STATE_EXPLANATIONS[self.state]


STATE_EXPLANATIONS = {
    Submission.State.AWAITING_CONFIRMATION: "We are waiting for you to confirm your e-mail address with the "
    "button on this page.",
    Submission.State.SUBMITTED: "Your dataset is in the curators' queue. A curator will pick it up soon; "
    "you can write to them meanwhile.",
    Submission.State.IN_REVIEW: "A curator is reviewing your dataset card and its location. You can write to "
    "them meanwhile.",
    Submission.State.CHANGES_REQUESTED: "The curators asked for changes. Read their message below, then upload "
    "a revised card or give a new location: either sends the dataset back to the curators. A message alone "
    "keeps this state, so you can still revise afterwards.",
    Submission.State.APPROVED: "Your dataset was approved and will be published to the Hugging Face Hub shortly.",
    Submission.State.MIRROR_FAILED: "Publishing hit a problem and the curators have been told. If the data has "
    "moved or its address is wrong, give the new location below; the curators then restart the publication. "
    "Otherwise they fix the cause and retry; you can write to them.",
    Submission.State.MIRRORING: "Your dataset is being copied and published to the Hugging Face Hub.",
    Submission.State.PUBLISHED: "Your dataset is published. Thank you for contributing!",
    Submission.State.REJECTED: "The curators decided not to include this dataset. Their reason is below.",
    # Withdrawn by its contributor before approval, or by the curators after publication (their reason is
    # then the timeline's last state change, and the catalog page says it too).
    Submission.State.WITHDRAWN: "This submission is withdrawn; nothing more will happen to it. If the curators "
    "withdrew the published dataset, their reason is in the timeline below.",
    Submission.State.ABANDONED: _(
        "The curators asked for changes and heard nothing back for a long time, so the submission was "
        "closed. Its name stays reserved for you: reopen it below to send the changes, or withdraw it."
    ),
}


# Short names of the states, for the queue's badges and the dashboard's charts (the full name is the title).
SHORT_STATE_LABELS = {
    Submission.State.AWAITING_CONFIRMATION: _("Unconfirmed"),
    Submission.State.SUBMITTED: _("New"),
    Submission.State.IN_REVIEW: _("In review"),
    Submission.State.CHANGES_REQUESTED: _("Changes asked"),
    Submission.State.APPROVED: _("Approved"),
    Submission.State.MIRRORING: _("Publishing"),
    Submission.State.MIRROR_FAILED: _("Failed"),
    Submission.State.PUBLISHED: _("Published"),
    Submission.State.REJECTED: _("Rejected"),
    Submission.State.WITHDRAWN: _("Withdrawn"),
    Submission.State.ABANDONED: _("Abandoned"),
}


def card_upload_to(revision, filename):
    """Store each card under its submission's reference with its revision number and hash."""
    return f"cards/{revision.submission.reference}/r{revision.number}-{revision.sha256[:12]}.md"


class CardRevision(models.Model):
    """One uploaded dataset card; revisions are kept, never replaced."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    file = models.FileField(upload_to=card_upload_to, max_length=200)
    original_filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    metadata = models.JSONField(default=dict, blank=True)
    findings = models.JSONField(default=list, blank=True, help_text="Lint findings: level, code, message.")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["submission", "number"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "number"], name="card_revision_number_unique")
        ]

    def __str__(self):
        return f"{self.submission.reference} card r{self.number}"

    def read_text(self):
        """Return the card's text, decoded as it was accepted."""
        with self.file.open("rb") as handle:
            return handle.read().decode("utf-8-sig")

    @property
    def warnings(self):
        """Return the lint findings of level warning."""
        return [finding for finding in self.findings if finding.get("level") == "warning"]


class CheckResult(models.Model):
    """The outcome of one automatic check on one card revision; checks advise, they never decide."""

    class Kind(models.TextChoices):
        CARD = "card", "Card lint"
        LOCATION = "location", "Location"
        DUPLICATE = "duplicate", "Duplicates"
        DATA = "data", "Data inspection"

    class Outcome(models.TextChoices):
        PASS = "pass", "Pass"
        WARN = "warn", "Warn"
        FAIL = "fail", "Fail"
        ERROR = "error", "Error (the check itself failed; re-run it)"

    revision = models.ForeignKey(CardRevision, on_delete=models.CASCADE, related_name="checks")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    # `summary` is the English text (the queue's tooltip, the admin's list, rows older than stored messages);
    # `summary_message` the same as a stored message (portal.i18n), shown in the reader's language.
    summary = models.CharField(max_length=300)
    summary_message = models.JSONField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ran_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["revision", "kind"]
        constraints = [models.UniqueConstraint(fields=["revision", "kind"], name="check_result_unique")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.outcome} ({self.summary})"

    def get_summary_display(self):
        """Return the summary in the active language (an older row's English summary as it is)."""
        return i18n.translated(self.summary_message) if self.summary_message else self.summary


class SignInLink(models.Model):
    """A single-use link that lists every submission of an e-mail address ("My submissions")."""

    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Sign-in link for {self.email} ({self.created_at:%Y-%m-%d %H:%M})"


class StatusLinkManager(models.Manager):
    def issue(self, submission):
        """Create a status link for a submission and return its raw token (only its hash is stored)."""
        token = secrets.token_urlsafe(32)  # 256 bits
        self.create(submission=submission, token_hash=hash_token(token))
        return token


class StatusLink(models.Model):
    """A private link to a submission's status page; only the token's hash is stored."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="status_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = StatusLinkManager()

    def __str__(self):
        return f"Status link of {self.submission.reference} ({self.created_at:%Y-%m-%d})"


class Event(models.Model):
    """One entry of a submission's timeline: a state change, a message or a note. Append-only."""

    class Kind(models.TextChoices):
        STATE_CHANGE = "state_change", "State change"
        MESSAGE = "message", "Message"
        CARD_REVISION = "card_revision", "Card revision"
        LOCATION_CHANGE = "location_change", "Location change"
        ASSIGNMENT = "assignment", "Assignment"
        CORRECTION = "correction", "Correction after publication"
        OVERRIDE = "override", "Approval override"
        REMINDER = "reminder", _("Reminder")

    class Actor(models.TextChoices):
        CONTRIBUTOR = "contributor", "Contributor"
        CURATOR = "curator", "Curator"
        SYSTEM = "system", "Portal"

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor_kind = models.CharField(max_length=20, choices=Actor.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_state = models.CharField(max_length=30, choices=Submission.State.choices, blank=True)
    to_state = models.CharField(max_length=30, choices=Submission.State.choices, blank=True)
    message = models.TextField(blank=True)
    public = models.BooleanField(default=True, help_text="Shown to the contributor; internal notes are not.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["submission", "created_at"], name="event_timeline_idx")]

    def __str__(self):
        return f"{self.submission_id} {self.get_kind_display()} at {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        """Insert the event; an event already written can never be changed."""
        if self.pk is not None:
            raise ValueError("Timeline events are append-only.")
        super().save(*args, **kwargs)

    @property
    def actor_label(self):
        """Return who acted, as shown to the contributor."""
        if self.actor_kind == self.Actor.CURATOR:
            return "Curator"
        return self.get_actor_kind_display()


class CuratorPreferences(models.Model):
    """A curator's own settings; a curator without a row has the defaults (the daily digest on)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="curator_preferences",
    )
    digest = models.BooleanField(
        _("send me the daily digest"),
        default=True,
        help_text=_(
            "One e-mail a day when there is something to say: new submissions, those waiting past the "
            "review deadline, open correction requests and failed publications."
        ),
    )

    class Meta:
        verbose_name = _("curator's preferences")
        verbose_name_plural = _("curators' preferences")

    def __str__(self):
        return f"Preferences of {self.user}"


class DigestDelivery(models.Model):
    """One curator's digest of one day, inserted before it is sent: the unique row makes it once a day."""

    curator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(help_text=_("The day of the digest, in the portal's time zone."))
    items = models.PositiveIntegerField(default=0, help_text=_("How many entries the digest listed."))
    covers_until = models.DateTimeField(
        help_text=_(
            "The moment its lists were read: the next digest's new submissions are those confirmed since."
        )
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["curator", "day"], name="one_digest_per_curator_and_day")
        ]
        verbose_name_plural = _("digest deliveries")

    def __str__(self):
        return f"Digest of {self.day:%Y-%m-%d} for {self.curator}"


def correction_card_upload_to(correction, filename):
    """Store a proposed card version under its submission's reference, the request number and the hash."""
    return f"cards/{correction.submission.reference}/c{correction.number}-{correction.card_sha256[:12]}.md"


class CorrectionRequest(models.Model):
    """A contributor's request to change a published dataset: its categorisation, or a new card version.

    At most one request per submission is in progress (open, or accepted and not yet on the Hub), so that
    two changes never race to the Hub. A proposed card is kept here, not as a `CardRevision`, until a
    curator accepts it: the published card is always built from accepted revisions only.
    """

    class Kind(models.TextChoices):
        CATEGORISATION = "categorisation", "Correction of the categorisation"
        CARD = "card", "New version of the dataset card"

    class State(models.TextChoices):
        OPEN = "open", "Waiting for a curator"
        ACCEPTED = "accepted", "Accepted, being published to the Hub"
        PUBLISHED = "published", "Published"
        DECLINED = "declined", "Declined"
        FAILED = "failed", "Accepted, but publishing it failed; the curators are on it"

    IN_PROGRESS_STATES = (State.OPEN, State.ACCEPTED)
    # The categorisation fields a contributor may ask to change, with their labels.
    FIELDS = {
        "name": "Dataset name",
        "domain": "Domain",
        "modalities": "Modalities",
        "license": "Licence",
        "languages": "Languages",
        "tags": "Tags",
    }

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="corrections")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    state = models.CharField(max_length=20, choices=State.choices, default=State.OPEN, db_index=True)
    changes = models.JSONField(
        default=dict, blank=True, help_text="Categorisation fields to change: {field: [published, proposed]}."
    )
    message = models.TextField(blank=True)
    card_file = models.FileField(upload_to=correction_card_upload_to, max_length=200, blank=True)
    card_filename = models.CharField(max_length=255, blank=True)
    card_sha256 = models.CharField(max_length=64, blank=True)
    card_size = models.PositiveIntegerField(default=0)
    card_metadata = models.JSONField(default=dict, blank=True)
    card_findings = models.JSONField(default=list, blank=True)
    revision = models.OneToOneField(
        CardRevision,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="correction",
        help_text="The card revision an accepted card version became.",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["submission", "number"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "number"], name="correction_number_unique"),
            models.UniqueConstraint(
                fields=["submission"],
                condition=Q(state__in=["open", "accepted"]),
                name="one_correction_in_progress",
            ),
        ]

    def __str__(self):
        return f"{self.submission.reference} correction {self.number} ({self.get_kind_display().lower()})"

    @property
    def change_rows(self):
        """Return (label, published value, proposed value) for each changed field, values as text."""

        def shown(value):
            return ", ".join(value) if isinstance(value, list) else str(value)

        return [
            (self.FIELDS.get(field, field), shown(old), shown(new))
            for field, (old, new) in self.changes.items()
        ]

    def read_card(self):
        """Return the proposed card's text."""
        with self.card_file.open("rb") as handle:
            return handle.read().decode("utf-8-sig")


class SourceRecord(models.Model):
    """A repository record (Zenodo/InvenioRDM, Dataverse, figshare) that one of a submission's locations names.

    Written by the location check each time it runs (with the manifest), read by the review page, the card
    draft and publication. Its metadata is the repository's claim, offered to the curator beside the card's.
    """

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="records")
    position = models.PositiveIntegerField(help_text="The line of the location field it came from (from 0).")
    location = models.TextField(help_text="The line as the contributor gave it.")
    family = models.CharField(max_length=20, help_text="invenio, dataverse or figshare.")
    landing_url = models.URLField(max_length=2000)
    api_url = models.URLField(max_length=2000)
    doi = models.CharField(max_length=300, blank=True)
    title = models.CharField(max_length=1000, blank=True)
    description = models.TextField(blank=True)
    creators = models.JSONField(default=list, blank=True, help_text='[{"name", "orcid", "affiliation"}]')
    license = models.CharField(max_length=100, blank=True, help_text="Hub licence id, when recognised.")
    license_name = models.CharField(max_length=300, blank=True)
    license_url = models.CharField(max_length=2000, blank=True)
    published = models.CharField(max_length=10, blank=True, help_text="ISO date, or empty.")
    version = models.CharField(max_length=100, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    resolved_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["submission", "position"]

    def __str__(self):
        return self.doi or self.landing_url

    @property
    def family_label(self):
        """Return the repository family as people name it."""
        return RECORD_FAMILIES.get(self.family, self.family)


RECORD_FAMILIES = {"invenio": "Zenodo / InvenioRDM", "dataverse": "Dataverse", "figshare": "figshare"}


class ManifestFile(models.Model):
    """One file of a submission's dataset: where it comes from, its size, announced and measured checksums.

    The manifest is the one list every reader uses (review page, data check, mirror, the card's `configs`,
    Croissant); the location check writes it, replacing the rows of its previous run in one transaction.
    """

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="manifest_files")
    record = models.ForeignKey(
        SourceRecord, null=True, blank=True, on_delete=models.CASCADE, related_name="files"
    )
    position = models.PositiveIntegerField(help_text="Order in the manifest (from 0).")
    path = models.CharField(max_length=1000, help_text="Path in the dataset, under data/ on the Hub.")
    source_url = models.CharField(max_length=2000, blank=True, help_text="Where the file is fetched from.")
    size = models.BigIntegerField(null=True, blank=True)
    checksums = models.JSONField(
        default=dict, blank=True, help_text='Announced digests, lowercase hex: {"md5": ..., "sha256": ...}.'
    )
    checksums_from = models.JSONField(
        default=dict, blank=True, help_text='Who announced each digest: {"md5": "record" or "contributor"}.'
    )
    sha256 = models.CharField(max_length=64, blank=True, help_text="Measured while publishing.")
    split = models.CharField(
        max_length=20, blank=True, help_text="train, validation, test; empty: one split."
    )
    media_type = models.CharField(max_length=200, blank=True)
    restricted = models.BooleanField(default=False)
    # Why a file is never fetched, in English ("embargoed until 2027-03-01"), and as a stored message
    # (portal.i18n) shown in the reader's language.
    restriction = models.CharField(max_length=300, blank=True)
    restriction_message = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["submission", "position"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "path"], name="manifest_file_path_unique"),
        ]
        indexes = [
            models.Index(fields=["submission", "position"], name="manifest_file_order"),
            models.Index(fields=["submission", "size"], name="manifest_file_size"),
        ]

    def __str__(self):
        return self.path

    def get_restriction_display(self):
        """Return why the file is never fetched, in the active language (an older row's English as it is)."""
        return i18n.translated(self.restriction_message) if self.restriction_message else self.restriction

    @property
    def announced(self):
        """Return (algorithm, digest, who announced it) for each announced checksum."""
        return [
            (algorithm, digest, self.checksums_from.get(algorithm, ""))
            for algorithm, digest in sorted(self.checksums.items())
        ]
