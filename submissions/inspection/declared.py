"""Compare what the contributor declared (modalities, the card's configs and features) with what was found.

Notes are stored messages (`portal.i18n`), warnings of the data check.
"""

import fnmatch
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from django.utils.translation import gettext_noop

from portal.i18n import joined, message
from submissions.inspection import formats
from submissions.models import Modality

# The modalities in words, as a note names them ("Declared images, but ...").
MODALITY_WORDS = {
    Modality.TEXT: gettext_noop("text"),
    Modality.IMAGES: gettext_noop("images"),
    Modality.AUDIO: gettext_noop("audio"),
    Modality.VIDEO: gettext_noop("video"),
}
# Documents made for people to read, not for a program to load as rows, text or media.
DOCUMENT_FORMATS = (formats.PDF,)

_FORMAT_MODALITY = {
    formats.IMAGE: Modality.IMAGES,
    formats.AUDIO: Modality.AUDIO,
    formats.VIDEO: Modality.VIDEO,
}
_MIME_MODALITY = {"image": Modality.IMAGES, "audio": Modality.AUDIO, "video": Modality.VIDEO}


def found_modalities(format_token, member_types=()):
    """Return the modalities that the format (or an archive's member types) shows."""
    found = set()
    if format_token in _FORMAT_MODALITY:
        found.add(_FORMAT_MODALITY[format_token])
    elif format_token in formats.TABULAR or format_token == formats.TEXT:
        found.add(Modality.TEXT)
    for member_type in member_types:
        top = member_type.split("/", 1)[0]
        found.add(_MIME_MODALITY.get(top, Modality.TEXT) if member_type != "unknown" else Modality.TEXT)
    return found


def _words(modalities):
    return joined(message(MODALITY_WORDS[value]) for value in modalities)


def compare_modalities(declared, found, *, partial):
    """Return notes on modalities declared but not found (and found but not declared)."""
    notes = []
    # Video may include audio, and a dataset of media usually carries text (captions, labels) beside it.
    missing = [value for value in declared if value not in found and value != Modality.TEXT]
    extra = [value for value in found if value not in declared and value != Modality.TEXT]
    if missing and found:
        msgid = (
            gettext_noop("Declared %(declared)s, but the sampled part of the data holds %(found)s.")
            if partial
            else gettext_noop("Declared %(declared)s, but the data holds %(found)s.")
        )
        notes.append(message(msgid, declared=_words(missing), found=_words(sorted(found))))
    if extra:
        notes.append(
            message(gettext_noop("The data holds %(found)s, which was not declared."), found=_words(extra))
        )
    return notes


def compare_format(declared, format_token):
    """Return a note when the data is a document (a PDF) where data was declared, else none.

    A PDF holds text and pictures for people to read; neither the Hub's viewer nor the datasets library
    loads it as rows, text or media, so it is rarely the data a contributor means to share.
    """
    if format_token not in DOCUMENT_FORMATS:
        return []
    return [
        message(
            gettext_noop(
                "Declared %(declared)s, but the data is a %(format)s, made for people to read: tools cannot "
                "load it as a dataset. Point the location at the data itself, or say in the card why a document "
                "is the data."
            ),
            declared=_words(declared) if declared else message(gettext_noop("data")),
            format=message(formats.LABELS[format_token]),
        )
    ]


def card_data_files(metadata):
    """Return the file patterns named by the card's `configs[].data_files`."""
    patterns = []
    configs = metadata.get("configs") if isinstance(metadata, dict) else None
    for config in configs if isinstance(configs, list) else []:
        files = config.get("data_files") if isinstance(config, dict) else None
        for entry in files if isinstance(files, list) else [files]:
            paths = entry.get("path") if isinstance(entry, dict) else entry
            for path in paths if isinstance(paths, list) else [paths]:
                if isinstance(path, str) and path:
                    patterns.append(path)
    return patterns


def card_features(metadata):
    """Return the feature names of the card's `dataset_info.features` (one config or several)."""
    info = metadata.get("dataset_info") if isinstance(metadata, dict) else None
    names = []
    for config in info if isinstance(info, list) else [info]:
        features = config.get("features") if isinstance(config, dict) else None
        for feature in features if isinstance(features, list) else []:
            if isinstance(feature, dict) and isinstance(feature.get("name"), str):
                names.append(feature["name"])
    return names


def compare_card(metadata, *, files, columns, partial):
    """Return notes where the card's data files or features disagree with the files and columns found."""
    notes = []
    patterns = card_data_files(metadata)
    if patterns and files and not partial:
        unmatched = [
            pattern
            for pattern in patterns
            if not any(
                fnmatch.fnmatch(name, pattern) or fnmatch.fnmatch(PurePosixPath(name).name, pattern)
                for name in files
            )
        ]
        if unmatched:
            notes.append(
                message(
                    gettext_noop(
                        "The card's configs name data files that the data does not hold: %(files)s."
                    ),
                    files=", ".join(unmatched[:5]),
                )
            )
    features = card_features(metadata)
    if features and columns:
        missing = [name for name in features if name not in columns]
        if missing:
            notes.append(
                message(
                    gettext_noop(
                        "The card's features name columns that the table does not have: %(columns)s."
                    ),
                    columns=", ".join(missing[:10]),
                )
            )
    return notes


def location_file_name(url):
    """Return the file name at the end of a location URL ("" for a bare host)."""
    return PurePosixPath(unquote(urlsplit(url).path)).name
