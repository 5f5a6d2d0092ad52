"""The manifest's rules: splits as the Hub infers them, checksum files, safe paths, limits, the card's configs."""

import dataclasses

import pytest

from portal import i18n
from submissions import manifest
from submissions.manifest import (
    ManifestProblem,
    file_name_of,  # noqa: F401 - used through manifest too
)


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["train.csv", "test.csv", "validation.csv"], ["train", "test", "validation"]),
        (["my_train_file.csv", "test-1.csv", "dev.jsonl"], ["train", "test", "validation"]),
        (["training.csv", "eval.csv", "valid.csv"], ["train", "test", "validation"]),
        (["train1.csv", "testfile.csv"], ["train", ""]),  # "testfile" names no split: no delimiter
        (["Train.CSV", "TEST.csv"], ["train", "test"]),
        (["data.csv", "notes.pdf"], ["", ""]),
    ],
)
def test_splits_come_from_file_names_between_delimiters(paths, expected):
    assert [manifest.infer_splits(paths)[path] for path in paths] == expected


def test_folder_names_win_over_file_names_as_in_the_datasets_library():
    paths = ["train/shard_test_0.csv", "test/shard_0.csv", "README-train.txt"]
    assert manifest.infer_splits(paths) == {
        "train/shard_test_0.csv": "train",
        "test/shard_0.csv": "test",
        "README-train.txt": "",
    }


MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_md5sum_and_sha256sum_output_is_read_in_both_styles():
    text = "\n".join(
        [
            "# checksums of release 2",
            f"{MD5}  train.csv",
            f"{SHA.upper()} *data/test.csv",
            f"SHA256 (notes.pdf) = {SHA}",
            f"MD5 (./raw/a b.csv) = {MD5}",
            "",
            f"\\{MD5}  weird\\\\name.csv",
        ]
    )
    assert manifest.parse_checksums(text) == [
        {"algorithm": "md5", "digest": MD5, "name": "train.csv"},
        {"algorithm": "sha256", "digest": SHA, "name": "data/test.csv"},
        {"algorithm": "sha256", "digest": SHA, "name": "notes.pdf"},
        {"algorithm": "md5", "digest": MD5, "name": "raw/a b.csv"},
        {"algorithm": "md5", "digest": MD5, "name": "weird\\name.csv"},
    ]
    # One space, as a copy from a web page keeps it.
    assert manifest.parse_checksums(f"{MD5} one.csv") == [
        {"algorithm": "md5", "digest": MD5, "name": "one.csv"}
    ]


@pytest.mark.parametrize(
    "line",
    [
        "d41d8cd98f00b204e9800998ecf842  train.csv",  # 30 hex digits
        "zz1d8cd98f00b204e9800998ecf8427e  train.csv",
        "MD5 (train.csv) = 1234",
        "train.csv d41d8cd98f00b204e9800998ecf8427e",
    ],
)
def test_a_line_that_does_not_parse_is_named_with_what_to_write(line):
    with pytest.raises(ManifestProblem) as caught:
        manifest.parse_checksums(f"{MD5}  ok.csv\n{line}\n")
    assert "line 2 can't be read" in str(caught.value).lower()
    assert "two spaces" in str(caught.value)


def test_two_different_checksums_for_one_file_are_refused():
    with pytest.raises(ManifestProblem, match=r"another MD5 for a\.csv than line 1"):
        manifest.parse_checksums(f"{MD5}  a.csv\n{'0' * 32}  a.csv\n")


def test_checksums_match_a_whole_path_or_a_unique_file_name():
    entries = [
        {"algorithm": "md5", "digest": MD5, "name": "raw/train.csv"},
        {"algorithm": "md5", "digest": MD5, "name": "test.csv"},
        {"algorithm": "md5", "digest": MD5, "name": "data.csv"},  # two files have this name
        {"algorithm": "md5", "digest": MD5, "name": "missing.csv"},
    ]
    paths = ["raw/train.csv", "clean/train.csv", "x/test.csv", "a/data.csv", "b/data.csv"]
    matched, unmatched = manifest.match_checksums(entries, paths)
    assert matched == {"raw/train.csv": {"md5": MD5}, "x/test.csv": {"md5": MD5}}
    assert unmatched == ["data.csv", "missing.csv"]


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("../etc/passwd", "climbs out"),
        ("data/../../x", "climbs out"),
        ("/etc/passwd", "absolute"),
        ("a\x00b.csv", "control characters"),
        ("a\\b.csv", "backslashes"),
        ("a//b.csv", "empty parts"),
        ("", "no name"),
    ],
)
def test_unsafe_paths_are_refused_with_the_reason(path, words):
    with pytest.raises(ManifestProblem, match=words):
        manifest.check_path(path)


@dataclasses.dataclass(frozen=True)
class Plain:
    location: str
    url: str
    path: str


@dataclasses.dataclass(frozen=True)
class File:
    path: str
    url: str
    size: int | None
    checksums: dict
    media_type: str = ""
    restricted: bool = False
    restriction: str = ""
    restriction_message: dict | None = None


@dataclasses.dataclass(frozen=True)
class Record:
    files: tuple
    family: str = "invenio"
    doi: str = "10.5281/zenodo.1"


def plain(name, size=10):
    return (
        0,
        Plain(location=f"https://x.test/{name}", url=f"https://x.test/{name}", path=name),
        size,
        "text/csv",
    )


def test_a_record_keeps_its_folders_and_the_contributors_checksums_fill_in(settings):
    record = Record(
        files=(
            File("train/a.csv", "https://r.test/1", 5, {"md5": MD5}),
            File("test/b.csv", "https://r.test/2", 7, {}),
            File("secret.csv", "", 3, {}, restricted=True, restriction="embargoed until 2030-01-01"),
        )
    )
    built = manifest.build(
        [(0, record, None, "")], checksums=[{"algorithm": "sha256", "digest": SHA, "name": "b.csv"}]
    )
    assert built.problems == []
    rows = {entry.path: entry for entry in built.entries}
    assert rows["train/a.csv"].split == "train" and rows["test/b.csv"].split == "test"
    assert rows["train/a.csv"].checksums_from == {"md5": "record"}
    assert rows["test/b.csv"].checksums == {"sha256": SHA}
    assert rows["test/b.csv"].checksums_from == {"sha256": "contributor"}
    assert rows["secret.csv"].restricted and built.total_size == 15


def test_a_checksum_that_names_no_file_or_contradicts_the_record_is_a_problem():
    record = Record(files=(File("a.csv", "https://r.test/1", 5, {"md5": MD5}),))
    built = manifest.build(
        [(0, record, None, "")],
        checksums=[
            {"algorithm": "md5", "digest": "0" * 32, "name": "a.csv"},
            {"algorithm": "md5", "digest": MD5, "name": "b.csv"},
        ],
    )
    assert any("not the one its repository gives" in i18n.english(problem) for problem in built.problems)
    assert any("“b.csv” names no file" in i18n.english(problem) for problem in built.problems)


def test_two_records_with_a_file_of_one_name_and_too_many_files_are_problems(settings):
    settings.MAX_FILES_PER_DATASET = 2
    first = Record(files=(File("data.csv", "https://r.test/1", 5, {}),), doi="10.5072/a")
    second = Record(files=(File("DATA.csv", "https://r.test/2", 5, {}),), doi="10.5072/b")
    built = manifest.build([(0, first, None, ""), (1, second, None, ""), plain("c.csv")])
    assert any("Two files would both be DATA.csv" in i18n.english(problem) for problem in built.problems)
    assert any("more than the limit of 2" in i18n.english(problem) for problem in built.problems)


def test_a_plain_file_named_like_a_records_file_gets_another_name():
    record = Record(files=(File("data.csv", "https://r.test/1", 5, {}),))
    built = manifest.build([(0, record, None, ""), (1, *plain("data.csv")[1:])])
    assert built.problems == []
    assert [entry.path for entry in built.entries] == ["data.csv", "data-2.csv"]


def test_more_bytes_than_we_host_is_a_problem_only_when_hosting(settings):
    settings.MIRROR_MAX_BYTES = 100
    assert any(
        "more than the" in i18n.english(p)
        for p in manifest.build([plain("a.csv", 500)], hosted=True).problems
    )
    assert manifest.build([plain("a.csv", 500)], hosted=False).problems == []


def test_only_restricted_files_cannot_be_hosted():
    record = Record(files=(File("a.csv", "", 5, {}, restricted=True),))
    assert any(
        "restricted or embargoed" in i18n.english(p) for p in manifest.build([(0, record, None, "")]).problems
    )
    assert manifest.build([(0, record, None, "")], hosted=False).problems == []


def test_configs_map_each_split_to_its_files_of_the_main_format():
    files = [
        ("data/train.csv", "train", False),
        ("data/test.csv", "test", False),
        ("data/extra/test-2.csv", "test", False),
        ("data/paper.pdf", "", False),
        ("data/train.parquet", "train", False),  # a second format: left out of the configs
    ]
    assert manifest.card_configs(files) == [
        {
            "config_name": "default",
            "data_files": [
                {"split": "train", "path": "data/train.csv"},
                {"split": "test", "path": ["data/test.csv", "data/extra/test-2.csv"]},
            ],
        }
    ]


def test_no_configs_when_the_hub_infers_the_same_or_an_archive_is_unpacked():
    assert manifest.card_configs([("data/a.csv", "", False), ("data/b.csv", "", False)]) is None
    assert manifest.card_configs([("data/a.zip", "", True), ("data/train.csv", "train", True)]) is None
    assert manifest.card_configs([("data/a.pdf", "", False)]) is None


def test_a_split_of_many_files_is_given_as_folder_patterns():
    files = [(f"data/train/{n:04}.csv", "train", False) for n in range(120)]
    files += [(f"data/test/{n:04}.csv", "test", False) for n in range(60)]
    (config,) = manifest.card_configs(files)
    assert config["data_files"] == [
        {"split": "train", "path": ["data/train/*.csv*"]},
        {"split": "test", "path": ["data/test/*.csv*"]},
    ]


@pytest.mark.django_db
def test_a_submission_from_before_manifests_gets_the_one_file_of_its_location(source_server):
    import importlib

    from django.apps import apps

    from submissions.models import ManifestFile
    from tests.factories import confirmed

    source_server.add_bytes("/old%20levels.csv", b"a,b\n1,2\n", content_type="text/csv")
    submission, _ = confirmed(location=source_server.url("/old%20levels.csv"))
    ManifestFile.objects.filter(submission=submission).delete()  # as before the upgrade
    migration = importlib.import_module("submissions.migrations.0012_manifest_of_earlier_submissions")
    migration.add_manifests(apps, None)
    (row,) = ManifestFile.objects.filter(submission=submission)
    assert (row.path, row.source_url, row.size) == (
        "old levels.csv",
        source_server.url("/old%20levels.csv"),
        8,
    )
    migration.add_manifests(apps, None)  # running it again adds nothing
    assert ManifestFile.objects.filter(submission=submission).count() == 1


def test_plain_files_of_one_name_are_told_apart_by_their_folders():
    urls = [
        "https://x.test/v1/train.csv",
        "https://x.test/v2/train.csv",
        "https://y.test/data/test.csv",
        "https://y.test/data/test.csv?version=2",
    ]
    assert manifest.plain_file_paths(urls) == ["v1/train.csv", "v2/train.csv", "test.csv", "test-2.csv"]
    built = manifest.build(
        [(n, Plain(location=u, url=u, path=manifest.file_name_of(u)), 5, "") for n, u in enumerate(urls)]
    )
    assert built.problems == []
    assert [entry.path for entry in built.entries] == [
        "v1/train.csv",
        "v2/train.csv",
        "test.csv",
        "test-2.csv",
    ]


def test_one_record_given_twice_is_a_problem_and_its_files_are_kept_once():
    record = Record(files=(File("a.csv", "https://r.test/1", 5, {}),))
    built = manifest.build([(0, record, None, ""), (1, record, None, "")])
    assert any(
        "Line 2 names the same record as line 1" in i18n.english(problem) for problem in built.problems
    )
    assert [entry.path for entry in built.entries] == ["a.csv"]


@pytest.mark.django_db
def test_a_name_that_repeats_is_stored_once_and_the_check_says_why(curator, repositories):
    from devhub.repositories import DataFile, Deposit
    from submissions.models import ManifestFile
    from tests.factories import in_review

    record = repositories.add_invenio(
        "77", Deposit(title="T", files=[DataFile("train.csv", content=b"a\n1\n")], doi="10.5072/zenodo.77")
    )
    submission, _ = in_review(curator, location=f"{record.landing_url}\n10.5072/zenodo.77")
    check = submission.latest_revision.checks.get(kind="location")
    assert check.outcome == "fail" and "names the same record as line 1" in check.summary
    assert list(ManifestFile.objects.filter(submission=submission).values_list("path", flat=True)) == [
        "train.csv"
    ]
