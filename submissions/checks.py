"""Automatic checks on a submission's newest card revision: card lint, location, duplicates, data.

Checks advise the curator; they never change a submission's state. Each check stores one `CheckResult`
per revision (pass / warn / fail, or error when the check itself broke and should be re-run). The
location check goes through `portal.safefetch`, the only way the portal reaches a contributor's URL.

A check runs in a worker, with no reader in sight: its summary and the texts of its details are stored
messages (`portal.i18n`), shown in the reader's language; the summary's English text is kept too.
"""

import difflib
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

from django.db import transaction
from django.utils.translation import gettext_noop

from portal import i18n, safefetch
from submissions import manifest, resolvers
from submissions.locations import doi_of
from submissions.models import RECORD_FAMILIES, CheckResult, SourceRecord, Submission
from submissions.publishing import publisher

logger = logging.getLogger(__name__)

Outcome = CheckResult.Outcome
SEVERITY = {Outcome.PASS: 0, Outcome.WARN: 1, Outcome.ERROR: 2, Outcome.FAIL: 3}
# Names whose folded forms are at least this similar are reported as possible duplicates.
NAME_SIMILARITY = 0.9


def run_all(submission_id):
    """Run every check on the newest revision of a submission and update its queue summary."""
    submission = Submission.objects.filter(pk=submission_id).first()
    if submission is None:
        return None
    revision = submission.latest_revision
    if revision is None:
        return None
    for kind, check in CHECKS.items():
        try:
            outcome, summary, details = check(submission, revision)
        except Exception as exc:
            logger.exception("The %s check of %s failed.", kind, submission.reference)
            outcome, details = Outcome.ERROR, {}
            summary = i18n.message(
                gettext_noop("The check itself failed (%(error)s)."), error=type(exc).__name__
            )
        CheckResult.objects.update_or_create(
            revision=revision,
            kind=kind,
            defaults={
                "outcome": outcome,
                "summary": i18n.english(summary)[:300],
                # A summary may still be plain text (a check of another module's that does not store messages).
                "summary_message": summary if i18n.is_message(summary) else None,
                "details": details,
            },
        )
    return update_summary(submission)


def update_summary(submission):
    """Store the worst outcome of the newest revision's checks on the submission, for the queue."""
    with transaction.atomic():
        revision = submission.latest_revision
        outcomes = list(CheckResult.objects.filter(revision=revision).values_list("outcome", flat=True))
        summary = max(outcomes, key=lambda outcome: SEVERITY[outcome]) if outcomes else "pending"
        Submission.objects.filter(pk=submission.pk).update(check_summary=summary)
    return summary


def check_card(submission, revision):
    """Summarise the card's lint findings (computed once, at upload)."""
    warnings = revision.warnings
    if not warnings:
        return (
            Outcome.PASS,
            i18n.message(gettext_noop("The card has the recommended metadata and sections.")),
            {},
        )
    # The first finding as a stored message (a finding stored before lint messages has only its English).
    first = warnings[0].get("text") or warnings[0]["message"]
    return Outcome.WARN, _and_more(first, len(warnings) - 1), {"findings": warnings}


def _and_more(first, more):
    """Return the first of several findings, saying how many more there are (a stored message)."""
    if not more:
        return first
    return i18n.message_plural(
        "%(first)s (and %(count)s more)", "%(first)s (and %(count)s more)", count=more, first=first
    )


def check_location(submission, revision):
    """Resolve every location (repository records, DOIs, files) into the manifest and report what was found.

    Plain files are probed through the SSRF-safe client (reachable, content type, size); records are read
    from their repository's API (`resolvers`). The manifest is stored even when a line fails, so that the
    curator sees what was found; a failing line, an unsafe or repeated file name, a checksum that names no
    file, or a limit passed fails the check. Once a submission is approved its manifest is left as it is:
    publication reads it.
    """
    lines = submission.location_lines
    resolve = functools.partial(_resolve_line, hosted=submission.hosting_wanted)
    with ThreadPoolExecutor(max_workers=min(LOCATION_CONCURRENCY, max(1, len(lines)))) as pool:
        results = list(pool.map(resolve, lines))
    resolved = [
        (position, result["item"], result.get("size"), result.get("content_type", ""))
        for position, result in enumerate(results)
        if result.get("item") is not None
    ]
    built = manifest.build(
        resolved, checksums=submission.announced_checksums, hosted=submission.hosting_wanted
    )
    if submission.state not in MANIFEST_FROZEN_STATES:
        manifest.store(submission, built)
    failures = [
        i18n.message(
            gettext_noop("Line %(line)s (%(location)s): %(problem)s"),
            line=position + 1,
            location=_short(line),
            problem=result["message"],
        )
        if len(lines) > 1
        else result["message"]
        for position, (line, result) in enumerate(zip(lines, results, strict=True))
        if result["outcome"] == Outcome.FAIL
    ]
    warnings = [result["message"] for result in results if result["outcome"] == Outcome.WARN]
    warnings += built.warnings + _record_warnings(built, revision)
    restricted = [entry.path for entry in built.entries if entry.restricted]
    if restricted:
        warnings.append(
            i18n.message_plural(
                "%(count)s file is restricted or embargoed at the source (%(files)s); never fetched.",
                "%(count)s files are restricted or embargoed at the source (%(files)s); never fetched.",
                count=len(restricted),
                files=", ".join(restricted[:3]) + (" …" if len(restricted) > 3 else ""),
            )
        )
    details = {
        "lines": [
            {key: value for key, value in result.items() if key != "item"} | {"line": line}
            for line, result in zip(lines, results, strict=True)
        ],
        "files": len(built.entries),
        "size": built.total_size,
        "unknown_sizes": built.unknown_sizes,
        "restricted": len(restricted),
        "records": len(built.records),
        "problems": built.problems,
        "warnings": warnings,
    }
    if len(results) == 1:
        # One location: its probe's details at the top, as a single-file location has always had them.
        details.update(
            {key: value for key, value in results[0].items() if key not in ("item", "outcome", "message")}
        )
    if failures or built.problems:
        first = (failures + built.problems)[0]
        return Outcome.FAIL, _and_more(first, len(failures) + len(built.problems) - 1), details
    single_file = len(results) == 1 and not built.records
    summary = results[0]["message"] if single_file else _manifest_summary(built)
    if warnings and single_file:
        return Outcome.WARN, warnings[0], details
    if warnings:
        summary = i18n.message(gettext_noop("%(summary)s %(warning)s"), summary=summary, warning=warnings[0])
        return Outcome.WARN, summary, details
    return Outcome.PASS, summary, details


# Locations are resolved a few at a time (each waits on another server).
LOCATION_CONCURRENCY = 4
# From approval on, publication reads the manifest: a later run of the checks leaves it as it is.
MANIFEST_FROZEN_STATES = (
    Submission.State.APPROVED,
    Submission.State.MIRRORING,
    Submission.State.PUBLISHED,
)


def _resolve_line(line, *, hosted):
    """Resolve one location line; return a dict with outcome, message (stored), the resolved item and probe
    details."""
    try:
        item = resolvers.resolve(line)
    except resolvers.ResolveError as exc:
        return {"outcome": Outcome.FAIL, "message": exc.message, "kind": "record", "item": None}
    except (safefetch.FetchBlocked, safefetch.FetchFailed) as exc:
        return {**_fetch_failure(exc), "item": None}
    if getattr(item, "files", None) is not None:
        return {
            "outcome": Outcome.PASS,
            "message": i18n.message_plural(
                "%(family)s record %(record)s: %(count)s file.",
                "%(family)s record %(record)s: %(count)s files.",
                count=len(item.files),
                family=item.family,
                record=item.doi or item.landing_url,
            ),
            "kind": "record",
            "item": item,
        }
    probe = _probe_file(item.url, hosted=hosted)
    probe["item"] = item
    probe["kind"] = "file"
    return probe


def _probe_file(url, *, hosted):
    """Probe a plain file through the SSRF-safe client: reachable, content type, size."""
    try:
        result = safefetch.probe(url)
    except (safefetch.FetchBlocked, safefetch.FetchFailed) as exc:
        return _fetch_failure(exc)
    details = {
        "reachable": result.reachable,
        "status": result.status,
        "final_url": result.final_url,
        "content_type": result.content_type,
        "size": result.size,
        "redirects": list(result.redirects),
        "accepts_ranges": result.accepts_ranges,
    }
    if not result.reachable:
        return {
            "outcome": Outcome.FAIL,
            "message": i18n.message(
                gettext_noop("The server answered HTTP %(status)s."), status=result.status
            ),
            **details,
        }
    content_type = result.content_type or i18n.message(gettext_noop("unknown type"))
    if result.size is None and hosted:
        return {
            "outcome": Outcome.WARN,
            "message": i18n.message(
                gettext_noop("Reachable (%(type)s); the server does not say how large the data is."),
                type=content_type,
            ),
            **details,
        }
    if result.size:
        reachable = i18n.message(
            gettext_noop("Reachable (%(type)s, %(size)s)."),
            type=content_type,
            size=i18n.file_size(result.size),
        )
    else:
        reachable = i18n.message(gettext_noop("Reachable (%(type)s)."), type=content_type)
    return {"outcome": Outcome.PASS, "message": reachable, **details}


def _fetch_failure(exc):
    """Return the failed line of an address that safefetch blocked or could not reach."""
    if isinstance(exc, safefetch.FetchBlocked):
        blocked = i18n.message(gettext_noop("Blocked: %(reason)s"), reason=i18n.of_error(exc))
        return {"outcome": Outcome.FAIL, "message": blocked, "blocked": True, "reason": str(exc)}
    unreachable = i18n.message(gettext_noop("Unreachable: %(reason)s"), reason=i18n.of_error(exc))
    return {"outcome": Outcome.FAIL, "message": unreachable, "reachable": False, "reason": str(exc)}


def _record_warnings(built, revision):
    """Warn where a record's own metadata contradicts the card (its licence), or a file has no checksum."""
    warnings = []
    card_license = (revision.metadata or {}).get("license")
    card_license = card_license.lower() if isinstance(card_license, str) else ""
    for _position, record in built.records:
        if record.license and card_license and record.license != card_license:
            warnings.append(
                i18n.message(
                    gettext_noop(
                        "The card says the licence is %(card)s; the record %(record)s says %(licence)s. Make "
                        "them agree."
                    ),
                    card=card_license,
                    record=record.doi or record.landing_url,
                    licence=record.license_name or record.license,
                )
            )
    return warnings


def _manifest_summary(built):
    """Return one line describing the manifest: files, size, where they come from (a stored message)."""
    files = len(built.entries)
    if not built.total_size:
        size = i18n.message(gettext_noop("size not known yet"))
    elif built.unknown_sizes:
        size = i18n.message(
            gettext_noop("%(size)s (and %(count)s of unknown size)"),
            size=i18n.file_size(built.total_size),
            count=built.unknown_sizes,
        )
    else:
        size = i18n.file_size(built.total_size)
    sources = []
    if built.records:
        families = sorted(
            {RECORD_FAMILIES.get(record.family, record.family) for _position, record in built.records}
        )
        sources.append(
            i18n.message_plural(
                "%(count)s record (%(families)s)",
                "%(count)s records (%(families)s)",
                count=len(built.records),
                families=", ".join(families),
            )
        )
    plain = sum(1 for entry in built.entries if entry.record is None)
    if plain:
        sources.append(i18n.message_plural("%(count)s file address", "%(count)s file addresses", count=plain))
    if files == 1 and plain == 1:
        return i18n.message(gettext_noop("Reachable: 1 file, %(size)s."), size=size)
    if len(sources) > 1:
        sources = i18n.message(gettext_noop("%(first)s and %(second)s"), first=sources[0], second=sources[1])
    else:
        sources = sources[0] if sources else ""
    return i18n.message_plural(
        "%(files)s file, %(size)s, from %(sources)s.",
        "%(files)s files, %(size)s, from %(sources)s.",
        count=files,
        files=i18n.number(files),
        size=size,
        sources=sources,
    )


def _short(text, limit=60):
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_duplicates(submission, revision):
    """Look for the same location (any line, or a record's DOI) or a near-same name among other submissions
    and published datasets."""
    mine = _location_keys(submission.location)
    mine |= {
        f"doi:{doi}"
        for doi in SourceRecord.objects.filter(submission=submission)
        .exclude(doi="")
        .values_list("doi", flat=True)
    }
    others = (
        Submission.objects.exclude(pk=submission.pk)
        .exclude(state__in=Submission.RELEASED_STATES)
        .values_list("reference", "name", "name_key", "location")
    )
    same_location, similar_names = [], []
    for reference, name, name_key, other_location in others.iterator(chunk_size=2000):
        if mine & _location_keys(other_location):
            same_location.append(f"{reference} “{name}”")
        elif _similar(submission.name_key, name_key):
            similar_names.append(f"{reference} “{name}”")
    dois = [key.removeprefix("doi:") for key in mine if key.startswith("doi:")]
    if dois:
        for reference, name in (
            SourceRecord.objects.filter(doi__in=dois)
            .exclude(submission=submission)
            .exclude(submission__state__in=Submission.RELEASED_STATES)
            .values_list("submission__reference", "submission__name")
            .distinct()
        ):
            label = f"{reference} “{name}”"
            if label not in same_location:
                same_location.append(label)
    for label, name_key, other_location in publisher().published_entries(
        excluding_submission_id=submission.pk
    ):
        if other_location and mine & _location_keys(other_location):
            same_location.append(label)
        elif _similar(submission.name_key, name_key):
            similar_names.append(label)
    details = {"same_location": same_location, "similar_names": similar_names}
    if same_location:
        return (
            Outcome.FAIL,
            i18n.message(gettext_noop("Same location as %(others)s."), others=", ".join(same_location[:3])),
            details,
        )
    if similar_names:
        return (
            Outcome.WARN,
            i18n.message(gettext_noop("Similar name to %(others)s."), others=", ".join(similar_names[:3])),
            details,
        )
    return (
        Outcome.PASS,
        i18n.message(gettext_noop("No other submission or dataset with this location or a similar name.")),
        details,
    )


def _location_keys(text):
    """Return the comparable forms of every location line of `text` (a DOI line as "doi:<doi>")."""
    keys = set()
    for line in (text or "").splitlines():
        if line.strip():
            doi = doi_of(line)
            keys.add(f"doi:{doi}" if doi else normalise_location(line))
    return keys


def check_data(submission, revision):
    """Inspect a bounded sample of the data itself: format, schema, first rows, personal data (masked).

    One file per split is read (its first table, else its first file), so a dataset of many files is
    judged by what a user of each split meets first. The details are those of the first file read, with
    the others under "others" and every file's personal-data findings together (the approval gate reads
    them).
    """
    # Imported here, not with the module: the inspection's libraries (DuckDB, pyarrow, NumPy, Pillow: about
    # 60 MiB) then load only in a process that runs a data check. Every worker imports this module with the
    # task modules, and a mirroring worker, whose memory must stay flat and small, never inspects data.
    from submissions.inspection import report as inspection

    chosen = manifest.files_to_inspect(submission)
    if not chosen:
        location = CheckResult.objects.filter(revision=revision, kind=CheckResult.Kind.LOCATION).first()
        if location is None or location.outcome == Outcome.ERROR:
            return (
                Outcome.ERROR,
                i18n.message(
                    gettext_noop(
                        "The location check did not finish, so no file was read; run the checks again."
                    )
                ),
                {},
            )
        return (
            Outcome.FAIL,
            i18n.message(gettext_noop("No file to inspect: the locations hold no file that can be fetched.")),
            {},
        )
    reports = []
    for split, path, url in chosen:
        outcome, summary, details = inspection.inspect_location(
            url, modalities=submission.modality_list, card_metadata=revision.metadata
        )
        reports.append(
            {"split": split, "path": path, "outcome": outcome, "summary": summary, "details": details}
        )
    first = reports[0]
    details = dict(first["details"], path=first["path"], split=first["split"])
    if len(reports) == 1:
        return first["outcome"], first["summary"], details
    details["others"] = reports[1:]
    details["personal_data"] = [
        dict(
            finding,
            place=i18n.message(
                gettext_noop("%(path)s: %(place)s"), path=report["path"], place=finding["place"]
            ),
        )
        for report in reports
        for finding in report["details"].get("personal_data", [])
    ]
    worst = max(reports, key=lambda report: SEVERITY[report["outcome"]])
    # "path: summary; path: summary", each summary in the reader's language.
    parts = [
        i18n.message(gettext_noop("%(path)s: %(summary)s"), path=report["path"], summary=report["summary"])
        for report in reports
    ]
    return worst["outcome"], i18n.joined(parts, separator=i18n.CLAUSES), details


def _similar(key, other):
    if not key or not other:
        return False
    if key == other:
        return True
    matcher = difflib.SequenceMatcher(None, key, other)
    return matcher.real_quick_ratio() >= NAME_SIMILARITY and matcher.ratio() >= NAME_SIMILARITY


def normalise_location(url):
    """Return a URL in a form where trivially different spellings of the same address compare equal."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    port = f":{parts.port}" if parts.port and parts.port != 443 else ""
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), host + port, path, parts.query, ""))


CHECKS = {
    CheckResult.Kind.CARD: check_card,
    CheckResult.Kind.LOCATION: check_location,
    CheckResult.Kind.DUPLICATE: check_duplicates,
    CheckResult.Kind.DATA: check_data,
}
