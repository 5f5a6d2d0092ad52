"""No dead end after a wrong location: contributor and curator can mend it, and a retry uses the new address.

Also the reply rule: a contributor's message keeps "changes requested", so the revision stays possible.
"""

import html

import pytest
from django.core import mail
from django.test import Client

from catalog.models import Dataset
from submissions import services
from submissions.models import Event, Submission
from tests.catalog.test_mirror import approve
from tests.factories import OFFLINE_OVERRIDE, changes_requested, committed, confirmed, in_review

pytestmark = pytest.mark.django_db

State = Submission.State
NEW = "https://data.example.org/moved/levels.csv"


def text_of(response):
    return html.unescape(response.content.decode())


def snapshot(submission):
    submission.refresh_from_db()
    return submission.state, submission.location, submission.events.count()


def test_reply_keeps_changes_requested_and_the_revision_upload(curator):
    submission, token = changes_requested(curator)
    mail.outbox.clear()
    with committed():
        response = Client().post(f"/status/{token}/reply/", {"text": "Which licence?"}, follow=True)
    submission.refresh_from_db()
    assert submission.state == State.CHANGES_REQUESTED
    page = text_of(response)
    assert 'id="revise"' in page and 'id="location"' in page
    (message,) = mail.outbox
    assert message.to == ["curators@portal.test"] and "Which licence?" in message.body


def test_contributor_new_location_while_changes_requested_goes_back_to_the_queue(curator, source_server):
    source_server.add_bytes("/moved.csv", b"a,b\n1,2\n", content_type="text/csv")
    new = source_server.url("/moved.csv")
    submission, token = changes_requested(curator)
    assert submission.latest_revision.checks.get(kind="location").outcome == "fail"  # unreachable host
    mail.outbox.clear()
    with committed():
        response = Client().post(
            f"/status/{token}/location/", {"location": new, "comment": "The file moved."}, follow=True
        )
    assert "your changes are with the curators" in text_of(response)
    submission.refresh_from_db()
    assert (submission.state, submission.location) == (State.SUBMITTED, new)
    event = submission.events.get(kind=Event.Kind.LOCATION_CHANGE)
    assert (event.actor_kind, event.public) == ("contributor", True)
    assert new in event.message and "The file moved." in event.message
    assert new in text_of(Client().get(f"/status/{token}/"))  # in the public timeline
    # The checks ran again (eagerly) on the new address.
    assert submission.latest_revision.checks.get(kind="location").outcome == "pass"
    assert source_server.requests_for("/moved.csv")
    (message,) = mail.outbox
    assert message.to == ["curators@portal.test"] and new in message.body


@pytest.mark.parametrize(
    ("location", "words"),
    [
        ("", "Enter the https:// address of the data, or the DOI of its record."),
        ("http://data.example.org/x.csv", "Use an https:// address"),
        ("https://user:pw@data.example.org/x.csv", "Remove the user name or password"),
        ("https://10.0.0.1/x.csv", "private or local network"),
    ],
)
def test_bad_new_location_is_refused_beside_the_field_and_nothing_stored(curator, location, words):
    submission, token = changes_requested(curator)
    before = snapshot(submission)
    response = Client().post(f"/status/{token}/location/", {"location": location})
    assert response.status_code == 400
    assert words in text_of(response)
    assert snapshot(submission) == before


def test_new_location_is_refused_in_review_while_the_location_works_and_the_box_is_not_shown(
    curator, source_server
):
    source_server.add_bytes("/levels.csv", b"a,b\n1,2\n", content_type="text/csv")
    submission, token = in_review(curator, location=source_server.url("/levels.csv"))
    assert submission.latest_revision.checks.get(kind="location").outcome == "pass"
    assert 'id="location"' not in text_of(Client().get(f"/status/{token}/"))
    before = snapshot(submission)
    response = Client().post(f"/status/{token}/location/", {"location": NEW})
    assert response.status_code == 400
    assert "while a check of the location fails" in text_of(response)
    assert snapshot(submission) == before


def test_a_failing_location_in_review_is_mended_at_once_and_the_state_stays(curator, source_server):
    source_server.add_bytes("/moved.csv", b"a,b\n1,2\n", content_type="text/csv")
    submission, token = in_review(curator)  # the factory's location is unreachable offline
    assert submission.latest_revision.checks.get(kind="location").outcome == "fail"
    page = text_of(Client().get(f"/status/{token}/"))
    assert 'id="location"' in page
    with committed():
        response = Client().post(
            f"/status/{token}/location/", {"location": source_server.url("/moved.csv")}, follow=True
        )
    assert "the checks run again" in text_of(response)
    submission.refresh_from_db()
    assert (submission.state, submission.assignee) == (State.IN_REVIEW, curator)
    assert submission.location == source_server.url("/moved.csv")
    assert submission.latest_revision.checks.get(kind="location").outcome == "pass"


def test_the_same_location_again_is_refused(curator):
    submission, _ = changes_requested(curator)
    before = snapshot(submission)
    with pytest.raises(services.InvalidTransition, match="already the dataset's location"):
        services.revise_location(submission, location=submission.location)
    assert snapshot(submission) == before


def test_curator_changes_location_with_a_message_and_the_contributor_is_told(curator):
    submission, _ = in_review(curator)
    with pytest.raises(services.InvalidTransition, match="message to the contributor"):
        services.change_location(submission, by=curator, location=NEW, message="  ")
    mail.outbox.clear()
    with committed():
        services.change_location(submission, by=curator, location=NEW, message="Your link had a typo.")
    submission.refresh_from_db()
    assert (submission.state, submission.location) == (State.IN_REVIEW, NEW)
    event = submission.events.get(kind=Event.Kind.LOCATION_CHANGE)
    assert (event.actor, event.public) == (curator, True)
    (message,) = mail.outbox
    assert message.to == [submission.contact_email]
    assert "Your link had a typo." in message.body and NEW in message.body


def test_curator_change_location_in_the_review_page(curator, client):
    submission, _ = in_review(curator)
    client.force_login(curator)
    url = f"/admin/submissions/submission/{submission.pk}/change-location/"
    page = client.get(f"/admin/submissions/submission/{submission.pk}/change/").content.decode()
    assert 'id="change-location-form"' in page
    response = client.post(url, {"location": "ftp://x.org/a", "message": "typo"})
    assert response.status_code == 400 and "Use an https:// address" in text_of(response)
    with committed():
        client.post(url, {"location": NEW, "message": "Typo fixed."})
    submission.refresh_from_db()
    assert submission.location == NEW


def test_location_cannot_change_while_publishing(curator, queued_mirrors):
    submission, _ = in_review(curator)
    with committed():
        services.approve(
            submission,
            by=curator,
            checklist=services.ReviewChecklist.all_ticked(),
            concerns_override=OFFLINE_OVERRIDE,
        )
    before = snapshot(submission)
    with pytest.raises(services.InvalidTransition, match="can't be changed now"):
        services.change_location(submission, by=curator, location=NEW, message="Moved.")
    with pytest.raises(services.InvalidTransition):
        services.revise_location(submission, location=NEW)
    assert snapshot(submission) == before


def test_unconfirmed_submission_location_is_not_changed_by_curators(curator):
    submission, _ = confirmed()
    Submission.objects.filter(pk=submission.pk).update(state=State.AWAITING_CONFIRMATION)
    with pytest.raises(services.InvalidTransition):
        services.change_location(submission, by=curator, location=NEW, message="Moved.")


def test_failed_publication_is_mended_by_a_new_location_and_the_retry_publishes_it(
    devhub, source_server, curator
):
    source_server.add_status("/old.csv", 404)
    source_server.add_bytes("/new.csv", b"a,b\n1,2\n", content_type="text/csv")
    submission, token = in_review(curator, location=source_server.url("/old.csv"))
    mail.outbox.clear()
    approve(submission, curator)
    submission.refresh_from_db()
    assert submission.state == State.MIRROR_FAILED
    failed_mail = [m for m in mail.outbox if m.subject.endswith("Publishing your dataset failed")]
    assert failed_mail[0].to == [submission.contact_email]
    assert "give the new location" in failed_mail[0].body
    page = text_of(Client().get(f"/status/{token}/"))
    assert 'id="location"' in page and "you need not do anything" not in page
    with committed():
        Client().post(f"/status/{token}/location/", {"location": source_server.url("/new.csv")})
    submission.refresh_from_db()
    assert submission.state == State.MIRROR_FAILED  # the curators restart it
    with committed():
        services.retry_mirror(submission, by=curator)
    submission.refresh_from_db()
    assert submission.state == State.PUBLISHED
    dataset = Dataset.objects.get(submission=submission)
    assert dataset.source_url == source_server.url("/new.csv")
    assert source_server.requests_for("/new.csv")
    # Its own catalog entry is not reported as a duplicate of itself.
    with committed():
        services.rerun_checks(submission, by=curator)
    assert submission.latest_revision.checks.get(kind="duplicate").outcome == "pass"
