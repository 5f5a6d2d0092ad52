"""ORCID iDs: their shape and checksum, their public address, and the creator they name.

An ORCID iD is sixteen characters in four groups, the last one a check character computed with ISO 7064
MOD 11-2 (https://support.orcid.org/hc/en-us/articles/360006897674). The portal only ever stores iDs that
came from an ORCID sign-in; this module checks that they look like one and says how to publish them.
"""

import dataclasses
import re
from urllib.parse import urlsplit

from django.conf import settings

ORCID_PATTERN = re.compile(r"\A\d{4}-\d{4}-\d{4}-\d{3}[\dX]\Z")
# Where iDs live publicly. The sandbox's iDs are not real ones, so they are published at the sandbox.
PUBLIC_HOST = "https://orcid.org"
SANDBOX_HOST = "sandbox.orcid.org"


def orcid_check_character(digits):
    """Return the ISO 7064 MOD 11-2 check character of the first fifteen digits of an iD."""
    total = 0
    for digit in digits:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def is_orcid(value):
    """Whether `value` is an ORCID iD: 0000-0000-0000-000X, with a correct check character."""
    if not isinstance(value, str) or not ORCID_PATTERN.match(value):
        return False
    digits = value.replace("-", "")
    return orcid_check_character(digits[:15]) == digits[15]


def orcid_url(orcid):
    """Return the public address of an iD: https://orcid.org/<iD> (the sandbox's own for sandbox iDs)."""
    if urlsplit(settings.ORCID_BASE_URL).hostname == SANDBOX_HOST:
        return f"https://{SANDBOX_HOST}/{orcid}"
    return f"{PUBLIC_HOST}/{orcid}"


@dataclasses.dataclass(frozen=True)
class Creator:
    """The person a published dataset credits: their names and, when they signed in with ORCID, their iD."""

    given_names: str
    family_names: str
    orcid: str = ""
    affiliation: str = ""
    verified: bool = False  # the iD came from the person's own ORCID sign-in (else a repository's claim)

    @classmethod
    def from_record(cls, creator):
        """Return the Creator a repository record names ({"name": "Family, Given", "orcid", "affiliation"})."""
        name = " ".join((creator.get("name") or "").split())
        family, comma, given = name.partition(", ")
        orcid = creator.get("orcid") or ""
        return cls(
            given_names=given if comma else name,
            family_names=family if comma else "",
            orcid=orcid if is_orcid(orcid) else "",
            affiliation=creator.get("affiliation") or "",
        )

    @property
    def name(self):
        """The full name, given names first."""
        return " ".join(part for part in (self.given_names, self.family_names) if part)

    @property
    def orcid_url(self):
        """The iD's public address, or "" without an iD."""
        return orcid_url(self.orcid) if self.orcid else ""
