"""The automatic checks' results in the reader's language (issue 22).

A check runs in a worker and stores its summary and the texts of its details as messages (`portal.i18n`);
the status page and the review page show them in the language of whoever reads them, here French. The
English text stays where machines and search read it: the check's `summary` column.
"""

import html

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from devhub.repositories import DataFile, Deposit
from portal import i18n
from submissions import fields
from submissions.models import CheckResult
from tests.factories import GOOD_CARD, confirmed, in_review

pytestmark = pytest.mark.django_db

FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr"}
NB = "\u00a0"


def check(submission, kind):
    return CheckResult.objects.get(revision=submission.latest_revision, kind=kind)


def review_page(curator, submission, **headers):
    client = Client()
    client.force_login(curator)
    response = client.get(f"/admin/submissions/submission/{submission.pk}/change/", **headers)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def status_page(token, **headers):
    response = Client().get(f"/status/{token}/", **headers)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


# -- card --------------------------------------------------------------------------------------------------


def test_the_card_checks_summary_is_french_on_the_review_page_and_english_in_its_column(curator):
    submission, _ = in_review(curator)
    card = check(submission, "card")
    assert card.summary == "The card has the recommended metadata and sections."
    assert "La fiche contient les métadonnées et les sections recommandées." in review_page(
        curator, submission, **FRENCH
    )
    assert card.summary in review_page(curator, submission)


def test_a_card_of_many_findings_says_how_many_more_in_french(curator):
    submission, _ = in_review(curator, card="---\npretty_name: Bare\n---\n# Bare\n\nSome data.\n")
    card = check(submission, "card")
    more = len(card.details["findings"]) - 1
    assert card.outcome == "warn" and more > 1
    assert card.summary.endswith(f"(and {more} more)")
    assert f"(et {more} autres)" in review_page(curator, submission, **FRENCH)


# -- location ------------------------------------------------------------------------------------------------


def test_a_reachable_file_is_described_in_french_with_a_french_size(curator, source_server):
    source_server.add_bytes("/levels.csv", b"t,level\n" * 4000, content_type="text/csv")
    submission, _ = in_review(curator, location=source_server.url("/levels.csv"))
    location = check(submission, "location")
    assert location.summary == f"Reachable (text/csv, 31.2{NB}KB)."
    assert f"Accessible (text/csv, 31,2{NB}Kio)." in review_page(curator, submission, **FRENCH)


def test_a_missing_file_is_explained_in_french_on_both_pages(curator, source_server):
    submission, token = in_review(curator, location=source_server.url("/gone.csv"))
    location = check(submission, "location")
    assert location.outcome == "fail" and location.summary == "The server answered HTTP 404."
    french = "Le serveur a répondu par le code HTTP 404."
    assert french in status_page(token, **FRENCH)
    assert french in review_page(curator, submission, **FRENCH)
    assert location.summary in status_page(token)


def test_a_record_that_does_not_exist_is_explained_in_french(curator, repositories):
    address = repositories.url("/records/990001")
    submission, token = in_review(curator, location=address)
    location = check(submission, "location")
    host = "127.0.0.1"
    assert location.outcome == "fail"
    assert location.summary.startswith(f"Record 990001 at {host} was not found at {host} (404)")
    french = f"Impossible de trouver le dépôt 990001 sur {host} sur {host} (404){NB}: vérifiez"
    assert french in status_page(token, **FRENCH)
    assert french in review_page(curator, submission, **FRENCH)


def test_a_records_restricted_files_and_licence_are_reported_in_french(curator, repositories):
    record = repositories.add_invenio(
        "990002",
        Deposit(
            title="Harbour levels",
            files=[DataFile("train.csv", content=b"a,b\n1,2\n"), DataFile("test.csv", content=b"a,b\n3,4\n")],
            doi="10.5072/zenodo.990002",
            license_id="cc0-1.0",
            restricted=True,
        ),
    )
    # Linked, not hosted: restricted files are listed, and the record is only pointed at.
    submission, token = in_review(curator, location=record.landing_url, hosting=False)
    location = check(submission, "location")
    assert location.outcome == "warn"
    warnings = [i18n.english(warning) for warning in location.details["warnings"]]
    assert any(
        warning.startswith("2 files are restricted or embargoed at the source") for warning in warnings
    )
    assert location.summary.startswith("2 files, 16\xa0bytes, from 1 record (Zenodo / InvenioRDM).")

    review = review_page(curator, submission, **FRENCH)
    assert f"2 fichiers, 16{NB}octets, provenant de 1 dépôt (Zenodo / InvenioRDM)." in review
    assert "2 fichiers sont en accès restreint ou sous embargo à la source (train.csv, test.csv)" in review
    assert f"La fiche indique la licence cc-by-4.0{NB}; le dépôt 10.5072/zenodo.990002 indique" in review
    assert "accès restreint (sur autorisation)" in review
    status = status_page(token, **FRENCH)
    assert "2 fichiers sont en accès restreint ou sous embargo à la source" in status
    assert "accès restreint (sur autorisation)" in status
    english = status_page(token)
    assert "restricted (needs permission)" in english and "accès restreint" not in english


# -- duplicates -------------------------------------------------------------------------------------------------


def test_a_duplicate_location_is_named_in_french_on_the_review_page(curator):
    first, _ = confirmed(location="https://data.example.org/harbour/same-levels.csv")
    second, _ = in_review(curator, location="https://data.example.org/harbour/same-levels.csv")
    duplicate = check(second, "duplicate")
    assert duplicate.summary.startswith(f"Same location as {first.reference}")
    assert f"Même emplacement que {first.reference}" in review_page(curator, second, **FRENCH)


# -- data ----------------------------------------------------------------------------------------------------


def test_no_file_to_inspect_is_said_in_french_on_both_pages_and_in_the_queue(curator, repositories):
    submission, token = in_review(curator, location=repositories.url("/records/990003"))
    data = check(submission, "data")
    assert data.summary == "No file to inspect: the locations hold no file that can be fetched."
    french = f"Aucun fichier à examiner{NB}: les emplacements ne contiennent aucun fichier téléchargeable."
    assert french in status_page(token, **FRENCH)
    assert french in review_page(curator, submission, **FRENCH)
    client = Client()
    client.force_login(curator)
    queue = html.unescape(client.get("/admin/submissions/submission/", **FRENCH).content.decode())
    assert french in queue
    assert data.summary in html.unescape(client.get("/admin/submissions/submission/").content.decode())


def test_the_data_summary_of_several_splits_is_joined_in_french(curator, source_server):
    source_server.add_bytes("/train.csv", b"a,b\n1,2\n", content_type="text/csv")
    source_server.add_bytes("/test.csv", b"a,b\n3,4\n", content_type="text/csv")
    lines = f"{source_server.url('/train.csv')}\n{source_server.url('/test.csv')}"
    submission, _ = in_review(curator, location=lines)
    data = check(submission, "data")
    assert data.summary.startswith("train.csv: ") and "; test.csv: " in data.summary
    review = review_page(curator, submission, **FRENCH)
    assert f"train.csv{NB}: " in review and f"{NB}; test.csv{NB}: " in review


# -- the form, through the same resolvers -------------------------------------------------------------------------


def test_a_location_the_resolvers_refuse_is_refused_in_the_readers_language():
    with translation.override("fr"), pytest.raises(ValidationError) as caught:
        fields.clean_locations("doi:zenodo-123")
    assert caught.value.messages == [
        f"'doi:zenodo-123' n’est pas un DOI{NB}: un DOI commence par 10., le numéro d’un organisme, une barre "
        "oblique et un nom, comme doi:10.5281/zenodo.123."
    ]


def test_old_rows_with_plain_english_still_show(curator):
    submission, _ = in_review(curator, card=GOOD_CARD)
    CheckResult.objects.filter(revision=submission.latest_revision).update(
        summary="An English summary of an older row.", summary_message=None
    )
    assert "An English summary of an older row." in review_page(curator, submission, **FRENCH)
