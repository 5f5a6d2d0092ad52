"""The resolvers, end to end through the real safefetch against the repository doubles (devhub/repositories.py).

No mock of safefetch: the `repositories` fixture is the network (figshare portal names resolve to it).
"""

import hashlib

import pytest

from devhub.repositories import DataFile, Deposit, Person
from portal import safefetch
from submissions import resolvers
from submissions.resolvers import InvalidLocation, PlainFile, Record, ResolveError, classify, resolve
from submissions.resolvers.licences import hub_licence
from submissions.resolvers.people import orcid

VALID_ORCID = "0000-0002-1825-0097"
OTHER_ORCID = "0000-0002-1694-233X"


def deposit(**overrides):
    """Return a deposit of two files in folders, with creators, licence and keywords."""
    values = {
        "title": "Coastal salinity 2023",
        "description": "<p>Hourly <b>salinity</b>.</p>",
        "creators": [
            Person("Carberry, Josiah", orcid=VALID_ORCID, affiliation="Brown University"),
            Person("Doe, Jane", orcid="0000-0002-1825-0098"),  # a wrong check digit: dropped
        ],
        "doi": "10.5281/zenodo.7001",
        "license_id": "cc-by-4.0",
        "license_name": "Creative Commons Attribution 4.0 International",
        "license_url": "https://creativecommons.org/licenses/by/4.0/legalcode",
        "published": "2024-05-01",
        "version": "2.1",
        "keywords": ["salinity", "coast"],
        "files": [
            DataFile("data/train.csv", b"t,s\n1,35.1\n2,35.4\n", media_type="text/csv"),
            DataFile("data/raw/sensors.bin", size=200_000),
        ],
    }
    values.update(overrides)
    return Deposit(**values)


def download_md5(url, tmp_path):
    """Download `url` through safefetch and return the MD5 of the bytes received."""
    result = safefetch.download(url, tmp_path / "download", max_bytes=10**8)
    return hashlib.md5(result.path.read_bytes(), usedforsecurity=False).hexdigest()


# -- classify: no network -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("https://example.org/data/levels.csv", "file"),
        ("  https://example.org/levels.csv  ", "file"),
        ("https://zenodo.org/records/123/files/levels.csv?download=1", "file"),
        ("https://example.org/articles/dataset/Levels/12345678", "file"),  # not a figshare portal
        ("10.5281/zenodo.123", "doi"),
        ("doi:10.7910/DVN/ABC123", "doi"),
        ("DOI: 10.7910/DVN/ABC123", "doi"),
        ("https://doi.org/10.5281/zenodo.123", "doi"),
        ("https://dx.doi.org/10.5281/zenodo.123", "doi"),
        ("http://dx.doi.org/10.6084/m9.figshare.1234567.v2", "doi"),
        ("https://doi.org/10.1000.10/abc%2Fdef", "doi"),
        ("https://zenodo.org/records/123", "record"),
        ("https://zenodo.org/record/123", "record"),
        ("https://data.caltech.edu/records/abcde-12345", "record"),
        ("https://zenodo.org/api/records/123", "record"),
        ("https://dataverse.harvard.edu/dataset.xhtml?persistentId=doi:10.7910/DVN/ABC123", "record"),
        ("https://dataverse.harvard.edu/citation?persistentId=doi:10.7910/DVN/ABC123", "record"),
        ("https://demo.dataverse.org/api/datasets/:persistentId/?persistentId=doi:10.70122/FK2/X", "record"),
        ("https://figshare.com/articles/dataset/Ocean_levels/12345678", "record"),
        ("https://figshare.com/articles/dataset/Ocean_levels/12345678/2", "record"),
        ("https://springernature.figshare.com/articles/dataset/Ocean_levels/12345678", "record"),
        ("https://api.figshare.com/v2/articles/12345678", "record"),
    ],
)
def test_classify_accepted_forms(line, kind):
    assert classify(line) == kind


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "The line is empty"),
        ("   ", "The line is empty"),
        ("http://example.org/levels.csv", "use https://"),
        ("ftp://example.org/levels.csv", "only https:// addresses and DOIs are accepted"),
        ("file:///etc/passwd", "only https:// addresses and DOIs are accepted"),
        ("javascript:alert(1)", "neither an address nor a DOI"),
        ("https://alice:secret@example.org/levels.csv", "remove them"),
        ("https://alice@example.org/levels.csv", "user name or password"),
        ("https://example.org/my levels.csv", "spaces or control characters"),
        ("https://example.org/levels.csv\thttps://example.org/b.csv", "spaces or control characters"),
        ("https://example.org\\levels.csv", "backslash"),
        ("https://", "no host name"),
        ("https://example.org:99999/levels.csv", "check its host name and port"),
        ("levels", "neither an address nor a DOI"),
        ("example.org/levels.csv", "give a full https:// address"),
        ("doi:zenodo-123", "is not a DOI"),
        ("https://doi.org/zenodo-123", "is not the address of a DOI"),
        ("10.12/short-registrant", "neither an address nor a DOI"),
    ],
)
def test_classify_refuses_with_what_to_write(line, message):
    with pytest.raises(InvalidLocation) as caught:
        classify(line)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_a_direct_file_needs_no_network():
    found = resolve("https://example.org/a/b/My%20Levels.csv?version=2")
    assert found == PlainFile(
        location="https://example.org/a/b/My%20Levels.csv?version=2",
        url="https://example.org/a/b/My%20Levels.csv?version=2",
        path="My Levels.csv",
    )


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://example.org/", "data"),
        ("https://example.org/%2E%2E", "data"),
        ("https://example.org/a%2Fb%00c", "bc"),
    ],
)
def test_a_file_name_is_made_safe(url, path):
    assert resolve(url).path == path


def test_a_direct_file_is_named_without_a_connection(settings, listener):
    # Even at a blocked address: the location check's probe refuses it, through safefetch, later.
    settings.PORTAL_FETCH_ALLOWED_NETWORKS = []
    found = resolve(listener.url("/levels.csv"))
    assert found.url == listener.url("/levels.csv") and found.path == "levels.csv"
    assert listener.connections == 0


# -- Zenodo and InvenioRDM ------------------------------------------------------------------------------------


def test_invenio_record_from_its_landing_page(repositories, tmp_path):
    registered = repositories.add_invenio("7001", deposit())
    record = resolve(registered.landing_url)
    assert isinstance(record, Record)
    assert record.family == "invenio"
    assert record.location == registered.landing_url
    assert record.landing_url == registered.landing_url
    assert record.api_url == registered.api_url
    assert record.doi == "10.5281/zenodo.7001"
    assert record.title == "Coastal salinity 2023"
    assert record.description == "<p>Hourly <b>salinity</b>.</p>"
    assert record.creators == (
        resolvers.Creator("Carberry, Josiah", orcid=VALID_ORCID, affiliation="Brown University"),
        resolvers.Creator("Doe, Jane"),
    )
    assert (record.license, record.license_name) == (
        "cc-by-4.0",
        "Creative Commons Attribution 4.0 International",
    )
    assert record.license_url == "https://creativecommons.org/licenses/by/4.0/legalcode"
    assert (record.published, record.version, record.keywords) == ("2024-05-01", "2.1", ("salinity", "coast"))
    train, sensors = record.files
    assert train.path == "data/train.csv" and sensors.path == "data/raw/sensors.bin"
    assert train.size == 18 and sensors.size == 200_000
    assert train.checksums == {"md5": registered.file("data/train.csv").md5}
    assert train.media_type == "text/csv" and not train.restricted
    # The download addresses are real: the bytes they give match the announced checksums.
    assert download_md5(sensors.url, tmp_path) == sensors.checksums["md5"]
    assert all(
        r.headers.get("Accept") == "application/json"
        for r in repositories.requests_for("^/api/records/7001$")
    )


def test_invenio_record_from_its_api_address_and_its_doi(repositories):
    registered = repositories.add_invenio("7001", deposit())
    by_landing = resolve(registered.landing_url)
    by_api = resolve(registered.api_url)
    by_doi = resolve("10.5281/ZENODO.7001")
    by_doi_url = resolve("https://doi.org/10.5281/zenodo.7001")
    assert by_api.files == by_doi.files == by_doi_url.files == by_landing.files
    assert by_doi.location == "10.5281/ZENODO.7001" and by_doi.landing_url == registered.landing_url
    assert repositories.requests_for("^/doi/10.5281/zenodo.7001$")


def test_invenio_files_are_asked_for_when_the_record_does_not_carry_them(repositories):
    registered = repositories.add_invenio("7002", deposit(), files_in_body=False)
    record = resolve(registered.landing_url)
    assert [file.path for file in record.files] == ["data/train.csv", "data/raw/sensors.bin"]
    assert len(repositories.requests_for("^/api/records/7002/files$")) == 1


def test_zenodo_legacy_record_and_old_landing_address(repositories):
    registered = repositories.add_invenio("7003", deposit(doi="10.5281/zenodo.7003"), legacy=True)
    record = resolve(repositories.url("/record/7003"))
    assert record.doi == "10.5281/zenodo.7003"
    assert record.license == "cc-by-4.0"
    assert record.creators[0] == resolvers.Creator("Carberry, Josiah", VALID_ORCID, "Brown University")
    assert record.keywords == ("salinity", "coast")
    assert [(f.path, f.size, f.checksums["md5"]) for f in record.files] == [
        (file.path, file.length, file.md5) for file in registered.deposit.files
    ]


def test_invenio_restricted_files_are_listed_and_never_fetched(repositories):
    registered = repositories.add_invenio("7004", deposit(restricted=True))
    record = resolve(registered.landing_url)
    assert all(file.restricted and file.url == "" for file in record.files)
    assert {file.restriction for file in record.files} == {"restricted (needs permission)"}
    assert record.files[0].checksums == {"md5": registered.file("data/train.csv").md5}
    assert not repositories.requests_for("/content$")


def test_invenio_embargoed_files_say_until_when(repositories):
    registered = repositories.add_invenio("7005", deposit(embargo_until="2027-03-01"))
    record = resolve(registered.landing_url)
    assert {(file.restricted, file.restriction) for file in record.files} == {
        (True, "embargoed until 2027-03-01")
    }


def test_invenio_restricted_record_whose_files_are_not_listed(repositories):
    registered = repositories.add_invenio(
        "7006", deposit(embargo_until="2027-03-01"), legacy=True, files_in_body=False
    )
    with pytest.raises(ResolveError) as caught:
        resolve(registered.landing_url)
    assert "embargoed until 2027-03-01" in str(caught.value) and "does not list them" in str(caught.value)
    assert not repositories.requests_for("/files")


# -- Dataverse ------------------------------------------------------------------------------------------------


def dataverse_deposit(**overrides):
    """Return a Dataverse deposit: an ingested table in a folder, a restricted file, embargoed files."""
    values = {
        "title": "Household survey 2022",
        "description": "Answers of 1,200 households.",
        "creators": [
            Person("Carberry, Josiah", orcid=f"https://orcid.org/{VALID_ORCID}", affiliation="Brown")
        ],
        "doi": "",
        "license_name": "CC0 1.0",
        "license_url": "http://creativecommons.org/publicdomain/zero/1.0",
        "version": "3.1",
        "keywords": ["households"],
        "files": [
            DataFile(
                "survey/2022/answers.csv", b"id,answer\n1,yes\n2,no\n", media_type="text/csv", ingested=True
            ),
            DataFile("codebook.pdf", size=5000, media_type="application/pdf"),
            DataFile("survey/contacts.csv", b"secret\n", restricted=True, media_type="text/csv"),
            DataFile("later.csv", b"a\n", embargo_until="2099-01-01", media_type="text/csv"),
            DataFile("opened.csv", b"b\n", embargo_until="2001-01-01", media_type="text/csv"),
        ],
    }
    values.update(overrides)
    return Deposit(**values)


def test_dataverse_dataset_from_its_page(repositories, tmp_path):
    registered = repositories.add_dataverse("doi:10.7910/DVN/ABC123", dataverse_deposit())
    record = resolve(registered.landing_url)
    assert record.family == "dataverse"
    assert record.api_url == registered.api_url and record.landing_url == registered.landing_url
    assert record.doi == "10.7910/dvn/abc123"
    assert (record.title, record.description) == ("Household survey 2022", "Answers of 1,200 households.")
    assert record.creators == (resolvers.Creator("Carberry, Josiah", VALID_ORCID, "Brown"),)
    assert (record.license, record.license_name) == ("cc0-1.0", "CC0 1.0")
    assert record.license_url == "http://creativecommons.org/publicdomain/zero/1.0"
    assert (record.published, record.version, record.keywords) == ("2024-05-01", "3.1", ("households",))
    files = {file.path: file for file in record.files}
    assert list(files) == [
        "survey/2022/answers.csv",
        "codebook.pdf",
        "survey/contacts.csv",
        "later.csv",
        "opened.csv",
    ]
    # The ingested table: its original, whose bytes the announced checksum is of.
    answers = files["survey/2022/answers.csv"]
    original = registered.file("survey/2022/answers.csv")
    assert answers.url.endswith(f"/api/access/datafile/{original.file_id}?format=original")
    assert (answers.size, answers.media_type, answers.checksums) == (
        original.length,
        "text/csv",
        {"md5": original.md5},
    )
    assert download_md5(answers.url, tmp_path) == original.md5
    assert files["codebook.pdf"].url.endswith(
        f"/api/access/datafile/{registered.file('codebook.pdf').file_id}"
    )
    assert (files["survey/contacts.csv"].restricted, files["survey/contacts.csv"].url) == (True, "")
    assert files["survey/contacts.csv"].restriction == "restricted (needs permission)"
    assert files["later.csv"].restriction == "embargoed until 2099-01-01" and files["later.csv"].url == ""
    assert not files["opened.csv"].restricted  # an embargo that has ended
    restricted_ids = [registered.file(path).file_id for path in ("survey/contacts.csv", "later.csv")]
    assert not [
        r
        for r in repositories.log
        if any(r.path.startswith(f"/api/access/datafile/{i}") for i in restricted_ids)
    ]


def test_dataverse_dataset_from_its_citation_api_address_and_doi(repositories):
    registered = repositories.add_dataverse("doi:10.7910/DVN/ABC123", dataverse_deposit())
    expected = resolve(registered.landing_url).files
    assert resolve(repositories.url("/citation?persistentId=doi:10.7910/DVN/ABC123")).files == expected
    assert resolve(registered.api_url).files == expected
    by_doi = resolve("doi:10.7910/DVN/ABC123")
    assert by_doi.files == expected and by_doi.location == "doi:10.7910/DVN/ABC123"


def test_dataverse_checksums_of_another_kind(repositories):
    registered = repositories.add_dataverse(
        "doi:10.7910/DVN/SHA", dataverse_deposit(), checksum_type="SHA-256"
    )
    record = resolve(registered.landing_url)
    assert record.files[1].checksums == {"sha256": registered.file("codebook.pdf").sha256}


# -- figshare -------------------------------------------------------------------------------------------------


def figshare_deposit(count=3, **overrides):
    """Return a figshare deposit of `count` small files."""
    values = {
        "title": "Reef photos",
        "creators": [Person("Carberry, Josiah", orcid=VALID_ORCID), Person("Roe, Ann", orcid=OTHER_ORCID)],
        "doi": "10.6084/m9.figshare.1234567.v2",
        "license_name": "CC BY 4.0",
        "license_url": "https://creativecommons.org/licenses/by/4.0/",
        "version": "2",
        "keywords": ["reef", "photos"],
        "files": [
            DataFile(f"photo-{index:03d}.jpg", size=100 + index, media_type="image/jpeg")
            for index in range(count)
        ],
    }
    values.update(overrides)
    return Deposit(**values)


def test_figshare_item_from_its_page(repositories, tmp_path):
    registered = repositories.add_figshare(1234567, figshare_deposit())
    assert registered.landing_url.startswith("https://figshare.com:")
    record = resolve(registered.landing_url)
    assert record.family == "figshare"
    assert record.api_url == f"{repositories.figshare_api_url}/articles/1234567/versions/2"
    assert record.landing_url == registered.landing_url
    assert record.doi == "10.6084/m9.figshare.1234567.v2"
    assert [creator.orcid for creator in record.creators] == [VALID_ORCID, OTHER_ORCID]
    assert (record.license, record.license_name, record.version) == ("cc-by-4.0", "CC BY 4.0", "2")
    assert record.keywords == ("reef", "photos")
    first = record.files[0]
    assert (first.path, first.size, first.media_type) == ("photo-000.jpg", 100, "image/jpeg")
    assert first.checksums == {"md5": registered.file("photo-000.jpg").md5}
    assert download_md5(first.url, tmp_path) == first.checksums["md5"]


def test_figshare_item_from_an_institutional_portal_its_api_address_and_doi(repositories):
    registered = repositories.add_figshare(1234567, figshare_deposit())
    portal_page = repositories.url("/articles/dataset/Reef_photos/1234567", host="data.uni.figshare.com")
    by_portal = resolve(portal_page)
    assert by_portal.api_url == f"{repositories.figshare_api_url}/articles/1234567"
    assert resolve(registered.api_url).files == by_portal.files
    assert resolve("https://doi.org/10.6084/m9.figshare.1234567.v2").files == by_portal.files


def test_figshare_portal_on_a_domain_of_its_own(repositories, settings):
    repositories.add_figshare(1234567, figshare_deposit())
    settings.FIGSHARE_HOSTS = ["figshare.com", "*.figshare.com", "127.0.0.1"]
    page = repositories.url("/articles/dataset/Reef_photos/1234567")
    assert classify(page) == "record" and len(resolve(page).files) == 3


def test_figshare_files_are_read_page_after_page(repositories):
    registered = repositories.add_figshare(2345678, figshare_deposit(count=250))
    record = resolve(registered.api_url)
    assert [file.path for file in record.files] == [file.path for file in registered.deposit.files]
    pages = [r.path for r in repositories.requests_for("^/v2/articles/2345678/files")]
    assert pages == [f"/v2/articles/2345678/files?page={page}&page_size=100" for page in (1, 2, 3)]


def test_figshare_link_only_and_embargoed_files(repositories):
    files = [
        DataFile("here.csv", b"a\n"),
        DataFile("elsewhere.csv", size=10, link="https://data.example.org/x.csv"),
    ]
    mixed = resolve(repositories.add_figshare(3456789, figshare_deposit(files=files)).api_url)
    assert not mixed.files[0].restricted
    assert (mixed.files[1].restricted, mixed.files[1].restriction) == (
        True,
        "link only (the file is kept elsewhere)",
    )
    embargoed = resolve(
        repositories.add_figshare(4567890, figshare_deposit(embargo_until="2027-03-01")).api_url
    )
    assert {(f.restricted, f.restriction, f.url) for f in embargoed.files} == {
        (True, "embargoed until 2027-03-01", "")
    }
    assert not repositories.requests_for("^/ndownloader/")


def test_figshare_unknown_licence_keeps_its_name(repositories):
    registered = repositories.add_figshare(
        5678901,
        figshare_deposit(
            license_name="In Copyright", license_url="http://rightsstatements.org/vocab/InC/1.0/"
        ),
    )
    record = resolve(registered.api_url)
    assert (record.license, record.license_name) == ("", "In Copyright")
    assert record.license_url == "http://rightsstatements.org/vocab/InC/1.0/"


# -- DOIs that are not records --------------------------------------------------------------------------------


def test_doi_of_a_plain_file(repositories):
    url = repositories.add_file("levels.csv", DataFile("levels.csv", b"a,b\n1,2\n", media_type="text/csv"))
    repositories.add_doi("10.1234/levels", url)
    assert resolve("doi:10.1234/levels") == PlainFile(
        location="doi:10.1234/levels", url=url, path="levels.csv"
    )


def test_doi_of_a_web_page_that_is_no_repository(repositories):
    repositories.add_doi("10.1234/html", repositories.url("/files/about.html"))
    repositories.add_file("about.html", DataFile("about.html", b"<html></html>", media_type="text/html"))
    with pytest.raises(ResolveError) as caught:
        resolve("10.1234/html")
    assert "not a file or a known repository" in str(caught.value)
    assert "one per line" in str(caught.value)


def test_doi_that_does_not_exist(repositories):
    with pytest.raises(ResolveError) as caught:
        resolve("10.1234/nothing-here")
    assert "The DOI 10.1234/nothing-here does not exist" in str(caught.value)
    assert caught.value.retryable is False


# -- bad answers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "line"),
    [
        ("invenio", "/records/999"),
        ("dataverse", "/dataset.xhtml?persistentId=doi:10.7910/DVN/NOPE"),
        ("figshare", "/v2/articles/9999999"),
    ],
)
def test_record_that_does_not_exist(repositories, family, line):
    with pytest.raises(ResolveError) as caught:
        resolve(repositories.url(line))
    assert "was not found" in str(caught.value) and "(404)" in str(caught.value)
    assert "check the address or DOI" in str(caught.value)
    assert caught.value.retryable is False


def test_html_instead_of_json(repositories):
    registered = repositories.add_invenio("7100", deposit())
    repositories.fault("^/api/records/7100$", kind="html")
    with pytest.raises(ResolveError) as caught:
        resolve(registered.landing_url)
    assert "answered a web page instead of the data of record 7100" in str(caught.value)


def test_garbage_instead_of_json(repositories):
    registered = repositories.add_dataverse("doi:10.7910/DVN/G", dataverse_deposit())
    repositories.fault("^/api/datasets/", kind="garbage")
    with pytest.raises(ResolveError) as caught:
        resolve(registered.landing_url)
    assert "answered something that is not JSON" in str(caught.value)


def test_answer_in_another_shape(repositories):
    # A JSON answer that is not a record: {"status": 200}.
    repositories.fault("^/api/records/7200$", kind="status", status=200)
    with pytest.raises(ResolveError) as caught:
        resolve(repositories.url("/records/7200"))
    assert "without the metadata of record 7200" in str(caught.value)


def test_answer_too_large(repositories, settings):
    registered = repositories.add_invenio("7300", deposit())
    settings.RESOLVER_MAX_JSON_BYTES = 200
    with pytest.raises(ResolveError) as caught:
        resolve(registered.landing_url)
    assert "larger than 200 bytes" in str(caught.value)


def test_short_retry_after_is_honoured_once(repositories):
    registered = repositories.add_invenio("7400", deposit())
    repositories.fault("^/api/records/7400$", status=429, retry_after=1)
    assert len(resolve(registered.landing_url).files) == 2
    assert len(repositories.requests_for("^/api/records/7400$")) == 2


def test_second_429_fails_as_retryable(repositories):
    registered = repositories.add_invenio("7401", deposit())
    repositories.fault("^/api/records/7401$", status=429, retry_after=1, count=2)
    with pytest.raises(ResolveError) as caught:
        resolve(registered.landing_url)
    assert caught.value.retryable is True
    assert "limiting requests (429 Too Many Requests)" in str(caught.value) and "try again later" in str(
        caught.value
    )
    assert len(repositories.requests_for("^/api/records/7401$")) == 2


def test_long_retry_after_is_not_waited_for(repositories, settings):
    registered = repositories.add_invenio("7402", deposit())
    settings.RESOLVER_MAX_RETRY_AFTER = 5
    repositories.fault("^/api/records/7402$", status=429, retry_after=3600)
    with pytest.raises(ResolveError) as caught:
        resolve(registered.landing_url)
    assert caught.value.retryable is True and "wait 3600 s" in str(caught.value)
    assert len(repositories.requests_for("^/api/records/7402$")) == 1


def test_server_error_is_retryable(repositories):
    registered = repositories.add_figshare(1111111, figshare_deposit())
    repositories.fault("^/v2/articles/1111111/files", status=500)
    with pytest.raises(ResolveError) as caught:
        resolve(registered.api_url)
    assert caught.value.retryable is True and "failed (500)" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("../../etc/cron.d/evil", "climbs out of the dataset's folder"),
        ("data/../../evil.csv", "climbs out of the dataset's folder"),
        ("/etc/passwd", "is an absolute path"),
        ("evil\x00.csv", "holds a NUL or another control character"),
        ("bell\x07.csv", "holds a NUL or another control character"),
        ("new\nline.csv", "holds a NUL or another control character"),
        ("data\\evil.csv", "holds a backslash"),
        ("data//twice.csv", "has an empty or '.' folder"),
    ],
)
def test_file_names_that_cannot_be_stored_are_refused(repositories, name, problem):
    files = [DataFile("fine.csv", b"a\n"), DataFile(name, b"b\n")]
    registered = repositories.add_invenio("7500", deposit(files=files), files_in_body=False)
    with pytest.raises(ResolveError) as caught:
        resolve(registered.landing_url)
    assert repr(name) in str(caught.value) and problem in str(caught.value)
    assert "Ask the repository to correct the file's name" in str(caught.value)


def test_dataverse_folder_that_climbs_out_is_refused(repositories):
    files = [DataFile("../../outside/answers.csv", b"a\n")]
    registered = repositories.add_dataverse("doi:10.7910/DVN/UP", dataverse_deposit(files=files))
    with pytest.raises(ResolveError) as caught:
        resolve(registered.landing_url)
    assert "'../../outside/answers.csv'" in str(caught.value) and "climbs out" in str(caught.value)


def test_a_path_listed_twice_is_refused(repositories):
    files = [DataFile("photo.jpg", b"a"), DataFile("photo.jpg", b"b")]
    registered = repositories.add_figshare(6789012, figshare_deposit(files=files))
    with pytest.raises(ResolveError) as caught:
        resolve(registered.api_url)
    assert "lists the file 'photo.jpg' twice" in str(caught.value)


def test_a_file_that_is_also_a_folder_is_refused(repositories):
    files = [DataFile("data", b"a"), DataFile("data/inner.csv", b"b")]
    registered = repositories.add_invenio("7600", deposit(files=files))
    with pytest.raises(ResolveError) as caught:
        resolve(registered.landing_url)
    assert "'data' both as a file and as a folder of 'data/inner.csv'" in str(caught.value)


def test_too_many_files_are_refused_before_they_are_listed(repositories, settings):
    settings.MAX_FILES_PER_DATASET = 2
    registered = repositories.add_invenio(
        "7700", deposit(files=[DataFile(f"{i}.csv", b"x") for i in range(3)]), files_in_body=False
    )
    with pytest.raises(ResolveError) as caught:
        resolve(registered.landing_url)
    assert "lists 3 files, more than the 2 that one dataset may hold" in str(caught.value)
    assert not repositories.requests_for("/files")


def test_too_many_figshare_files_stop_the_paging(repositories, settings):
    settings.MAX_FILES_PER_DATASET = 150
    registered = repositories.add_figshare(7890123, figshare_deposit(count=320))
    with pytest.raises(ResolveError) as caught:
        resolve(registered.api_url)
    assert "lists at least 200 files, more than the 150" in str(caught.value)
    assert len(repositories.requests_for("^/v2/articles/7890123/files")) == 2


def test_too_many_dataverse_files(repositories, settings):
    settings.MAX_FILES_PER_DATASET = 4
    registered = repositories.add_dataverse("doi:10.7910/DVN/MANY", dataverse_deposit())
    with pytest.raises(ResolveError) as caught:
        resolve(registered.landing_url)
    assert "lists 5 files, more than the 4" in str(caught.value)


def test_landing_page_at_a_blocked_address(repositories, settings):
    registered = repositories.add_invenio("7800", deposit())
    settings.PORTAL_FETCH_ALLOWED_NETWORKS = []
    with pytest.raises(ResolveError) as caught:
        resolve(registered.landing_url)
    assert "a loopback address (this machine)" in str(caught.value) and caught.value.retryable is False
    assert not repositories.log


def test_doi_that_leads_to_a_blocked_address(repositories, settings, make_listener):
    hidden = make_listener("127.0.0.2")
    repositories.add_doi("10.1234/inside", hidden.url("/records/1"))
    settings.PORTAL_FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with pytest.raises(ResolveError) as caught:
        resolve("10.1234/inside")
    assert "redirects to" in str(caught.value) and "loopback" in str(caught.value)
    assert hidden.connections == 0


# -- licences and ORCID iDs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "hub_id"),
    [
        ({"identifier": "cc-by-4.0"}, "cc-by-4.0"),
        ({"identifier": "CC-BY-SA-4.0"}, "cc-by-sa-4.0"),
        ({"identifier": "cc0-1.0"}, "cc0-1.0"),
        ({"identifier": "MIT"}, "mit"),
        ({"identifier": "GPL-3.0-or-later"}, "gpl-3.0"),
        ({"identifier": "odbl-1.0"}, "odbl"),
        ({"name": "CC0 1.0"}, "cc0-1.0"),
        ({"name": "CC0"}, "cc0-1.0"),
        ({"name": "CC BY 4.0"}, "cc-by-4.0"),
        ({"name": "CC BY-NC-SA 4.0"}, "cc-by-nc-sa-4.0"),
        ({"name": "Creative Commons Attribution 4.0 International"}, "cc-by-4.0"),
        ({"name": "Creative Commons Attribution-NonCommercial 4.0 International"}, "cc-by-nc-4.0"),
        ({"name": "Creative Commons Zero v1.0 Universal"}, "cc0-1.0"),
        ({"name": "Apache 2.0"}, "apache-2.0"),
        ({"name": "GPL 3.0+"}, "gpl-3.0"),
        ({"url": "http://creativecommons.org/publicdomain/zero/1.0"}, "cc0-1.0"),
        ({"url": "https://creativecommons.org/licenses/by/4.0/legalcode"}, "cc-by-4.0"),
        ({"url": "https://opendatacommons.org/licenses/odbl/1-0/"}, "odbl"),
        ({"url": "https://opensource.org/licenses/MIT"}, "mit"),
        ({"url": "https://www.apache.org/licenses/LICENSE-2.0"}, "apache-2.0"),
        ({"name": "In Copyright", "url": "http://rightsstatements.org/vocab/InC/1.0/"}, ""),
        ({"identifier": "other-open"}, ""),
        ({"name": "Other"}, ""),
        ({"identifier": "unknown"}, ""),
        ({}, ""),
    ],
)
def test_licences_are_mapped_to_hub_ids(given, hub_id):
    assert hub_licence(**given) == hub_id


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (VALID_ORCID, VALID_ORCID),
        (f"https://orcid.org/{VALID_ORCID}", VALID_ORCID),
        ("http://orcid.org/0000-0002-1694-233x", OTHER_ORCID),
        ("0000000218250097", VALID_ORCID),
        ("0000-0002-1825-0098", ""),
        ("0000-0002-1825", ""),
        ("not an orcid", ""),
        (None, ""),
    ],
)
def test_orcid_ids_are_kept_only_with_a_valid_check_digit(given, expected):
    assert orcid(given) == expected


def test_resolve_refuses_a_malformed_line_as_a_resolve_error_too():
    with pytest.raises(ResolveError) as caught:
        resolve("ftp://example.org/levels.csv")
    assert isinstance(caught.value, InvalidLocation) and caught.value.retryable is False
