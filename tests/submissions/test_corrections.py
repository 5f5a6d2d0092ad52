"""Corrections and new card versions of published datasets: the workflow, its bad inputs and the status page.

Datasets are published for real to the project's Hub-compatible server (linked, so nothing is fetched);
accepting a request runs the card update task eagerly against the same server.
"""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import CardUpdate, Dataset
from submissions import cards, services
from submissions.categorisation import InvalidProposal
from submissions.models import CorrectionRequest, Domain, Event
from tests.conftest import stored_files
from tests.factories import GOOD_CARD, card_bytes, committed, published, submit

pytestmark = pytest.mark.django_db

Correction = CorrectionRequest


def proposal(submission, **changes):
    """Return the published categorisation of a submission as a proposal, with `changes` applied."""
    dataset = Dataset.objects.get(submission=submission)
    own = [tag for tag in dataset.tags if tag not in (*dataset.modality_list, "dataset-portal")]
    values = {
        "name": dataset.name,
        "domain": dataset.domain,
        "modalities": dataset.modality_list,
        "license": dataset.license,
        "languages": list(dataset.languages),
        "tags": [tag for tag in own if not tag.startswith("domain:")],
    }
    values.update(changes)
    return values


def ask(submission, **changes):
    with committed():
        return services.request_correction(
            submission, proposal=proposal(submission, **changes), message="Oops"
        )


def test_accepted_correction_updates_the_catalog_and_the_hub_card(devhub, curator):
    submission, _ = published(curator)
    mail.outbox.clear()
    correction = ask(submission, domain="Climate", license="cc-by-sa-4.0")
    assert correction.changes == {"domain": ["Marine", "Climate"], "license": ["cc-by-4.0", "cc-by-sa-4.0"]}
    assert [m.to for m in mail.outbox] == [["curators@portal.test"]]

    with committed():
        services.accept_correction(correction, by=curator, note="Right, thanks.")

    correction.refresh_from_db()
    assert correction.state == Correction.State.PUBLISHED
    dataset = Dataset.objects.get(submission=submission)
    assert (dataset.domain, dataset.license) == ("Climate", "cc-by-sa-4.0")
    assert "domain:climate" in dataset.card and "domain:marine" not in dataset.card
    assert "license: cc-by-sa-4.0" in dataset.card
    assert dataset.card_updated_at is not None
    update = CardUpdate.objects.get(correction=correction)
    assert update.step == CardUpdate.Step.DONE and dataset.hub_commit == update.commit_id
    kinds = list(submission.events.filter(kind=Event.Kind.CORRECTION).values_list("actor_kind", flat=True))
    assert kinds == ["contributor", "curator", "system"]
    assert any("accepted" in message.subject for message in mail.outbox)


def test_correction_with_no_change_is_refused_and_stores_nothing(devhub, curator):
    submission, _ = published(curator)
    with pytest.raises(services.InvalidTransition, match="Nothing would change"):
        ask(submission)
    assert not Correction.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"domain": "Astrology"}, "domain"),
        ({"license": "my-own-licence"}, "license"),
        ({"modalities": ["smell"]}, "modalities"),
        ({"languages": ["english"]}, "languages"),
        ({"tags": ["<script>"]}, "tags"),
        ({"name": "x"}, "name"),
    ],
)
def test_correction_with_an_unknown_value_names_the_field(devhub, curator, changes, field):
    submission, _ = published(curator)
    with pytest.raises(InvalidProposal) as caught:
        ask(submission, **changes)
    assert list(caught.value.errors) == [field]
    assert not Correction.objects.exists()


def test_inactive_domain_is_refused(devhub, curator):
    submission, _ = published(curator)
    Domain.objects.filter(name="Climate").update(active=False)
    with pytest.raises(InvalidProposal, match="Choose a domain from the list"):
        ask(submission, domain="Climate")


def test_correction_of_a_withdrawn_submission_is_refused(curator):
    submission, _ = submit()
    with committed():
        services.withdraw(submission)
    with pytest.raises(services.InvalidTransition, match="only a published dataset can be corrected"):
        services.request_correction(submission, proposal={}, message="")
    assert not Correction.objects.exists()


def test_second_correction_while_one_is_open_is_refused(devhub, curator):
    submission, _ = published(curator)
    ask(submission, domain="Climate")
    with pytest.raises(services.InvalidTransition, match="Your request 1"):
        ask(submission, license="mit")
    raw = card_bytes(GOOD_CARD + "\nMore.\n")
    with pytest.raises(services.InvalidTransition, match="Your request 1"):
        services.submit_card_version(
            submission,
            card=cards.parse_card(raw, filename="README.md"),
            card_raw=raw,
            card_filename="README.md",
        )
    assert Correction.objects.count() == 1


def test_declined_correction_changes_nothing_and_tells_why(devhub, curator):
    submission, _ = published(curator)
    correction = ask(submission, domain="Climate")
    with pytest.raises(services.InvalidTransition, match="reason"):
        services.decline_correction(correction, by=curator, reason="  ")
    mail.outbox.clear()
    with committed():
        services.decline_correction(correction, by=curator, reason="The buoys are in the sea.")
    assert Dataset.objects.get(submission=submission).domain == "Marine"
    assert not CardUpdate.objects.exists()
    assert "The buoys are in the sea." in mail.outbox[0].body
    with pytest.raises(services.InvalidTransition, match="only an open request"):
        services.accept_correction(correction, by=curator)
    # Settled: the contributor may ask again.
    assert ask(submission, license="mit").number == 2


def test_card_version_is_reviewed_then_published_as_a_new_revision(devhub, curator):
    submission, _ = published(curator)
    new_card = GOOD_CARD.replace("since 2001.", "since 2001, now with a fourth harbour.")
    raw = card_bytes(new_card)
    with committed():
        correction = services.submit_card_version(
            submission,
            card=cards.parse_card(raw, filename="README.md"),
            card_raw=raw,
            card_filename="README.md",
            message="A fourth harbour.",
        )
    # Not yet accepted: the published card is still built from revision 1.
    assert submission.revisions.count() == 1
    with committed():
        services.accept_correction(correction, by=curator)
    correction.refresh_from_db()
    assert correction.state == Correction.State.PUBLISHED and correction.revision.number == 2
    dataset = Dataset.objects.get(submission=submission)
    assert "now with a fourth harbour" in dataset.card
    assert dataset.summary.endswith("now with a fourth harbour.")


def test_card_version_identical_to_the_published_one_is_refused(devhub, curator, media_root):
    submission, _ = published(curator)
    before = stored_files(media_root)
    raw = card_bytes(GOOD_CARD)
    with pytest.raises(services.InvalidTransition, match="already published"):
        services.submit_card_version(
            submission,
            card=cards.parse_card(raw, filename="README.md"),
            card_raw=raw,
            card_filename="README.md",
        )
    assert stored_files(media_root) == before
    assert not Correction.objects.exists()


# The status page --------------------------------------------------------------------------------


def test_status_page_shows_categorisation_usage_and_the_forms(devhub, curator, client):
    _submission, token = published(curator)
    page = client.get(reverse("submissions:status", args=[token])).content.decode()
    assert 'id="categorisation"' in page and "Marine" in page
    assert "No usage history yet" in page
    assert "Ask for a correction" in page and "Send a new version of the dataset card" in page


def test_status_page_correction_form_shows_errors_beside_fields(devhub, curator, client):
    submission, token = published(curator)
    assert proposal(submission)["tags"] == ["time-series-forecasting"]
    data = {
        "name": submission.name,
        "domain": "Astrology",
        "modalities": ["text"],
        "license": "cc-by-4.0",
        "languages": "en",
        "tags": ", ".join(proposal(submission)["tags"]),
    }
    response = client.post(reverse("submissions:request_correction", args=[token]), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose a domain from the list" in page
    assert not Correction.objects.exists()
    data["domain"] = "Marine"
    response = client.post(reverse("submissions:request_correction", args=[token]), data)
    assert response.status_code == 400
    assert "Nothing would change" in response.content.decode()
    data["domain"] = "Climate"
    response = client.post(reverse("submissions:request_correction", args=[token]), data)
    assert response.status_code == 302
    assert Correction.objects.get().changes == {"domain": ["Marine", "Climate"]}


def test_status_page_refuses_a_card_version_that_fails_to_parse(devhub, curator, client, media_root):
    _submission, token = published(curator)
    before = stored_files(media_root)
    broken = SimpleUploadedFile(
        "README.md", b"---\nlicense: [unclosed\n---\n# Card\n", content_type="text/markdown"
    )
    response = client.post(reverse("submissions:card_version", args=[token]), {"card": broken})
    assert response.status_code == 400
    assert "YAML" in response.content.decode()
    assert stored_files(media_root) == before
    assert not Correction.objects.exists()


def test_review_queue_lists_a_waiting_correction(devhub, curator, client):
    submission, _ = published(curator)
    ask(submission, domain="Climate")
    client.force_login(curator)
    queue = client.get(
        reverse("admin:submissions_submission_changelist") + "?correction=open"
    ).content.decode()
    assert submission.reference in queue and 'class="correction correction-open"' in queue
    review = client.get(reverse("admin:submissions_submission_change", args=[submission.pk])).content.decode()
    assert "Accept request 1" in review and "Climate" in review
    response = client.post(
        reverse("admin:submissions_submission_decline_correction", args=[submission.pk]), {"reason": ""}
    )
    assert response.status_code == 400
    assert Correction.objects.get().state == Correction.State.OPEN


def test_rename_to_another_datasets_name_is_refused(devhub, curator):
    first, _ = published(curator, name="Harbour water levels north")
    published(curator, name="Harbour water levels south")
    with pytest.raises(InvalidProposal, match="Another dataset already has this name") as caught:
        ask(first, name="Harbour Water-Levels South")
    assert list(caught.value.errors) == ["name"]
    # Changing only the spelling of its own name is fine.
    assert ask(first, name="Harbour Water Levels North").changes["name"][1] == "Harbour Water Levels North"


def test_curators_can_list_every_request_and_card_update(devhub, curator, client):
    submission, _ = published(curator)
    correction = ask(submission, domain="Climate")
    with committed():
        services.accept_correction(correction, by=curator)
    client.force_login(curator)
    requests = client.get(reverse("admin:submissions_correctionrequest_changelist"))
    assert requests.status_code == 200 and submission.reference in requests.content.decode()
    updates = client.get(reverse("admin:catalog_cardupdate_changelist"))
    assert updates.status_code == 200 and "Published" in updates.content.decode()
