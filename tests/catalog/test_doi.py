"""DOIs through DataCite: the metadata, the registration job against the DataCite double (devhub/datacite.py)
and the project's Hub-compatible server, its faults, corrections, withdrawal, and the reuse of a record's DOI.

Tasks run eagerly in-process (retries too, without waiting); the portal's real DataCite client speaks HTTP
to the double, which validates the JSON:API envelope and the Metadata Schema's required properties.
"""

import pytest
import yaml
from django.core import mail
from django.urls import reverse
from huggingface_hub import HfApi

from catalog import datacite, doi, tasks
from catalog.models import CardUpdate, Dataset, DoiRegistration
from devhub.datacite import required_errors
from submissions import services
from submissions.models import Event, ManifestFile, SourceRecord
from tests.catalog import catalog_rows
from tests.catalog.test_mirror import approve
from tests.factories import committed, in_review, published, submit

pytestmark = pytest.mark.django_db

ORCID = "0000-0002-1825-0097"
RECORD_DOI = "10.5281/zenodo.1001"


def hub_file(devhub, repo_id, path, tmp_path):
    api = HfApi(endpoint=devhub.url, token="test-token")
    local = api.hf_hub_download(repo_id, path, repo_type="dataset", cache_dir=str(tmp_path / "cache"))
    with open(local, encoding="utf-8") as handle:
        return handle.read()


def doi_commits(devhub, repo_id):
    commits = HfApi(endpoint=devhub.url, token="test-token").list_repo_commits(repo_id, repo_type="dataset")
    return [commit for commit in commits if commit.title.startswith("Add the DOI")]


def relation(metadata, relation_type):
    return [item for item in metadata["relatedIdentifiers"] if item["relationType"] == relation_type]


# Metadata -------------------------------------------------------------------------------------------


def record_derived_dataset(**overrides):
    submission, _ = submit(
        name="Tide gauges",
        contributor_orcid=ORCID,
        contributor_given_names="Ada",
        contributor_family_names="Okafor",
    )
    fields = {
        "slug": "tides",
        "name": "Tide gauges",
        "submission": submission,
        "hosted": True,
        "license": "cc-by-4.0",
        "creators": [
            {"name": "Lindqvist, Jonas", "orcid": "0000-0003-1415-9269", "affiliation": "Example University"},
            {"name": "Harbour Office"},
        ],
        "source_dois": [RECORD_DOI],
        "paper": "https://arxiv.org/abs/2101.00001",
        "code_url": "https://github.com/example/tides",
        "manifest": [
            {"path": "data/levels.csv", "size": 1000, "sha256": "a" * 64},
            {"path": "data/stations.parquet", "size": 234, "sha256": "b" * 64},
        ],
    }
    fields.update(overrides)
    return catalog_rows.published(**fields)


def test_metadata_of_a_hosted_record_derived_dataset_has_every_required_property(settings):
    settings.DATACITE_PUBLISHER = "Example University Library"
    dataset = record_derived_dataset()
    metadata = doi.metadata(dataset, publication_year=2026)
    # The double's checks are DataCite's required properties and vocabularies.
    assert required_errors(metadata) == []
    assert metadata["titles"] == [{"title": "Tide gauges"}]
    assert metadata["publisher"] == "Example University Library"
    assert metadata["publicationYear"] == 2026
    assert metadata["types"]["resourceTypeGeneral"] == "Dataset"
    assert metadata["url"] == "http://testserver/datasets/tides/"
    ada, jonas, office = metadata["creators"]
    assert ada["name"] == "Okafor, Ada" and ada["nameType"] == "Personal"
    assert ada["nameIdentifiers"] == [
        {
            "nameIdentifier": f"https://orcid.org/{ORCID}",
            "nameIdentifierScheme": "ORCID",
            "schemeUri": "https://orcid.org",
        }
    ]
    assert jonas["familyName"] == "Lindqvist" and jonas["affiliation"] == [{"name": "Example University"}]
    assert jonas["nameIdentifiers"][0]["nameIdentifier"] == "https://orcid.org/0000-0003-1415-9269"
    assert office == {"name": "Harbour Office"}
    [rights] = metadata["rightsList"]
    assert rights["rightsIdentifier"] == "CC-BY-4.0" and rights["rightsIdentifierScheme"] == "SPDX"
    assert rights["rightsUri"].startswith("https://creativecommons.org/licenses/by/4.0")
    assert metadata["sizes"] == ["1234 bytes", "2 files"]
    assert metadata["formats"] == ["application/x-parquet", "text/csv"]
    [identical] = relation(metadata, "IsIdenticalTo")
    assert identical["relatedIdentifier"].endswith("/datasets/dataset-portal/tides")
    assert identical["relatedIdentifierType"] == "URL"
    assert relation(metadata, "IsSupplementTo") == [
        {
            "relatedIdentifier": "arXiv:2101.00001",
            "relatedIdentifierType": "arXiv",
            "relationType": "IsSupplementTo",
        }
    ]
    [code] = relation(metadata, "IsSupplementedBy")
    assert (
        code["relatedIdentifier"] == "https://github.com/example/tides"
        and code["relatedIdentifierType"] == "URL"
    )
    [source] = relation(metadata, "IsDerivedFrom")
    assert source["relatedIdentifier"] == RECORD_DOI and source["relatedIdentifierType"] == "DOI"


def test_linked_dataset_is_described_by_its_hub_card_and_credits_the_portal_when_nobody(settings):
    settings.PORTAL_NAME = "Harbour Data Portal"
    dataset = catalog_rows.published(slug="linked", hosted=False, paper="https://doi.org/10.1234/paper.5")
    metadata = doi.metadata(dataset, publication_year=2025)
    assert required_errors(metadata) == []
    assert metadata["creators"] == [{"name": "Harbour Data Portal", "nameType": "Organizational"}]
    [described] = relation(metadata, "IsDescribedBy")
    assert described["relatedIdentifier"].endswith("/datasets/dataset-portal/linked")
    assert relation(metadata, "IsIdenticalTo") == []
    [paper] = relation(metadata, "IsSupplementTo")
    assert paper["relatedIdentifier"] == "10.1234/paper.5" and paper["relatedIdentifierType"] == "DOI"


def test_the_doi_is_chosen_from_the_reference(datacite):
    dataset = record_derived_dataset()
    reference = dataset.submission.reference
    assert doi.choose_doi(dataset) == f"10.5072/{reference.lower()}"


# The whole path ---------------------------------------------------------------------------------------


def test_published_dataset_gets_a_findable_doi_and_a_card_with_it(devhub, datacite, curator, tmp_path):
    mail.outbox.clear()
    submission, _ = published(curator)
    dataset = Dataset.objects.get(submission=submission)
    registration = dataset.doi_registration
    assert registration.state == DoiRegistration.State.FINDABLE
    assert dataset.doi == registration.doi == f"10.5072/{submission.reference.lower()}"
    assert datacite.state_of(dataset.doi) == "findable"
    assert len(datacite.calls("POST")) == 1 and datacite.calls("PUT") == []
    assert datacite.attributes_of(dataset.doi)["url"] == f"http://testserver/datasets/{dataset.slug}/"
    # The contributor's timeline says it.
    assert submission.events.filter(public=True, message__contains=dataset.doi).exists()
    # The card on the Hub was committed again with the DOI, once, and verified.
    readme = hub_file(devhub, dataset.repo_id, "README.md", tmp_path)
    assert f"[doi:{dataset.doi}](https://doi.org/{dataset.doi})" in readme
    assert f"doi          = {{{dataset.doi}}}" in readme
    assert len(doi_commits(devhub, dataset.repo_id)) == 1
    assert registration.card_update.step == CardUpdate.Step.DONE
    assert dataset.card_updated_at is None  # adding the DOI is no change of the dataset's card
    assert dataset.card == readme
    # Running the registration again sends nothing new and commits nothing.
    DoiRegistration.objects.filter(pk=registration.pk).update(state=DoiRegistration.State.PENDING)
    assert doi.run(registration.pk) == DoiRegistration.State.FINDABLE
    assert len(datacite.calls("POST")) == 1
    assert len(doi_commits(devhub, dataset.repo_id)) == 1


def test_hosted_dataset_citation_cff_on_the_hub_gets_the_doi(
    devhub, datacite, source_server, curator, tmp_path
):
    source_server.add_generated("/levels.csv", 5000, seed=3, content_type="text/csv")
    submission, _ = published(curator, hosting=True, location=source_server.url("/levels.csv"))
    dataset = Dataset.objects.get(submission=submission)
    cff = yaml.safe_load(hub_file(devhub, dataset.repo_id, "CITATION.cff", tmp_path))
    assert cff["doi"] == dataset.doi
    assert cff["identifiers"][0] == {
        "type": "doi",
        "value": dataset.doi,
        "description": "The DOI of this dataset",
    }
    attributes = datacite.attributes_of(dataset.doi)
    assert attributes["sizes"] == ["5000 bytes", "1 file"] and attributes["formats"] == ["text/csv"]
    assert relation(attributes, "IsIdenticalTo")


def test_a_lost_answer_is_found_again_and_creates_exactly_one_doi(devhub, datacite, curator):
    datacite.inject("lost_answer", methods=("POST",))
    submission, _ = published(curator)
    dataset = Dataset.objects.get(submission=submission)
    registration = dataset.doi_registration
    assert registration.state == DoiRegistration.State.FINDABLE
    assert registration.attempts == 2
    assert len(datacite.calls("POST")) == 1  # the retry looked it up instead of creating it again
    assert datacite.calls("GET") == [f"/dois/{dataset.doi}"]
    assert list(datacite.dois) == [dataset.doi]
    assert dataset.doi and datacite.state_of(dataset.doi) == "findable"


def test_429_and_500_are_retried(devhub, datacite, curator):
    datacite.inject("429", methods=("POST",), retry_after=0)
    datacite.inject("500", methods=("POST",))
    submission, _ = published(curator)
    registration = Dataset.objects.get(submission=submission).doi_registration
    assert registration.state == DoiRegistration.State.FINDABLE
    assert registration.attempts == 3 and registration.last_error == ""
    assert len(datacite.calls("POST")) == 3 and len(datacite.dois) == 1


def test_a_long_outage_leaves_the_dataset_published_and_the_doi_pending_for_the_sweeper(
    devhub, datacite, curator, settings
):
    settings.MIRROR_MAX_RETRIES = 2
    datacite.inject("500", methods=("POST",), times=10)
    submission, _ = published(curator)
    dataset = Dataset.objects.get(submission=submission)
    assert dataset.published_at is not None and dataset.doi == ""
    registration = dataset.doi_registration
    assert registration.state == DoiRegistration.State.PENDING
    assert "HTTP 500" in registration.last_error
    datacite._faults.clear()
    assert tasks.sweep_pending_dois() == 1
    registration.refresh_from_db()
    assert registration.state == DoiRegistration.State.FINDABLE
    dataset.refresh_from_db()
    assert dataset.doi == registration.doi


def test_a_refusal_fails_with_the_reason_and_a_curator_retries(devhub, datacite, curator, settings):
    settings.DATACITE_PUBLISHER = ""  # DataCite refuses a DOI without a publisher (422)
    submission, _ = published(curator)
    dataset = Dataset.objects.get(submission=submission)
    registration = dataset.doi_registration
    assert registration.state == DoiRegistration.State.FAILED
    assert "HTTP 422" in registration.last_error and "publisher" in registration.last_error
    assert registration.attempts == 1
    assert dataset.doi == ""
    assert submission.events.filter(public=False, message__contains="publisher").exists()
    assert datacite.dois == {}
    settings.DATACITE_PUBLISHER = "Example University Library"
    with committed():
        services.retry_doi(submission, by=curator)
    registration.refresh_from_db()
    assert registration.state == DoiRegistration.State.FINDABLE
    assert datacite.attributes_of(registration.doi)["publisher"] == "Example University Library"
    assert submission.events.filter(message="Asked for the DOI to be registered again.").exists()


def test_an_accepted_correction_updates_the_doi_metadata(devhub, datacite, curator):
    submission, _ = published(curator)
    dataset = Dataset.objects.get(submission=submission)
    with committed():
        correction = services.request_correction(
            submission,
            proposal={
                "name": "Harbour water levels, corrected",
                "domain": dataset.domain,
                "modalities": dataset.modality_list,
                "license": "cc0-1.0",
                "languages": dataset.languages,
                "tags": [],
            },
        )
    with committed():
        services.accept_correction(correction, by=curator)
    attributes = datacite.attributes_of(dataset.doi)
    assert attributes["titles"] == [{"title": "Harbour water levels, corrected"}]
    assert attributes["rightsList"][0]["rightsIdentifier"] == "CC0-1.0"
    assert attributes["state"] == "findable"
    assert len(datacite.calls("PUT")) == 1 and len(datacite.calls("POST")) == 1
    dataset.refresh_from_db()
    assert dataset.doi_registration.state == DoiRegistration.State.FINDABLE


def test_withdrawal_hides_the_doi_and_the_page_says_why(devhub, datacite, curator, client):
    submission, _ = published(curator)
    dataset = Dataset.objects.get(submission=submission)
    mail.outbox.clear()
    with committed():
        services.withdraw_published(submission, by=curator, reason="The owner revoked the licence.")
    submission.refresh_from_db()
    dataset.refresh_from_db()
    assert submission.state == submission.State.WITHDRAWN
    assert datacite.state_of(dataset.doi) == "registered"  # never deleted, no longer findable
    assert dataset.doi_registration.state == DoiRegistration.State.REGISTERED
    date_types = [date["dateType"] for date in datacite.attributes_of(dataset.doi)["dates"]]
    assert date_types == ["Issued", "Withdrawn"]
    # The landing page stays and says so; the dataset leaves the lists.
    page = client.get(reverse("catalog:dataset", args=[dataset.slug]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "withdrawn" in text and "The owner revoked the licence." in text and dataset.doi in text
    assert dataset.slug not in client.get(reverse("catalog:list")).content.decode()
    assert client.get(reverse("catalog:api-dataset", args=[dataset.slug])).status_code == 404
    # The Hub copy is private; the contributor is told.
    assert HfApi(endpoint=devhub.url, token="test-token").dataset_info(dataset.repo_id).private
    assert any("withdrew" in message.body for message in mail.outbox)
    assert submission.events.filter(to_state="withdrawn", message__contains="revoked").exists()


def test_withdrawal_needs_a_reason_and_a_published_dataset(devhub, curator):
    submission, _ = published(curator)
    with pytest.raises(services.InvalidTransition, match="withdrawn"):
        services.withdraw_published(submission, by=curator, reason="  ")
    other, _ = in_review(curator)
    with pytest.raises(services.InvalidTransition):
        services.withdraw_published(other, by=curator, reason="Spam.")
    assert Dataset.objects.get(submission=submission).withdrawn_at is None


def test_nothing_is_registered_when_datacite_is_not_configured(devhub, curator, settings):
    settings.DATACITE_REPOSITORY_ID = settings.DATACITE_PASSWORD = settings.DATACITE_PREFIX = ""
    assert not datacite.enabled()
    submission, _ = published(curator)
    dataset = Dataset.objects.get(submission=submission)
    assert dataset.doi == ""
    assert not DoiRegistration.objects.exists()
    assert not CardUpdate.objects.exists()
    assert not submission.events.filter(message__contains="DOI").exists()
    with pytest.raises(services.InvalidTransition, match="DataCite is not configured"):
        services.retry_doi(submission, by=curator)


def test_a_dataset_published_before_datacite_was_configured_is_registered_on_request(
    devhub, curator, settings, request
):
    settings.DATACITE_PREFIX = ""
    submission, _ = published(curator)
    double = request.getfixturevalue("datacite")
    with committed():
        services.retry_doi(submission, by=curator)
    dataset = Dataset.objects.get(submission=submission)
    assert dataset.doi and double.state_of(dataset.doi) == "findable"


# Reusing the record's DOI ------------------------------------------------------------------------------


def one_record(submission, *, doi=RECORD_DOI):
    ManifestFile.objects.filter(submission=submission).delete()
    SourceRecord.objects.filter(submission=submission).delete()
    record = SourceRecord.objects.create(
        submission=submission,
        position=0,
        location=f"https://doi.org/{doi}",
        family="invenio",
        landing_url="https://zenodo.example.org/records/1001",
        api_url="https://zenodo.example.org/api/records/1001",
        doi=doi,
        title="Tide gauges",
        creators=[{"name": "Lindqvist, Jonas", "orcid": "0000-0003-1415-9269"}],
    )
    ManifestFile.objects.create(
        submission=submission,
        record=record,
        position=0,
        path="levels.csv",
        source_url="https://zenodo.example.org/records/1001/files/levels.csv",
        size=100,
    )
    return record


def test_reusing_the_records_doi_mints_nothing_and_shows_it_everywhere(
    devhub, datacite, curator, tmp_path, client
):
    submission, _ = in_review(curator, hosting=False, location=f"https://doi.org/{RECORD_DOI}")
    one_record(submission)
    with committed():
        services.approve(
            submission,
            by=curator,
            checklist=services.ReviewChecklist.all_ticked(),
            concerns_override="offline",
            reuse_record_doi=True,
        )
    submission.refresh_from_db()
    assert submission.state == submission.State.PUBLISHED and submission.reuse_record_doi
    dataset = Dataset.objects.get(submission=submission)
    assert dataset.doi == RECORD_DOI
    assert not DoiRegistration.objects.exists() and datacite.requests == []
    # The first card already names it; no second commit is needed.
    readme = hub_file(devhub, dataset.repo_id, "README.md", tmp_path)
    assert f"DOI of this dataset: [doi:{RECORD_DOI}]" in readme
    assert not doi_commits(devhub, dataset.repo_id)
    cff = yaml.safe_load(client.get(reverse("catalog:citation", args=[dataset.slug])).content)
    assert cff["doi"] == RECORD_DOI
    assert [item["value"] for item in cff["identifiers"] if item["type"] == "doi"] == [RECORD_DOI]
    assert client.get(reverse("catalog:api-dataset", args=[dataset.slug])).json()["doi"] == RECORD_DOI
    assert Event.objects.filter(submission=submission, message__contains="no new DOI is minted").exists()


def test_the_records_doi_cannot_be_reused_when_the_data_is_not_that_one_record(devhub, datacite, curator):
    submission, _ = in_review(curator)
    record = one_record(submission)
    ManifestFile.objects.create(
        submission=submission, position=1, path="extra.csv", source_url="https://data.example.org/extra.csv"
    )
    with pytest.raises(services.InvalidTransition, match="Reuse the record's DOI"):
        services.approve(
            submission,
            by=curator,
            checklist=services.ReviewChecklist.all_ticked(),
            concerns_override="offline",
            reuse_record_doi=True,
        )
    submission.refresh_from_db()
    assert submission.state == submission.State.IN_REVIEW and not submission.reuse_record_doi
    assert record.doi == RECORD_DOI


def test_approve_form_offers_the_reuse_only_when_the_submission_has_a_record_doi(client, curator):
    client.force_login(curator)
    plain, _ = in_review(curator)
    page = client.get(reverse("admin:submissions_submission_change", args=[plain.pk])).content.decode()
    assert "reuse_record_doi" not in page
    record_based, _ = in_review(curator)
    one_record(record_based)
    page = client.get(reverse("admin:submissions_submission_change", args=[record_based.pk])).content.decode()
    assert 'name="reuse_record_doi"' in page
    assert "Reuse the record&#x27;s DOI instead of minting a new one" in page
    assert RECORD_DOI in page


def test_a_curator_approves_with_the_reuse_box_ticked(client, curator, queued_mirrors):
    client.force_login(curator)
    submission, _ = in_review(curator)
    one_record(submission)
    data = {item: "on" for item in services.CHECKLIST_ITEMS}
    data |= {"reuse_record_doi": "on", "concerns_override": "offline", "override_reason": ""}
    with committed():
        response = client.post(reverse("admin:submissions_submission_approve", args=[submission.pk]), data)
    assert response.status_code in (200, 302), response.content.decode()[:2000]
    submission.refresh_from_db()
    assert submission.state == submission.State.APPROVED
    assert submission.reuse_record_doi
    assert Dataset.objects.get(submission=submission).doi == RECORD_DOI


def test_mirror_approve_helper_still_mints(devhub, datacite, curator, source_server):
    source_server.add_generated("/a.csv", 100, seed=1, content_type="text/csv")
    submission, _ = in_review(curator, location=source_server.url("/a.csv"))
    approve(submission, curator)
    assert Dataset.objects.get(submission=submission).doi.startswith("10.5072/")


def test_review_and_status_pages_show_the_doi_and_its_state(devhub, datacite, curator, client):
    submission, token = published(curator)
    dataset = Dataset.objects.get(submission=submission)
    client.force_login(curator)
    review = client.get(reverse("admin:submissions_submission_change", args=[submission.pk])).content.decode()
    assert 'id="review-doi"' in review and dataset.doi in review and "Findable" in review
    assert "retry_doi" not in review  # nothing to retry
    client.logout()
    status = client.get(reverse("submissions:status", args=[token])).content.decode()
    assert 'id="status-doi"' in status and f"https://doi.org/{dataset.doi}" in status


def test_review_page_offers_a_retry_of_a_failed_registration(devhub, datacite, curator, client, settings):
    settings.DATACITE_PUBLISHER = ""
    submission, token = published(curator)
    client.force_login(curator)
    review = client.get(reverse("admin:submissions_submission_change", args=[submission.pk])).content.decode()
    assert "Failed" in review and 'id="review-doi-error"' in review and "publisher" in review
    assert 'name="retry_doi"' in review
    settings.DATACITE_PUBLISHER = "Example University Library"
    with committed():
        response = client.post(reverse("admin:submissions_submission_retry_doi", args=[submission.pk]))
    assert response.status_code == 302
    assert Dataset.objects.get(submission=submission).doi_registration.state == DoiRegistration.State.FINDABLE
    client.logout()
    status = client.get(reverse("submissions:status", args=[token])).content.decode()
    assert "Internal" not in status and "publisher" not in status.split('id="status-doi"')[1][:400]


def test_a_curator_withdraws_from_the_review_page(devhub, datacite, curator, client):
    submission, _ = published(curator)
    client.force_login(curator)
    url = reverse("admin:submissions_submission_withdraw_published", args=[submission.pk])
    response = client.post(url, {"reason": "Duplicate of another dataset."})
    assert response.status_code == 400  # not confirmed: nothing happens
    assert Dataset.objects.get(submission=submission).withdrawn_at is None
    with committed():
        response = client.post(url, {"reason": "Duplicate of another dataset.", "confirm": "on"})
    assert response.status_code == 302
    dataset = Dataset.objects.get(submission=submission)
    assert dataset.withdrawal_reason == "Duplicate of another dataset."
    assert datacite.state_of(dataset.doi) == "registered"
