"""The contributor's private status page: reply box, revised card, withdrawal, and what it never shows."""

import html

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from submissions import selectors, services
from submissions.models import CardRevision, CheckResult, Event, Submission
from tests.conftest import stored_files
from tests.factories import GOOD_CARD, OFFLINE_OVERRIDE, changes_requested, committed, confirmed, in_review
from tests.factories import published as published_submission
from tests.html_ids import id_problems
from tests.submissions.test_contribute import BAD_CARDS

pytestmark = pytest.mark.django_db

State = Submission.State


def text_of(response):
    return html.unescape(response.content.decode())


def stored(submission):
    """What a refused contributor action must leave unchanged."""
    submission.refresh_from_db()
    return (
        submission.state,
        submission.events.count(),
        list(submission.revisions.values_list("number", "sha256")),
        Event.objects.count(),
    )


def card_upload(content=GOOD_CARD, name="README.md"):
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    return SimpleUploadedFile(name, data, content_type="text/markdown")


def test_wrong_token_is_404_without_hint():
    response = Client().get("/status/not-a-real-token-at-all-000000000/")
    assert response.status_code == 404
    assert "token" not in response.content.decode().lower()


# -- reply ----------------------------------------------------------------------------------------------


def test_reply_while_changes_requested_keeps_the_request_open(curator):
    submission, token = changes_requested(curator)
    mail.outbox.clear()
    with committed():
        response = Client().post(
            f"/status/{token}/reply/", {"text": "Licence added to the page."}, follow=True
        )
    assert "Your message was sent to the curators." in text_of(response)
    submission.refresh_from_db()
    assert submission.state == State.CHANGES_REQUESTED
    assert "Licence added to the page." in text_of(response)
    (message,) = mail.outbox
    assert message.to == ["curators@portal.test"]
    assert "Licence added to the page." in message.body


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "Write your message; it can't be empty."),
        ("   \n\t ", "Write your message; it can't be empty."),
        ("x" * 10_001, "Shorten your message to at most 10,000 characters (it has 10001)."),
    ],
    ids=["empty", "blank", "too-long"],
)
def test_bad_reply_is_refused_and_nothing_stored(curator, text, words):
    submission, token = changes_requested(curator)
    before = stored(submission)
    mail.outbox.clear()
    with committed():
        response = Client().post(f"/status/{token}/reply/", {"text": text})
    assert response.status_code == 400
    assert words in text_of(response)
    assert stored(submission) == before
    assert mail.outbox == []


def test_reply_of_exactly_the_limit_is_accepted(curator):
    submission, token = in_review(curator)
    response = Client().post(f"/status/{token}/reply/", {"text": "y" * 10_000})
    assert response.status_code == 302
    assert submission.events.filter(actor_kind="contributor", kind="message").get().message == "y" * 10_000


@pytest.mark.parametrize("close", ["withdraw", "reject"])
def test_reply_to_a_closed_submission_is_refused(curator, close):
    submission, token = in_review(curator)
    if close == "withdraw":
        services.withdraw(submission)
    else:
        services.reject(submission, by=curator, reason="Out of scope.")
    page = Client().get(f"/status/{token}/")
    assert 'id="reply"' not in page.content.decode()
    before = stored(submission)
    mail.outbox.clear()
    with committed():
        response = Client().post(f"/status/{token}/reply/", {"text": "Please reconsider."})
    assert response.status_code == 400
    assert "it no longer takes messages." in text_of(response)
    assert stored(submission) == before
    assert mail.outbox == []


# -- revised card ---------------------------------------------------------------------------------------


def test_revised_card_makes_a_new_revision_and_goes_back_to_submitted(curator, media_root):
    submission, token = changes_requested(curator)
    revised = GOOD_CARD.replace("CC BY 4.0.", "CC BY 4.0 (see LICENSE).")
    mail.outbox.clear()
    with committed():
        response = Client().post(
            f"/status/{token}/revise/",
            {"card": card_upload(revised, "README-v2.md"), "comment": "Licence clarified."},
            follow=True,
        )
    assert "the revised card is with the curators" in text_of(response)
    submission.refresh_from_db()
    assert submission.state == State.SUBMITTED
    first, second = submission.revisions.order_by("number")
    assert (first.number, second.number) == (1, 2)
    assert first.read_text() == GOOD_CARD and second.read_text() == revised
    assert len(stored_files(media_root)) == 2
    # The checks ran again, on the new revision.
    assert set(CheckResult.objects.filter(revision=second).values_list("kind", flat=True)) == {
        "card",
        "location",
        "duplicate",
        "data",
    }
    (message,) = mail.outbox
    assert message.to == ["curators@portal.test"] and "revised card" in message.subject.lower()
    assert "Licence clarified." in text_of(response)


@pytest.mark.parametrize(("content", "words"), BAD_CARDS, ids=[w for _, w in BAD_CARDS])
def test_bad_revised_card_is_refused_and_nothing_stored(curator, media_root, content, words):
    submission, token = changes_requested(curator)
    files_before = stored_files(media_root)
    before = stored(submission)
    response = Client().post(f"/status/{token}/revise/", {"card": card_upload(content)})
    assert response.status_code == 400
    errors = response.context["revision_form"].errors["card"]
    assert words.lower() in errors[0].lower(), errors
    assert html.escape(errors[0]) in response.content.decode() or errors[0] in text_of(response)
    assert stored(submission) == before
    assert stored_files(media_root) == files_before


@pytest.mark.parametrize(
    ("upload", "words"),
    [
        (None, "Choose the dataset card file"),
        (card_upload(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "card.pdf"), ".md"),
    ],
    ids=["missing", "pdf"],
)
def test_missing_or_wrong_type_revised_card_is_refused(curator, media_root, upload, words):
    submission, token = changes_requested(curator)
    files_before = stored_files(media_root)
    before = stored(submission)
    data = {"comment": "x"} if upload is None else {"card": upload}
    response = Client().post(f"/status/{token}/revise/", data)
    assert response.status_code == 400
    assert words in response.context["revision_form"].errors["card"][0]
    assert stored(submission) == before
    assert stored_files(media_root) == files_before


def test_revised_card_over_the_limit_is_refused(curator, media_root, settings):
    submission, token = changes_requested(curator)
    settings.PORTAL_CARD_MAX_BYTES = 4096
    files_before = stored_files(media_root)
    before = stored(submission)
    response = Client().post(f"/status/{token}/revise/", {"card": card_upload(GOOD_CARD + "x" * 5000)})
    assert response.status_code == 400
    assert "the limit is 4 KiB" in response.context["revision_form"].errors["card"][0]
    assert stored(submission) == before
    assert stored_files(media_root) == files_before


def test_revised_card_in_review_is_taken_and_the_state_stays(curator):
    submission, token = in_review(curator)
    assert 'id="revise"' in Client().get(f"/status/{token}/").content.decode()
    with committed():
        response = Client().post(f"/status/{token}/revise/", {"card": card_upload(GOOD_CARD + "\nMore.\n")})
    assert response.status_code == 302
    submission.refresh_from_db()
    assert (submission.state, submission.assignee, submission.revisions.count()) == ("in_review", curator, 2)


def test_revised_card_after_the_decision_is_refused(curator, media_root):
    submission, token = in_review(curator)
    with committed():
        services.reject(submission, by=curator, reason="Out of scope.")
    assert 'id="revise"' not in Client().get(f"/status/{token}/").content.decode()
    files_before = stored_files(media_root)
    before = stored(submission)
    response = Client().post(f"/status/{token}/revise/", {"card": card_upload()})
    assert response.status_code == 400
    assert "a revised card can be sent only before the curators decide" in text_of(response)
    assert stored(submission) == before
    assert stored_files(media_root) == files_before
    assert CardRevision.objects.count() == 1


# -- withdrawal -----------------------------------------------------------------------------------------


def test_withdraw_asks_for_confirmation_first(curator):
    submission, token = in_review(curator)
    response = Client().get(f"/status/{token}/withdraw/")
    assert response.status_code == 200
    assert 'name="confirm"' in response.content.decode()
    submission.refresh_from_db()
    assert submission.state == State.IN_REVIEW


def test_withdraw_without_the_box_is_refused(curator):
    submission, token = in_review(curator)
    before = stored(submission)
    response = Client().post(f"/status/{token}/withdraw/", {"reason": "Changed my mind."})
    assert response.status_code == 400
    assert "Tick the box to confirm that you want to withdraw the submission." in text_of(response)
    assert stored(submission) == before


def test_withdraw_with_confirmation(curator):
    submission, token = in_review(curator)
    mail.outbox.clear()
    with committed():
        response = Client().post(
            f"/status/{token}/withdraw/", {"confirm": "on", "reason": "Published elsewhere."}, follow=True
        )
    assert "Your submission is withdrawn." in text_of(response)
    submission.refresh_from_db()
    assert submission.state == State.WITHDRAWN
    assert mail.outbox[0].to == ["curators@portal.test"]
    assert "Withdraw this submission" not in text_of(response)


def test_withdraw_after_approval_is_impossible(curator, queued_mirrors):
    submission, token = in_review(curator)
    services.approve(
        submission,
        by=curator,
        checklist=services.ReviewChecklist.all_ticked(),
        concerns_override=OFFLINE_OVERRIDE,
    )
    assert "Withdraw this submission" not in text_of(Client().get(f"/status/{token}/"))
    page = Client().get(f"/status/{token}/withdraw/")
    assert "can no longer be withdrawn" in text_of(page)
    assert 'name="confirm"' not in page.content.decode()
    before = stored(submission)
    response = Client().post(f"/status/{token}/withdraw/", {"confirm": "on"})
    assert response.status_code == 400
    assert "can no longer be withdrawn" in text_of(response)
    assert stored(submission) == before


# -- privacy --------------------------------------------------------------------------------------------


def test_status_page_shows_only_its_submission_and_no_internal_notes(curator):
    mine, token = in_review(
        curator, name="Coral bleaching survey", location="https://data.example.org/coral.csv"
    )
    other, _ = in_review(curator, name="Kelp forest census", location="https://data.example.org/kelp.csv")
    services.send_message(mine, by=curator, text="NOTE-MINE-internal", public=False)
    services.send_message(other, by=curator, text="NOTE-OTHER-internal", public=False)
    services.send_message(other, by=curator, text="MESSAGE-OTHER-public", public=True)
    services.send_message(mine, by=curator, text="MESSAGE-MINE-public", public=True)
    page = text_of(Client().get(f"/status/{token}/"))
    assert mine.reference in page and "Coral bleaching survey" in page and "MESSAGE-MINE-public" in page
    for leak in (
        other.reference,
        "Kelp forest census",
        "kelp.csv",
        "NOTE-MINE-internal",
        "NOTE-OTHER-internal",
        "MESSAGE-OTHER-public",
        "alice",
    ):
        assert leak not in page, leak


def test_status_page_shows_state_in_plain_words_and_public_timeline(curator):
    submission, token = changes_requested(curator, message="Please add the citation.")
    page = text_of(Client().get(f"/status/{token}/"))
    assert "Changes requested" in page
    assert submission.state_explanation in page
    assert "Please add the citation." in page
    assert 'id="revise"' in page and 'id="reply"' in page


def test_a_confirmed_link_stays_valid_after_more_links_are_sent(curator):
    submission, token = confirmed()
    services.claim(submission, by=curator)
    with committed():
        services.send_message(submission, by=curator, text="Hello")
    assert Client().get(f"/status/{token}/").status_code == 200


# -- the page's structure -------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["submitted", "changes_requested", "changes_requested_with_errors"])
def test_status_page_ids_are_unique_and_each_label_names_its_own_field(curator, state):
    # Regression: in "changes requested" the revised card's and the location's comment boxes were both
    # id="id_comment", so one label named the other form's field.
    if state == "submitted":
        _, token = confirmed()
        response = Client().get(f"/status/{token}/")
    elif state == "changes_requested":
        _, token = changes_requested(curator)
        response = Client().get(f"/status/{token}/")
    else:
        _, token = changes_requested(curator)
        response = Client().post(f"/status/{token}/location/", {"location": "ftp://x", "comment": "moved"})
        assert response.status_code == 400
    page = response.content.decode()
    assert id_problems(page) == []
    if state != "submitted":
        assert 'for="revision_comment"' in page and 'for="location_comment"' in page


def test_published_status_page_ids_are_unique_and_each_label_names_its_own_field(curator, devhub):
    _, token = published_submission(curator)
    response = Client().get(f"/status/{token}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="correction_name"' in page and 'id="card_version_comment"' in page
    assert id_problems(page) == []


def test_data_check_advice_before_review_asks_to_tell_the_curators_before_they_review(curator):
    submission, token = in_review(curator)
    assert selectors.data_check(submission.latest_revision).outcome in ("fail", "warn")
    page = text_of(Client().get(f"/status/{token}/"))
    assert (
        "correct the locations or the card on this page, or write to the curators, before they decide."
        in page
    )


def test_data_check_advice_after_publication_fits_a_published_dataset(curator, devhub):
    # Regression: a published dataset's page still said "tell the curators below before they review it".
    submission, token = published_submission(curator)
    assert selectors.data_check(submission.latest_revision).outcome in ("fail", "warn")
    page = text_of(Client().get(f"/status/{token}/"))
    assert "before they review it" not in page
    assert (
        "made before the curators approved it. If the published data is not what you meant to share, write to the curators on this page."
        in " ".join(page.split())
    )
