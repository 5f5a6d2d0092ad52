"""The repository doubles speak the repositories' documented JSON and HTTP, as a plain https client sees them."""

import hashlib
import http.client
import json
import ssl

import pytest

from devhub.repositories import (
    DEMO_DOI,
    DEMO_RECORD_ID,
    DataFile,
    Deposit,
    Person,
    RepositoryDouble,
    add_demo_record,
    generated_bytes,
)


def get(double, path, *, method="GET", headers=None):
    """Send one request to the double; return (status, headers, body)."""
    context = ssl.create_default_context(cafile=str(double.ca_path))
    conn = http.client.HTTPSConnection(double.host, double.port, context=context, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def get_json(double, path):
    """Return the JSON document at `path`, asserting a 200 JSON answer."""
    status, headers, body = get(double, path, headers={"Accept": "application/json"})
    assert status == 200 and headers["content-type"] == "application/json"
    return json.loads(body)


def sample_deposit(**overrides):
    """Return a deposit of one given and one generated file."""
    values = {
        "title": "Tide gauges",
        "creators": [Person("Carberry, Josiah", orcid="0000-0002-1825-0097", affiliation="Brown University")],
        "doi": "10.5281/zenodo.42",
        "license_id": "cc-by-4.0",
        "license_name": "Creative Commons Attribution 4.0 International",
        "license_url": "https://creativecommons.org/licenses/by/4.0/legalcode",
        "keywords": ["tides"],
        "files": [DataFile("data/levels.csv", b"t,level\n1,0.5\n"), DataFile("raw.bin", size=300_000)],
    }
    values.update(overrides)
    return Deposit(**values)


def test_downloads_honour_ranges_and_head(repositories):
    url = repositories.add_file("big.bin", DataFile("big.bin", size=200_000))
    path = url.split(str(repositories.port), 1)[1]
    whole = b"".join(generated_bytes("big.bin", 0, 200_000))
    status, headers, body = get(repositories, path)
    assert (status, headers["content-length"], headers["accept-ranges"]) == (200, "200000", "bytes")
    assert body == whole
    status, headers, body = get(repositories, path, headers={"Range": "bytes=100-65635"})
    assert (status, headers["content-range"], headers["content-length"]) == (
        206,
        "bytes 100-65635/200000",
        "65536",
    )
    assert body == whole[100:65636]
    status, headers, body = get(repositories, path, headers={"Range": "bytes=199990-"})
    assert (status, body) == (206, whole[199990:])
    status, headers, body = get(repositories, path, headers={"Range": "bytes=-10"})
    assert (status, headers["content-range"], body) == (206, "bytes 199990-199999/200000", whole[-10:])
    status, headers, _ = get(repositories, path, headers={"Range": "bytes=200000-"})
    assert (status, headers["content-range"]) == (416, "bytes */200000")
    status, headers, body = get(repositories, path, method="HEAD")
    assert (status, headers["content-length"], body) == (200, "200000", b"")


def test_generated_files_are_deterministic_and_checksummed(repositories):
    first = DataFile("same/name.bin", size=70_000)
    second = DataFile("same/name.bin", size=70_000)
    repositories.add_file("a", first)
    repositories.add_file("b", second)
    data = b"".join(generated_bytes("same/name.bin", 0, 70_000))
    assert first.md5 == second.md5 == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert first.sha256 == hashlib.sha256(data).hexdigest()
    assert b"".join(generated_bytes("same/name.bin", 65_000, 66_000)) == data[65_000:66_000]


def test_invenio_rdm_record_files_and_content(repositories):
    registered = repositories.add_invenio("cbc2k-q9x58", sample_deposit())
    record = get_json(repositories, "/api/records/cbc2k-q9x58")
    assert record["id"] == "cbc2k-q9x58" and record["pids"]["doi"]["identifier"] == "10.5281/zenodo.42"
    creator = record["metadata"]["creators"][0]
    assert creator["person_or_org"]["identifiers"] == [
        {"scheme": "orcid", "identifier": "0000-0002-1825-0097"}
    ]
    assert creator["affiliations"] == [{"name": "Brown University"}]
    assert record["metadata"]["rights"][0]["id"] == "cc-by-4.0"
    assert record["access"]["files"] == "public" and record["files"]["count"] == 2
    entry = record["files"]["entries"]["data/levels.csv"]
    assert entry["checksum"] == f"md5:{registered.file('data/levels.csv').md5}" and entry["size"] == 14
    listing = get_json(repositories, "/api/records/cbc2k-q9x58/files")
    assert [e["key"] for e in listing["entries"]] == ["data/levels.csv", "raw.bin"]
    status, headers, body = get(repositories, "/api/records/cbc2k-q9x58/files/data/levels.csv/content")
    assert (status, body, headers["content-md5"]) == (200, b"t,level\n1,0.5\n", entry["checksum"][4:])
    status, _, page = get(repositories, "/records/cbc2k-q9x58")
    assert status == 200 and b"Tide gauges" in page


def test_zenodo_legacy_shape_and_old_landing_address(repositories):
    registered = repositories.add_invenio("42", sample_deposit(), legacy=True)
    record = get_json(repositories, "/api/records/42")
    assert record["id"] == 42 and record["doi"] == "10.5281/zenodo.42"
    assert record["metadata"]["access_right"] == "open" and record["metadata"]["license"] == {
        "id": "cc-by-4.0"
    }
    assert record["metadata"]["creators"][0]["orcid"] == "0000-0002-1825-0097"
    assert record["files"][1] == {
        "id": record["files"][1]["id"],
        "key": "raw.bin",
        "size": 300_000,
        "checksum": f"md5:{registered.file('raw.bin').md5}",
        "links": {"self": registered.file("raw.bin").url},
    }
    status, headers, _ = get(repositories, "/record/42")
    assert status == 301 and headers["location"] == registered.landing_url


def test_invenio_restricted_files_answer_403(repositories):
    repositories.add_invenio("43", sample_deposit(restricted=True))
    assert get_json(repositories, "/api/records/43")["access"]["files"] == "restricted"
    assert get(repositories, "/api/records/43/files")[0] == 403
    assert get(repositories, "/api/records/43/files/raw.bin/content")[0] == 403
    assert get(repositories, "/api/records/44")[0] == 404


def test_dataverse_dataset_and_access_api(repositories):
    files = [
        DataFile("survey/answers.csv", b"id,answer\n1,yes\n", media_type="text/csv", ingested=True),
        DataFile("secret.csv", b"x\n", restricted=True),
        DataFile("later.csv", b"y\n", embargo_until="2099-01-01"),
    ]
    registered = repositories.add_dataverse(
        "doi:10.7910/DVN/ABC", sample_deposit(files=files, license_name="CC0 1.0")
    )
    answer = get_json(repositories, "/api/datasets/:persistentId/?persistentId=doi:10.7910/DVN/ABC")
    assert answer["status"] == "OK"
    data = answer["data"]
    assert (data["protocol"], data["authority"], data["identifier"]) == ("doi", "10.7910", "DVN/ABC")
    version = data["latestVersion"]
    assert version["license"]["name"] == "CC0 1.0" and version["versionState"] == "RELEASED"
    fields = {field["typeName"]: field for field in version["metadataBlocks"]["citation"]["fields"]}
    author = fields["author"]["value"][0]
    assert author["authorIdentifierScheme"]["value"] == "ORCID"
    assert author["authorIdentifier"]["value"] == "0000-0002-1825-0097"
    answers, secret, later = version["files"]
    assert (answers["label"], answers["directoryLabel"]) == ("answers.tab", "survey")
    table = answers["dataFile"]
    assert (table["originalFileName"], table["originalFileFormat"]) == ("answers.csv", "text/csv")
    assert table["checksum"] == {"type": "MD5", "value": registered.file("survey/answers.csv").md5}
    assert secret["restricted"] is True and later["dataFile"]["embargo"]["dateAvailable"] == "2099-01-01"
    status, headers, archival = get(repositories, f"/api/access/datafile/{table['id']}")
    assert (status, archival, headers["content-type"]) == (
        200,
        b"id\tanswer\n1\tyes\n",
        "text/tab-separated-values",
    )
    status, _, original = get(repositories, f"/api/access/datafile/{table['id']}?format=original")
    assert (status, original) == (200, b"id,answer\n1,yes\n")
    assert get(repositories, f"/api/access/datafile/{secret['dataFile']['id']}")[0] == 403
    assert get(repositories, f"/api/access/datafile/{later['dataFile']['id']}")[0] == 403
    status, headers, _ = get(repositories, "/citation?persistentId=doi:10.7910/DVN/ABC")
    assert status == 302 and headers["location"] == registered.landing_url
    missing = get(repositories, "/api/datasets/:persistentId/?persistentId=doi:10.7910/DVN/NOPE")
    assert missing[0] == 404 and json.loads(missing[2])["status"] == "ERROR"


def test_figshare_article_files_pages_and_downloads(repositories):
    files = [DataFile(f"f{index}.txt", f"{index}\n".encode()) for index in range(25)]
    files.append(DataFile("outside.csv", size=5, link="https://data.example.org/outside.csv"))
    registered = repositories.add_figshare(
        1234567, sample_deposit(files=files, license_name="CC BY 4.0", version="3")
    )
    article = get_json(repositories, "/v2/articles/1234567")
    assert article["license"]["name"] == "CC BY 4.0" and article["version"] == 3
    assert article["authors"][0]["orcid_id"] == "0000-0002-1825-0097"
    assert article["url_public_html"] == registered.landing_url
    assert get_json(repositories, "/v2/articles/1234567/versions/3")["id"] == 1234567
    assert get(repositories, "/v2/articles/1234567/versions/2")[0] == 404
    default_page = get_json(repositories, "/v2/articles/1234567/files")
    assert [file["name"] for file in default_page] == [f"f{index}.txt" for index in range(10)]
    last = get_json(repositories, "/v2/articles/1234567/files?page=3&page_size=10")
    assert [file["name"] for file in last][-2:] == ["f24.txt", "outside.csv"]
    assert (
        last[-1]["is_link_only"] is True
        and last[-1]["download_url"] == "https://data.example.org/outside.csv"
    )
    assert default_page[0]["computed_md5"] == registered.file("f0.txt").md5
    status, _, body = get(repositories, f"/ndownloader/files/{default_page[1]['id']}")
    assert (status, body) == (200, b"1\n")
    assert get(repositories, "/v2/articles/7654321")[0] == 404


def test_doi_resolver(repositories):
    registered = repositories.add_invenio("45", sample_deposit(doi="10.5281/zenodo.45"))
    status, headers, _ = get(repositories, "/doi/10.5281/ZENODO.45")
    assert status == 302 and headers["location"] == registered.landing_url
    status, headers, body = get(repositories, "/doi/10.1234/unknown")
    assert status == 404 and headers["content-type"] == "text/html" and b"DOI Not Found" in body


def test_faults(repositories):
    repositories.add_invenio("46", sample_deposit())
    repositories.fault("^/api/records/46$", status=429, retry_after=7)
    repositories.fault("^/api/records/46$", kind="html")
    repositories.fault("^/api/records/46$", kind="garbage", count=2)
    status, headers, _ = get(repositories, "/api/records/46")
    assert (status, headers["retry-after"]) == (429, "7")
    status, headers, body = get(repositories, "/api/records/46")
    assert (status, headers["content-type"]) == (200, "text/html") and body.startswith(b"<!doctype html>")
    for _ in range(2):
        status, headers, body = get(repositories, "/api/records/46")
        assert status == 200 and headers["content-type"] == "application/json"
        with pytest.raises(ValueError):
            json.loads(body)
    assert get_json(repositories, "/api/records/46")["id"] == "46"
    assert [r.path for r in repositories.requests_for("^/api/records/46$")] == ["/api/records/46"] * 5


def test_folder_is_served_beside_the_routes(tmp_path, repositories):
    folder = tmp_path / "served"
    folder.mkdir()
    (folder / "levels.csv").write_bytes(b"a,b\n")
    pem = tmp_path / "repositories.pem"
    with RepositoryDouble(cert_file=pem, key_file=pem, folder=folder) as double:
        double.ca_path = repositories.ca_path
        add_demo_record(double)
        assert get(double, "/levels.csv")[2] == b"a,b\n"
        assert get(double, "/missing.csv")[0] == 404
        assert get_json(double, f"/api/records/{DEMO_RECORD_ID}")["doi"] == DEMO_DOI
    # Without a folder, nothing but the routes is served.
    assert get(repositories, "/levels.csv")[0] == 404


def test_demo_record_is_three_csv_files_with_a_resolving_doi(repositories):
    registered = add_demo_record(repositories)
    record = get_json(repositories, f"/api/records/{DEMO_RECORD_ID}")
    assert [file["key"] for file in record["files"]] == ["train.csv", "validation.csv", "test.csv"]
    assert record["metadata"]["license"] == {"id": "cc-by-4.0"}
    status, headers, _ = get(repositories, f"/doi/{DEMO_DOI}")
    assert status == 302 and headers["location"] == registered.landing_url
    status, _, train = get(repositories, f"/api/records/{DEMO_RECORD_ID}/files/train.csv/content")
    assert status == 200 and train.startswith(b"sample_id,harbour,") and train.count(b"\n") == 601
