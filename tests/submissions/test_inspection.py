"""The data check: a bounded sample of the data itself, served by the local https test source.

Each bad input of issue 10 is its own test: it ends with a clear outcome and reason, reads no more than
the byte cap, and leaves nothing of the sample in the scratch folder. No fetcher, DuckDB or pyarrow is mocked.
"""

import gzip
import io
import json
import tarfile
import zipfile

import pyarrow
import pyarrow.feather
import pyarrow.parquet
import pytest
from PIL import Image

from portal.i18n import english
from submissions.inspection.columns import catalog_columns
from submissions.inspection.report import inspect_location

MIB = 1024 * 1024

PEOPLE_CSV = (
    "id,name,email,city\n" + "".join(f"{n},Person {n},person{n}@example.org,Paris\n" for n in range(1, 60))
).encode()


@pytest.fixture(autouse=True)
def inspect_limits(settings):
    """A small cap and time limit keep every test fast; the bench measures the real defaults."""
    settings.INSPECT_MAX_BYTES = MIB
    settings.INSPECT_SECONDS = 10


@pytest.fixture
def inspect(source_server, inspect_work_dir):
    """Serve `data` at a path and inspect it; afterwards, the scratch folder must be empty."""

    def run(path, data=None, *, modalities=("text",), card_metadata=None, **options):
        if data is not None:
            source_server.add_bytes(path, data, **options)
        outcome, summary, details = inspect_location(
            source_server.url(path), modalities=modalities, card_metadata=card_metadata
        )
        assert not any(inspect_work_dir.iterdir()), "the sample was left behind"
        json.dumps(details)  # stored in a JSONField
        return outcome, english(summary), details

    return run


def texts(findings):
    """The English of a list of findings (stored messages)."""
    return [english(finding) for finding in findings]


def parquet_bytes(table):
    buffer = io.BytesIO()
    pyarrow.parquet.write_table(table, buffer)
    return buffer.getvalue()


# -- what the data is --------------------------------------------------------------------------------


def test_csv_with_email_addresses_is_a_warning_with_masked_findings_only(inspect):
    outcome, summary, details = inspect("/people.csv", PEOPLE_CSV)
    assert outcome == "warn"
    assert summary == "CSV, 4 columns, 59 rows; 1 column holds e-mail addresses"
    table = details["table"]
    assert [column["name"] for column in table["columns"]] == ["id", "name", "email", "city"]
    assert table["columns"][0]["type"] == "BIGINT"
    assert table["row_count"] == 59 and table["row_count_exact"]
    assert table["first_rows"][0] == ["id", "name", "email", "city"]
    assert len(table["first_rows"]) == 21
    assert table["first_rows"][1][2] == "p***@e***.org"
    [finding] = details["personal_data"]
    assert english(finding["place"]) == "column email"
    assert finding["kind"] == "email" and finding["count"] == 59
    assert finding["examples"] == ["p***@e***.org"]
    assert "@example.org" not in json.dumps(details)
    assert catalog_columns(details) == [
        {"name": "id", "type": "BIGINT"},
        {"name": "name", "type": "VARCHAR"},
        {"name": "email", "type": "VARCHAR"},
        {"name": "city", "type": "VARCHAR"},
    ]


def test_phone_iban_and_card_numbers_are_found_and_masked(inspect):
    data = (
        b"who,phone,iban,card\n"
        b"a,+44 20 7946 0958,GB82 WEST 1234 5698 7654 32,4111 1111 1111 1111\n"
        b"b,+33 1 42 68 53 00,DE89 3704 0044 0532 0130 00,5500 0000 0000 0004\n"
    )
    outcome, _summary, details = inspect("/pay.csv", data)
    assert outcome == "warn"
    kinds = {finding["kind"]: finding for finding in details["personal_data"]}
    assert set(kinds) == {"phone", "iban", "card"}
    assert kinds["phone"]["examples"][0] == "+44 ****** 0958"
    assert kinds["iban"]["examples"][0] == "GB** **** 5432"
    assert kinds["card"]["examples"][0] == "**** **** **** 1111"
    text = json.dumps(details)
    for secret in ("7946 0958", "WEST 1234", "4111 1111 1111 1111", "3704 0044"):
        assert secret not in text


def test_clean_csv_passes(inspect):
    data = b"station,depth,temperature\n" + b"".join(f"B{n},{n * 2},{n / 10}\n".encode() for n in range(200))
    outcome, summary, details = inspect("/buoys.csv", data)
    assert (outcome, summary) == ("pass", "CSV, 3 columns, 200 rows")
    depth = details["table"]["columns"][1]
    assert (depth["name"], depth["type"], depth["empty_share"]) == ("depth", "BIGINT", 0.0)
    # Distinct values are counted with DuckDB's HyperLogLog estimate, within a few percent.
    assert 190 <= depth["distinct"] <= 210


def test_time_zones_and_nested_values_are_shown_as_text(inspect):
    data = b'at,tags\n2024-03-01T10:00:00Z,"[1, 2]"\n2024-03-02T11:30:00+01:00,"[3]"\n'
    outcome, _summary, details = inspect("/times.csv", data)
    assert outcome == "pass"
    assert details["table"]["columns"][0]["type"].startswith("TIMESTAMP")
    assert details["table"]["first_rows"][1][0].startswith("2024-03-01 10:00:00")


def test_parquet_read_from_its_footer_with_exact_row_count(inspect, settings, source_server):
    table = pyarrow.table({"id": list(range(10_000)), "label": [f"row {n}" for n in range(10_000)]})
    outcome, summary, details = inspect("/rows.parquet", parquet_bytes(table))
    assert outcome == "pass"
    assert summary == "Parquet, 2 columns, 10,000 rows"
    assert details["table"]["columns"][0]["type"] == "BIGINT"
    assert details["table"]["first_rows"][1] == ["0", "row 0"]


def test_large_parquet_is_read_through_ranges_from_its_end(inspect, settings, source_server):
    settings.INSPECT_MAX_BYTES = 256 * 1024
    rows = 400_000
    data = parquet_bytes(
        pyarrow.table({"n": list(range(rows)), "text": [f"value {n:08d}" for n in range(rows)]})
    )
    assert len(data) > settings.INSPECT_MAX_BYTES
    outcome, summary, details = inspect("/big.parquet", data)
    assert details["ranges"] and not details["complete"]
    assert details["sampled_bytes"] <= settings.INSPECT_MAX_BYTES
    assert details["table"]["row_count"] == rows and details["table"]["row_count_exact"]
    assert summary.startswith("Parquet, 2 columns, 400,000 rows")
    assert outcome in ("pass", "warn")


def test_arrow_file(inspect):
    buffer = io.BytesIO()
    pyarrow.feather.write_feather(pyarrow.table({"x": [1, 2, 3]}), buffer, compression="uncompressed")
    outcome, summary, _details = inspect("/x.arrow", buffer.getvalue())
    assert (outcome, summary) == ("pass", "Arrow/Feather, 1 column, 3 rows")


def test_json_lines(inspect):
    data = b"".join(json.dumps({"text": f"line {n}", "label": n % 2}).encode() + b"\n" for n in range(30))
    outcome, summary, _details = inspect("/x.jsonl", data)
    assert (outcome, summary) == ("pass", "JSON Lines, 2 columns, 30 rows")


def test_zip_manifest_and_its_first_table(inspect):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", "about")
        archive.writestr("data/people.csv", PEOPLE_CSV)
        archive.writestr("data/more.csv", "a,b\n1,2\n")
    outcome, summary, details = inspect("/bundle.zip", buffer.getvalue())
    assert outcome == "warn"
    assert summary.startswith("zip archive, 3 files, data/people.csv: CSV, 4 columns, 59 rows")
    manifest = details["manifest"]
    assert manifest["file_count"] == 3 and manifest["types"] == {"text/csv": 2, "text/plain": 1}
    assert {entry["path"] for entry in manifest["entries"]} == {
        "README.txt",
        "data/people.csv",
        "data/more.csv",
    }
    assert english(details["personal_data"][0]["place"]) == "data/people.csv, column email"


def test_images_are_measured_and_declared_modalities_compared(inspect):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48)).save(buffer, format="PNG")
    outcome, summary, details = inspect("/scan.png", buffer.getvalue(), modalities=("text",))
    assert details["media"] == [{"format": "PNG", "width": 64, "height": 48}]
    assert summary.startswith("image, PNG 64×48")
    assert outcome == "warn"
    assert "The data holds images, which was not declared." in texts(details["warnings"])


def test_declared_images_but_only_csv_found_is_a_warning(inspect):
    outcome, _summary, details = inspect("/plain.csv", b"a,b\n1,2\n3,4\n", modalities=("images",))
    assert outcome == "warn"
    assert texts(details["declared"]) == ["Declared images, but the data holds text."]


def test_card_features_and_data_files_are_compared(inspect):
    metadata = {
        "configs": [
            {"config_name": "default", "data_files": [{"split": "train", "path": "train-*.parquet"}]}
        ],
        "dataset_info": {"features": [{"name": "a", "dtype": "int64"}, {"name": "label", "dtype": "string"}]},
    }
    outcome, _summary, details = inspect("/plain.csv", b"a,b\n1,2\n3,4\n", card_metadata=metadata)
    assert outcome == "warn"
    assert texts(details["declared"]) == [
        "The card's configs name data files that the data does not hold: train-*.parquet.",
        "The card's features name columns that the table does not have: label.",
    ]


# -- bad input: a clear outcome, nothing hangs, nothing leaks -----------------------------------------


def test_html_page_is_a_warning(inspect):
    page = b"<!DOCTYPE html><html><head><title>Download</title></head><body>Click here</body></html>"
    outcome, summary, _details = inspect("/download", page, content_type="text/csv")
    assert outcome == "warn"
    assert (
        summary
        == "HTML web page; The location serves a web page (HTML), not data; point it at the data file itself."
    )


def test_empty_file_fails(inspect):
    outcome, summary, _details = inspect("/empty.csv", b"")
    assert (outcome, summary) == ("fail", "empty file; The file is empty (0 bytes).")


def test_truncated_gzip_fails(inspect):
    whole = gzip.compress(PEOPLE_CSV * 20)
    outcome, summary, details = inspect("/cut.csv.gz", whole[: len(whole) // 2])
    assert outcome == "fail"
    assert "The gzip file is truncated" in summary
    assert english(details["label"]).startswith("gzip of CSV")


def test_gzip_of_csv_is_inspected_inside(inspect):
    outcome, summary, _details = inspect("/people.csv.gz", gzip.compress(PEOPLE_CSV))
    assert outcome == "warn"
    assert summary == "gzip of CSV, 4 columns, 59 rows; 1 column holds e-mail addresses"


def test_utf16_csv_is_decoded(inspect):
    data = ("name,city\n" + "".join(f"Zoë {n},Zürich\n" for n in range(20))).encode("utf-16")
    outcome, summary, details = inspect("/utf16.csv", data)
    assert (outcome, summary) == ("pass", "CSV (utf-16), 2 columns, 20 rows")
    assert details["table"]["first_rows"][1] == ["Zoë 0", "Zürich"]


def test_latin1_csv_is_decoded(inspect):
    data = ("nom;ville\n" + "".join(f"René {n};Besançon à Zürich\n" for n in range(40))).encode("latin-1")
    outcome, _summary, details = inspect("/latin1.csv", data)
    assert outcome == "pass"
    assert details["encoding"] in ("cp1252", "latin_1", "iso8859_15")
    assert details["table"]["first_rows"][1] == ["René 0", "Besançon à Zürich"]


def test_ragged_rows_are_a_warning(inspect):
    rows = [b"a,b,c"] + [b"1,2,3"] * 30 + [b"4,5"] + [b"6,7,8,9"] + [b"1,2,3"] * 5
    outcome, summary, details = inspect("/ragged.csv", b"\n".join(rows) + b"\n")
    assert outcome == "warn"
    assert "Ragged rows: the header has 3 fields but some rows have 2, 4 (first at line 32)" in summary
    assert details["table"]["row_count"] == 37


def test_json_lines_with_one_broken_line_is_a_warning(inspect):
    lines = [json.dumps({"n": n}).encode() for n in range(10)]
    lines[4] = b'{"n": 4,,}'
    outcome, summary, details = inspect("/broken.jsonl", b"\n".join(lines) + b"\n")
    assert outcome == "warn"
    assert "Line 5 is not valid JSON" in summary
    assert details["table"]["row_count"] == 10
    assert details["table"]["first_rows"][5] == [""]


def test_parquet_whose_footer_lies_fails(inspect):
    data = bytearray(parquet_bytes(pyarrow.table({"x": list(range(1000))})))
    # The 4 bytes before the closing magic give the footer's length: claim more than the file holds.
    data[-8:-4] = (len(data) * 4).to_bytes(4, "little")
    outcome, summary, _details = inspect("/lies.parquet", bytes(data))
    assert outcome == "fail"
    assert summary.startswith("Parquet; The Parquet file's footer is damaged or not Parquet:")


def test_zip_bomb_fails_without_being_unpacked(inspect, settings):
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("zeros.csv", "w") as member,
    ):
        for _ in range(64):
            member.write(bytes(MIB))
    data = buffer.getvalue()
    assert len(data) < MIB // 4
    outcome, summary, details = inspect("/bomb.zip", data)
    assert outcome == "fail"
    assert "a decompression bomb" in summary
    assert "table" not in details


def test_tar_with_links_fails_as_the_mirror_would_refuse_it(inspect):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("data/a.csv")
        payload = b"a,b\n1,2\n"
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
        link = tarfile.TarInfo("data/passwd")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        archive.addfile(link)
    outcome, summary, details = inspect("/links.tar", buffer.getvalue())
    assert outcome == "fail"
    assert "The entry 'data/passwd' is a symbolic link (to '/etc/passwd')." in texts(details["failures"])
    assert details["manifest"]["file_count"] == 1
    assert summary.startswith("tar archive, 1 file, data/a.csv: CSV")


def test_huge_file_without_ranges_reads_only_the_cap(inspect, source_server, settings):
    size = 10 * 1024**3
    source_server.add_repeated("/huge.csv", b"id,value\n", b"12345,67.5\n", size, ranges=False)
    outcome, summary, details = inspect("/huge.csv")
    assert outcome == "pass"
    assert not details["complete"] and not details["ranges"]
    assert details["sampled_bytes"] <= settings.INSPECT_MAX_BYTES
    assert summary.startswith("CSV, 2 columns, ~")
    assert summary.endswith(" M rows (estimated)")
    assert len(source_server.requests_for("/huge.csv")) == 1


def test_large_csv_with_ranges_reads_its_start_and_end_only(inspect, source_server, settings):
    size = 200 * MIB
    source_server.add_repeated("/ranged.csv", b"id,value\n", b"12345,67.5\n", size)
    outcome, summary, details = inspect("/ranged.csv")
    assert (outcome, details["ranges"], details["complete"]) == ("pass", True, False)
    assert details["sampled_bytes"] == settings.INSPECT_MAX_BYTES
    assert summary.startswith("CSV, 2 columns, ~")
    assert details["warnings"] == []


def test_plain_text_is_scanned_for_personal_data(inspect):
    text = b"Minutes of the meeting.\nCall Anna on +44 20 7946 0958 about it.\nThat was all.\n"
    outcome, summary, details = inspect("/notes.txt", text)
    assert outcome == "warn"
    assert summary == "plain text; the text holds phone numbers"
    assert details["personal_data"][0]["examples"] == ["+44 ****** 0958"]


def test_trickling_server_is_cut_at_the_time_cap(inspect, source_server, settings):
    settings.INSPECT_SECONDS = 1
    source_server.add_repeated("/slow.csv", b"id,value\n", b"1,2\n", 10 * MIB, rate=20_000)
    outcome, summary, details = inspect("/slow.csv")
    assert outcome == "warn"
    assert "the inspection covers those" in summary
    assert 0 < details["sampled_bytes"] < 200_000


def test_table_with_5000_columns(inspect):
    header = ",".join(f"c{n}" for n in range(5000)).encode()
    row = ",".join(str(n) for n in range(5000)).encode()
    outcome, summary, details = inspect("/wide.csv", header + b"\n" + row + b"\n" + row + b"\n")
    assert outcome == "warn"
    assert summary == "CSV, 5,000 columns, 2 rows; 5,000 columns: statistics cover the first 200."
    assert len(details["table"]["columns"]) == 1000
    assert len(details["table"]["first_rows"][0]) == 50


def test_one_50_mb_cell(inspect, source_server, settings):
    settings.INSPECT_MAX_BYTES = 4 * MIB
    head = b"id,text\n1,short\n2,"
    source_server.add_repeated("/cell.csv", head, b"x", 50 * MIB)
    outcome, summary, details = inspect("/cell.csv")
    assert outcome == "warn"
    assert "Line 3 is longer than 3.5\u00a0MB: it runs past the end of the sample (a huge cell?)" in summary
    assert summary.startswith("CSV, 2 columns, ~1 row (estimated);")
    assert details["table"]["first_rows"][1] == ["1", "short"]
    assert details["sampled_bytes"] <= settings.INSPECT_MAX_BYTES


def test_unknown_binary_is_a_warning(inspect, source_server):
    source_server.add_generated("/blob.bin", 4096)
    outcome, summary, _details = inspect("/blob.bin")
    assert outcome == "warn"
    assert summary.startswith("unknown binary data; The data is in a format the portal does not recognise")


def test_missing_file_fails(inspect, source_server):
    source_server.add_status("/gone.csv", 404)
    outcome, summary, _details = inspect("/gone.csv")
    assert outcome == "fail"
    assert summary.startswith("The data could not be fetched: The server 127.0.0.1 answered 404")


def test_private_address_is_blocked_without_a_connection(settings, listener, inspect_work_dir):
    settings.PORTAL_FETCH_ALLOWED_NETWORKS = []
    outcome, summary, _details = inspect_location(listener.url("/data.csv"))
    assert outcome == "fail" and english(summary).startswith("Blocked:")
    assert listener.connections == 0
