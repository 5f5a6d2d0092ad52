"""The data check tells the truth about what it read (issue 21), with a corpus of files generated here.

Each file is served by the local https source and goes through the real check (`inspect_location`): no
fetcher, reader or archive library is mocked. Archives are also handed to the mirror's unpacking
(`catalog.archives.extract_archive`): one archive policy, so the review's refusal is the mirror's own, word
for word, and what passes review unpacks.
"""

import gzip
import io
import random
import stat
import tarfile
import zipfile

import pytest
from django.test import Client
from django.utils import translation

from catalog.archives import UnsafeArchive, extract_archive
from portal.i18n import english, translated
from submissions import approval
from submissions.inspection.report import inspect_location
from tests.factories import in_review

MIB = 1024 * 1024
NB = "\u00a0"


@pytest.fixture(autouse=True)
def inspect_limits(settings):
    settings.INSPECT_MAX_BYTES = MIB
    settings.INSPECT_SECONDS = 20


@pytest.fixture
def inspect(source_server, inspect_work_dir):
    """Serve `data` at `path` (unless already served) and return (outcome, English summary, details)."""

    def run(path, data=None, *, modalities=("text",)):
        if data is not None:
            source_server.add_bytes(path, data)
        outcome, summary, details = inspect_location(source_server.url(path), modalities=modalities)
        assert not any(inspect_work_dir.iterdir()), "the sample was left behind"
        return outcome, english(summary), details

    return run


def texts(findings):
    return [english(finding) for finding in findings]


def varied_csv(rows):
    """A CSV that compresses like real data (a few times, not hundreds)."""
    generator = random.Random(21)
    lines = [b"id,station,value,note\n"]
    lines += [f"{n},S{generator.randrange(100)},{generator.random():.3f},ok\n".encode() for n in range(rows)]
    return b"".join(lines)


# -- gzip: a bomb is named as one, a long stream is not "truncated" ------------------------------------------


def test_gzip_bomb_is_named_a_decompression_bomb_like_a_zip_bomb(inspect):
    bomb = gzip.compress(b"a,b\n" + b"1,2\n" * (100 * MIB // 4))
    assert len(bomb) < MIB // 4
    outcome, summary, details = inspect("/bomb.csv.gz", bomb)
    assert outcome == "fail"
    assert summary == (
        "gzip of CSV; The gzip expands more than 200 times its compressed size (a decompression bomb)."
    )
    assert not any("truncated" in text for text in texts(details["failures"]))
    # What a bomb says it holds is not believed: no table, no rows estimated from it.
    assert "table" not in details and "rows" not in summary

    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.csv", b"1,2\n" * (20 * MIB // 4))
    outcome, summary, _details = inspect("/bomb.zip", zipped.getvalue())
    assert outcome == "fail" and "(a decompression bomb)" in summary


def test_gzip_longer_than_the_sample_is_neither_truncated_nor_a_bomb(inspect, settings):
    data = gzip.compress(varied_csv(60_000))
    assert len(data) < settings.INSPECT_MAX_BYTES < len(gzip.decompress(data))
    outcome, summary, details = inspect("/long.csv.gz", data)
    assert (outcome, details["failures"], details["warnings"]) == ("pass", [], [])
    assert summary.startswith("gzip of CSV, 4 columns, ")


def test_gzip_cut_short_is_still_truncated(inspect):
    whole = gzip.compress(varied_csv(2000))
    outcome, summary, _details = inspect("/cut.csv.gz", whole[: len(whole) // 2])
    assert outcome == "fail"
    assert "The gzip file is truncated: it ends before its compressed stream does." in summary


# -- long lines: what is wrong and where ------------------------------------------------------------------


def test_csv_whose_first_line_is_longer_than_the_sample_does_not_pass_as_plain_text(inspect, source_server):
    source_server.add_repeated("/first.csv", b"id,", b"x", 20 * MIB)
    outcome, summary, details = inspect("/first.csv")
    assert outcome == "warn"
    [warning] = texts(details["warnings"])
    assert warning.startswith("Line 1 is longer than ")
    assert "KB: it runs past the end of the sample (a huge cell?)" in warning
    assert "could not tell whether the data is a table" in warning
    assert summary == f"plain text; {warning}"


def test_csv_whose_first_line_is_long_but_whole_says_its_length(inspect, settings):
    settings.INSPECT_MAX_BYTES = 8 * MIB
    data = b"id," + b"x" * (3 * MIB) + b"\n1,2\n"
    outcome, _summary, details = inspect("/wide-header.csv", data)
    assert outcome == "warn"
    assert texts(details["warnings"])[0].startswith(f"Line 1 is 3.0{NB}MB long (a huge cell?)")


def test_long_cell_further_down_a_whole_file_is_located_not_a_csv_error(inspect, settings):
    settings.INSPECT_MAX_BYTES = 32 * MIB
    data = b"id,text\n1,short\n2,long\n3," + b"x" * (20 * MIB + MIB // 2) + b"\n4,after\n"
    outcome, summary, details = inspect("/cell.csv", data)
    assert outcome == "warn"
    assert "CSV Error" not in summary and "Line: 1" not in summary
    assert texts(details["warnings"]) == [
        f"Line 4 is 20.5{NB}MB long (a huge cell?); the rows from there on were not read."
    ]
    table = details["table"]
    assert table["first_rows"][1:] == [["1", "short"], ["2", "long"]]
    assert (table["row_count"], table["row_count_exact"]) == (2, False)


def test_long_line_of_json_lines_is_located(inspect, settings):
    settings.INSPECT_MAX_BYTES = 8 * MIB
    data = b'{"n": 1}\n{"n": 2}\n{"n": "' + b"x" * (2 * MIB) + b'"}\n{"n": 4}\n'
    outcome, _summary, details = inspect("/long.jsonl", data)
    assert outcome == "warn"
    assert texts(details["warnings"]) == [
        f"Line 3 is 2.0{NB}MB long (a huge cell?); the rows from there on were not read."
    ]
    assert details["table"]["row_count"] == 2


# -- declared vs found ----------------------------------------------------------------------------------


PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def test_pdf_where_text_was_declared_is_a_warning(inspect):
    outcome, summary, details = inspect("/table.csv", PDF, modalities=("text",))
    assert outcome == "warn"
    assert texts(details["declared"]) == [
        "Declared text, but the data is a PDF document, made for people to read: tools cannot load it as a "
        "dataset. Point the location at the data itself, or say in the card why a document is the data."
    ]
    assert summary.startswith("PDF document; Declared text, but the data is a PDF document")


def test_pdf_where_images_were_declared_names_them(inspect):
    outcome, _summary, details = inspect("/scans", PDF, modalities=("images", "text"))
    assert outcome == "warn"
    assert texts(details["declared"])[0].startswith("Declared images, text, but the data is a PDF document")


def test_image_where_text_was_declared_is_a_warning(inspect):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="PNG")
    outcome, _summary, details = inspect("/table.csv", buffer.getvalue(), modalities=("text",))
    assert outcome == "warn"
    assert texts(details["declared"]) == ["The data holds images, which was not declared."]


# -- one archive policy: what review refuses, the mirror refuses, in the same words -------------------------


def _zip(entries):
    """A zip of (ZipInfo or name, data) pairs; a ZipInfo lets a test set modes and flags."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return buffer.getvalue()


def _symlink(name, target):
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


def _encrypted_zip():
    data = bytearray(_zip([("a.csv", b"a,b\n1,2\n"), ("secret.csv", b"a,b\n3,4\n")]))
    # Set bit 0 (encrypted) of the second entry's flags, in its local header and the central directory.
    local = data.find(b"PK\x03\x04", data.find(b"PK\x03\x04") + 4)
    central = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 4)
    data[local + 6] |= 0x1
    data[central + 8] |= 0x1
    return bytes(data)


def _duplicate_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", b"a,b\n1,2\n")
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("data.csv", b"a,b\n3,4\n")
    return buffer.getvalue()


def _tar(members, mode="w"):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.REGTYPE:
                info.size = len(payload)
                archive.addfile(info, io.BytesIO(payload))
            else:
                info.linkname = payload.decode()
                archive.addfile(info)
    return buffer.getvalue()


CSV = b"a,b\n1,2\n"
HOSTILE = {
    "zip-symlink": (
        _zip([("a.csv", CSV), _symlink("passwd", "/etc/passwd")]),
        "The entry 'passwd' is a symbolic link.",
    ),
    "zip-encrypted": (
        _encrypted_zip(),
        "The entry 'secret.csv' is encrypted (password-protected archives cannot be unpacked).",
    ),
    "zip-control-characters": (
        _zip([("a.csv", CSV), ("b\x07.csv", CSV)]),
        "The entry 'b\\x07.csv' has control characters in its name.",
    ),
    "zip-duplicate": (
        _duplicate_zip(),
        "The entry 'data.csv' appears twice in the archive (duplicate entry).",
    ),
    "zip-slip": (
        _zip([("a.csv", CSV), ("../evil.csv", CSV)]),
        "The entry '../evil.csv' climbs out of the folder with '..'.",
    ),
    "zip-absolute": (_zip([("/etc/evil.csv", CSV)]), "The entry '/etc/evil.csv' has an absolute path."),
    "zip-file-as-folder": (
        _zip([("a", CSV), ("a/b.csv", CSV)]),
        "The entry 'a/b.csv' lies inside 'a', which is a file.",
    ),
    "zip-bomb": (
        _zip([("zeros.csv", b"0" * (20 * MIB))]),
        "The entry 'zeros.csv' expands more than 200 times its compressed size (a decompression bomb).",
    ),
    "tar-symlink": (
        _tar([("data/a.csv", tarfile.REGTYPE, CSV), ("data/passwd", tarfile.SYMTYPE, b"/etc/passwd")]),
        "The entry 'data/passwd' is a symbolic link (to '/etc/passwd').",
    ),
    "tar-hardlink": (
        _tar([("a.csv", tarfile.REGTYPE, CSV), ("b.csv", tarfile.LNKTYPE, b"a.csv")]),
        "The entry 'b.csv' is a hard link (to 'a.csv').",
    ),
    "tar-fifo": (
        _tar([("a.csv", tarfile.REGTYPE, CSV), ("pipe", tarfile.FIFOTYPE, b"")]),
        "The entry 'pipe' is a FIFO (named pipe).",
    ),
    "tgz-device": (
        _tar([("a.csv", tarfile.REGTYPE, CSV), ("dev/null", tarfile.CHRTYPE, b"")], mode="w:gz"),
        "The entry 'dev/null' is a device file.",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_an_archive_the_mirror_refuses_fails_the_data_check_in_the_mirrors_words(
    case, inspect, tmp_path, settings
):
    data, refusal = HOSTILE[case]
    outcome, summary, details = inspect(f"/{case}.archive", data)
    assert outcome == "fail"
    failures = texts(details["failures"])
    assert refusal in failures
    assert failures[-1].startswith("The portal's mirror refuses to unpack this archive on the Hub")
    assert refusal in summary

    archive = tmp_path / f"{case}.archive"
    archive.write_bytes(data)
    with pytest.raises(UnsafeArchive) as caught:
        extract_archive(
            archive,
            tmp_path / "out",
            max_total_bytes=settings.MIRROR_MAX_BYTES,
            max_files=settings.MIRROR_MAX_FILES,
            max_ratio=settings.MIRROR_MAX_RATIO,
        )
    assert refusal in str(caught.value)
    assert english(caught.value.message) == str(caught.value)


def test_too_many_entries_is_refused_by_both(inspect, tmp_path, settings):
    settings.MIRROR_MAX_FILES = 3
    data = _zip([(f"part-{n}.csv", CSV) for n in range(5)])
    outcome, _summary, details = inspect("/many.zip", data)
    refusal = "The archive has 5 entries, over the limit of 3 files and folders."
    assert outcome == "fail" and refusal in texts(details["failures"])
    archive = tmp_path / "many.zip"
    archive.write_bytes(data)
    with pytest.raises(UnsafeArchive, match=refusal):
        extract_archive(archive, tmp_path / "out", max_total_bytes=MIB, max_files=3, max_ratio=200)


def test_many_refused_entries_are_counted_beyond_the_first_five(inspect):
    data = _zip([(f"../evil-{n}.csv", CSV) for n in range(8)])
    outcome, _summary, details = inspect("/slip.zip", data)
    failures = texts(details["failures"])
    assert outcome == "fail" and len(failures) == 7
    assert failures[5] == "3 more entries of the archive are refused too."


def test_an_archive_that_passes_review_unpacks(inspect, tmp_path, settings):
    data = _zip([("data/", b""), ("data/train.csv", CSV), ("data/test.csv", CSV), ("README.txt", b"about")])
    outcome, _summary, details = inspect("/good.zip", data)
    assert (outcome, details["failures"]) == ("pass", [])
    archive = tmp_path / "good.zip"
    archive.write_bytes(data)
    files = extract_archive(
        archive,
        tmp_path / "out",
        max_total_bytes=settings.MIRROR_MAX_BYTES,
        max_files=settings.MIRROR_MAX_FILES,
        max_ratio=settings.MIRROR_MAX_RATIO,
    )
    assert sorted(item.path for item in files) == ["README.txt", "data/test.csv", "data/train.csv"]


@pytest.mark.django_db
def test_a_zip_holding_a_symlink_needs_the_curators_override(curator, source_server, queued_mirrors):
    data, refusal = HOSTILE["zip-symlink"]
    source_server.add_bytes("/bundle.zip", data)
    submission, _token = in_review(curator, location=source_server.url("/bundle.zip"))
    gate = approval.gate_for(submission)
    assert gate.needs_override
    assert any(refusal in concern for concern in gate.concerns)


# -- in the reader's language ----------------------------------------------------------------------------


def test_findings_are_stored_once_and_read_in_french(inspect, settings):
    settings.INSPECT_MAX_BYTES = 32 * MIB
    data = b"id,text\n1,short\n2,long\n3," + b"x" * (20 * MIB + MIB // 2) + b"\n4,after\n"
    _outcome, _summary, details = inspect("/cell.csv", data)
    [warning] = details["warnings"]
    with translation.override("fr"):
        assert translated(warning) == (
            "La ligne 4 fait 20,5\u00a0Mio (une cellule énorme\u00a0?)\u00a0; "
            "les lignes à partir de celle-ci n’ont pas été lues."
        )
        assert translated(details["label"]) == "CSV"
        assert translated(details["delimiter"]) == "virgule"


def test_archive_refusals_and_personal_data_read_in_french(inspect):
    rows = b"name,email\n" + b"".join(f"P{n},p{n}@example.org\n".encode() for n in range(3))
    data = _zip([("people.csv", rows), _symlink("passwd", "/etc/passwd")])
    _outcome, summary, details = inspect("/bundle.zip", data)
    assert summary == "zip archive, 1 file; The entry 'passwd' is a symbolic link."
    with translation.override("fr"):
        assert translated(details["failures"][0]) == "L’élément 'passwd' est un lien symbolique."
        assert translated(details["label"]) == "archive zip"


@pytest.mark.django_db
def test_review_page_shows_the_findings_in_french(curator, source_server, queued_mirrors):
    rows = b"name,email\n" + b"".join(f"P{n},p{n}@example.org\n".encode() for n in range(30))
    source_server.add_bytes("/people.csv", rows, content_type="text/csv")
    submission, _token = in_review(curator, location=source_server.url("/people.csv"))
    client = Client()
    client.force_login(curator)
    content = client.get(
        f"/admin/submissions/submission/{submission.pk}/change/", HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    panel = content[
        content.index('<section id="data"') : content.index("</section>", content.index('<section id="data"'))
    ]
    assert "Données personnelles\u00a0: 1 colonne contient des adresses e-mail." in panel
    assert "<td>colonne email</td><td>adresses e-mail</td>" in panel
    assert "virgule" in panel
    english = client.get(f"/admin/submissions/submission/{submission.pk}/change/").content.decode()
    assert "Personal data: 1 column holds e-mail addresses." in english


@pytest.mark.django_db
def test_status_page_says_what_was_found_in_french(curator, source_server, queued_mirrors):
    rows = b"name,email\n" + b"".join(f"P{n},p{n}@example.org\n".encode() for n in range(1200))
    source_server.add_bytes("/people.csv", rows, content_type="text/csv")
    _submission, token = in_review(curator, location=source_server.url("/people.csv"))
    text = Client().get(f"/status/{token}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert f"CSV, 2 colonnes, 1{NB}200 lignes{NB}; 1 colonne contient des adresses e-mail" in text
