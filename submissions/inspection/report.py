"""Inspect a dataset's location: sample it, tell its format, profile its tables and archives, find personal data.

`inspect_location` is the data check's whole work and returns (outcome, summary, details). It fetches only
through `portal.safefetch` (via `sampling`), keeps the sample in a scratch folder that is removed whatever
happens, and stores no unmasked personal data in the details it returns. The summary and every finding
(`failures`, `warnings`, `declared`, a format's `label`, personal data's `label` and `place`) are stored
messages (`portal.i18n.message`), read later in the reader's language.
"""

import dataclasses

from django.conf import settings
from django.utils.translation import gettext_noop

from portal import i18n, safefetch
from portal.i18n import CLAUSES, joined, message, message_plural
from submissions.inspection import declared, formats, manifests, media, personal_data, sampling, tables

PASS, WARN, FAIL = "pass", "warn", "fail"
TEXT_SCAN_LINES = 5000
TEXT_SCAN_BYTES = 4 * 1024 * 1024
DELIMITER_NAMES = {
    ",": gettext_noop("comma"),
    ";": gettext_noop("semicolon"),
    "\t": gettext_noop("tab"),
    "|": gettext_noop("vertical bar"),
}


@dataclasses.dataclass
class _Findings:
    """What the inspection found, collected step by step."""

    details: dict
    failures: list = dataclasses.field(default_factory=list)
    warnings: list = dataclasses.field(default_factory=list)
    description: list = dataclasses.field(default_factory=list)
    personal: list = dataclasses.field(default_factory=list)

    def outcome(self):
        return FAIL if self.failures else WARN if self.warnings else PASS


def inspect_location(url, *, modalities=(), card_metadata=None):
    """Inspect a bounded sample of the data at `url`; return (outcome, summary, details).

    The summary is a stored message: what the data is, then the worst finding.
    """
    with sampling.scratch_folder() as folder:
        try:
            sample = sampling.fetch(url, folder)
        except safefetch.FetchBlocked as exc:
            failure = message(gettext_noop("Blocked: %(reason)s"), reason=i18n.of_error(exc))
            return FAIL, failure, {"fetched": False, "failures": [failure]}
        except safefetch.FetchFailed as exc:
            failure = message(
                gettext_noop("The data could not be fetched: %(reason)s"), reason=i18n.of_error(exc)
            )
            return FAIL, failure, {"fetched": False, "failures": [failure]}
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
                message(
                    gettext_noop(
                        "The server sent only %(size)s bytes in %(seconds)s s; the inspection covers those."
                    ),
                    size=i18n.number(sample.bytes_held),
                    seconds=i18n.number(settings.INSPECT_SECONDS),
                )
            )
        _inspect_sample(found, sample, url=url)
        _compare_declared(found, modalities=modalities, card_metadata=card_metadata or {})
    details = found.details
    details["failures"], details["warnings"] = found.failures, found.warnings
    return found.outcome(), _summary(found), details


def _inspect_sample(found, sample, *, url):
    """Tell the sample's format (through a gzip wrapper) and inspect it accordingly."""
    sniffed = formats.sniff(sample.head(formats.SNIFF_BYTES))
    gzipped = sniffed.format == formats.GZIP
    if gzipped:
        sample = sampling.gunzip(sample)
        if sample.gzip_problem:
            found.failures.append(sample.gzip_problem)
        sniffed = formats.sniff(sample.head(formats.SNIFF_BYTES))
        if sniffed.format == formats.EMPTY and sample.gzip_problem:
            found.details.update(format=formats.GZIP, label=message(formats.LABELS[formats.GZIP]))
            found.description.append(message(formats.LABELS[formats.GZIP]))
            return
    label = message(gettext_noop("gzip of %(format)s"), format=sniffed.label) if gzipped else sniffed.label
    found.details.update(
        format=sniffed.format,
        label=label,
        mime=sniffed.mime,
        encoding=sniffed.encoding,
        delimiter=message(DELIMITER_NAMES[sniffed.delimiter])
        if sniffed.delimiter in DELIMITER_NAMES
        else sniffed.delimiter,
        compressed=gzipped,
    )
    found.description.append(label)
    files = [declared.location_file_name(url)]
    if sample.gzip_bomb:
        # Like a zip bomb, a gzip bomb is not read any further: what it says it holds is not to be believed.
        found.details["files"] = files
        return
    if sniffed.format == formats.EMPTY:
        found.failures.append(message(gettext_noop("The file is empty (0 bytes).")))
    elif sniffed.format == formats.HTML:
        found.warnings.append(
            message(
                gettext_noop(
                    "The location serves a web page (HTML), not data; point it at the data file itself."
                )
            )
        )
    elif sniffed.format == formats.UNKNOWN:
        found.warnings.append(
            message(gettext_noop("The data is in a format the portal does not recognise; check it by hand."))
        )
    elif sniffed.format in formats.TABULAR:
        _inspect_table(found, sample.path, sniffed, sample=sample, member="")
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


def _inspect_table(found, path, sniffed, *, sample, member):
    """Profile a table and record its schema, rows and findings."""
    try:
        profile = tables.profile(
            path,
            sniffed,
            complete=sample.complete,
            total_size=sample.size,
            held_prefix=sample.prefix_bytes,
            scratch=sample.scratch,
            member=member,
        )
    except tables.TableUnreadable as exc:
        found.failures.append(exc.message)
        return
    found.details["table"] = profile.as_dict()
    found.warnings.extend(profile.problems)
    found.description.append(
        message_plural(
            "%(columns)s column",
            "%(columns)s columns",
            count=profile.column_count,
            columns=i18n.number(profile.column_count),
        )
    )
    rows = _row_count_words(profile.row_count)
    if profile.row_count_exact:
        found.description.append(
            message_plural("%(rows)s row", "%(rows)s rows", count=profile.row_count, rows=rows)
        )
    else:
        found.description.append(
            message_plural(
                "~%(rows)s row (estimated)", "~%(rows)s rows (estimated)", count=profile.row_count, rows=rows
            )
        )
    _record_personal_data(found, profile.personal_data)


def _inspect_archive(found, sample, sniffed):
    """List an archive and inspect its first tabular member; return the member paths."""
    if sniffed.format == formats.ZIP:
        listing = manifests.list_zip(sample.path, sample.scratch, complete=sample.complete)
    else:
        listing = manifests.list_tar(sample.path, sample.scratch, held=sample.prefix_bytes)
    found.details["manifest"] = listing.as_dict()
    found.failures.extend(listing.findings())
    found.warnings.extend(listing.problems)
    partial = listing.partial or (not sample.complete and sniffed.format == formats.TAR)
    files = i18n.number(listing.file_count)
    if partial:
        found.description.append(
            message_plural(
                "at least %(files)s file", "at least %(files)s files", count=listing.file_count, files=files
            )
        )
    else:
        found.description.append(
            message_plural("%(files)s file", "%(files)s files", count=listing.file_count, files=files)
        )
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
            found.description.append(
                message(
                    gettext_noop("%(member)s: %(format)s"), member=listing.table_member, format=member.label
                )
            )
            _inspect_table(
                found, listing.table_path, member, sample=member_sample, member=listing.table_member
            )
    return [entry["path"] for entry in listing.entries]


def _scan_text(found, sample, sniffed):
    """Report a line too long to read, then scan the lines of the sample's prefix for personal data.

    A first line longer than the bytes read to tell the format hides whether the data is a table (a CSV
    whose first cell is huge is taken for plain text): that is said, with the line's length.
    """
    held, complete = sample.prefix_bytes, sample.complete
    long = tables.first_long_line(sample.path, held, complete=complete, limit=formats.SNIFF_BYTES, lines=1)
    if long is None:
        long = tables.first_long_line(sample.path, held, complete=complete)
    if long is not None:
        found.warnings.append(tables.long_line_problem(long, table=False))
    tally = personal_data.Tally()
    text = sample.head(TEXT_SCAN_BYTES).decode(sniffed.encoding or "utf-8", errors="replace")
    for number, line in enumerate(text.splitlines()):
        if number >= TEXT_SCAN_LINES:
            break
        tally.scan(personal_data.TEXT_PLACE, line)
    _record_personal_data(found, tally.results())


def _record_personal_data(found, results):
    """Add personal-data findings (already masked) to the details and a warning."""
    if not results:
        return
    found.details.setdefault("personal_data", []).extend(results)
    columns, in_text = {}, []
    for result in results:
        if personal_data.is_column(result["place"]):
            columns.setdefault(result["kind"], []).append(result)
        elif result["kind"] not in in_text:
            in_text.append(result["kind"])
    clauses = [
        message_plural(
            "%(columns)s column holds %(what)s",
            "%(columns)s columns hold %(what)s",
            count=len(where),
            columns=i18n.number(len(where)),
            what=message(personal_data.KIND_LABELS[kind]),
        )
        for kind, where in columns.items()
    ]
    clauses += [
        message(gettext_noop("the text holds %(what)s"), what=message(personal_data.KIND_LABELS[kind]))
        for kind in in_text
    ]
    found.personal.extend(clauses)
    found.warnings.append(
        message(gettext_noop("Personal data: %(found)s."), found=joined(clauses, separator=CLAUSES))
    )


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
    notes = declared.compare_format(list(modalities), details["format"])
    notes += declared.compare_modalities(list(modalities), seen, partial=partial)
    columns = [column["name"] for column in details.get("table", {}).get("columns", [])]
    notes += declared.compare_card(
        card_metadata, files=details.get("files", []), columns=columns, partial=partial
    )
    details["declared"] = notes
    found.warnings.extend(notes)


def _summary(found):
    """Return the one-line summary for the queue (a stored message): what the data is, then the worst finding.

    The worst finding is the first failure, else the personal data found, else the first warning.
    """
    head = joined(found.description) or message(gettext_noop("No data"))
    if found.failures:
        tail = found.failures[0]
    elif found.personal:
        tail = joined(found.personal, separator=CLAUSES)
    else:
        tail = found.warnings[0] if found.warnings else None
    if tail is None:
        return head
    # Translators: a data check's summary: what the data is, then its worst finding.
    return message(gettext_noop("%(data)s; %(finding)s"), data=head, finding=tail)


def _row_count_words(count):
    """Return a row count in short words for a stored message: 950, 12,400, 1.2 M."""
    if count >= 1_000_000:
        # Translators: a number of millions, short: "1.2 M" rows.
        return message(gettext_noop("%(millions)s M"), millions=i18n.number(round(count / 1_000_000, 1)))
    return i18n.number(count)


def _media_words(info):
    if "width" in info:
        return f"{info['format']} {info['width']}×{info['height']}"
    # Translators: an audio file's format and duration in seconds: "MP3 12.5 s".
    return message(
        gettext_noop("%(format)s %(seconds)s s"),
        format=info["format"],
        seconds=i18n.number(info["seconds"]),
    )
