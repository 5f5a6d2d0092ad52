"""The rules of a proposed categorisation (a correction after publication): which values are allowed.

The correction form and `services.request_correction` both check a proposal here, so the form can put each
message beside its field and the service never stores a value the form would have refused. Nothing here
touches anything but the curated domain list.
"""

import re

from django.utils.translation import gettext as _

from submissions import carddata
from submissions.models import Domain, Modality

MAX_TAGS = 20
MAX_TAG_LENGTH = 50
MAX_LANGUAGES = 20
_TAG = re.compile(r"^[\w][\w .:+/-]*$")


class InvalidProposal(Exception):
    """A proposed value is not allowed; `errors` maps each field to the message for the contributor (in the
    language of the request)."""

    def __init__(self, errors):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def split_list(text):
    """Return the comma-separated items of `text`, stripped, empty ones dropped, duplicates removed."""
    items = []
    for item in (text or "").split(","):
        item = " ".join(item.split())
        if item and item not in items:
            items.append(item)
    return items


def clean_proposal(proposal, *, current_domain=None):
    """Return a proposal with its values normalised, or raise InvalidProposal naming every bad field.

    `proposal` has the keys name, domain (a curated domain's name), modalities, license, languages, tags.
    `current_domain`, the published one, is kept even when it is not (or no longer) in the curated list.
    """
    errors = {}
    name = " ".join(str(proposal.get("name") or "").split())
    if not 3 <= len(name) <= 100:
        errors["name"] = _("Give the dataset a name of 3 to 100 characters.")
    domain = str(proposal.get("domain") or "")
    if domain != current_domain and not Domain.objects.filter(name=domain, active=True).exists():
        errors["domain"] = _("Choose a domain from the list; to suggest a new one, write to the curators.")
    modalities = sorted(set(proposal.get("modalities") or []))
    if not modalities or not set(modalities) <= set(Modality.values):
        errors["modalities"] = _("Choose one or more of: %(modalities)s.") % {
            "modalities": ", ".join(Modality.values)
        }
    license_id = str(proposal.get("license") or "").strip().lower()
    if license_id not in carddata.license_ids():
        errors["license"] = _(
            "“%(license)s” is not a licence identifier the Hugging Face Hub knows; use one like cc-by-4.0 or mit."
        ) % {"license": license_id[:40]}
    languages = [str(code).strip().lower() for code in proposal.get("languages") or []]
    unknown = [code for code in languages if code not in carddata.language_codes()]
    if unknown:
        errors["languages"] = _("Use ISO 639 language codes such as en or fr; unknown: %(codes)s") % {
            "codes": ", ".join(unknown[:5])
        }
    elif len(languages) > MAX_LANGUAGES:
        errors["languages"] = _("List at most %(count)s languages.") % {"count": MAX_LANGUAGES}
    tags = [str(tag) for tag in proposal.get("tags") or []]
    if len(tags) > MAX_TAGS:
        errors["tags"] = _("Give at most %(count)s tags.") % {"count": MAX_TAGS}
    elif any(len(tag) > MAX_TAG_LENGTH or not _TAG.match(tag) for tag in tags):
        errors["tags"] = _(
            "Tags are words of at most %(count)s characters (letters, digits, spaces, . : + / -)."
        ) % {"count": MAX_TAG_LENGTH}
    if errors:
        raise InvalidProposal(errors)
    return {
        "name": name,
        "domain": domain,
        "modalities": modalities,
        "license": license_id,
        "languages": languages,
        "tags": tags,
    }
