"""A dataset card template for the contribution form: README.md with its YAML header prefilled.

The header holds what the contributor typed so far (name, modalities as task categories) and marked
placeholders for the rest (licence, language); the body has the sections `cards.lint_card` looks for, in
the order of the Hub's template. Pure text building: no database, no request.
"""

import json

from submissions.models import Modality

LICENSE_PLACEHOLDER = "REPLACE-WITH-LICENCE-ID"
# A first guess of what data of each modality serves; the header's comment asks to replace it.
TASK_BY_MODALITY = {
    Modality.TEXT: "text-classification",
    Modality.IMAGES: "image-classification",
    Modality.AUDIO: "audio-classification",
    Modality.VIDEO: "video-classification",
}
FALLBACK_NAME = "Name of the dataset"


def card_template(*, name="", modalities=()):
    """Return the text of a README.md card template for a dataset `name` with these modalities."""
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
        "What the data is, who made it, when and how it was collected.",
        "",
        "## Uses",
        "",
        "What the data is meant for, and uses it is not suited for.",
        "",
        "## Dataset Structure",
        "",
        "The files, their format and their fields (columns), with their types and units.",
        "",
        "## Licensing Information",
        "",
        "The licence of the data and any conditions of use.",
        "",
        "## Citation",
        "",
        "How to cite the dataset (BibTeX or a reference).",
        "",
    ]
    if not chosen:
        lines.remove("tags:")
    return "\n".join(lines)
