"""Tests for submissions.cards: what a card upload is refused for, and what the curator is told."""

import hashlib
import json
from pathlib import Path

import pytest

from submissions import carddata
from submissions.cards import CardRejected, Finding, ParsedCard, check_card_filename, lint_card, parse_card

CARDS = Path(__file__).resolve().parent.parent / "data" / "cards"

MINIMAL_BODY = (
    "# Card\n\n## Dataset Description\nText.\n\n## Uses\nText.\n\n## Dataset Structure\nText.\n\n"
    "## Licensing Information\nText.\n\n## Citation\nText.\n"
)


def card_bytes(header: str, body: str = MINIMAL_BODY) -> bytes:
    return f"---\n{header}---\n{body}".encode()


def parse(raw: bytes, **kwargs) -> ParsedCard:
    parsed = parse_card(raw, filename=kwargs.pop("filename", "README.md"), **kwargs)
    # Every accepted card must be storable in a JSON field as it is.
    assert json.loads(json.dumps(parsed.metadata, allow_nan=False)) == parsed.metadata
    return parsed


def codes(parsed: ParsedCard) -> list[str]:
    return [finding.code for finding in parsed.findings]


def rejected(raw: bytes, *, filename: str = "README.md", **kwargs) -> CardRejected:
    with pytest.raises(CardRejected) as info:
        parse_card(raw, filename=filename, **kwargs)
    return info.value


GOOD_HEADER = "license: mit\npretty_name: Good\nlanguage: [en]\n"


# Accepted cards


def test_full_card_parses_without_findings():
    raw = (CARDS / "good.md").read_bytes()
    parsed = parse(raw, filename="good.md")
    assert parsed.findings == []
    assert parsed.metadata["license"] == "cc-by-4.0"
    assert parsed.metadata["language"] == ["en", "fi", "sv"]
    assert parsed.metadata["configs"][0]["config_name"] == "default"
    assert parsed.metadata["dataset_info"]["features"][3]["dtype"]["class_label"]["names"]["1"] == "storm"
    assert parsed.body.lstrip().startswith("# Dataset Card for Baltic Sea Buoy Observations")
    assert "<details>" in parsed.body
    assert parsed.size == len(raw)
    assert len(parsed.sha256) == 64


def test_crlf_card_keeps_header():
    raw = (CARDS / "good.md").read_bytes().replace(b"\n", b"\r\n")
    parsed = parse(raw, filename="good.md")
    assert parsed.findings == []
    assert parsed.metadata["pretty_name"] == "Baltic Sea Buoy Observations"


def test_bom_card_keeps_header_and_strips_bom():
    raw = (CARDS / "bom.md").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    parsed = parse(raw, filename="bom.md")
    assert not parsed.text.startswith("\ufeff")
    assert parsed.metadata["license"] == "mit"
    assert parsed.findings == []


def test_bom_with_crlf_keeps_header():
    raw = (CARDS / "bom.md").read_bytes().replace(b"\n", b"\r\n")
    parsed = parse(raw, filename="bom.md")
    assert parsed.metadata["pretty_name"] == "BOM card"
    assert "header-ignored" not in codes(parsed)


def test_sha256_is_of_raw_bytes():
    raw = (CARDS / "bom.md").read_bytes()
    parsed = parse(raw, filename="bom.md")
    assert parsed.sha256 == hashlib.sha256(raw).hexdigest()


def test_language_no_is_kept_as_norwegian():
    parsed = parse(card_bytes("license: mit\npretty_name: N\nlanguage: [no, en]\n"))
    assert parsed.metadata["language"] == ["no", "en"]
    assert "language-no-as-false" in codes(parsed)
    assert "language-unknown" not in codes(parsed)


def test_language_no_scalar_is_kept_as_norwegian():
    parsed = parse(card_bytes("license: mit\npretty_name: N\nlanguage: no\n"))
    assert parsed.metadata["language"] == "no"


def test_old_keys_give_info_findings_not_warnings():
    parsed = parse((CARDS / "old_keys.md").read_bytes(), filename="old_keys.md")
    assert sorted(codes(parsed)) == ["language-old-key", "license-old-key"]
    assert {finding.level for finding in parsed.findings} == {"info"}


def test_dates_become_iso_strings():
    parsed = parse(card_bytes(GOOD_HEADER + "created: 2024-05-01\nseen: 2024-05-01 10:00:00\n"))
    assert parsed.metadata["created"] == "2024-05-01"
    assert parsed.metadata["seen"].startswith("2024-05-01T10:00:00")


def test_nested_numeric_keys_are_kept_as_text():
    parsed = parse(card_bytes(GOOD_HEADER + "labels:\n  0: calm\n  1: storm\n"))
    assert parsed.metadata["labels"] == {"0": "calm", "1": "storm"}
    assert "key-converted" in codes(parsed)


def test_raw_html_body_is_accepted_as_text():
    parsed = parse(card_bytes(GOOD_HEADER, MINIMAL_BODY + "<script>alert(1)</script>\n"))
    assert "<script>" in parsed.body


def test_card_near_one_mebibyte_parses():
    features = "".join(f"  - name: column_{index}\n    dtype: string\n" for index in range(2000))
    header = GOOD_HEADER + "dataset_info:\n  features:\n" + features
    row = "| " + " | ".join(["value"] * 12) + " |\n"
    body = MINIMAL_BODY + row * ((1024 * 1024 - 80_000) // len(row))
    raw = card_bytes(header, body)
    assert 900 * 1024 < len(raw) <= 1024 * 1024
    parsed = parse(raw)
    assert len(parsed.metadata["dataset_info"]["features"]) == 2000
    assert parsed.findings == []


def test_max_bytes_defaults_to_setting(settings):
    settings.PORTAL_CARD_MAX_BYTES = 100
    error = rejected(card_bytes(GOOD_HEADER))
    assert error.code == "too-large"
    assert "limit of 100 bytes" in str(error)


def test_finding_round_trips_through_dict():
    finding = Finding(level="warning", code="license-missing", message="Add a licence.")
    assert Finding.from_dict(json.loads(json.dumps(finding.to_dict()))) == finding


# Refused uploads


def test_empty_file_is_refused():
    error = rejected(b"")
    assert error.code == "empty"
    assert str(error).startswith("The card is empty. Upload the README.md of your dataset")


def test_whitespace_only_file_is_refused():
    assert rejected(b" \n\r\n\t ").code == "empty"


def test_bom_only_file_is_refused_as_empty():
    assert rejected(b"\xef\xbb\xbf\n").code == "empty"


def test_oversized_card_is_refused():
    error = rejected(card_bytes(GOOD_HEADER) + b"x" * 2048, max_bytes=1024)
    assert error.code == "too-large"
    assert "more than the limit of 1.0 KB" in str(error)


def test_latin1_card_is_refused_as_not_utf8():
    error = rejected("---\nlicense: mit\n---\n# Caf\u00e9\n".encode("latin-1"))
    assert error.code == "not-utf8"
    assert "not UTF-8" in str(error)


def test_utf16_card_is_refused_as_not_utf8():
    error = rejected("---\nlicense: mit\n---\n".encode("utf-16"))
    assert error.code == "not-utf8"
    assert "UTF-16" in str(error)


def test_nul_bytes_are_refused_as_binary():
    error = rejected(b"---\nlicense: mit\n---\nhello\x00world\n")
    assert error.code == "binary"
    assert "NUL" in str(error)


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"rest of image", "PNG"),
        (b"%PDF-1.7\n% text-like start\n", "PDF"),
    ],
)
def test_known_binary_formats_are_refused(raw, kind):
    error = rejected(raw)
    assert error.code == "binary"
    assert kind in str(error)


def test_control_characters_are_refused_as_binary():
    error = rejected(b"hello " + b"\x01\x02\x03\x1b" * 50)
    assert error.code == "binary"
    assert "control characters" in str(error)


@pytest.mark.parametrize("filename", ["card.pdf", "README", "card.md.exe", "card.html"])
def test_wrong_extension_is_refused(filename):
    with pytest.raises(CardRejected, match=r"must be a \.md, \.markdown or \.txt file") as info:
        check_card_filename(filename)
    assert info.value.code == "extension"


@pytest.mark.parametrize("filename", ["README.MD", "card.Markdown", "notes.TXT"])
def test_extension_check_ignores_case(filename):
    check_card_filename(filename)
    assert parse(card_bytes(GOOD_HEADER), filename=filename).metadata["license"] == "mit"


@pytest.mark.parametrize("filename", ["../README.md", "docs/README.md", "C:\\cards\\README.md", "a..md"])
def test_filename_with_path_parts_is_refused(filename):
    error = rejected(card_bytes(GOOD_HEADER), filename=filename)
    assert error.code == "filename"
    assert "without folders" in str(error)


@pytest.mark.parametrize("filename", ["READ\x00ME.md", "READ\nME.md", "\x1bREADME.md", "card\u202edm.exe.md"])
def test_filename_with_control_characters_is_refused(filename):
    error = rejected(card_bytes(GOOD_HEADER), filename=filename)
    assert error.code == "filename"
    assert "control characters" in str(error)


def test_broken_yaml_is_refused_with_line_number():
    error = rejected(b"---\nlicense: mit\npretty_name: X\n  bad: : value\n---\nbody\n")
    assert error.code == "yaml-invalid"
    assert "broken at line 4:" in str(error)


def test_broken_yaml_line_number_counts_crlf_lines():
    error = rejected(b"\r\n---\r\nlicense: mit\r\n  bad: : x\r\npretty_name: y\r\n---\r\nbody\r\n")
    assert error.code == "yaml-invalid"
    assert "broken at line 4:" in str(error)


@pytest.mark.parametrize("header", ["- license\n- mit\n", "just a sentence\n", "42\n"])
def test_header_that_is_not_a_mapping_is_refused(header):
    error = rejected(card_bytes(header))
    assert error.code == "yaml-not-mapping"
    assert "must be a mapping" in str(error)


def test_python_object_tag_is_refused():
    error = rejected(card_bytes("license: !!python/object/apply:os.system ['true']\n"))
    assert error.code == "yaml-tag"
    assert "!!python/object/apply:os.system" in str(error)
    assert "Tags" in str(error)


def test_custom_local_tag_is_refused():
    assert rejected(card_bytes("license: !secret mit\n")).code == "yaml-tag"


def test_alias_bomb_is_refused():
    levels = ["a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']"]
    for index in range(1, 10):
        previous = chr(ord("a") + index - 1)
        name = chr(ord("a") + index)
        levels.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    error = rejected(card_bytes("\n".join(levels) + "\n"))
    assert error.code == "yaml-alias"
    assert "Anchors and aliases are not supported" in str(error)


def test_single_anchor_is_refused():
    error = rejected(card_bytes("license: &lic mit\nother: *lic\n"))
    assert error.code == "yaml-alias"
    assert "line 2" in str(error).lower()


def test_integer_key_is_refused():
    error = rejected(card_bytes("1: one\nlicense: mit\n"))
    assert error.code == "yaml-key"
    assert "'1'" in str(error)


@pytest.mark.parametrize("key", ["to_dict", "get", "ignore_metadata_errors"])
def test_key_shadowing_parser_method_is_refused(key):
    error = rejected(card_bytes(f"{key}: 1\nlicense: mit\n"))
    assert error.code == "yaml-key"
    assert f"'{key}' is reserved" in str(error)


def test_list_header_with_numeric_keys_is_refused_as_not_a_mapping():
    assert rejected(card_bytes("- 1: a\n")).code == "yaml-not-mapping"


def test_underscore_key_is_accepted():
    parsed = parse(card_bytes(GOOD_HEADER + "_comment: kept\n"))
    assert parsed.metadata["_comment"] == "kept"


def test_complex_key_is_refused():
    error = rejected(card_bytes("? [a, b]\n: value\n"))
    assert error.code == "yaml-key"


def test_deep_nesting_is_refused():
    error = rejected(card_bytes("deep: " + "[" * 500 + "]" * 500 + "\n"))
    assert error.code == "yaml-too-deep"
    assert "nests more than" in str(error)


def test_huge_header_is_refused(settings):
    settings.PORTAL_CARD_MAX_METADATA_BYTES = 10_000
    header = GOOD_HEADER + "items:\n" + "".join(f"- item number {index}\n" for index in range(1000))
    error = rejected(card_bytes(header))
    assert error.code == "metadata-too-large"


# Headers the library would drop silently


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"--- \nlicense: mit\n---\n# Body\n", "spaces or tabs after the dashes"),
        (b"---\nlicense: mit\n# Body without end\n", "no closing '---' line"),
        (b"---\n---\n# Body\n", "it is empty"),
    ],
)
def test_dropped_header_is_reported(raw, reason):
    parsed = parse(raw)
    assert parsed.metadata == {}
    header_findings = [finding for finding in parsed.findings if finding.code == "header-ignored"]
    assert len(header_findings) == 1
    assert header_findings[0].level == "warning"
    assert reason in header_findings[0].message


def test_card_without_header_has_no_header_finding():
    parsed = parse(MINIMAL_BODY.encode())
    assert "header-ignored" not in codes(parsed)
    assert "license-missing" in codes(parsed)


# Lint findings


def test_duplicate_keys_are_reported_and_last_wins():
    parsed = parse(card_bytes("license: apache-2.0\npretty_name: D\nlicense: mit\n"))
    assert parsed.metadata["license"] == "mit"
    duplicates = [finding for finding in parsed.findings if finding.code == "duplicate-key"]
    assert len(duplicates) == 1
    assert "'license'" in duplicates[0].message
    assert "lines 2 and 4" in duplicates[0].message


def test_nested_duplicate_keys_name_their_path():
    header = GOOD_HEADER + "dataset_info:\n  dataset_size: 1\n  dataset_size: 2\n"
    parsed = parse(card_bytes(header))
    messages = [finding.message for finding in parsed.findings if finding.code == "duplicate-key"]
    assert len(messages) == 1
    assert "under 'dataset_info'" in messages[0]


def test_same_key_in_sibling_mappings_is_not_a_duplicate():
    header = GOOD_HEADER + "configs:\n- config_name: a\n- config_name: b\n"
    assert "duplicate-key" not in codes(parse(card_bytes(header)))


def test_missing_license_is_a_warning():
    findings = lint_card({"pretty_name": "X"}, MINIMAL_BODY)
    assert [(finding.level, finding.code) for finding in findings] == [("warning", "license-missing")]


def test_unknown_license_is_a_warning_with_hint():
    findings = lint_card({"pretty_name": "X", "license": "CC-BY-4.0"}, MINIMAL_BODY)
    assert [finding.code for finding in findings] == ["license-unknown"]
    assert "Did you mean 'cc-by-4.0'" in findings[0].message


def test_non_string_license_items_are_warned():
    parsed = parse(card_bytes("license: [mit, 3, true]\npretty_name: X\n"))
    assert codes(parsed).count("license-not-text") == 2


def test_license_other_without_name_is_noted():
    findings = lint_card({"pretty_name": "X", "license": "other"}, MINIMAL_BODY)
    assert [finding.code for finding in findings] == ["license-other-unnamed"]
    findings = lint_card({"pretty_name": "X", "license": "other", "license_name": "acme"}, MINIMAL_BODY)
    assert findings == []


def test_unknown_language_codes_are_warned():
    findings = lint_card({"pretty_name": "X", "license": "mit", "language": ["en", "yue", "english"]}, "")
    language = [finding for finding in findings if finding.code == "language-unknown"]
    assert len(language) == 1
    assert "'english'" in language[0].message


def test_special_language_values_are_accepted():
    findings = lint_card({"pretty_name": "X", "license": "mit", "language": ["code", "multilingual"]}, "")
    assert "language-unknown" not in [finding.code for finding in findings]


def test_unknown_size_category_is_warned():
    findings = lint_card({"pretty_name": "X", "license": "mit", "size_categories": ["n<1K", "big"]}, "")
    assert [finding.code for finding in findings].count("size-category-unknown") == 1


def test_unknown_task_category_is_warned_and_task_id_noted():
    metadata = {
        "pretty_name": "X",
        "license": "mit",
        "task_categories": ["text-classification", "mind-reading"],
        "task_ids": ["sentiment-classification", "telepathy"],
    }
    findings = [finding for finding in lint_card(metadata, MINIMAL_BODY)]
    assert [(finding.level, finding.code) for finding in findings] == [
        ("warning", "task-category-unknown"),
        ("info", "task-id-unknown"),
    ]


def test_missing_pretty_name_is_warned():
    findings = lint_card({"license": "mit"}, MINIMAL_BODY)
    assert [finding.code for finding in findings] == ["pretty-name-missing"]


def test_missing_sections_are_each_warned():
    findings = lint_card({"license": "mit", "pretty_name": "X"}, "# Title\n\nJust some words.\n")
    assert [finding.code for finding in findings] == [
        "section-missing-description",
        "section-missing-uses",
        "section-missing-structure",
        "section-missing-licensing",
        "section-missing-citation",
    ]


def test_section_synonyms_and_case_are_accepted():
    body = (
        "# T\n\n## DATASET SUMMARY\n\n### Intended uses\n\n## Data Fields\n\n"
        "## License\n\nSetext citation\n---\n\ntext\n"
    )
    assert lint_card({"license": "mit", "pretty_name": "X"}, body) == []


def test_headings_inside_code_blocks_do_not_count():
    body = "```\n## Citation\n```\n" + MINIMAL_BODY.replace("## Citation\n", "")
    findings = lint_card({"license": "mit", "pretty_name": "X"}, body)
    assert [finding.code for finding in findings] == ["section-missing-citation"]


# The Hub's value lists


def test_value_lists_hold_the_hubs_values():
    assert {"apache-2.0", "mit", "cc-by-4.0", "cc-by-sa-4.0", "cc0-1.0", "cdla-permissive-2.0"} <= (
        carddata.license_ids()
    )
    assert {"odc-by", "odbl", "other", "unknown", "cc-by-nc-sa-4.0"} <= carddata.license_ids()
    assert carddata.license_info("cc-by-4.0")["url"] == "https://creativecommons.org/licenses/by/4.0/"
    assert carddata.license_info("no-such-licence") is None
    assert carddata.size_categories()[0] == "n<1K"
    assert "100B<n<1T" in carddata.size_categories()
    assert {"text-classification", "time-series-forecasting", "any-to-any", "other"} <= (
        carddata.task_categories()
    )
    codes_known = carddata.language_codes()
    assert {"en", "no", "yue", "fin", "zh", "code", "multilingual"} <= codes_known
    assert "english" not in codes_known


def test_language_list_has_every_iso_639_1_code():
    iso1 = [code for code in carddata.language_codes() if len(code) == 2]
    assert len(iso1) == 184
