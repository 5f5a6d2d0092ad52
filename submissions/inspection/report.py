"""Inspect a dataset's location: sample it, tell its format, profile its tables and archives, find personal data.

`inspect_location` is the data check's whole work and returns (outcome, one-line summary, details). It
fetches only through `portal.safefetch` (via `sampling`), keeps the sample in a scratch folder that is
removed whatever happens, and stores no unmasked personal data in the details it returns.
"""

import dataclasses

from django.conf import settings

from portal import safefetch
from submissions.inspection import declared, formats, manifests, media, personal_data, sampling, tables

PASS, WARN, FAIL = "pass", "warn", "fail"
TEXT_SCAN_LINES = 5000
TEXT_SCAN_BYTES = 4 * 1024 * 1024
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}


@dataclasses.dataclass
class _Findings:
    """What the inspection found, collected step by step."""

    details: dict
    failures: list = dataclasses.field(default_factory=list)
    warnings: list = dataclasses.field(default_factory=list)
    description: list = dataclasses.field(default_factory=list)

    def outcome(self):
        return FAIL if self.failures else WARN if self.warnings else PASS


def inspect_location(url, *, modalities=(), card_metadata=None):
    """Inspect a bounded sample of the data at `url`; return (outcome, summary, details)."""
    with sampling.scratch_folder() as folder:
        try:
            sample = sampling.fetch(url, folder)
        except safefetch.FetchBlocked as exc:
            return FAIL, f"Blocked: {exc}", {"fetched": False, "failures": [str(exc)]}
        except safefetch.FetchFailed as exc:
            return FAIL, f"The data could not be fetched: {exc}", {"fetched": False, "failures": [str(exc)]}
        found = _Findings(
            details={
                "fetched": True,
                "size": sample.size,
                "sampled_bytes": sample.bytes_held,
                "ranges": len(sample.held) > 1,
                "complete": sample.complete,
            }
        )
        if sample.timed_out:
            found.warnings.append(
                f"The server sent only {sample.bytes_held:,} bytes in {settings.INSPECT_SECONDS} s; "
                "the inspection covers those."
            )
        _inspect_sample(found, sample, url=url)
        _compare_declared(found, modalities=modalities, card_metadata=card_metadata or {})
    details = found.details
    details["failures"], details["warnings"] = found.failures, found.warnings
    return found.outcome(), _summary(found), details


def _inspect_sample(found, sample, *, url):
    """Tell the sample's format (through a gzip wrapper) and inspect it accordingly."""
    sniffed = formats.sniff(sample.head(formats.SNIFF_BYTES))
    label_prefix = ""
    if sniffed.format == formats.GZIP:
        sample = sampling.gunzip(sample)
        if sample.gzip_problem:
            found.failures.append(sample.gzip_problem[0].upper() + sample.gzip_problem[1:] + ".")
        sniffed = formats.sniff(sample.head(formats.SNIFF_BYTES))
        label_prefix = "gzip of "
        if sniffed.format == formats.EMPTY and sample.gzip_problem:
            found.details.update(format=formats.GZIP, label="gzip")
            found.description.append("gzip")
            return
    found.details.update(
        format=sniffed.format,
        label=label_prefix + sniffed.label,
        mime=sniffed.mime,
        encoding=sniffed.encoding,
        delimiter=DELIMITER_NAMES.get(sniffed.delimiter, sniffed.delimiter),
        compressed=bool(label_prefix),
    )
    found.description.append(label_prefix + sniffed.label)
    files = [declared.location_file_name(url)]
    if sniffed.format == formats.EMPTY:
        found.failures.append("The file is empty (0 bytes).")
    elif sniffed.format == formats.HTML:
        found.warnings.append(
            "The location serves a web page (HTML), not data; point it at the data file itself."
        )
    elif sniffed.format == formats.UNKNOWN:
        found.warnings.append("The data is in a format the portal does not recognise; check it by hand.")
    elif sniffed.format in formats.TABULAR:
        _inspect_table(found, sample.path, sniffed, sample=sample, place="")
    elif sniffed.format in formats.ARCHIVES:
        files = _inspect_archive(found, sample, sniffed)
    elif sniffed.format == formats.TEXT:
        _scan_text(found, sample, sniffed)
    elif sniffed.format in (formats.IMAGE, formats.AUDIO):
        info = (
            media.image_info(sample.path)
            if sniffed.format == formats.IMAGE
            else media.audio_info(sample.path)
        )
        if info is not None:
            found.details["media"] = [info]
            found.description.append(_media_words(info))
    found.details["files"] = files


def _inspect_table(found, path, sniffed, *, sample, place):
    """Profile a table and record its schema, rows and findings."""
    try:
        profile = tables.profile(
            path,
            sniffed,
            complete=sample.complete,
            total_size=sample.size,
            held_prefix=sample.prefix_bytes,
            scratch=sample.scratch,
            place=place,
        )
    except tables.TableUnreadable as exc:
        found.failures.append(str(exc))
        return
    found.details["table"] = profile.as_dict()
    found.warnings.extend(profile.problems)
    found.description.append(f"{profile.column_count:,} column{'s' if profile.column_count != 1 else ''}")
    rows = _count_words(profile.row_count)
    found.description.append(f"{rows} rows" if profile.row_count_exact else f"~{rows} rows (estimated)")
    _record_personal_data(found, profile.personal_data)


def _inspect_archive(found, sample, sniffed):
    """List an archive and inspect its first tabular member; return the member paths."""
    if sniffed.format == formats.ZIP:
        listing = manifests.list_zip(sample.path, sample.scratch, complete=sample.complete)
    else:
        listing = manifests.list_tar(sample.path, sample.scratch, held=sample.prefix_bytes)
    found.details["manifest"] = listing.as_dict()
    found.failures.extend(listing.refusals)
    found.warnings.extend(listing.problems)
    partial = listing.partial or (not sample.complete and sniffed.format == formats.TAR)
    found.description.append(f"{'at least ' if partial else ''}{listing.file_count:,} files")
    if listing.table_path is not None:
        with listing.table_path.open("rb") as handle:
            member = formats.sniff(handle.read(formats.SNIFF_BYTES))
        if member.format in formats.TABULAR:
            size = listing.table_path.stat().st_size
            member_sample = sampling.Sample(
                path=listing.table_path,
                size=size,
                held=[(0, size)],
                complete=size < settings.INSPECT_MAX_BYTES,
                scratch=sample.scratch,
            )
            found.details["table_member"] = listing.table_member
            found.description.append(f"{listing.table_member}: {member.label}")
            _inspect_table(
                found, listing.table_path, member, sample=member_sample, place=f"{listing.table_member}, "
            )
    return [entry["path"] for entry in listing.entries]


def _scan_text(found, sample, sniffed):
    """Scan the lines of the sample's prefix for personal data."""
    tally = personal_data.Tally()
    text = sample.head(TEXT_SCAN_BYTES).decode(sniffed.encoding or "utf-8", errors="replace")
    for number, line in enumerate(text.splitlines()):
        if number >= TEXT_SCAN_LINES:
            break
        tally.scan("the text", line)
    _record_personal_data(found, tally.results())


def _record_personal_data(found, results):
    """Add personal-data findings (already masked) to the details and a warning."""
    if not results:
        return
    found.details.setdefault("personal_data", []).extend(results)
    places = {}
    for result in results:
        places.setdefault(result["label"], set()).add(result["place"])
    words = []
    for label, where in places.items():
        columns = [place for place in where if "column " in place]
        if columns:
            words.append(f"{len(columns)} column{'s hold' if len(columns) > 1 else ' holds'} {label}")
        else:
            words.append(f"the text holds {label}")
    found.warnings.append("Personal data: " + "; ".join(words) + ".")


def _compare_declared(found, *, modalities, card_metadata):
    """Compare declared modalities and the card's configs and features with what was found."""
    details = found.details
    if not details.get("fetched") or details.get("format") in (
        None,
        formats.EMPTY,
        formats.HTML,
        formats.UNKNOWN,
    ):
        return
    member_types = details.get("manifest", {}).get("types", {})
    seen = declared.found_modalities(details["format"], member_types)
    partial = not details.get("complete") or details.get("manifest", {}).get("partial", False)
    notes = declared.compare_modalities(list(modalities), seen, partial=partial)
    columns = [column["name"] for column in details.get("table", {}).get("columns", [])]
    notes += declared.compare_card(
        card_metadata, files=details.get("files", []), columns=columns, partial=partial
    )
    details["declared"] = notes
    found.warnings.extend(notes)


def _summary(found):
    """Return the one-line summary for the queue: what the data is, then the worst finding."""
    head = ", ".join(found.description) or "No data"
    first = (found.failures or [""])[0]
    personal = [warning for warning in found.warnings if warning.startswith("Personal data: ")]
    tail = first or (personal[0].removeprefix("Personal data: ").rstrip(".") if personal else "")
    if not tail and found.warnings:
        tail = found.warnings[0].rstrip(".")
    summary = f"{head}; {tail}" if tail else head
    return summary if len(summary) <= 300 else summary[:299] + "…"


def _count_words(count):
    """Return a row count in short words: 950, 12,400, 1.2 M."""
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f} M"
    return f"{count:,}"


def _media_words(info):
    if "width" in info:
        return f"{info['format']} {info['width']}×{info['height']}"
    return f"{info['format']} {info['seconds']} s"
