"""Parse and lint a dataset card (YAML header + Markdown body) uploaded by a contributor.

`parse_card` refuses what cannot be stored (not text, not UTF-8, broken or hostile YAML) with a
`CardRejected` whose message tells the contributor what to do; `lint_card` lists what a curator should
know (missing licence, unknown values, missing sections) as `Finding`s and never refuses. A finding is
stored and read later, so its message is a `portal.i18n` stored message, shown in the reader's language.
The traps handled here are measured against huggingface_hub 2.4 (docs/developing/design.md, "Card parsing").
This module must not touch the database, the network or the Hub; it only reads bytes and returns values.
"""

import datetime
import hashlib
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import yaml
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from huggingface_hub import DatasetCard
from huggingface_hub.repocard import REGEX_YAML_BLOCK
from huggingface_hub.repocard_data import DatasetCardData
from markdown_it import MarkdownIt

from portal import i18n
from portal.orcid import Creator
from submissions import carddata

ALLOWED_EXTENSIONS = (".md", ".markdown", ".txt")
# Real `dataset_info.features` nest about ten levels; deeper is a RecursionError waiting to happen.
MAX_HEADER_DEPTH = 64
# Text with more than this share of control characters is binary that happens to decode.
MAX_CONTROL_RATIO = 0.01

WARNING = "warning"
INFO = "info"

_BINARY_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": gettext_lazy("a PNG image"),
    b"%PDF-": gettext_lazy("a PDF document"),
    b"PK\x03\x04": gettext_lazy("a ZIP archive (or a Word/OpenDocument file)"),
    b"\x1f\x8b": gettext_lazy("a gzip archive"),
    b"\xff\xd8\xff": gettext_lazy("a JPEG image"),
    b"GIF8": gettext_lazy("a GIF image"),
    b"\xd0\xcf\x11\xe0": gettext_lazy("an old Microsoft Office document"),
}
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Unicode control characters (category Cc) except tab, line feed, vertical tab, form feed, carriage return.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_SAFE_TAGS = frozenset(
    "tag:yaml.org,2002:" + name for name in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")
)
# Class attributes of DatasetCardData: a header key with one of these names replaces a method
# (`to_dict: 1` makes to_dict() raise TypeError) or collides with a constructor argument.
_RESERVED_KEYS = frozenset(dir(DatasetCardData)) | {"ignore_metadata_errors"}

# Section keys in the order of the Hub's dataset card template; each has the words its heading may use.
# https://github.com/huggingface/huggingface_hub/blob/main/src/huggingface_hub/templates/datasetcard_template.md
RECOMMENDED_SECTIONS = {
    "description": ("description", "summary", "overview", "about", "introduction", "dataset details"),
    "uses": ("uses", "use", "usage", "intended", "how to use", "supported tasks", "applications"),
    "structure": ("structure", "data fields", "data instances", "data splits", "schema", "data format"),
    "licensing": ("license", "licence", "licensing", "licenses", "licences", "terms of use"),
    "citation": ("citation", "citations", "cite", "citing", "bibtex", "reference", "references"),
}
_SECTION_LABELS = {
    "description": gettext_noop("a description (## Dataset Description)"),
    "uses": gettext_noop("its intended uses (## Uses)"),
    "structure": gettext_noop("its structure (## Dataset Structure)"),
    "licensing": gettext_noop("its licence (## Licensing Information)"),
    "citation": gettext_noop("how to cite it (## Citation)"),
}


class CardRejected(Exception):
    """A card we refuse; str(exc) is a message for the contributor and .code a stable identifier."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Finding:
    """One remark about a card for the curator: level "warning" or "info" and a stable code.

    `message` is in English (logs, the API, readers of the stored dict that know only it); `text` is the same
    as a stored message (`portal.i18n.message`), shown in the reader's language. `remark` makes both.
    """

    level: str
    code: str
    message: str
    text: dict | None = None

    @classmethod
    def remark(cls, level: str, code: str, msgid, **params) -> "Finding":
        """Return a finding whose message is `portal.i18n.message(msgid, **params)`."""
        return cls.of(level, code, i18n.message(msgid, **params))

    @classmethod
    def of(cls, level: str, code: str, text: dict) -> "Finding":
        """Return a finding of a stored message (`portal.i18n`), its English kept as `message`."""
        return cls(level=level, code=code, message=i18n.english(text), text=text)

    def to_dict(self) -> dict:
        """Return the finding as a JSON-safe dict: level, code, message (English) and text (stored)."""
        found = {"level": self.level, "code": self.code, "message": self.message}
        if self.text is not None:
            found["text"] = self.text
        return found

    @classmethod
    def from_dict(cls, data: dict) -> "Finding":
        """Build a finding from the dict `to_dict` returned (older ones have no text)."""
        return cls(level=data["level"], code=data["code"], message=data["message"], text=data.get("text"))


@dataclass(frozen=True)
class ParsedCard:
    """A card that can be stored: its text, JSON-safe metadata, body, digest and findings."""

    text: str
    metadata: dict
    body: str
    sha256: str
    size: int
    findings: list[Finding] = field(default_factory=list)


def check_card_filename(filename: str) -> None:
    """Refuse a filename with path parts, control characters or an extension not .md/.markdown/.txt."""
    if not filename or not filename.strip():
        raise CardRejected(
            _("The card has no file name. Upload a file named like README.md."), code="filename"
        )
    # Cf covers invisible format characters such as U+202E, which can disguise an extension.
    if any(unicodedata.category(char) in ("Cc", "Cf") for char in filename):
        raise CardRejected(
            _(
                "The card's file name contains control characters. Rename the file to something like README.md."
            ),
            code="filename",
        )
    if "/" in filename or "\\" in filename or ".." in filename:
        raise CardRejected(
            _("The card's file name must be a plain name without folders or '..'. Rename it to README.md."),
            code="filename",
        )
    if PurePosixPath(filename).suffix.lower() not in ALLOWED_EXTENSIONS:
        raise CardRejected(
            _("The card must be a .md, .markdown or .txt file. Upload the README.md of your dataset."),
            code="extension",
        )


def parse_card(raw: bytes, *, filename: str, max_bytes: int | None = None) -> ParsedCard:
    """Parse an uploaded card into text, JSON-safe metadata and body; raise CardRejected if unusable."""
    check_card_filename(filename)
    if max_bytes is None:
        max_bytes = settings.PORTAL_CARD_MAX_BYTES
    _check_bytes(raw, max_bytes=max_bytes)
    text = _decode(raw)

    findings: list[Finding] = []
    first_line = 1
    # The library's own regex, so that what we report matches what it reads.
    match = REGEX_YAML_BLOCK.search(text)
    if match is None:
        reason = _why_header_ignored(text)
        if reason is not None:
            findings.append(
                Finding.remark(
                    WARNING,
                    "header-ignored",
                    gettext_noop(
                        "The YAML header was not read because %(reason)s, so the card has no metadata. "
                        "Start the card with a line of exactly '---', the YAML lines, then a line '---'."
                    ),
                    reason=i18n.message(reason),
                )
            )
    else:
        first_line = text.count("\n", 0, match.start(2)) + 1
        findings.extend(_scan_header(match.group(2), first_line=first_line))

    card = _load_card(text, first_line=first_line)
    metadata, conversion_findings = _json_safe_metadata(card.data.to_dict())
    findings.extend(conversion_findings)
    _check_metadata_size(metadata)
    findings.extend(lint_card(metadata, card.text))
    return ParsedCard(
        text=text,
        metadata=metadata,
        body=card.text,
        sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        findings=findings,
    )


def lint_card(metadata: dict, body: str) -> list[Finding]:
    """List what a curator should know about a card's metadata and body; never raises for bad values."""
    findings: list[Finding] = []
    findings.extend(_lint_license(metadata))
    findings.extend(_lint_languages(metadata))
    findings.extend(
        _lint_values(
            metadata.get("size_categories"),
            allowed=frozenset(carddata.size_categories()),
            code="size-category-unknown",
            msgid=gettext_noop(
                "The size category %(value)s is not one the Hub knows. Use one of %(allowed)s."
            ),
            allowed_shown=", ".join(carddata.size_categories()),
        )
    )
    findings.extend(
        _lint_values(
            metadata.get("task_categories"),
            allowed=carddata.task_categories(),
            code="task-category-unknown",
            msgid=gettext_noop(
                "The task category %(value)s is not one the Hub knows. Use a task from "
                "https://huggingface.co/tasks, e.g. text-classification."
            ),
        )
    )
    # The task id list is the Hub's current subtasks; older cards use retired ids, so only a note.
    findings.extend(
        _lint_values(
            metadata.get("task_ids"),
            allowed=carddata.task_ids(),
            code="task-id-unknown",
            msgid=gettext_noop(
                "The task id %(value)s is not one the Hub knows. Check it against the Hub's task list."
            ),
            level=INFO,
        )
    )
    pretty_name = metadata.get("pretty_name")
    if not isinstance(pretty_name, str) or not pretty_name.strip():
        findings.append(
            Finding.remark(
                WARNING,
                "pretty-name-missing",
                gettext_noop(
                    "The header has no pretty_name. Add a readable name, e.g. 'pretty_name: Baltic Sea Buoys'."
                ),
            )
        )
    findings.extend(_lint_sections(body))
    findings.extend(_lint_placeholders(body))
    return findings


# What the card template (`card_template`) writes for the contributor to replace: a card that still holds it
# says nothing of the data there.
LICENSE_PLACEHOLDER = "REPLACE-WITH-LICENCE-ID"
TEMPLATE_PLACEHOLDERS = (
    "What the data is, who made it, when and how it was collected.",
    "What the data is meant for, and uses it is not suited for.",
    "The files, their format and their fields (columns), with their types and units.",
    "Describe the fields (columns) of each file, with their types and units.",
    "The licence of the data and any conditions of use.",
    "How to cite the dataset (BibTeX or a reference).",
)


def _lint_placeholders(body: str) -> list[Finding]:
    left = [text for text in TEMPLATE_PLACEHOLDERS if text in body]
    if not left:
        return []
    if len(left) == 1:
        return [
            Finding.remark(
                WARNING,
                "template-placeholder",
                gettext_noop(
                    "The card still holds the template's placeholder text (“%(first)s”). Replace it with what "
                    "is true of this dataset."
                ),
                first=left[0],
            )
        ]
    return [
        Finding.of(
            WARNING,
            "template-placeholder",
            i18n.message_plural(
                "The card still holds the template's placeholder text (“%(first)s” and %(count)s more). "
                "Replace it with what is true of this dataset.",
                "The card still holds the template's placeholder text (“%(first)s” and %(count)s more). "
                "Replace it with what is true of this dataset.",
                count=len(left) - 1,
                first=left[0],
            ),
        )
    ]


def _check_bytes(raw: bytes, *, max_bytes: int) -> None:
    if not raw.strip():
        raise CardRejected(
            _(
                "The card is empty. Upload the README.md of your dataset, with a YAML header and a description."
            ),
            code="empty",
        )
    if len(raw) > max_bytes:
        raise CardRejected(
            _(
                "The card is %(size)s, more than the limit of %(limit)s. Move long tables or lists out of the "
                "card and link to them."
            )
            % {"size": _human_size(len(raw)), "limit": _human_size(max_bytes)},
            code="too-large",
        )
    for signature, kind in _BINARY_SIGNATURES.items():
        if raw.startswith(signature):
            raise CardRejected(
                _(
                    "The card looks like %(kind)s, not text. Upload the README.md of your dataset as plain text."
                )
                % {"kind": kind},
                code="binary",
            )
    if raw.startswith(_UTF16_BOMS):
        raise CardRejected(
            _("The card is saved as UTF-16. Save it as UTF-8 text and upload it again."), code="not-utf8"
        )
    if b"\x00" in raw:
        raise CardRejected(
            _("The card contains NUL bytes, so it is not a text file. Upload the README.md of your dataset."),
            code="binary",
        )


def _decode(raw: bytes) -> str:
    try:
        # utf-8-sig drops a BOM; left in place it hides the header from the Hub's regex.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CardRejected(
            _(
                "The card is not UTF-8 text (invalid byte at position %(position)s). Save it as UTF-8 in your "
                "editor and upload it again."
            )
            % {"position": exc.start},
            code="not-utf8",
        ) from exc
    if not text.strip():
        raise CardRejected(
            _(
                "The card is empty. Upload the README.md of your dataset, with a YAML header and a description."
            ),
            code="empty",
        )
    controls = len(_CONTROL_CHARS.findall(text))
    if controls > len(text) * MAX_CONTROL_RATIO:
        raise CardRejected(
            _(
                "The card contains many control characters, so it looks like a binary file. Upload the "
                "README.md of your dataset as plain text."
            ),
            code="binary",
        )
    return text


def _why_header_ignored(text: str) -> str | None:
    """Say why a card that starts like a YAML header has none for the library (an English message id), or
    None if none was meant."""
    lines = text.lstrip().splitlines()
    if not lines or lines[0].rstrip() != "---":
        return None
    if lines[0] != "---":
        return gettext_noop("its opening '---' line has spaces or tabs after the dashes")
    if len(lines) > 1 and lines[1].rstrip(" \t") == "---":
        return gettext_noop("it is empty (a '---' line directly followed by another)")
    if not any(line.rstrip(" \t") == "---" for line in lines[1:]):
        return gettext_noop("it has no closing '---' line")
    return gettext_noop("it could not be found by the Hub's header rule")


@dataclass
class _Frame:
    """One open mapping or sequence while walking the YAML events."""

    kind: str
    path: tuple[str, ...]
    top_level: bool
    expecting_key: bool = True
    keys: dict[str, int] = field(default_factory=dict)
    last_key: str = ""


def _scan_header(header: str, *, first_line: int) -> list[Finding]:
    """Walk the YAML events once: refuse anchors, tags, odd keys, deep nesting; report duplicate keys."""
    findings: list[Finding] = []
    resolver = yaml.resolver.Resolver()
    stack: list[_Frame] = []
    # libyaml when present: the scan must stay cheap next to the pure-Python load DatasetCard does.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        for event in yaml.parse(header, Loader=loader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                raise CardRejected(
                    _(
                        "Line %(line)s: the YAML header uses an anchor or alias ('&name' or '*name'). Anchors "
                        "and aliases are not supported in a card; write the values out in full."
                    )
                    % {"line": first_line + event.start_mark.line},
                    code="yaml-alias",
                )
            if isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                stack.pop()
                continue
            if not isinstance(event, yaml.ScalarEvent | yaml.SequenceStartEvent | yaml.MappingStartEvent):
                continue
            line = first_line + event.start_mark.line
            _check_tag(event, line=line)
            path: tuple[str, ...] = ()
            if stack:
                parent = stack[-1]
                path = parent.path
                if parent.kind == "map" and parent.expecting_key:
                    findings.extend(_check_key(event, frame=parent, line=line, resolver=resolver))
                elif parent.kind == "map":
                    path = (*parent.path, parent.last_key)
                if parent.kind == "map":
                    # Only direct children alternate key/value; nested events go to their own frame.
                    parent.expecting_key = not parent.expecting_key
            if isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                kind = "map" if isinstance(event, yaml.MappingStartEvent) else "seq"
                stack.append(_Frame(kind=kind, path=path, top_level=not stack))
                if len(stack) > MAX_HEADER_DEPTH:
                    raise CardRejected(
                        _(
                            "Line %(line)s: the YAML header nests more than %(depth)s levels deep. Flatten the "
                            "metadata."
                        )
                        % {"line": line, "depth": MAX_HEADER_DEPTH},
                        code="yaml-too-deep",
                    )
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, first_line=first_line) from exc
    except yaml.YAMLError as exc:
        raise CardRejected(
            _("The YAML header could not be read (%(error)s). Check it with a YAML validator.")
            % {"error": exc},
            code="yaml-invalid",
        ) from exc
    return findings


def _check_tag(event, *, line: int) -> None:
    tag = event.tag
    # "!" is the non-specific tag PyYAML gives quoted scalars; it is not written by the contributor.
    if tag is None or tag == "!" or tag in _SAFE_TAGS:
        return
    shown = tag.replace("tag:yaml.org,2002:", "!!")
    raise CardRejected(
        _(
            "Line %(line)s: the YAML header uses the tag '%(tag)s'. Tags (like !!python/object) are not supported "
            "in a card; remove the tag and write a plain value."
        )
        % {"line": line, "tag": shown},
        code="yaml-tag",
    )


def _check_key(event, *, frame: _Frame, line: int, resolver) -> list[Finding]:
    if not isinstance(event, yaml.ScalarEvent):
        raise CardRejected(
            _("Line %(line)s: a key in the YAML header is a list or mapping. Keys must be plain text.")
            % {"line": line},
            code="yaml-key",
        )
    key = event.value
    frame.last_key = key
    if frame.top_level:
        _check_top_level_key(event, line=line, resolver=resolver)
    if key in frame.keys:
        return [
            Finding.remark(
                WARNING,
                "duplicate-key",
                gettext_noop(
                    "The header key '%(key)s' appears more than once under '%(path)s' (lines %(first)s and "
                    "%(second)s); only the last one is used. Keep one."
                )
                if frame.path
                else gettext_noop(
                    "The header key '%(key)s' appears more than once at the top level (lines %(first)s and "
                    "%(second)s); only the last one is used. Keep one."
                ),
                key=key,
                path=".".join(frame.path),
                first=frame.keys[key],
                second=line,
            )
        ]
    frame.keys[key] = line
    return []


def _check_top_level_key(event, *, line: int, resolver) -> None:
    key = event.value
    # Plain scalars are resolved as YAML would; a quoted '1' is text and fine.
    resolved = resolver.resolve(yaml.ScalarNode, key, event.implicit) if event.implicit[0] else None
    if resolved is not None and resolved != "tag:yaml.org,2002:str":
        raise CardRejected(
            _(
                "Line %(line)s: the header key '%(key)s' is read as a number, date or boolean. Top-level keys "
                "must be text, such as 'license'; quote it or rename it."
            )
            % {"line": line, "key": key},
            code="yaml-key",
        )
    if key in _RESERVED_KEYS:
        raise CardRejected(
            _("Line %(line)s: the header key '%(key)s' is reserved by the card parser. Rename it.")
            % {"line": line, "key": key},
            code="yaml-key",
        )


def _yaml_error(exc: yaml.MarkedYAMLError, *, first_line: int) -> CardRejected:
    mark = exc.problem_mark or exc.context_mark
    # PyYAML's own words for the problem stay in English: it has no translations.
    problem = exc.problem or "invalid YAML"
    if mark is None:
        message = _(
            "The YAML header is broken: %(problem)s. Fix the YAML between the '---' lines (check indentation, "
            "colons and quotes)."
        ) % {"problem": problem}
    else:
        message = _(
            "The YAML header is broken at line %(line)s: %(problem)s. Fix the YAML between the '---' lines "
            "(check indentation, colons and quotes)."
        ) % {"line": first_line + mark.line, "problem": problem}
    return CardRejected(message, code="yaml-invalid")


def _load_card(text: str, *, first_line: int) -> DatasetCard:
    try:
        return DatasetCard(text)
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, first_line=first_line) from exc
    except yaml.YAMLError as exc:
        raise CardRejected(
            _("The YAML header could not be read (%(error)s). Check it with a YAML validator.")
            % {"error": exc},
            code="yaml-invalid",
        ) from exc
    except ValueError as exc:
        # The library's only ValueError here: the header parsed to a list or a scalar.
        raise CardRejected(
            _(
                "The YAML header must be a mapping of keys to values (like 'license: mit'), not a list or a "
                "single value."
            ),
            code="yaml-not-mapping",
        ) from exc
    except (TypeError, AttributeError, RecursionError) as exc:
        # Keys the scan let through can still break CardData (docs/developing/design.md, "Card parsing"): say so plainly.
        raise CardRejected(
            _(
                "The YAML header could not be read as card metadata. Use text keys such as 'license' and plain "
                "values."
            ),
            code="yaml-invalid",
        ) from exc


def _json_safe_metadata(metadata: dict) -> tuple[dict, list[Finding]]:
    findings: list[Finding] = []
    converted_keys: list[str] = []
    safe = _json_safe(metadata, converted_keys=converted_keys)
    for key in ("language", "languages"):
        # YAML 1.1 reads the Norwegian code `no` as false; in a language field it can only mean `no`.
        value = safe.get(key)
        if value is False or (isinstance(value, list) and False in value):
            safe[key] = "no" if value is False else ["no" if item is False else item for item in value]
            findings.append(
                Finding.remark(
                    INFO,
                    "language-no-as-false",
                    gettext_noop(
                        "'%(key)s: no' is read by YAML as false; it was kept as the language code 'no' "
                        "(Norwegian). Write it quoted, 'no', to be explicit."
                    ),
                    key=key,
                )
            )
    if converted_keys:
        shown = ", ".join(sorted(set(converted_keys))[:5])
        findings.append(
            Finding.remark(
                INFO,
                "key-converted",
                gettext_noop(
                    "Header keys that YAML reads as numbers, dates or booleans were kept as text: %(keys)s. "
                    "Quote them to be explicit."
                ),
                keys=shown,
            )
        )
    return safe, findings


def _json_safe(value, *, converted_keys: list[str]):
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if not isinstance(key, str):
                # JSON (and the Hub's YAML reader) turn scalar keys into text; do the same, visibly.
                key = _scalar_text(key)
                converted_keys.append(key)
            result[key] = _json_safe(item, converted_keys=converted_keys)
        return result
    if isinstance(value, list | tuple):
        return [_json_safe(item, converted_keys=converted_keys) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return _scalar_text(value)
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    raise CardRejected(
        _(
            "The YAML header holds a value that cannot be stored as card metadata. Use text, numbers, lists and "
            "mappings only."
        ),
        code="yaml-invalid",
    )


def _scalar_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return ".nan"
    if isinstance(value, float) and math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    return str(value)


def _check_metadata_size(metadata: dict) -> None:
    limit = settings.PORTAL_CARD_MAX_METADATA_BYTES
    size = len(json.dumps(metadata, ensure_ascii=False).encode("utf-8"))
    if size > limit:
        raise CardRejected(
            _(
                "The YAML header is too large (%(size)s as JSON, limit %(limit)s). Keep the header to the card's "
                "metadata and move long lists to files in the dataset."
            )
            % {"size": _human_size(size), "limit": _human_size(limit)},
            code="metadata-too-large",
        )


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _lint_license(metadata: dict) -> list[Finding]:
    findings: list[Finding] = []
    value = metadata.get("license")
    if value is None and metadata.get("licenses") is not None:
        value = metadata["licenses"]
        findings.append(
            Finding.remark(
                INFO,
                "license-old-key",
                gettext_noop("The header uses the old key 'licenses'; use 'license'."),
            )
        )
    items = [item for item in _as_list(value) if not (isinstance(item, str) and not item.strip())]
    if not items:
        findings.append(
            Finding.remark(
                WARNING,
                "license-missing",
                gettext_noop(
                    "The header has no licence. Add one from the Hub's list, e.g. 'license: cc-by-4.0'."
                ),
            )
        )
        return findings
    known = carddata.license_ids()
    for item in items:
        if not isinstance(item, str):
            findings.append(
                Finding.remark(
                    WARNING,
                    "license-not-text",
                    gettext_noop(
                        "The licence list holds %(value)s, which is not text. Use licence ids such as 'mit'."
                    ),
                    value=repr(item),
                )
            )
        elif item not in known:
            findings.append(
                Finding.remark(
                    WARNING,
                    "license-unknown",
                    gettext_noop(
                        "The licence '%(value)s' is not one the Hub knows. Did you mean '%(suggestion)s'? Use an id "
                        "from https://huggingface.co/docs/hub/repositories-licenses, or 'other' with license_name."
                    )
                    if item.lower() in known
                    else gettext_noop(
                        "The licence '%(value)s' is not one the Hub knows. Use an id from "
                        "https://huggingface.co/docs/hub/repositories-licenses, or 'other' with license_name."
                    ),
                    value=item,
                    suggestion=item.lower(),
                )
            )
    if "other" in items and not metadata.get("license_name"):
        findings.append(
            Finding.remark(
                INFO,
                "license-other-unnamed",
                gettext_noop(
                    "The licence is 'other' but the header has no license_name. Name the licence, link its text."
                ),
            )
        )
    return findings


def _lint_languages(metadata: dict) -> list[Finding]:
    findings: list[Finding] = []
    key = "language"
    if metadata.get("language") is None and metadata.get("languages") is not None:
        key = "languages"
        findings.append(
            Finding.remark(
                INFO,
                "language-old-key",
                gettext_noop("The header uses the old key 'languages'; use 'language'."),
            )
        )
    findings.extend(
        _lint_values(
            metadata.get(key),
            allowed=carddata.language_codes(),
            code="language-unknown",
            msgid=gettext_noop(
                "The language code %(value)s is not one the Hub knows. Use ISO 639-1 (two letters, e.g. 'en') "
                "or ISO 639-3 (three letters, e.g. 'yue') codes."
            ),
        )
    )
    return findings


def _lint_values(
    value, *, allowed: frozenset[str], code: str, msgid: str, level: str = WARNING, allowed_shown: str = ""
) -> list[Finding]:
    """Return a finding for each item of `value` not in `allowed`; `msgid` names it %(value)s and may list
    the allowed values, %(allowed)s (`allowed_shown`)."""
    findings = []
    for item in _as_list(value):
        if isinstance(item, str) and item in allowed:
            continue
        params = {"value": repr(item), "allowed": allowed_shown} if allowed_shown else {"value": repr(item)}
        findings.append(Finding.remark(level, code, msgid, **params))
    return findings


_WORDS = re.compile(r"[^\W\d_]+")
# Only the structure of a card is read here (headings, paragraphs); rendering is portal.markdown's job.
_STRUCTURE = MarkdownIt("commonmark").enable(["table"])


def _headings(body: str) -> list[str]:
    """Return the text of the Markdown headings of a body (ATX and setext; code blocks are not headings)."""
    tokens = _STRUCTURE.parse(body)
    return [
        tokens[index + 1].content
        for index, token in enumerate(tokens)
        if token.type == "heading_open" and index + 1 < len(tokens)
    ]


def _lint_sections(body: str) -> list[Finding]:
    found = set()
    for heading in _headings(body):
        words = " " + " ".join(_WORDS.findall(heading.lower())) + " "
        for section, synonyms in RECOMMENDED_SECTIONS.items():
            if any(f" {synonym} " in words for synonym in synonyms):
                found.add(section)
    return [
        Finding.remark(
            WARNING,
            f"section-missing-{section}",
            gettext_noop(
                "The card has no section on %(section)s. Add one; the Hub's dataset card template shows what "
                "to write."
            ),
            section=i18n.message(_SECTION_LABELS[section]),
        )
        for section in RECOMMENDED_SECTIONS
        if section not in found
    ]


def _human_size(size: int) -> str:
    return filesizeformat(size).replace("\xa0", " ")


def card_body(text: str) -> str:
    """Return the Markdown body of an accepted card's text, without parsing its YAML header again."""
    match = REGEX_YAML_BLOCK.search(text)
    return text[match.end() :] if match else text


def card_summary(body: str, *, limit: int = 500) -> str:
    """Return the text of the first top-level paragraph of prose in a card body, at most `limit` characters.

    Headings, quotes, lists, tables, code and HTML blocks are skipped; a paragraph holding only an image
    has no text and is skipped too.
    """
    tokens = _STRUCTURE.parse(body)
    for index, token in enumerate(tokens):
        if token.type != "paragraph_open" or token.level != 0:
            continue
        text = " ".join(_plain_text(tokens[index + 1].children or []).split())
        if text:
            return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"
    return ""


def _plain_text(children) -> str:
    parts = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


@dataclass(frozen=True)
class HubCard:
    """The README.md published on the Hub, with the metadata of its YAML header."""

    text: str
    metadata: dict
    body: str


@dataclass(frozen=True)
class CitationInfo:
    """What the published card says about where the data comes from and what goes with it."""

    dois: tuple = ()  # DOIs of the repository records the data comes from
    creators: tuple = ()  # {"name", "orcid", "affiliation"} dicts
    paper: str = ""  # an https address (arXiv, doi.org or other)
    code_url: str = ""
    doi: str = ""  # the dataset's own DOI, once it has one
    bibtex: str = ""  # how to cite it (with the DOI), shown as a BibTeX block

    def __bool__(self):
        return bool(self.dois or self.creators or self.paper or self.code_url or self.doi)

    def markdown(self):
        """Return the lines the card's citation section gains (Markdown)."""
        lines = []
        if self.doi:
            lines.append(f"- DOI of this dataset: [doi:{self.doi}](https://doi.org/{self.doi})")
        if self.creators:
            names = []
            for creator in self.creators:
                name = creator.get("name", "")
                if creator.get("orcid"):
                    name += f" ([ORCID {creator['orcid']}](https://orcid.org/{creator['orcid']}))"
                names.append(name)
            lines.append("- Creators: " + "; ".join(names))
        lines.extend(f"- Source record: [doi:{doi}](https://doi.org/{doi})" for doi in self.dois)
        if self.paper:
            lines.append(f"- Paper: <{self.paper}>")
        if self.code_url:
            lines.append(f"- Code: <{self.code_url}>")
        if self.bibtex:
            # A fence longer than any run of backticks in the entry, so that nothing in it can close it.
            fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", self.bibtex)), default=0))
            lines += ["", f"{fence}bibtex", self.bibtex, fence]
        return lines


ARXIV_ABS = re.compile(r"^https://arxiv\.org/abs/(?P<id>[^/?#]+)$")
_CITATION_HEADING = re.compile(r"^(#{1,6})\s+citation\b.*$", re.IGNORECASE | re.MULTILINE)


def _with_citation(body, citation):
    """Return `body` with the citation lines under its Citation heading (added at the end if it has none)."""
    block = "\n".join(["", "Where the data comes from and what goes with it:", "", *citation.markdown(), ""])
    match = _CITATION_HEADING.search(body)
    if match is None:
        return body.rstrip("\n") + "\n\n## Citation\n" + block
    end = match.end()
    return body[:end] + "\n" + block + body[end:]


def portal_tags(*, modalities, domain):
    """Return the tags the portal adds to every card on the Hub: the modalities, the domain and its own mark."""
    return [*modalities, f"domain:{domain.lower()}", "dataset-portal"]


def markdown_text(text):
    """Return plain text with Markdown's and HTML's special characters escaped, for a line of a card."""
    # In the middle of a line only these change the rendering (a leading - + . or # would start a block).
    return re.sub(r"([\\`*_{}\[\]()<>#!|~&])", r"\\\1", " ".join(str(text).split()))


def build_hub_card(
    card_text: str | None,
    *,
    name: str,
    license: str,
    modalities: list[str],
    domain: str,
    source_url: str | None = None,
    overrides: dict | None = None,
    configs: list | None = None,
    citation: CitationInfo | None = None,
    creator: Creator | None = None,
) -> HubCard:
    """Complete a contributor's card for the Hub: licence, pretty name, modality and domain tags, and, for a
    dataset that is only linked (`source_url`), a pointer to where its data lives. `overrides` are header
    values that curators accepted as corrections after publication; they replace the card's own. `configs`
    (the splits' files, `manifest.card_configs`) is added unless the card has its own; `citation` adds the
    dataset's DOI (with a BibTeX entry), the source records' DOIs, the creators, the paper and the code to
    the card's citation section (and an
    `arxiv:` tag, which the Hub turns into a link to the paper). `creator`, a contributor who signed in with
    ORCID, is credited with their verified iD at the top of the body."""
    if card_text is not None:
        parsed = parse_card(card_text.encode("utf-8"), filename="README.md", max_bytes=None)
        metadata, body = dict(parsed.metadata), parsed.body
    else:
        metadata, body = {}, f"# {name}\n"
    metadata.update(overrides or {})
    metadata.pop("licenses", None)
    # The contribution terms license the portal's operator under CDLA-Permissive-2.0 when the card is silent.
    metadata.setdefault("license", license or "cdla-permissive-2.0")
    metadata.setdefault("pretty_name", name)
    tags = [tag for tag in metadata.get("tags") or [] if isinstance(tag, str)]
    extra_tags = list(portal_tags(modalities=modalities, domain=domain))
    paper = ARXIV_ABS.match(citation.paper) if citation is not None and citation.paper else None
    if paper is not None:
        extra_tags.append(f"arxiv:{paper['id']}")
    for tag in extra_tags:
        if tag not in tags:
            tags.append(tag)
    metadata["tags"] = tags
    if configs and not metadata.get("configs"):
        metadata["configs"] = configs
    if citation:
        body = _with_citation(body, citation)
    if source_url:
        metadata["source_url"] = source_url
        body = (
            f"> The data of this dataset is hosted by its publisher at <{source_url}>; "
            "this repository holds its card.\n\n" + body.lstrip("\n")
        )
    if creator is not None and creator.orcid:
        body = (
            f"> Created by {markdown_text(creator.name)} "
            f"(ORCID iD [{creator.orcid}]({creator.orcid_url})).\n\n" + body.lstrip("\n")
        )
    header = yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True, width=1000)
    body = body.lstrip()
    return HubCard(text=f"---\n{header}---\n\n{body}", metadata=metadata, body=body)
