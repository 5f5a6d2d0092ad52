"""Celery tasks of the submissions app: thin wrappers that take ids and call `checks` or `services`.

Callers queue them by name through `portal.queues.enqueue`, so no module below needs to import this one.
"""

import smtplib
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from portal import queues, requestlog
from submissions import checks, emails, selectors, services
from submissions.models import Submission

# Checks still pending after this long were lost (a broker outage when they were queued): queue them again.
PENDING_CHECKS_AFTER = timedelta(minutes=10)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_checks(submission_id):
    """Run the automatic checks of a submission's newest card revision."""
    requestlog.bind(submission=selectors.reference_of(submission_id))
    return checks.run_all(submission_id)


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OSError, smtplib.SMTPException),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=8,
)
def deliver_email(subject, text, html, to):
    """Deliver a rendered e-mail; a relay that is down or refuses for now is tried again with backoff."""
    emails.deliver(subject=subject, text=text, html=html, to=to)


@shared_task(ignore_result=True)
def send_sign_in_link(email, language=None):
    """Send a "my submissions" sign-in link if the address has submissions (and has not asked too often)."""
    services.request_sign_in(email, language=language)


@shared_task(acks_late=True, ignore_result=True)
def sweep_pending_checks():
    """Queue again the checks of submissions whose checks never ran."""
    stale = Submission.objects.filter(
        check_summary="pending",
        state__in=[Submission.State.SUBMITTED, Submission.State.IN_REVIEW],
        updated_at__lt=timezone.now() - PENDING_CHECKS_AFTER,
    ).values_list("pk", flat=True)[:500]
    for submission_id in stale:
        queues.enqueue("submissions.tasks.run_checks", submission_id)
    return len(stale)


# Reminders found per kind and run; a backlog larger than this is worked through by the next runs.
REMINDERS_PER_RUN = 500


@shared_task(acks_late=True, ignore_result=True)
def send_reminders():
    """Send the reminders that are due and close the change requests left unanswered past the deadline.

    Safe on every beat replica at once: each service checks again under the row lock that its step is due.
    """
    done = {"assignees": 0, "contributors": 0, "abandoned": 0}
    for kind, found, service in (
        ("assignees", selectors.assignees_to_remind(), services.remind_assignee),
        ("abandoned", selectors.submissions_to_abandon(), services.abandon),
        ("contributors", selectors.contributors_to_remind(), services.remind_contributor),
    ):
        for submission in found.order_by("state_changed_at", "pk")[:REMINDERS_PER_RUN]:
            if service(submission) is not None:
                done[kind] += 1
    return done


@shared_task(acks_late=True, ignore_result=True)
def send_digests():
    """Send today's digest to each curator who wants it and has something to read; once per curator and day."""
    day = timezone.localdate()
    return sum(
        services.send_digest(digest.curator, day=day, digest=digest) for digest in selectors.curator_digests()
    )
