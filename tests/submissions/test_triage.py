"""Clearing the queue: rejecting a selection as spam, and closing a submission as a duplicate of another."""

import pytest
from django.core import mail
from django.test import Client

from submissions import services
from submissions.models import Event, Submission
from tests.factories import UserFactory, changes_requested, committed, confirmed, in_review, submit
from tests.submissions.test_review_admin import QUEUE, action_url, page_text, parse_html, review_url

pytestmark = pytest.mark.django_db

State = Submission.State


@pytest.fixture
def admin_client(curator):
    client = Client()
    client.force_login(curator)
    return client


def snapshot(*submissions):
    """What a refused step must leave unchanged."""
    rows = []
    for submission in submissions:
        submission.refresh_from_db()
        rows.append(
            (submission.state, submission.spam, submission.duplicate_of_id, submission.events.count())
        )
    return rows


# -- spam ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", ["unconfirmed", "submitted", "in_review", "changes_requested"])
def test_reject_as_spam_closes_without_an_email(curator, make):
    submission = {
        "unconfirmed": lambda: submit()[0],
        "submitted": lambda: confirmed()[0],
        "in_review": lambda: in_review(curator)[0],
        "changes_requested": lambda: changes_requested(curator)[0],
    }[make]()
    before = submission.state
    mail.outbox.clear()
    with committed():
        services.reject_as_spam(submission, by=curator, reason="Spam: an advert for watches.")
    submission.refresh_from_db()
    assert (submission.state, submission.spam) == (State.REJECTED, True)
    event = submission.events.latest("id")
    assert (event.from_state, event.to_state, event.actor, event.message) == (
        before,
        State.REJECTED,
        curator,
        "Spam: an advert for watches.",
    )
    assert mail.outbox == []  # the sender is not told: the address may be forged


def test_spam_needs_a_reason_and_an_undecided_submission(curator):
    submission, _ = in_review(curator)
    with pytest.raises(services.InvalidTransition, match="Write the reason"):
        services.reject_as_spam(submission, by=curator, reason="  ")
    Submission.objects.filter(pk=submission.pk).update(state=State.APPROVED)
    before = snapshot(submission)
    with pytest.raises(
        services.InvalidTransition, match="only a submission not yet decided can be rejected as spam"
    ):
        services.reject_as_spam(submission, by=curator, reason="Spam.")
    assert snapshot(submission) == before


def test_spam_action_asks_for_one_reason_on_a_confirmation_page(admin_client, curator):
    first, _ = confirmed(name="Cheap watches", email="spam@example.net")
    second, _ = in_review(curator, name="Casino bonus", email="spam2@example.net")
    decided, _ = in_review(curator, name="Real dataset")
    Submission.objects.filter(pk=decided.pk).update(state=State.APPROVED)
    selection = [first.pk, second.pk, decided.pk]

    page = admin_client.post(QUEUE, {"action": "reject_as_spam", "_selected_action": selection})

    assert page.status_code == 200
    text = page_text(page)
    assert "This rejects 2 submissions as spam. Their senders get no e-mail" in text
    assert "Cheap watches" in text and "spam@example.net" in text and "Casino bonus" in text
    assert "These are already decided or closed, and stay as they are:" in text and "Real dataset" in text
    assert Submission.objects.filter(spam=True).count() == 0  # nothing happens before the confirmation

    refused = admin_client.post(
        QUEUE, {"action": "reject_as_spam", "_selected_action": selection, "confirm": "yes", "reason": ""}
    )
    assert "Give the reason for the record" in page_text(refused)
    assert Submission.objects.filter(spam=True).count() == 0

    mail.outbox.clear()
    with committed():
        done = admin_client.post(
            QUEUE,
            {
                "action": "reject_as_spam",
                "_selected_action": selection,
                "confirm": "yes",
                "reason": "Adverts.",
            },
            follow=True,
        )
    assert "Rejected 2 submissions as spam." in page_text(done)
    assert set(Submission.objects.filter(spam=True).values_list("pk", flat=True)) == {first.pk, second.pk}
    assert Event.objects.filter(to_state=State.REJECTED, message="Adverts.").count() == 2
    decided.refresh_from_db()
    assert decided.state == State.APPROVED
    assert mail.outbox == []
    queue = parse_html(admin_client.get(f"{QUEUE}?open=closed").content)
    row = next(row for row in queue.find("tbody").find_all("tr") if first.reference in row.text)
    badge = row.find("span", class_="state")
    assert (badge.text, badge.attrs["title"]) == ("Spam", "Not accepted")


def test_spam_action_keeps_the_queue_filter_for_unconfirmed_ones(admin_client):
    unconfirmed, _ = submit(name="Never confirmed spam")
    url = f"{QUEUE}?confirmation=unconfirmed"
    page = admin_client.post(url, {"action": "reject_as_spam", "_selected_action": [unconfirmed.pk]})
    assert f'action="{url}"' in page.content.decode()
    admin_client.post(
        url,
        {
            "action": "reject_as_spam",
            "_selected_action": [unconfirmed.pk],
            "confirm": "yes",
            "reason": "Spam.",
        },
    )
    unconfirmed.refresh_from_db()
    assert unconfirmed.spam and unconfirmed.state == State.REJECTED


def test_spam_action_is_for_curators_only(curator):
    submission, _ = confirmed()
    before = snapshot(submission)
    staff = UserFactory(username="helpdesk", is_staff=True)
    client = Client()
    client.force_login(staff)
    data = {"action": "reject_as_spam", "_selected_action": [submission.pk], "confirm": "yes", "reason": "x"}
    assert client.post(QUEUE, data).status_code == 403
    # A staff member who may view and change submissions but lacks the review permission: no such action.
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_submission", "change_submission"])
    )
    assert client.post(QUEUE, data).status_code == 403
    assert snapshot(submission) == before


# -- duplicates ----------------------------------------------------------------------------------------------


def test_mark_a_duplicate_links_both_and_tells_its_contributor(admin_client, curator):
    original, _ = in_review(curator, name="Harbour water levels 2001-2024")
    duplicate, _ = confirmed(name="Harbour water levels (copy)", email="other@example.org")
    mail.outbox.clear()

    with committed():
        response = admin_client.post(
            action_url(duplicate, "mark-duplicate"),
            {"original": f" {original.reference.lower()} ", "message": "The same files as the other one."},
            follow=True,
        )

    assert f"{duplicate.reference} is closed as a duplicate of {original.reference}" in page_text(response)
    duplicate.refresh_from_db()
    assert (duplicate.state, duplicate.duplicate_of) == (State.REJECTED, original)
    closing = duplicate.events.latest("id")
    assert closing.public and closing.message == (
        f"Closed as a duplicate of {original.reference} “Harbour water levels 2001-2024”.\n"
        "The same files as the other one."
    )
    note = original.events.latest("id")
    assert (note.public, note.kind) == (False, Event.Kind.MESSAGE)
    assert (
        note.message
        == f"{duplicate.reference} “Harbour water levels (copy)” was closed as a duplicate of this submission."
    )
    (sent,) = mail.outbox
    assert sent.to == ["other@example.org"]
    assert sent.subject == f"[{duplicate.reference}] Your submission duplicates another one"
    assert original.reference in sent.body and "The same files as the other one." in sent.body
    assert "/status/" in sent.body

    duplicate_page = page_text(admin_client.get(review_url(duplicate)))
    assert (
        "Duplicate of" in duplicate_page
        and f"{original.reference} “Harbour water levels 2001-2024”" in duplicate_page
    )
    original_page = page_text(admin_client.get(review_url(original)))
    assert "Duplicates of this one" in original_page and duplicate.reference in original_page
    assert 'name="mark_duplicate"' not in duplicate_page  # closed: nothing more to mark


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("itself", "can't be a duplicate of itself"),
        ("unknown", "No submission has the reference DP-1999-000001"),
        ("empty", "Enter the reference of the other submission"),
        ("rejected original", "a submission can only duplicate one that is still open or published"),
        ("duplicate original", "is itself closed as a duplicate of"),
        ("approved duplicate", "only a confirmed submission not yet decided"),
        ("the other way round", "is already closed as a duplicate of this submission"),
    ],
)
def test_mark_a_duplicate_refusals_change_nothing(admin_client, curator, case, message):
    original, _ = in_review(curator, name="Original dataset")
    duplicate, _ = confirmed(name="Duplicate dataset")
    reference = original.reference
    if case == "itself":
        reference = duplicate.reference
    elif case == "unknown":
        reference = "DP-1999-000001"
    elif case == "empty":
        reference = ""
    elif case == "rejected original":
        services.reject(original, by=curator, reason="Out of scope.")
    elif case == "duplicate original":
        third, _ = confirmed(name="Third dataset")
        services.mark_duplicate(original, of=third, by=curator)
    elif case == "approved duplicate":
        Submission.objects.filter(pk=duplicate.pk).update(state=State.APPROVED)
    elif case == "the other way round":
        services.mark_duplicate(original, of=duplicate, by=curator)
    before = snapshot(original, duplicate)
    mail.outbox.clear()

    response = admin_client.post(
        action_url(duplicate, "mark-duplicate"), {"original": reference}, follow=True
    )

    assert message in page_text(response)
    assert snapshot(original, duplicate) == before
    assert mail.outbox == []


def test_mark_a_duplicate_is_for_curators_only(curator):
    original, _ = in_review(curator)
    duplicate, _ = confirmed()
    before = snapshot(original, duplicate)
    staff = UserFactory(username="helpdesk", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert (
        client.post(action_url(duplicate, "mark-duplicate"), {"original": original.reference}).status_code
        == 403
    )
    assert (
        Client().post(action_url(duplicate, "mark-duplicate"), {"original": original.reference}).status_code
        == 302
    )
    assert client.get(action_url(duplicate, "mark-duplicate")).status_code == 405
    assert snapshot(original, duplicate) == before


def test_duplicate_check_findings_are_offered_as_hints(admin_client, curator):
    first, _ = confirmed(location="https://data.example.org/same/levels.csv")
    second, _ = confirmed(location="https://data.example.org/same/levels.csv")
    page = page_text(admin_client.get(review_url(second)))
    assert "The duplicate check found:" in page and first.reference in page
