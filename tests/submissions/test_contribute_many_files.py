"""The contribution form with several locations, repository records, checksums and related work."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from devhub.repositories import DataFile, Deposit
from submissions import services
from submissions.models import ManifestFile, Submission
from tests.factories import committed
from tests.submissions.test_contribute import assert_refused, post

pytestmark = pytest.mark.django_db

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
LINES = "https://data.harbour.example/train.csv\nhttps://data.harbour.example/test.csv"


def test_several_locations_checksums_paper_and_code_are_stored(client):
    response = post(
        client,
        location=f"  {LINES}\n\n10.5281/zenodo.123\n",
        checksums=f"{MD5}  train.csv\n",
        paper="arXiv:2101.00001v2",
        code_url="https://github.com/harbour/levels",
    )
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    submission = Submission.objects.get()
    assert submission.location_lines == [*LINES.splitlines(), "10.5281/zenodo.123"]
    assert submission.announced_checksums == [{"algorithm": "md5", "digest": MD5, "name": "train.csv"}]
    assert submission.paper == "https://arxiv.org/abs/2101.00001v2"
    assert submission.code_url == "https://github.com/harbour/levels"


def test_a_checksum_file_can_be_uploaded_instead_of_pasted(client):
    upload = SimpleUploadedFile("MD5SUMS", f"{MD5}  test.csv\n".encode(), content_type="text/plain")
    response = post(client, location=LINES, checksums_file=upload)
    assert response.status_code == 302
    assert Submission.objects.get().announced_checksums[0]["name"] == "test.csv"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"location": "\n".join(f"https://x.example/{n}.csv" for n in range(101))},
            "location",
            "at most 100 locations",
        ),
        (
            {"location": f"{LINES}\nhttps://data.harbour.example/train.csv"},
            "location",
            "Line 3 repeats line 1",
        ),
        (
            {"location": f"{LINES}\nftp://x.example/a.csv"},
            "location",
            "Line 3 (ftp://x.example/a.csv): Use an https",
        ),
        ({"location": "doi:11.1/x"}, "location", "is not a DOI"),
        ({"location": f"{LINES}\nhttps://10.0.0.1/a.csv"}, "location", "private or local network"),
        ({"location": LINES, "checksums": f"{MD5[:30]}  train.csv"}, "checksums", "line 1 can't be read"),
        (
            {"location": LINES, "checksums": f"{MD5}  other.csv"},
            "checksums",
            "name no file of the locations: “other.csv”",
        ),
        ({"paper": "see our paper"}, "paper", "arXiv identifier (2101.00001), a DOI"),
        ({"paper": "https://127.0.0.1/paper.pdf"}, "paper", "public https://"),
        ({"code_url": "http://github.com/x"}, "code_url", "Give the code's https:// address"),
    ],
)
def test_bad_locations_checksums_and_links_are_refused_beside_their_field(
    client, media_root, overrides, field, message
):
    assert_refused(post(client, **overrides), field, message, media_root)


def test_a_checksum_naming_a_records_file_waits_for_the_location_check(client, repositories):
    record = repositories.add_invenio(
        "88",
        Deposit(
            title="Levels", files=[DataFile("train.csv", content=b"a,b\n1,2\n")], doi="10.5072/zenodo.88"
        ),
    )
    # Accepted on the form: the record's files are known only once the check has resolved it.
    response = post(client, location=record.landing_url, checksums=f"{MD5}  missing.csv\n")
    assert response.status_code == 302
    submission = Submission.objects.get()

    with committed():
        services.confirm(submission)
    check = submission.latest_revision.checks.get(kind="location")
    assert check.outcome == "fail"
    assert "“missing.csv” names no file of the dataset" in check.summary
    assert ManifestFile.objects.filter(submission=submission).count() == 1


def test_every_line_that_needs_a_correction_is_named_at_once(client, media_root):
    response = post(
        client, location=f"{LINES}\nftp://x.example/a.csv\nnot an address\nhttps://u:p@x.example/b.csv"
    )
    errors = response.context["form"].errors["location"]
    assert [error.split(":", 1)[0] for error in errors] == [
        "Line 3 (ftp",
        "Line 4 (not an address)",
        "Line 5 (https",
    ]


def test_a_card_with_the_templates_licence_placeholder_is_refused(client, media_root):
    from submissions.card_template import card_template
    from tests.submissions.test_contribute import card_file

    card = card_file(card_template(name="Harbour levels", modalities=["text"]))
    assert_refused(post(client, card=card), "card", "Replace REPLACE-WITH-LICENCE-ID", media_root)
