"""A dataset's manifest: every file of its locations, with its path, size, checksums and split.

The location check builds it from the resolved locations (`build`) and stores it (`store`), replacing the
rows of its previous run in one transaction: one writer, many readers (review page, data check, mirror,
the card's `configs`, Croissant). The contributor's checksums (`parse_checksums`) are matched to files by
name. Nothing here fetches anything; the resolvers and `portal.safefetch` do. Problems and warnings are
stored messages (`portal.i18n`): the status and review pages show them in the reader's language.
"""

import dataclasses
import re
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_noop

from portal import i18n
from submissions.locations import file_name_of
from submissions.models import ManifestFile, SourceRecord

# The split keywords the Hub and the `datasets` library recognise in file and folder names
# (https://huggingface.co/docs/hub/datasets-file-names-and-splits): delimited by non-word characters.
SPLIT_KEYWORDS = {
    "train": ("train", "training"),
    "validation": ("validation", "valid", "val", "dev"),
    "test": ("test", "testing", "eval", "evaluation"),
}
SPLITS = tuple(SPLIT_KEYWORDS)
_KEYWORD_SPLIT = {keyword: split for split, keywords in SPLIT_KEYWORDS.items() for keyword in keywords}
_DELIMITERS = re.compile(r"[-._ 0-9]+")

# Files the `datasets` library loads as rows (by extension), which the card's `configs` may list.
LOADABLE_EXTENSIONS = frozenset(
    [
        ".csv",
        ".tsv",
        ".json",
        ".jsonl",
        ".parquet",
        ".arrow",
        ".txt",
        ".xml",
        ".avro",
        ".sql",
        ".lance",
        ".webdataset",
        ".tar",
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".bmp",
        ".tif",
        ".tiff",
        ".webp",
        ".wav",
        ".mp3",
        ".flac",
        ".ogg",
        ".opus",
        ".m4a",
        ".mp4",
        ".webm",
    ]
)
# Files inspected as tables by the data check (the first of each split).
TABULAR_EXTENSIONS = frozenset([".csv", ".tsv", ".json", ".jsonl", ".parquet", ".txt"])
# The same with a compression suffix the data check reads through.
COMPRESSIONS = (".gz",)

ALGORITHMS = {32: "md5", 64: "sha256"}
# GNU's format is "<hex>  <name>" (two spaces) or "<hex> *<name>" (binary mode); one space or a tab is taken
# too, as a copy from a web page or an e-mail often keeps only one.
_GNU_LINE = re.compile(
    r"^(?P<escaped>\\)?(?P<digest>[0-9A-Fa-f]{32}|[0-9A-Fa-f]{64})[ \t]+\*?(?P<name>\S.*)$"
)
_BSD_LINE = re.compile(
    r"^(?P<algorithm>MD5|SHA256|SHA2-256) \((?P<name>.+)\) = (?P<digest>[0-9A-Fa-f]+)$", re.I
)
MAX_CHECKSUM_LINES = 100_000


class ManifestProblem(i18n.MessageError, ValueError):
    """The locations or checksums cannot make a manifest; the message (a stored one) says what to change."""


# Splits ----------------------------------------------------------------------------------------------


def _split_of(name):
    """Return the split a file or folder name names (a keyword between delimiters), or ""."""
    for token in _DELIMITERS.split(name.lower()):
        if token in _KEYWORD_SPLIT:
            return _KEYWORD_SPLIT[token]
    return ""


def infer_splits(paths):
    """Return {path: split} for paths in a dataset, as the Hub assigns splits.

    Folder names win over file names (as in the `datasets` library: when any folder names a split, files
    are assigned by their folders only). A file that names no split is "" (when no file names one, the
    dataset is one split).
    """
    by_folder = {
        path: next((s for s in map(_split_of, PurePosixPath(path).parts[:-1]) if s), "") for path in paths
    }
    if any(by_folder.values()):
        return by_folder
    return {path: _split_of(PurePosixPath(path).name) for path in paths}


# Checksums -------------------------------------------------------------------------------------------


def parse_checksums(text):
    """Parse `md5sum`/`sha256sum` output (GNU or BSD style) into [{"algorithm", "digest", "name"}].

    Blank lines and `#` comments are skipped. Raises ManifestProblem naming the lines that do not parse.
    """
    entries, bad, seen = [], [], {}
    lines = (text or "").splitlines()
    if len(lines) > MAX_CHECKSUM_LINES:
        raise ManifestProblem(
            i18n.message(
                gettext_noop("Give at most %(limit)s checksum lines (there are %(lines)s)."),
                limit=i18n.number(MAX_CHECKSUM_LINES),
                lines=i18n.number(len(lines)),
            )
        )
    for number, raw in enumerate(lines, start=1):
        line = raw.strip("\r\n").lstrip("\ufeff")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        entry = _parse_checksum_line(line.strip())
        if entry is None:
            bad.append(number)
            continue
        key = (entry["algorithm"], entry["name"])
        if key in seen and seen[key] != entry["digest"]:
            raise ManifestProblem(
                i18n.message(
                    gettext_noop(
                        "Line %(line)s gives another %(algorithm)s for %(name)s than line %(first)s; keep the "
                        "right one."
                    ),
                    line=number,
                    algorithm=entry["algorithm"].upper(),
                    name=entry["name"],
                    first=seen[key][1],
                )
            )
        if key not in seen:
            seen[key] = (entry["digest"], number)
            entries.append(entry)
    if bad:
        shown = ", ".join(str(number) for number in bad[:10]) + (" …" if len(bad) > 10 else "")
        raise ManifestProblem(
            i18n.message_plural(
                "Checksum line %(lines)s can't be read. Each line is the output of md5sum or sha256sum: the "
                "checksum in hex, two spaces, the file name (e.g. “d41d8cd98f00b204e9800998ecf8427e  train.csv”).",
                "Checksum lines %(lines)s can't be read. Each line is the output of md5sum or sha256sum: the "
                "checksum in hex, two spaces, the file name (e.g. “d41d8cd98f00b204e9800998ecf8427e  train.csv”).",
                count=len(bad),
                lines=shown,
            )
        )
    return entries


def _parse_checksum_line(line):
    match = _GNU_LINE.match(line)
    if match is not None:
        name = match["name"]
        if match["escaped"]:
            # GNU coreutils escape a name holding a backslash or a line break, and mark the line with "\".
            name = _unescape(name)
        digest = match["digest"].lower()
        return _checksum_entry(ALGORITHMS[len(digest)], digest, name)
    match = _BSD_LINE.match(line)
    if match is not None:
        algorithm = "md5" if match["algorithm"].upper() == "MD5" else "sha256"
        digest = match["digest"].lower()
        if len(digest) != {"md5": 32, "sha256": 64}[algorithm]:
            return None
        return _checksum_entry(algorithm, digest, match["name"])
    return None


_ESCAPES = {"n": "\n", "r": "\r", "\\": "\\"}


def _unescape(name):
    """Undo coreutils' escaping of a file name (\\n, \\r, \\\\), left to right."""
    out, chars = [], iter(name)
    for char in chars:
        out.append(_ESCAPES.get(next(chars, ""), "") if char == "\\" else char)
    return "".join(out)


def _checksum_entry(algorithm, digest, name):
    name = name.strip().removeprefix("./")
    if not name or "\x00" in name:
        return None
    return {"algorithm": algorithm, "digest": digest, "name": name}


def match_checksums(entries, paths):
    """Match checksum entries to dataset paths by name: the whole path, else a unique file name.

    Returns ({path: {algorithm: digest}}, [names that match no file]).
    """
    by_name = {}
    for path in paths:
        by_name.setdefault(PurePosixPath(path).name, []).append(path)
    matched, unmatched = {}, []
    known = set(paths)
    for entry in entries:
        name = entry["name"]
        if name in known:
            target = name
        else:
            candidates = by_name.get(PurePosixPath(name).name, [])
            stripped = [path for path in candidates if path.endswith("/" + name)] or candidates
            target = stripped[0] if len(stripped) == 1 else None
        if target is None:
            unmatched.append(name)
            continue
        matched.setdefault(target, {})[entry["algorithm"]] = entry["digest"]
    return matched, unmatched


# Paths ----------------------------------------------------------------------------------------------


def check_path(path):
    """Return `path` if it is a safe relative path in a dataset, else raise ManifestProblem saying why."""
    if not path or not isinstance(path, str):
        raise ManifestProblem(i18n.message(gettext_noop("A file has no name.")))
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path) or "\\" in path:
        raise ManifestProblem(
            i18n.message(
                gettext_noop("The file name %(path)s holds control characters or backslashes."),
                path=repr(path),
            )
        )
    if path.startswith("/"):
        raise ManifestProblem(
            i18n.message(gettext_noop("The file name %(path)s is an absolute path."), path=path)
        )
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ManifestProblem(
            i18n.message(
                gettext_noop("The file name %(path)s climbs out of the dataset or has empty parts."),
                path=path,
            )
        )
    if len(path) > 900:
        raise ManifestProblem(
            i18n.message(
                gettext_noop("The file name %(path)s… is longer than %(limit)s characters."),
                path=path[:60],
                limit=900,
            )
        )
    return path


# Building -------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Entry:
    """One file of the manifest being built."""

    path: str
    source_url: str
    size: int | None
    checksums: dict
    checksums_from: dict
    media_type: str = ""
    restricted: bool = False
    restriction: str = ""
    restriction_message: dict | None = None
    record: int | None = None  # index into Manifest.records
    split: str = ""


@dataclasses.dataclass
class Manifest:
    """What the location check resolved: the records, the files, and the problems it found."""

    records: list = dataclasses.field(default_factory=list)  # (line position, Record)
    entries: list = dataclasses.field(default_factory=list)
    problems: list = dataclasses.field(default_factory=list)  # what makes the check fail (stored messages)
    warnings: list = dataclasses.field(default_factory=list)  # stored messages

    @property
    def total_size(self):
        """Return the known total size in bytes."""
        return sum(entry.size or 0 for entry in self.entries)

    @property
    def unknown_sizes(self):
        """Return how many files have no known size."""
        return sum(1 for entry in self.entries if entry.size is None)


def build(resolved, *, checksums=(), hosted=True):
    """Build a Manifest from `resolved`: (line position, Record or PlainFile, size, media type) tuples.

    A record's files keep their folder layout; a plain file is named from its URL. Paths that repeat or
    are unsafe, checksums that name no file, and more files or bytes than the limits are problems.
    """
    manifest = Manifest()
    records_seen = {}
    for position, item, size, media_type in resolved:
        files = getattr(item, "files", None)
        if files is None:  # a plain file
            manifest.entries.append(
                Entry(
                    path=item.path or file_name_of(item.url),
                    source_url=item.url,
                    size=size,
                    checksums={},
                    checksums_from={},
                    media_type=media_type or "",
                )
            )
            continue
        key = item.doi or item.api_url
        if key in records_seen:
            manifest.problems.append(
                i18n.message(
                    gettext_noop(
                        "Line %(line)s names the same record as line %(first)s (%(record)s); give it once."
                    ),
                    line=position + 1,
                    first=records_seen[key] + 1,
                    record=item.doi or item.landing_url,
                )
            )
            continue
        records_seen[key] = position
        manifest.records.append((position, item))
        index = len(manifest.records) - 1
        for record_file in files:
            manifest.entries.append(
                Entry(
                    path=record_file.path,
                    source_url=record_file.url,
                    size=record_file.size,
                    checksums=dict(record_file.checksums or {}),
                    checksums_from=dict.fromkeys(record_file.checksums or {}, "record"),
                    media_type=record_file.media_type or "",
                    restricted=record_file.restricted,
                    restriction=record_file.restriction,
                    restriction_message=record_file.restriction_message,
                    record=index,
                )
            )
    _name_plain_files(manifest)
    _check_paths(manifest)
    _check_limits(manifest, hosted=hosted)
    _apply_checksums(manifest, checksums)
    splits = infer_splits([entry.path for entry in manifest.entries])
    for entry in manifest.entries:
        entry.split = splits.get(entry.path, "")
    return manifest


def plain_file_paths(urls):
    """Return the paths in the dataset that plain file addresses get (as the location check names them)."""
    manifest = Manifest(
        entries=[
            Entry(path=file_name_of(url), source_url=url, size=None, checksums={}, checksums_from={})
            for url in urls
        ]
    )
    _name_plain_files(manifest)
    return [entry.path for entry in manifest.entries]


def _name_plain_files(manifest):
    """Give plain files that share a file name the shortest end of their URL paths that tells them apart.

    A contributor cannot rename files on someone else's server: `…/v1/train.csv` and `…/v2/train.csv` become
    `v1/train.csv` and `v2/train.csv`; addresses that differ only after the path get a number.
    """
    taken = {entry.path.casefold() for entry in manifest.entries if entry.record is not None}
    plain = [entry for entry in manifest.entries if entry.record is None]
    groups = {}
    for entry in plain:
        groups.setdefault(entry.path.casefold(), []).append(entry)
    for name, entries in groups.items():
        if len(entries) == 1 and name not in taken:
            continue
        folders = [
            [
                part
                for part in PurePosixPath(unquote(urlsplit(entry.source_url).path)).parts[:-1]
                if part != "/"
            ]
            for entry in entries
        ]
        for depth in range(1, max(len(parts) for parts in folders) + 1):
            names = [
                "/".join([*parts[-depth:], entry.path]) for parts, entry in zip(folders, entries, strict=True)
            ]
            if (
                len({item.casefold() for item in names}) == len(names)
                and not {item.casefold() for item in names} & taken
            ):
                break
        else:
            names = [entry.path for entry in entries]
        used = set(taken)
        for entry, candidate in zip(entries, names, strict=True):
            stem, dot, suffix = candidate.rpartition(".")
            number, final = 1, candidate
            while final.casefold() in used:
                number += 1
                final = f"{stem}-{number}.{suffix}" if dot else f"{candidate}-{number}"
            used.add(final.casefold())
            entry.path = "".join(ch for ch in final if ch.isalnum() or ch in "._- /") or entry.path


def _check_paths(manifest):
    seen = {}
    for entry in manifest.entries:
        try:
            check_path(entry.path)
        except ManifestProblem as exc:
            manifest.problems.append(exc.message)
            continue
        folded = entry.path.casefold()
        if folded in seen:
            manifest.problems.append(
                i18n.message(
                    gettext_noop(
                        "Two files would both be %(path)s in the dataset (%(first)s and %(second)s); give each "
                        "file its own name."
                    ),
                    path=entry.path,
                    first=seen[folded],
                    second=entry.source_url,
                )
            )
        else:
            seen[folded] = entry.source_url or entry.path


def _check_limits(manifest, *, hosted):
    limit = settings.MAX_FILES_PER_DATASET
    if len(manifest.entries) > limit:
        manifest.problems.append(
            i18n.message(
                gettext_noop(
                    "The dataset has %(files)s files, more than the limit of %(limit)s; pack small files into "
                    "archives or split the dataset."
                ),
                files=i18n.number(len(manifest.entries)),
                limit=i18n.number(limit),
            )
        )
    if not manifest.entries:
        manifest.problems.append(i18n.message(gettext_noop("The locations hold no file.")))
    elif hosted and all(entry.restricted for entry in manifest.entries):
        manifest.problems.append(
            i18n.message(
                gettext_noop(
                    "Every file is restricted or embargoed at its source, so we can't copy any of them; untick "
                    "hosting to link the record, or give files that are open."
                )
            )
        )
    if hosted and manifest.total_size > settings.MIRROR_MAX_BYTES:
        manifest.problems.append(
            i18n.message(
                gettext_noop(
                    "The files add up to %(size)s, more than the %(limit)s we can host; untick hosting to link "
                    "the data instead."
                ),
                size=i18n.file_size(manifest.total_size),
                limit=i18n.file_size(settings.MIRROR_MAX_BYTES),
            )
        )


def _apply_checksums(manifest, checksums):
    if not checksums:
        return
    entries = {entry.path: entry for entry in manifest.entries}
    matched, unmatched = match_checksums(checksums, list(entries))
    for path, digests in matched.items():
        entry = entries[path]
        for algorithm, digest in digests.items():
            announced = entry.checksums.get(algorithm)
            if announced and announced != digest:
                manifest.problems.append(
                    i18n.message(
                        gettext_noop(
                            "Your %(algorithm)s for %(path)s (%(digest)s) is not the one its repository gives "
                            "(%(announced)s); check which file you hashed."
                        ),
                        algorithm=algorithm.upper(),
                        path=path,
                        digest=digest,
                        announced=announced,
                    )
                )
                continue
            entry.checksums[algorithm] = digest
            entry.checksums_from.setdefault(algorithm, "contributor")
    for name in unmatched:
        manifest.problems.append(
            i18n.message(
                gettext_noop(
                    "The checksum for “%(name)s” names no file of the dataset; correct the name or remove the line."
                ),
                name=name,
            )
        )


# Storing and reading ----------------------------------------------------------------------------------


def store(submission, manifest):
    """Replace the submission's records and manifest rows with `manifest`'s, in one transaction."""
    with transaction.atomic():
        ManifestFile.objects.filter(submission=submission).delete()
        SourceRecord.objects.filter(submission=submission).delete()
        records = [
            SourceRecord.objects.create(
                submission=submission,
                position=position,
                location=record.location,
                family=record.family,
                landing_url=record.landing_url[:2000],
                api_url=record.api_url[:2000],
                doi=record.doi[:300],
                title=record.title[:1000],
                description=record.description,
                creators=[dataclasses.asdict(creator) for creator in record.creators],
                license=record.license[:100],
                license_name=record.license_name[:300],
                license_url=record.license_url[:2000],
                published=record.published[:10],
                version=record.version[:100],
                keywords=list(record.keywords),
            )
            for position, record in manifest.records
        ]
        unique, seen = [], set()
        for entry in manifest.entries:
            # A repeated name is a problem of the check; the manifest keeps the first file of that name.
            if entry.path.casefold() not in seen:
                seen.add(entry.path.casefold())
                unique.append(entry)
        ManifestFile.objects.bulk_create(
            [
                ManifestFile(
                    submission=submission,
                    record=records[entry.record] if entry.record is not None else None,
                    position=number,
                    path=entry.path,
                    source_url=entry.source_url[:2000],
                    size=entry.size,
                    checksums=entry.checksums,
                    checksums_from=entry.checksums_from,
                    split=entry.split,
                    media_type=entry.media_type[:200],
                    restricted=entry.restricted,
                    restriction=entry.restriction[:300],
                    restriction_message=entry.restriction_message,
                )
                for number, entry in enumerate(unique)
            ],
            batch_size=1000,
        )


def is_tabular(path):
    """Whether the data check can read the file at `path` as a table (by its name)."""
    name = path.lower()
    for suffix in COMPRESSIONS:
        name = name.removesuffix(suffix)
    return PurePosixPath(name).suffix in TABULAR_EXTENSIONS


def is_loadable(path):
    """Whether the `datasets` library loads the file at `path` as rows (by its name)."""
    name = path.lower()
    for suffix in (*COMPRESSIONS, ".zip"):
        name = name.removesuffix(suffix)
    return PurePosixPath(name).suffix in LOADABLE_EXTENSIONS


def files_to_inspect(submission, *, limit=4):
    """Return (split, path, url) of the file the data check reads in each split (at most `limit` splits):
    the split's first file it can read as a table, else its first file."""
    tabular, first = {}, {}
    files = (
        ManifestFile.objects.filter(submission=submission, restricted=False)
        .exclude(source_url="")
        .order_by("position")
        .values_list("split", "path", "source_url")
    )
    for split, path, url in files.iterator(chunk_size=2000):
        first.setdefault(split, (split, path, url))
        if split not in tabular and is_tabular(path):
            tabular[split] = (split, path, url)
    order = {"train": 0, "validation": 1, "test": 2, "": 3}
    chosen = [tabular.get(split, first[split]) for split in sorted(first, key=lambda s: order.get(s, 4))]
    return chosen[:limit]


def record_measured(submission, sha256_by_path):
    """Record the SHA-256 measured while publishing each file (by its path in the dataset)."""
    files = ManifestFile.objects.filter(submission=submission, path__in=list(sha256_by_path))
    changed = []
    for row in files.only("pk", "path", "sha256"):
        measured = sha256_by_path[row.path]
        if row.sha256 != measured:
            row.sha256 = measured
            changed.append(row)
    ManifestFile.objects.bulk_update(changed, ["sha256"], batch_size=1000)


# Patterns are used instead of listing a split's files when it has more than this many.
CONFIG_LIST_LIMIT = 50


def card_configs(files):
    """Return the card's `configs` for files [(repo path, split, unpack)], or None when the Hub infers them.

    Each split maps to its files of the dataset's main loadable format (the `datasets` library builds a
    split from files of one format), so that the Hub's viewer and `load_dataset(repo)` see the splits and
    skip the other files (documents, archives kept packed). None when there is nothing to say: no loadable
    file, every file loadable in one split, or archives to unpack (their members are known only later).
    """
    if not files or any(unpack for _path, _split, unpack in files if _is_archive_name(_path)):
        return None
    loadable = [(path, split) for path, split, _unpack in files if is_loadable(path)]
    if not loadable:
        return None
    extensions = {}
    for path, _split in loadable:
        extensions[_format_of(path)] = extensions.get(_format_of(path), 0) + 1
    main = max(extensions, key=lambda extension: (extensions[extension], extension))
    chosen = [(path, split) for path, split in loadable if _format_of(path) == main]
    splits = {split for _path, split in chosen}
    if splits == {""} and len(chosen) == len(files):
        return None
    by_split = {}
    for path, split in chosen:
        by_split.setdefault(split or "train", []).append(path)
    all_splits = {path: split or "train" for path, split in chosen}
    data_files = []
    for split in sorted(by_split, key=lambda name: (SPLITS.index(name) if name in SPLITS else 3, name)):
        paths = by_split[split]
        data_files.append({"split": split, "path": _patterns(paths, all_splits, split, main)})
    return [{"config_name": "default", "data_files": data_files}]


def _format_of(path):
    name = path.lower()
    for suffix in (*COMPRESSIONS, ".zip"):
        name = name.removesuffix(suffix)
    return PurePosixPath(name).suffix


def _is_archive_name(path):
    return path.lower().endswith((".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz"))


def _patterns(paths, all_splits, split, extension):
    """Return the paths of a split, or folder patterns covering exactly them when there are many."""
    if len(paths) <= CONFIG_LIST_LIMIT:
        return paths[0] if len(paths) == 1 else paths
    folders = sorted({str(PurePosixPath(path).parent) for path in paths})
    exact = all(
        all_splits.get(other) == split for other in all_splits if str(PurePosixPath(other).parent) in folders
    )
    if not exact or len(folders) > CONFIG_LIST_LIMIT:
        return paths
    return [f"{folder}/*{extension}*" for folder in folders]
