"""The review page and the status page show a dataset's manifest: files, splits, records, a drafted card."""

import re

import pytest
from django.test import Client

from devhub.repositories import DataFile, Deposit, Person
from submissions.models import ManifestFile, SourceRecord
from tests.factories import GOOD_CARD, confirmed, in_review

pytestmark = pytest.mark.django_db


def add_files(submission, count, *, start=0):
    ManifestFile.objects.bulk_create(
        ManifestFile(
            submission=submission,
            position=start + number,
            path=f"{'train' if number % 2 else 'test'}/shard-{start + number:05}.csv",
            source_url=f"https://data.example.org/{start + number}.csv",
            size=(start + number) * 10,
            checksums={"md5": f"{number:032x}"},
            checksums_from={"md5": "contributor"},
            split="train" if number % 2 else "test",
        )
        for number in range(count)
    )


def review(client, submission, query=""):
    return client.get(f"/admin/submissions/submission/{submission.pk}/change/{query}")


def test_the_files_table_pages_by_200_and_sorts_by_size_in_a_fixed_number_of_queries(
    curator, django_assert_max_num_queries
):
    submission, _ = in_review(curator)
    ManifestFile.objects.filter(submission=submission).delete()  # the factory's one unreachable file
    client = Client()
    client.force_login(curator)
    add_files(submission, 50)
    review(client, submission)  # warm the admin's own caches (site, permissions)
    with django_assert_max_num_queries(60) as small:
        review(client, submission)
    add_files(submission, 2950, start=50)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = review(client, submission)
    html = response.content.decode()
    assert "<strong>3000</strong> files" in html
    assert "page 1 of 15" in html
    assert len(re.findall(r"<code>(?:train|test)/shard-", html)) == 200
    largest = review(client, submission, "?files_order=-size").content.decode()
    assert largest.index("shard-02999.csv") < largest.index("shard-02998.csv")
    last = review(client, submission, "?files_order=path&files_page=15").content.decode()
    assert "shard-02999.csv" in last and "shard-00000.csv" not in last
    assert review(client, submission, "?files_page=abc&files_order=nonsense").status_code == 200


def test_a_records_licence_that_differs_from_the_cards_is_shown_beside_it(curator, repositories):
    record = repositories.add_invenio(
        "501",
        Deposit(
            title="Harbour levels",
            files=[DataFile("train.csv", content=b"a,b\n1,2\n")],
            creators=[Person("Doe, Jane", orcid="0000-0002-1825-0097")],
            doi="10.5072/zenodo.501",
            license_id="cc0-1.0",
        ),
    )
    submission, _ = in_review(curator, location=record.landing_url)  # the card says cc-by-4.0
    check = submission.latest_revision.checks.get(kind="location")
    assert check.outcome == "warn" and "The card says the licence is cc-by-4.0" in check.summary
    client = Client()
    client.force_login(curator)
    html = review(client, submission).content.decode()
    assert 'class="mismatch"' in html and "differs" in html
    assert "doi:10.5072/zenodo.501" in html and "0000-0002-1825-0097" in html


def test_the_contributor_sees_what_was_found_and_downloads_a_card_drafted_from_the_record(repositories):
    record = repositories.add_dataverse(
        "doi:10.5072/DVN/502",
        Deposit(
            title="Harbour levels 2001-2020",
            description="<p>Levels of &amp; around three harbours.</p>",
            files=[
                DataFile("train.csv", content=b"a,b\n1,2\n"),
                DataFile("test.csv", content=b"a,b\n3,4\n"),
                DataFile("raw.bin", content=b"\x00" * 10, restricted=True),
            ],
            creators=[Person("Doe, Jane", orcid="0000-0002-1825-0097", affiliation="Harbour Authority")],
            license_id="cc-by-4.0",
            license_name="CC BY 4.0",
            license_url="https://creativecommons.org/licenses/by/4.0/",
            keywords=["tides"],
        ),
    )
    _submission, token = confirmed(location=record.landing_url)
    page = Client().get(f"/status/{token}/").content.decode()
    assert "3 files" in page and "doi:10.5072/DVN/502".lower() in page.lower()
    assert "restricted or embargoed at the source" in page
    draft = Client().get(f"/status/{token}/draft-card.md")
    assert draft.status_code == 200 and draft["Content-Disposition"] == 'attachment; filename="README.md"'
    text = draft.content.decode()
    assert "license: cc-by-4.0" in text and '"tides"' in text
    assert "Levels of & around three harbours." in text and "<p>" not in text
    assert "Doe, Jane (ORCID 0000-0002-1825-0097), Harbour Authority" in text
    assert "| train | 1 |" in text and "`train.csv`" in text
    assert "Doe, Jane (2024). Harbour levels 2001-2020. https://doi.org/10.5072/dvn/502" in text
    # The draft is a card the portal accepts.
    from submissions.cards import parse_card

    assert parse_card(draft.content, filename="README.md").metadata["license"] == "cc-by-4.0"


def test_no_draft_card_without_a_record():
    _submission, token = confirmed()
    assert Client().get(f"/status/{token}/draft-card.md").status_code == 404
    assert SourceRecord.objects.count() == 0
    assert GOOD_CARD  # the factory's own card stays the submission's
