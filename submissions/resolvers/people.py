"""Creators of a record, and their ORCID iDs.

An ORCID iD is 16 characters, the last a check digit computed with ISO 7064 MOD 11-2
(https://support.orcid.org/hc/en-us/articles/360006897674). Repositories give iDs bare, hyphenated or as
https://orcid.org/ URLs; only iDs whose check digit holds are kept, so a typo never reaches a dataset card.
"""

import re

from submissions.resolvers.records import Creator
from submissions.resolvers.values import text

_ORCID_URL = re.compile(r"^(?:https?://)?(?:www\.)?orcid\.org/", re.IGNORECASE)
_ORCID = re.compile(r"^\d{15}[\dX]$")


def orcid(value):
    """Return `value` as a bare hyphenated ORCID iD ("0000-0002-1825-0097") if it is a valid one, else ""."""
    raw = _ORCID_URL.sub("", text(value)).replace("-", "").replace(" ", "").upper()
    if not _ORCID.match(raw) or orcid_check_digit(raw[:15]) != raw[15]:
        return ""
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def orcid_check_digit(digits):
    """Return the ISO 7064 MOD 11-2 check character of the first 15 digits of an ORCID iD."""
    total = 0
    for digit in digits:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def creator(name, *, orcid_id="", affiliation=""):
    """Return a Creator, or None when there is no name."""
    name = text(name)
    if not name:
        return None
    return Creator(name=name, orcid=orcid(orcid_id), affiliation=text(affiliation))
