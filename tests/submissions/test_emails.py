"""E-mails: sent after commit only, plain text and HTML, with the status link; curators at their address."""

import logging

import pytest
from celery import current_app
from django.core import mail
from django.db import transaction
from django.test import Client
from kombu.exceptions import OperationalError

from submissions import cards, emails, services
from submissions.models import Submission
from tests.factories import (
    GOOD_CARD,
    OFFLINE_OVERRIDE,
    card_bytes,
    changes_requested,
    committed,
    confirmed,
    in_review,
    status_token_from,
    submit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def addresses(settings):
    settings.DEFAULT_FROM_EMAIL = "Dataset Portal <noreply@portal.test>"
    settings.PORTAL_CURATORS_EMAIL = "review-team@portal.test"


def html_part(message):
    (alternative,) = message.alternatives
    content, mimetype = alternative
    assert mimetype == "text/html"
    return content


def assert_contributor_mail(message, submission, *, contains=()):
    """One message to the contributor, in text and HTML, with a status link that opens its page."""
    assert message.to == [submission.contact_email]
    assert message.from_email == "Dataset Portal <noreply@portal.test>"
    assert submission.reference in message.subject
    token = status_token_from(message.body)
    assert f"http://testserver/status/{token}/" in message.body
    assert f'href="http://testserver/status/{token}/"' in html_part(message)
    for text in contains:
        assert text in message.body, text
    page = Client().get(f"/status/{token}/")
    assert page.status_code == 200 and submission.reference in page.content.decode()


def assert_curators_mail(message, submission, *, contains=()):
    assert message.to == ["review-team@portal.test"]
    assert f"http://testserver/admin/submissions/submission/{submission.pk}/change/" in message.body
    assert "<html" in html_part(message)
    for text in contains:
        assert text in message.body, text


def test_nothing_is_sent_inside_the_transaction(curator):
    submission, _ = in_review(curator)
    mail.outbox.clear()
    with committed():
        services.request_changes(submission, by=curator, message="Add a citation.")
        assert mail.outbox == []
    assert len(mail.outbox) == 1


def test_a_rolled_back_transaction_sends_nothing(curator):
    submission, _ = in_review(curator)
    mail.outbox.clear()
    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        services.send_message(submission, by=curator, text="You will never read this.")
        services.reject(submission, by=curator, reason="Nor this.")
        raise RuntimeError("the request failed after the services ran")
    assert mail.outbox == []
    submission.refresh_from_db()
    assert submission.state == Submission.State.IN_REVIEW
    assert not submission.events.filter(message__in=["You will never read this.", "Nor this."]).exists()


def test_confirmation_mail():
    submission, _ = submit()
    assert_contributor_mail(mail.outbox[-1], submission, contains=["press “Confirm my e-mail address”"])


def test_changes_requested_mail_has_the_message(curator):
    submission, _ = in_review(curator)
    mail.outbox.clear()
    with committed():
        services.request_changes(submission, by=curator, message="Add the licence & a citation <please>.")
    (message,) = mail.outbox
    assert_contributor_mail(message, submission, contains=["Add the licence & a citation <please>."])
    assert "Add the licence &amp; a citation &lt;please&gt;." in html_part(message)


def test_curator_message_mail(curator):
    submission, _ = in_review(curator)
    mail.outbox.clear()
    with committed():
        services.send_message(submission, by=curator, text="<script>alert(1)</script> Which licence?")
    (message,) = mail.outbox
    assert_contributor_mail(message, submission, contains=["Which licence?"])
    assert "<script>" not in html_part(message)


def test_approved_and_published_mails(curator, queued_mirrors):
    submission, _ = in_review(curator)
    mail.outbox.clear()
    with committed():
        services.approve(
            submission,
            by=curator,
            checklist=services.ReviewChecklist.all_ticked(),
            concerns_override=OFFLINE_OVERRIDE,
        )
    (approved,) = mail.outbox
    assert "approved" in approved.subject
    assert_contributor_mail(approved, submission)
    assert len(queued_mirrors) == 1
    mail.outbox.clear()
    hub = "https://huggingface.co/datasets/dataset-portal/harbour"
    with committed():
        services.mark_published(submission, hub_url=hub, catalog_url="/datasets/harbour/")
    (published,) = mail.outbox
    assert_contributor_mail(published, submission, contains=[hub])


def test_rejected_mail_has_the_reason(curator):
    submission, _ = in_review(curator)
    mail.outbox.clear()
    with committed():
        services.reject(submission, by=curator, reason="The data contains personal records.")
    (message,) = mail.outbox
    assert_contributor_mail(message, submission, contains=["The data contains personal records."])


def test_curators_hear_of_a_new_confirmed_submission():
    submission, _ = submit()
    mail.outbox.clear()
    with committed():
        services.confirm(submission)
    (message,) = mail.outbox
    assert_curators_mail(message, submission, contains=[submission.name])


def test_curators_hear_of_a_reply(curator):
    submission, _ = in_review(curator)
    mail.outbox.clear()
    with committed():
        services.reply(submission, text="The licence is CC0.")
    (message,) = mail.outbox
    assert_curators_mail(message, submission, contains=["The licence is CC0."])


def test_curators_hear_of_a_revision(curator):
    submission, _ = changes_requested(curator)
    mail.outbox.clear()
    raw = card_bytes(GOOD_CARD + "\n## More\n\nDetails.\n")
    with committed():
        services.revise_card(
            submission,
            card=cards.parse_card(raw, filename="README.md"),
            card_raw=raw,
            card_filename="README.md",
        )
    (message,) = mail.outbox
    assert_curators_mail(message, submission, contains=["uploaded revision 2 of the dataset card"])


def test_contributor_is_not_told_of_internal_notes(curator):
    submission, _ = confirmed()
    mail.outbox.clear()
    with committed():
        services.send_message(submission, by=curator, text="Internal only.", public=False)
    assert mail.outbox == []


def test_e_mails_are_delivered_by_a_task_and_at_once_when_the_broker_is_down(monkeypatch, caplog):

    sent = emails._send(
        template="approved", subject="Queued", to=["a@example.org"], context={"submission": None}
    )
    assert sent is True
    assert [message.subject for message in mail.outbox] == ["Queued"]

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(current_app.tasks["submissions.tasks.deliver_email"], "apply_async", broker_down)
    with caplog.at_level(logging.ERROR, logger="portal.queues"):
        sent = emails._send(
            template="approved", subject="Direct", to=["b@example.org"], context={"submission": None}
        )
    assert sent is True
    assert [message.subject for message in mail.outbox] == ["Queued", "Direct"]
    assert "Could not queue submissions.tasks.deliver_email" in caplog.text
    assert "b@example.org" not in caplog.text  # nothing of the message (or its private links) is logged
