"""Tell what a sample of bytes is by its content, never by its name or the server's content type.

Binary signatures come from `filetype` (images, audio, video, zip, gzip, tar, PDF) plus the few it does not
know (Parquet, Arrow/Feather); text is decoded with `charset_normalizer` and told apart as HTML, JSON,
JSON Lines or delimited text (with its delimiter). This module only reads the first bytes it is given.
"""

import csv
import dataclasses
import json
import re
import tarfile

import charset_normalizer
import filetype
from django.utils.translation import gettext_noop

from portal.i18n import message

# How much of the start of a file is read to recognise it.
SNIFF_BYTES = 64 * 1024

PARQUET = "parquet"
ARROW = "arrow"
ZIP = "zip"
TAR = "tar"
GZIP = "gzip"
CSV = "csv"
TSV = "tsv"
JSON = "json"
JSONL = "jsonl"
TEXT = "text"
HTML = "html"
PDF = "pdf"
IMAGE = "image"
AUDIO = "audio"
VIDEO = "video"
EMPTY = "empty"
UNKNOWN = "unknown"

TABULAR = frozenset({PARQUET, ARROW, CSV, TSV, JSON, JSONL})
ARCHIVES = frozenset({ZIP, TAR})

# The formats in words (message ids of `portal.i18n`: a label is stored, then read in the reader's language).
LABELS = {
    PARQUET: gettext_noop("Parquet"),
    ARROW: gettext_noop("Arrow/Feather"),
    ZIP: gettext_noop("zip archive"),
    TAR: gettext_noop("tar archive"),
    GZIP: gettext_noop("gzip"),
    CSV: gettext_noop("CSV"),
    TSV: gettext_noop("TSV"),
    JSON: gettext_noop("JSON"),
    JSONL: gettext_noop("JSON Lines"),
    TEXT: gettext_noop("plain text"),
    HTML: gettext_noop("HTML web page"),
    PDF: gettext_noop("PDF document"),
    IMAGE: gettext_noop("image"),
    AUDIO: gettext_noop("audio"),
    VIDEO: gettext_noop("video"),
    EMPTY: gettext_noop("empty file"),
    UNKNOWN: gettext_noop("unknown binary data"),
}

DELIMITERS = ",\t;|"
# Share of lines that must split like the header for text to be taken as a table.
MIN_DELIMITED_SHARE = 0.6
# Legacy encodings seen in data files; guessing among every codec misreads short Latin-1 samples.
LIKELY_ENCODINGS = [
    "cp1252",
    "latin_1",
    "iso8859_15",
    "cp1251",
    "koi8_r",
    "shift_jis",
    "euc_jp",
    "gb18030",
    "big5",
]

_HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<!--|<meta|<title|<div|<script)", re.I)


@dataclasses.dataclass(frozen=True)
class Sniffed:
    """What the first bytes are: a format token, a MIME type when known, and text details when text."""

    format: str
    mime: str = ""
    encoding: str = ""
    delimiter: str = ""

    @property
    def label(self):
        """Return the format in words (a stored message), with the encoding when it matters."""
        label = message(LABELS[self.format])
        if self.encoding and self.encoding not in ("utf_8", "ascii"):
            # Translators: a format and its text encoding: "CSV (utf-16)".
            return message(
                gettext_noop("%(format)s (%(encoding)s)"),
                format=label,
                encoding=self.encoding.replace("_", "-"),
            )
        return label


def sniff(head: bytes) -> Sniffed:
    """Return what `head`, the first bytes of a file, holds."""
    if not head:
        return Sniffed(EMPTY)
    if head.startswith(b"PAR1"):
        return Sniffed(PARQUET, "application/vnd.apache.parquet")
    if head.startswith(b"ARROW1"):
        return Sniffed(ARROW, "application/vnd.apache.arrow.file")
    kind = filetype.guess(head[:8192])
    if kind is not None:
        mime = kind.mime
        if mime == "application/zip" or kind.extension in ("docx", "xlsx", "pptx", "epub", "jar", "apk"):
            return Sniffed(ZIP, mime)
        if mime == "application/gzip":
            return Sniffed(GZIP, mime)
        if mime == "application/x-tar":
            return Sniffed(TAR, mime)
        if mime == "application/pdf":
            return Sniffed(PDF, mime)
        top = mime.split("/", 1)[0]
        if top in ("image", "audio", "video"):
            return Sniffed({"image": IMAGE, "audio": AUDIO, "video": VIDEO}[top], mime)
        return Sniffed(UNKNOWN, mime)
    if _is_tar(head):
        return Sniffed(TAR, "application/x-tar")
    return _sniff_text(head[:SNIFF_BYTES])


def _is_tar(head):
    """True when the first block is a tar header with a valid checksum (`filetype` only knows ustar)."""
    if len(head) < tarfile.BLOCKSIZE:
        return False
    try:
        tarfile.TarInfo.frombuf(head[: tarfile.BLOCKSIZE], "utf-8", "surrogateescape")
    except (tarfile.HeaderError, ValueError, OverflowError):
        return False
    return True


def detect_encoding(head: bytes) -> str | None:
    """Return the Python codec name of a text sample, or None when it is not text."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf_16"
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf_8_sig"
    try:
        head.decode("utf-8")
        return "utf_8"
    except UnicodeDecodeError as exc:
        # A prefix may end in the middle of a multi-byte character.
        if exc.start >= len(head) - 3:
            return "utf_8"
    if b"\x00" in head[:4096] and not _looks_utf16(head):
        return None
    best = charset_normalizer.from_bytes(head[:SNIFF_BYTES], cp_isolation=LIKELY_ENCODINGS).best()
    return best.encoding if best is not None else None


def _looks_utf16(head):
    """UTF-16 without a BOM: every other byte of ASCII text is NUL."""
    sample = head[:4096]
    return len(sample) >= 4 and (
        sample[1::2].count(0) > len(sample) // 4 or sample[0::2].count(0) > len(sample) // 4
    )


def _sniff_text(head):
    encoding = detect_encoding(head)
    if encoding is None:
        return Sniffed(UNKNOWN)
    text = head.decode(encoding, errors="replace")
    if _HTML_START.match(text.encode("utf-8", "replace")[:1024]):
        return Sniffed(HTML, "text/html", encoding)
    stripped = text.lstrip("\ufeff \t\r\n")
    lines = [line for line in stripped.splitlines() if line.strip()]
    if stripped.startswith(("{", "[")):
        first = lines[0].strip() if lines else ""
        if stripped.startswith("{") and len(lines) > 1 and _is_json(first):
            return Sniffed(JSONL, "application/jsonl", encoding)
        return Sniffed(JSON, "application/json", encoding)
    delimiter = _delimiter(lines[:50])
    if delimiter:
        return Sniffed(TSV if delimiter == "\t" else CSV, "text/csv", encoding, delimiter)
    return Sniffed(TEXT, "text/plain", encoding)


def _is_json(line):
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def _delimiter(lines):
    """Return the delimiter of delimited text, or "" when the lines are not a table.

    The delimiter is the one that splits the header into several fields and most other lines into as
    many; ragged rows lower the share but do not hide a table.
    """
    if len(lines) < 2:
        return ""
    # The last line of a prefix may be cut; leave it out.
    lines = lines[:-1] if len(lines) > 2 else lines
    best, best_share = "", 0.0
    for delimiter in DELIMITERS:
        widths = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        if not widths or widths[0] < 2:
            continue
        share = sum(width == widths[0] for width in widths) / len(widths)
        if share > best_share:
            best, best_share = delimiter, share
    return best if best_share >= MIN_DELIMITED_SHARE else ""
