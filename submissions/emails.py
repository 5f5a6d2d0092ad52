"""E-mails to contributors and curators: one function per message.

Each message has a plain-text and an HTML template under templates/emails/. Callers schedule these
functions with `transaction.on_commit`, never inside a transaction. A message is rendered here and handed
to a worker on the checks-and-e-mails queue for delivery (SMTP may be slow; the worker retries a relay
that is down). With the broker unreachable it is delivered at once instead. Sending failures are logged
and swallowed: the submission itself is safe in the database and the contributor can ask for a new link.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from portal import queues
from submissions.models import StatusLink

logger = logging.getLogger(__name__)


def _rendered_later(function, *args):
    """Return `function(*args)` as a lazy string: a subject's parameter rendered in the message's language
    (a date's month, a choice's label), not in the language of whoever triggered the message."""
    return lazy(function, str)(*args)


def status_url(token):
    """Return the absolute address of a status page for a raw token."""
    return settings.PORTAL_BASE_URL + reverse("submissions:status", args=[token])


def _send(*, template, subject, to, context, language=None, subject_params=None, reference=""):
    """Render a message in `language` (the portal's default when None) and hand it over for delivery.

    Rendering happens in the caller's process, often a worker with no request: the language is always
    named, never taken from whatever happens to be active. `subject` is a lazy translation, its
    `%(name)s` placeholders filled from `subject_params` once the language is active; `reference` (a
    submission's) goes in front of it in brackets.
    """
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = str(subject) % subject_params if subject_params else str(subject)
        if reference:
            subject = f"[{reference}] {subject}"
        context = {"portal_name": settings.PORTAL_NAME, "base_url": settings.PORTAL_BASE_URL, **context}
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    if queues.enqueue("submissions.tasks.deliver_email", subject, text, html, list(to)):
        return True
    try:
        deliver(subject=subject, text=text, html=html, to=to)
    except Exception:
        logger.exception("Could not send the %s e-mail to %s.", template, to)
        return False
    return True


def deliver(*, subject, text, html, to):
    """Send one rendered message (plain text with an HTML alternative); raises if the relay refuses it."""
    message = EmailMultiAlternatives(subject=subject, body=text, to=to)
    message.attach_alternative(html, "text/html")
    message.send()


def send_confirmation(submission, *, token):
    """Tell the contributor we received the dataset and give them the private status link."""
    return _send(
        template="confirmation",
        subject=_("Confirm your dataset submission “%(name)s”"),
        subject_params={"name": submission.name},
        reference=submission.reference,
        language=submission.language,
        to=[submission.contact_email],
        context={"submission": submission, "status_url": status_url(token)},
    )


def _to_contributor(submission, *, template, subject, subject_params=None, **context):
    token = StatusLink.objects.issue(submission)
    return _send(
        template=template,
        subject=subject,
        subject_params=subject_params,
        reference=submission.reference,
        language=submission.language,
        to=[submission.contact_email],
        context={"submission": submission, "status_url": status_url(token), **context},
    )


def review_url(submission):
    """Return the absolute address of a submission's review page in the admin."""
    return settings.PORTAL_BASE_URL + reverse("admin:submissions_submission_change", args=[submission.pk])


def _to_curators(submission, *, template, subject, subject_params=None, to=None, **context):
    return _send(
        template=template,
        subject=subject,
        subject_params=subject_params,
        reference=submission.reference,
        to=to or [settings.PORTAL_CURATORS_EMAIL],
        context={"submission": submission, "admin_url": review_url(submission), **context},
    )


def send_changes_requested(submission, *, message):
    """Tell the contributor what the curators ask them to change."""
    return _to_contributor(
        submission, template="changes_requested", subject=_("The curators ask for changes"), message=message
    )


def send_curator_message(submission, *, event):
    """Forward a curator's public message to the contributor."""
    return _to_contributor(
        submission,
        template="curator_message",
        subject=_("A message from the curators"),
        message=event.message,
    )


def send_approved(submission):
    """Tell the contributor the dataset was approved and will be published."""
    return _to_contributor(submission, template="approved", subject=_("Your dataset was approved"))


def send_rejected(submission, *, reason):
    """Tell the contributor the dataset was not accepted, and why."""
    return _to_contributor(
        submission, template="rejected", subject=_("Your dataset was not accepted"), reason=reason
    )


def send_published(submission, *, hub_url, catalog_url):
    """Tell the contributor where the published dataset is."""
    return _to_contributor(
        submission,
        template="published",
        subject=_("Your dataset is published"),
        hub_url=hub_url,
        catalog_url=catalog_url,
    )


def send_location_changed(submission, *, previous, message):
    """Tell the contributor a curator changed the data location, and why."""
    return _to_contributor(
        submission,
        template="location_changed",
        subject=_("The curators changed your dataset's location"),
        previous=previous,
        message=message,
    )


def send_mirror_failed(submission):
    """Tell the contributor publishing failed, and what they can do about it."""
    return _to_contributor(submission, template="mirror_failed", subject=_("Publishing your dataset failed"))


def send_sign_in_link(*, email, token, language=None):
    """Send the single-use link that lists every submission of an address, in the language it was asked in."""
    url = settings.PORTAL_BASE_URL + reverse("submissions:my_submissions", args=[token])
    return _send(
        template="sign_in",
        subject=_("Your submissions to %(portal)s"),
        subject_params={"portal": settings.PORTAL_NAME},
        language=language,
        to=[email],
        context={"sign_in_url": url},
    )


def notify_curators_new_submission(submission):
    """Tell the curators a confirmed submission is waiting in the queue."""
    return _to_curators(
        submission,
        template="curators_new",
        subject=_("New dataset: %(name)s"),
        subject_params={"name": submission.name},
    )


def notify_curators_reply(submission, *, text):
    """Forward a contributor's message to the curators."""
    return _to_curators(submission, template="curators_reply", subject=_("The contributor wrote"), text=text)


def notify_curators_revision(submission, *, revision):
    """Tell the curators a revised card arrived."""
    return _to_curators(
        submission, template="curators_revision", subject=_("A revised card arrived"), revision=revision
    )


def notify_curators_location(submission, *, previous):
    """Tell the curators the contributor gave a new data location."""
    return _to_curators(
        submission,
        template="curators_location",
        subject=_("New data locations or checksums arrived"),
        previous=previous,
    )


def notify_curators_withdrawn(submission):
    """Tell the curators the contributor withdrew a submission."""
    return _to_curators(submission, template="curators_withdrawn", subject=_("Withdrawn by the contributor"))


def notify_curators_mirror_failed(submission, *, reason):
    """Tell the curators a publication failed and needs them."""
    return _to_curators(
        submission, template="curators_mirror_failed", subject=_("Publishing failed"), reason=reason
    )


def notify_curators_correction(submission, *, correction):
    """Tell the curators a published dataset's contributor asks for a correction or sent a new card."""
    return _to_curators(
        submission,
        template="curators_correction",
        subject=_("Request %(number)s: %(kind)s"),
        subject_params={
            "number": correction.number,
            "kind": _rendered_later(lambda: correction.get_kind_display().lower()),
        },
        correction=correction,
    )


def send_correction_decided(submission, *, correction):
    """Tell the contributor whether their correction or card version was accepted."""
    accepted = correction.state != correction.State.DECLINED
    if accepted:
        subject = _("Your request %(number)s was accepted")
    else:
        subject = _("Your request %(number)s was declined")
    return _to_contributor(
        submission,
        template="correction_decided",
        subject=subject,
        subject_params={"number": correction.number},
        correction=correction,
        accepted=accepted,
    )


def send_withdrawn_by_curators(submission, *, reason):
    """Tell the contributor that the curators withdrew their published dataset, and why."""
    return _to_contributor(
        submission,
        template="withdrawn_by_curators",
        subject=_("Your dataset was withdrawn from the catalog"),
        reason=reason,
    )


# The curation team's pace: reminders, abandonment, duplicates, the daily digest -------------------------


def send_review_reminder(submission, *, curator, waiting_since):
    """Remind the assignee that a submission waits for the curators past the review deadline."""
    return _to_curators(
        submission,
        template="review_reminder",
        subject=_("Waiting past the review deadline: %(name)s"),
        subject_params={"name": submission.name},
        to=[curator.email],
        curator=curator,
        waiting_since=waiting_since,
        sla_days=settings.REVIEW_SLA_DAYS,
    )


def send_changes_reminder(submission, *, closes_on):
    """Remind the contributor that the curators wait for the changes they asked for, and until when."""
    return _to_contributor(
        submission,
        template="changes_reminder",
        subject=_("The curators are waiting for your changes"),
        closes_on=closes_on,
    )


def send_abandoned(submission):
    """Tell the contributor the submission was closed for lack of an answer, and how to reopen it."""
    return _to_contributor(
        submission,
        template="abandoned",
        subject=_("Your submission was closed: no answer to the requested changes"),
        days=settings.CHANGES_ABANDON_DAYS,
    )


def notify_curators_reopened(submission):
    """Tell the curators a contributor reopened a submission closed as abandoned."""
    return _to_curators(submission, template="curators_reopened", subject=_("Reopened by the contributor"))


def send_closed_as_duplicate(submission, *, original, message):
    """Tell the contributor the submission was closed as a duplicate of another one."""
    return _to_contributor(
        submission,
        template="duplicate",
        subject=_("Your submission duplicates another one"),
        original=original,
        message=message,
    )


def send_digest(*, curator, digest, day):
    """Send a curator the daily digest: new, overdue, correction requests, failed publications, with links."""
    queue = settings.PORTAL_BASE_URL + reverse("admin:submissions_submission_changelist")
    return _send(
        template="curator_digest",
        subject=_("%(portal)s: the curators' digest of %(day)s"),
        subject_params={"portal": settings.PORTAL_NAME, "day": _rendered_later(date_format, day, "j F Y")},
        to=[curator.email],
        context={
            "curator": curator,
            "digest": digest,
            "sla_days": settings.REVIEW_SLA_DAYS,
            "queue_url": queue,
            "preferences_url": settings.PORTAL_BASE_URL + reverse("admin:submissions_submission_digest"),
        },
    )
