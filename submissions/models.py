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

    TEXT = "text", _("Text")
    IMAGES = "images", _("Images")
    AUDIO = "audio", _("Audio")
    VIDEO = "video", _("Video (may include audio)")


class ModalitiesMixin:
    """For models that store their modalities as comma-separated `Modality` values in `modalities`."""

    @property
    def modality_list(self):
        """Return the modalities as a list of Modality values."""
        return [value for value in self.modalities.split(",") if value]

    def get_modalities_display(self):
        """Return the modalities as human labels, comma-separated."""
        labels = dict(Modality.choices)
        return ", ".join(str(labels.get(value, value)) for value in self.modality_list)


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
        GENERAL = "general", _("General purpose")
        SCIENCE = "science", _("Science and industrial")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=60, unique=True)
    group = models.CharField(_("group"), max_length=20, choices=Group.choices, default=Group.OTHER)
    position = models.PositiveIntegerField(
        _("position"), default=0, help_text=_("Order within its group; smaller first.")
    )
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive domains are no longer offered on the form.")
    )

    class Meta:
        ordering = ["group", "position", "name"]
        verbose_name = _("domain")
        verbose_name_plural = _("domains")

    def __str__(self):
        return self.name


class TermsVersion(models.Model):
    """One published version of the contribution terms; the newest is the one shown on the form."""

    version = models.CharField(_("version"), max_length=20, unique=True)
    text = models.TextField(_("text"))
    published_on = models.DateField(_("published on"))

    class Meta:
        ordering = ["-published_on", "-id"]
        get_latest_by = ["published_on", "id"]
        verbose_name = _("terms version")
        verbose_name_plural = _("terms versions")

    def __str__(self):
        return _("Terms %(version)s (%(date)s)") % {
            "version": self.version,
            "date": f"{self.published_on:%Y-%m-%d}",
        }

    @classmethod
    def current(cls):
        """Return the newest published terms, or None when none exist."""
        return cls.objects.order_by("-published_on", "-id").first()


class Submission(ModalitiesMixin, models.Model):
    """A dataset offered by a contributor, from the form until it is published or closed."""

    class State(models.TextChoices):
        AWAITING_CONFIRMATION = "awaiting_confirmation", _("Waiting for e-mail confirmation")
        SUBMITTED = "submitted", _("Submitted, waiting for a curator")
        IN_REVIEW = "in_review", _("In review")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")
        APPROVED = "approved", _("Approved, waiting to be published")
        MIRRORING = "mirroring", _("Being published to the Hub")
        MIRROR_FAILED = "mirror_failed", _("Publishing failed, curators are on it")
        PUBLISHED = "published", _("Published")
        REJECTED = "rejected", _("Not accepted")
        WITHDRAWN = "withdrawn", _("Withdrawn")
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
    reference = models.CharField(  # noqa: DJ001
        _("reference"), max_length=20, unique=True, null=True, editable=False
    )
    name = models.CharField(_("name"), max_length=100)
    name_key = models.CharField(_("name key"), max_length=100, db_index=True, editable=False)
    location = models.TextField(
        _("location"),
        help_text=_("Where the data is: one https:// file address, repository record or DOI per line."),
    )
    announced_checksums = models.JSONField(
        _("announced checksums"),
        default=list,
        blank=True,
        help_text=_(
            'Checksums the contributor gave (md5sum/sha256sum output): [{"algorithm", "digest", "name"}].'
        ),
    )
    paper = models.CharField(
        _("paper"),
        max_length=500,
        blank=True,
        help_text=_("The paper that describes the data: an arXiv, DOI or https address."),
    )
    code_url = models.CharField(
        _("code URL"), max_length=2000, blank=True, help_text=_("The code that goes with the data.")
    )
    hosting_wanted = models.BooleanField(_("hosting wanted"), default=True)
    modalities = models.CharField(
        _("modalities"), max_length=40, help_text=_("Comma-separated Modality values.")
    )
    domain = models.ForeignKey(
        Domain, verbose_name=_("domain"), null=True, blank=True, on_delete=models.PROTECT
    )
    suggested_domain = models.CharField(_("suggested domain"), max_length=60, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), db_index=True)
    # The language of the contribution form (one of LANGUAGES): the contributor's e-mails go out in it.
    language = models.CharField(_("language"), max_length=8, default="en")
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
    terms_version = models.ForeignKey(TermsVersion, verbose_name=_("terms version"), on_delete=models.PROTECT)
    terms_accepted_at = models.DateTimeField(_("terms accepted at"))
    state = models.CharField(
        _("state"), max_length=30, choices=State.choices, default=State.AWAITING_CONFIRMATION, db_index=True
    )
    state_changed_at = models.DateTimeField(
        _("state changed at"), help_text=_("When the current state began (waiting since).")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submission_key = models.UUIDField(
        _("submission key"),
        unique=True,
        null=True,
        editable=False,
        help_text=_("One per form; a repeated POST finds its submission."),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    check_summary = models.CharField(
        _("check summary"),
        max_length=10,
        choices=[
            ("pending", _("Pending")),
            ("pass", _("Pass")),
            ("warn", _("Warn")),
            ("fail", _("Fail")),
            ("error", _("Error")),
        ],
        default="pending",
        help_text=_("Worst outcome of the automatic checks on the newest card revision."),
    )
    review_checklist = models.JSONField(_("review checklist"), default=dict, blank=True, editable=False)
    unpack_archives = models.BooleanField(
        _("unpack archives"),
        default=False,
        help_text=_("Chosen by the approving curator: unpack zip and tar archives on the Hub."),
    )
    reuse_record_doi = models.BooleanField(
        _("reuse the record's DOI"),
        default=False,
        help_text=_(
            "Chosen by the approving curator: the dataset's DOI is its repository record's own; no DOI is minted."
        ),
    )
    spam = models.BooleanField(
        _("spam"),
        default=False,
        editable=False,
        help_text=_("Rejected as spam (left out of the team's pace figures)."),
    )
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="duplicates",
        help_text=_("The submission this one duplicates; it was closed in favour of that one."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["state_changed_at", "id"]
        permissions = [("review_submission", "Can review submissions: claim, message, decide")]
        verbose_name = _("submission")
        verbose_name_plural = _("submissions (review queue)")
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
        if self.domain_id:
            return self.domain.name
        return _("%(domain)s (suggested)") % {"domain": self.suggested_domain}

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
        """Return what the current state means for the contributor, in plain words (in the active language)."""
        return str(STATE_EXPLANATIONS[self.state])


STATE_EXPLANATIONS = {
    Submission.State.AWAITING_CONFIRMATION: _(
        "We are waiting for you to confirm your e-mail address with the button on this page."
    ),
    Submission.State.SUBMITTED: _(
        "Your dataset is in the curators' queue. A curator will pick it up soon; you can write to them meanwhile."
    ),
    Submission.State.IN_REVIEW: _(
        "A curator is reviewing your dataset card and its location. You can write to them meanwhile."
    ),
    Submission.State.CHANGES_REQUESTED: _(
        "The curators asked for changes. Read their message below, then upload a revised card or give a new "
        "location: either sends the dataset back to the curators. A message alone keeps this state, so you "
        "can still revise afterwards."
    ),
    Submission.State.APPROVED: _(
        "Your dataset was approved and will be published to the Hugging Face Hub shortly."
    ),
    Submission.State.MIRROR_FAILED: _(
        "Publishing hit a problem and the curators have been told. If the data has moved or its address is "
        "wrong, give the new location below; the curators then restart the publication. Otherwise they fix "
        "the cause and retry; you can write to them."
    ),
    Submission.State.MIRRORING: _("Your dataset is being copied and published to the Hugging Face Hub."),
    Submission.State.PUBLISHED: _("Your dataset is published. Thank you for contributing!"),
    Submission.State.REJECTED: _("The curators decided not to include this dataset. Their reason is below."),
    # Withdrawn by its contributor before approval, or by the curators after publication (their reason is
    # then the timeline's last state change, and the catalog page says it too).
    Submission.State.WITHDRAWN: _(
        "This submission is withdrawn; nothing more will happen to it. If the curators withdrew the "
        "published dataset, their reason is in the timeline below."
    ),
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

    submission = models.ForeignKey(
        Submission, verbose_name=_("submission"), on_delete=models.CASCADE, related_name="revisions"
    )
    number = models.PositiveIntegerField(_("number"))
    file = models.FileField(_("file"), upload_to=card_upload_to, max_length=200)
    original_filename = models.CharField(_("original file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size"))
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    findings = models.JSONField(
        _("findings"), default=list, blank=True, help_text=_("Lint findings: level, code, message.")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["submission", "number"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "number"], name="card_revision_number_unique")
        ]
        verbose_name = _("card revision")
        verbose_name_plural = _("card revisions")

    def __str__(self):
        return _("%(reference)s card r%(number)s") % {
            "reference": self.submission.reference,
            "number": self.number,
        }

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
        CARD = "card", _("Card lint")
        LOCATION = "location", _("Location")
        DUPLICATE = "duplicate", _("Duplicates")
        DATA = "data", _("Data inspection")

    class Outcome(models.TextChoices):
        PASS = "pass", _("Pass")
        WARN = "warn", _("Warn")
        FAIL = "fail", _("Fail")
        ERROR = "error", _("Error (the check itself failed; re-run it)")

    revision = models.ForeignKey(
        CardRevision, verbose_name=_("card revision"), on_delete=models.CASCADE, related_name="checks"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    # `summary` is the English text (the queue's tooltip, the admin's list, rows older than stored messages);
    # `summary_message` the same as a stored message (portal.i18n), shown in the reader's language.
    summary = models.CharField(_("summary"), max_length=300)
    summary_message = models.JSONField(_("summary (stored message)"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    ran_at = models.DateTimeField(_("ran at"), auto_now=True)

    class Meta:
        ordering = ["revision", "kind"]
        constraints = [models.UniqueConstraint(fields=["revision", "kind"], name="check_result_unique")]
        verbose_name = _("check result")
        verbose_name_plural = _("check results")

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

    submission = models.ForeignKey(
        Submission, verbose_name=_("submission"), on_delete=models.CASCADE, related_name="status_links"
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    objects = StatusLinkManager()

    class Meta:
        verbose_name = _("status link")
        verbose_name_plural = _("status links")

    def __str__(self):
        return _("Status link of %(reference)s (%(date)s)") % {
            "reference": self.submission.reference,
            "date": f"{self.created_at:%Y-%m-%d}",
        }


class Event(models.Model):
    """One entry of a submission's timeline: a state change, a message or a note. Append-only."""

    class Kind(models.TextChoices):
        STATE_CHANGE = "state_change", _("State change")
        MESSAGE = "message", _("Message")
        CARD_REVISION = "card_revision", _("Card revision")
        LOCATION_CHANGE = "location_change", _("Location change")
        ASSIGNMENT = "assignment", _("Assignment")
        CORRECTION = "correction", _("Correction after publication")
        OVERRIDE = "override", _("Approval override")
        REMINDER = "reminder", _("Reminder")

    class Actor(models.TextChoices):
        CONTRIBUTOR = "contributor", _("Contributor")
        CURATOR = "curator", _("Curator")
        SYSTEM = "system", _("Portal")

    submission = models.ForeignKey(
        Submission, verbose_name=_("submission"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    actor_kind = models.CharField(_("actor kind"), max_length=20, choices=Actor.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    from_state = models.CharField(
        _("from state"), max_length=30, choices=Submission.State.choices, blank=True
    )
    to_state = models.CharField(_("to state"), max_length=30, choices=Submission.State.choices, blank=True)
    # `message` is the English text (search, logs, the admin's list, rows older than stored messages);
    # `portal_message` a sentence of the portal's own as a stored message (portal.i18n), shown in the reader's
    # language, and empty for what a person typed (shown as typed). See `get_message_display`.
    message = models.TextField(_("message"), blank=True)
    portal_message = models.JSONField(null=True, blank=True)
    public = models.BooleanField(
        _("public"), default=True, help_text=_("Shown to the contributor; internal notes are not.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["submission", "created_at"], name="event_timeline_idx")]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self):
        return _("%(submission)s %(kind)s at %(time)s") % {
            "submission": self.submission_id,
            "kind": self.get_kind_display(),
            "time": f"{self.created_at:%Y-%m-%d %H:%M}",
        }

    def save(self, *args, **kwargs):
        """Insert the event; an event already written can never be changed."""
        if self.pk is not None:
            raise ValueError("Timeline events are append-only.")
        super().save(*args, **kwargs)

    @property
    def actor_label(self):
        """Return who acted, as shown to the contributor."""
        if self.actor_kind == self.Actor.CURATOR:
            return _("Curator")
        return self.get_actor_kind_display()

    def get_message_display(self):
        """Return what the timeline shows: the portal's sentence in the active language, or the text as typed."""
        return i18n.translated(self.portal_message) if self.portal_message else self.message


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
        return _("Preferences of %(user)s") % {"user": self.user}


class DigestDelivery(models.Model):
    """One curator's digest of one day, inserted before it is sent: the unique row makes it once a day."""

    curator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("curator"), on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("day"), help_text=_("The day of the digest, in the portal's time zone."))
    items = models.PositiveIntegerField(
        _("items"), default=0, help_text=_("How many entries the digest listed.")
    )
    covers_until = models.DateTimeField(
        _("covers until"),
        help_text=_(
            "The moment its lists were read: the next digest's new submissions are those confirmed since."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["curator", "day"], name="one_digest_per_curator_and_day")
        ]
        verbose_name = _("digest delivery")
        verbose_name_plural = _("digest deliveries")

    def __str__(self):
        return _("Digest of %(day)s for %(curator)s") % {
            "day": f"{self.day:%Y-%m-%d}",
            "curator": self.curator,
        }


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
        CATEGORISATION = "categorisation", _("Correction of the categorisation")
        CARD = "card", _("New version of the dataset card")

    class State(models.TextChoices):
        OPEN = "open", _("Waiting for a curator")
        ACCEPTED = "accepted", _("Accepted, being published to the Hub")
        PUBLISHED = "published", _("Published")
        DECLINED = "declined", _("Declined")
        FAILED = "failed", _("Accepted, but publishing it failed; the curators are on it")

    IN_PROGRESS_STATES = (State.OPEN, State.ACCEPTED)
    # The categorisation fields a contributor may ask to change, with their labels.
    FIELDS = {
        "name": _("Dataset name"),
        "domain": _("Domain"),
        "modalities": _("Modalities"),
        "license": _("Licence"),
        "languages": _("Languages"),
        "tags": _("Tags"),
    }

    submission = models.ForeignKey(
        Submission, verbose_name=_("submission"), on_delete=models.CASCADE, related_name="corrections"
    )
    number = models.PositiveIntegerField(_("number"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.OPEN, db_index=True
    )
    changes = models.JSONField(
        _("changes"),
        default=dict,
        blank=True,
        help_text=_("Categorisation fields to change: {field: [published, proposed]}."),
    )
    message = models.TextField(_("message"), blank=True)
    card_file = models.FileField(
        _("card file"), upload_to=correction_card_upload_to, max_length=200, blank=True
    )
    card_filename = models.CharField(_("card file name"), max_length=255, blank=True)
    card_sha256 = models.CharField(_("card SHA-256"), max_length=64, blank=True)
    card_size = models.PositiveIntegerField(_("card size"), default=0)
    card_metadata = models.JSONField(_("card metadata"), default=dict, blank=True)
    card_findings = models.JSONField(_("card findings"), default=list, blank=True)
    revision = models.OneToOneField(
        CardRevision,
        verbose_name=_("card revision"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="correction",
        help_text=_("The card revision an accepted card version became."),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

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
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")

    def __str__(self):
        return _("%(reference)s correction %(number)s (%(kind)s)") % {
            "reference": self.submission.reference,
            "number": self.number,
            "kind": self.get_kind_display().lower(),
        }

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
