"""A dataset card template for the contribution form: README.md with its YAML header prefilled.

The header holds what the contributor typed so far (name, modalities as task categories) and marked
placeholders for the rest (licence, language); the body has the sections `cards.lint_card` looks for, in
the order of the Hub's template. Pure text building: no database, no request.
"""

import html
import json
import re

from django.template.defaultfilters import filesizeformat
from django.utils.html import strip_tags

from submissions.cards import LICENSE_PLACEHOLDER, TEMPLATE_PLACEHOLDERS
from submissions.models import Modality

DESCRIPTION, USES, STRUCTURE, FIELDS, LICENSING, CITATION = TEMPLATE_PLACEHOLDERS
# A first guess of what data of each modality serves; the header's comment asks to replace it.
TASK_BY_MODALITY = {
    Modality.TEXT: "text-classification",
    Modality.IMAGES: "image-classification",
    Modality.AUDIO: "audio-classification",
    Modality.VIDEO: "video-classification",
}
FALLBACK_NAME = "Name of the dataset"


def card_template(*, name="", modalities=(), records=(), files=(), splits=()):
    """Return the text of a README.md card template for a dataset `name` with these modalities.

    With repository `records` (`SourceRecord`s), the draft is filled from their metadata: title,
    description, creators, licence and keywords, and the `files` (`ManifestFile`s, the first page) and
    `splits` (from `selectors.manifest_totals`) found; what the record does not say stays a placeholder.
    """
    if records:
        return _record_draft(name=name, modalities=modalities, records=records, files=files, splits=splits)
    name = " ".join((name or "").split())[:100] or FALLBACK_NAME
    chosen = [value for value in Modality.values if value in set(modalities or ())]
    tasks = [TASK_BY_MODALITY[value] for value in chosen] or ["other"]
    # A JSON string is a valid YAML double-quoted scalar: any name is safe in the header.
    quoted = json.dumps(name, ensure_ascii=False)
    lines = [
        "---",
        "# The YAML header: the Hugging Face Hub and the catalog read these fields.",
        f"pretty_name: {quoted}",
        "# The licence of the data, as a Hub licence id: cc-by-4.0, cc0-1.0, cdla-permissive-2.0, mit, ...",
        "# (https://huggingface.co/docs/hub/repositories-licenses).",
        f"license: {LICENSE_PLACEHOLDER}",
        "# ISO 639-1 codes of the languages in the data; remove the list if it holds no language.",
        "language:",
        "- en",
        "# What the data is for (https://huggingface.co/tasks); a first guess from the modalities you ticked.",
        "task_categories:",
        *[f"- {task}" for task in tasks],
        "tags:",
        *[f"- {value}" for value in chosen],
        "---",
        "",
        f"# {name}",
        "",
        "## Dataset Description",
        "",
        DESCRIPTION,
        "",
        "## Uses",
        "",
        USES,
        "",
        "## Dataset Structure",
        "",
        STRUCTURE,
        "",
        "## Licensing Information",
        "",
        LICENSING,
        "",
        "## Citation",
        "",
        CITATION,
        "",
    ]
    if not chosen:
        lines.remove("tags:")
    return "\n".join(lines)


def _plain(text):
    """Return repository HTML (a description) as plain text with paragraphs kept."""
    text = re.sub(r"(?i)<br\s*/?>|</p>|</li>", "\n", text or "")
    text = html.unescape(strip_tags(text))
    return "\n".join(line.strip() for line in text.splitlines()).strip()


def _yaml_list(key, values):
    values = [json.dumps(value, ensure_ascii=False) for value in values if value]
    return [f"{key}:", *[f"- {value}" for value in values]] if values else []


def _record_draft(*, name, modalities, records, files, splits):
    """Return a card drafted from repository records (see `card_template`)."""
    record = records[0]
    name = " ".join((name or record.title or "").split())[:100] or FALLBACK_NAME
    chosen = [value for value in Modality.values if value in set(modalities or ())]
    tasks = [TASK_BY_MODALITY[value] for value in chosen] or ["other"]
    license_id = next((item.license for item in records if item.license), "")
    keywords = []
    for item in records:
        keywords.extend(keyword for keyword in item.keywords if keyword not in keywords)
    creators = [creator for item in records for creator in item.creators]
    lines = [
        "---",
        "# Drafted from the repository record; check every field, then send it as a revised card.",
        f"pretty_name: {json.dumps(name, ensure_ascii=False)}",
        f"license: {license_id or LICENSE_PLACEHOLDER}",
        "# ISO 639-1 codes of the languages in the data; remove the list if it holds no language.",
        "language:",
        "- en",
        "task_categories:",
        *[f"- {task}" for task in tasks],
        *_yaml_list("tags", [*chosen, *keywords[:20]]),
        "---",
        "",
        f"# {name}",
        "",
        "## Dataset Description",
        "",
        _plain(record.description) or DESCRIPTION,
        "",
    ]
    if creators:
        lines += [
            "Created by "
            + "; ".join(
                creator.get("name", "")
                + (f" (ORCID {creator['orcid']})" if creator.get("orcid") else "")
                + (f", {creator['affiliation']}" if creator.get("affiliation") else "")
                for creator in creators
            )
            + ".",
            "",
        ]
    lines += [
        "## Uses",
        "",
        USES,
        "",
        "## Dataset Structure",
        "",
    ]
    if splits:
        lines += [
            "| split | files | size |",
            "| --- | --- | --- |",
            *[
                f"| {item['split'] or '(one split)'} | {item['files']} | {filesizeformat(item['size'])} |"
                for item in splits
            ],
            "",
        ]
    if files:
        lines += ["Files:", ""]
        lines += [
            f"- `{item.path}`" + (f" ({filesizeformat(item.size)})" if item.size is not None else "")
            for item in files[:50]
        ]
        if len(files) > 50:
            lines.append(f"- … and more ({len(files)} listed on the status page)")
        lines += ["", FIELDS, ""]
    else:
        lines += [STRUCTURE, ""]
    lines += ["## Licensing Information", ""]
    lines.append(
        f"{record.license_name or license_id} ({record.license_url})"
        if record.license_url
        else (record.license_name or license_id or LICENSING)
    )
    lines += ["", "## Citation", ""]
    for item in records:
        authors = "; ".join(creator.get("name", "") for creator in item.creators) or "The creators"
        year = f" ({item.published[:4]})" if item.published else ""
        doi = f" https://doi.org/{item.doi}" if item.doi else f" {item.landing_url}"
        lines.append(f"{authors}{year}. {item.title or name}.{doi}")
    lines.append("")
    return "\n".join(lines)
