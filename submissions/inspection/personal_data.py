"""Find personal data in sampled text and table cells, and mask it: findings never leave here unmasked.

Candidates are picked out with loose patterns and confirmed by maintained validators: `email_validator`
for addresses, `phonenumbers` for international phone numbers, `python-stdnum` for IBANs, payment card
numbers (Luhn) and national identifiers, the standard library's `ipaddress` for IP addresses. `mask_text`
replaces every confirmed finding in a string with its masked form; the first rows shown to curators go
through it, so the review page never shows what was found.
"""

import dataclasses
import ipaddress
import json
import re

import phonenumbers
from django.utils.translation import gettext_noop
from email_validator import EmailNotValidError, validate_email
from stdnum import iban, luhn
from stdnum.es import dni
from stdnum.fr import nir
from stdnum.it import codicefiscale
from stdnum.us import ssn

from portal.i18n import message

EMAIL = "email"
PHONE = "phone"
IBAN = "iban"
CARD = "card"
IP = "ip"
NATIONAL_ID = "national_id"

# What each kind is, in words (message ids of `portal.i18n`, stored in the findings).
KIND_LABELS = {
    EMAIL: gettext_noop("e-mail addresses"),
    PHONE: gettext_noop("phone numbers"),
    IBAN: gettext_noop("IBANs"),
    CARD: gettext_noop("payment card numbers"),
    IP: gettext_noop("IP addresses"),
    NATIONAL_ID: gettext_noop("national identification numbers"),
}
TEXT_PLACE = message(gettext_noop("the text"))
MAX_EXAMPLES = 3
# Cells longer than this are scanned only up to it: the findings are a sample, not a census.
SCAN_CHARS = 2000

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63})+")
_PHONE = re.compile(r"\+\d[\d ()./\-]{6,20}\d")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
_CARD = re.compile(r"\b(?:\d[ \-]?){12,18}\d\b")
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{1,4}(?![\w:])")
_SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
_DNI = re.compile(r"\b\d{8}[A-Z]\b")
_CODICE = re.compile(r"\b[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]\b")
_NIR = re.compile(r"\b[12] ?\d{2} ?\d{2} ?(?:\d{2}|2A|2B) ?\d{3} ?\d{3} ?\d{2}\b")
# Issuer prefixes of the big card networks (Visa, Mastercard, Amex, Discover): a Luhn-valid number
# without one is more likely an identifier of the dataset than a card.
_CARD_PREFIX = re.compile(r"^(4|5[1-5]|2[2-7]|3[47]|6011|65)")


@dataclasses.dataclass(frozen=True)
class Finding:
    """One piece of personal data: its kind, where it sits in the text, and its masked form."""

    kind: str
    start: int
    end: int
    masked: str


def find(text: str) -> list[Finding]:
    """Return the personal data in `text`, confirmed by validators, without overlaps."""
    text = text[:SCAN_CHARS]
    found = []
    for kind, pattern, confirm in _DETECTORS:
        for match in pattern.finditer(text):
            masked = confirm(match.group(0))
            if masked is not None:
                found.append(Finding(kind, match.start(), match.end(), masked))
    found.sort(key=lambda item: (item.start, -(item.end - item.start)))
    kept, last_end = [], -1
    for item in found:
        if item.start >= last_end:
            kept.append(item)
            last_end = item.end
    return kept


def mask_text(text: str) -> str:
    """Return `text` with every finding replaced by its masked form (text past the scan limit is cut)."""
    if len(text) > SCAN_CHARS:
        text = text[:SCAN_CHARS] + "…"
    findings = find(text)
    for item in reversed(findings):
        text = text[: item.start] + item.masked + text[item.end :]
    return text


def column_place(column, *, member=""):
    """Return where a finding sits when it is in a table's column (of an archive's member): a stored message."""
    if member:
        return message(gettext_noop("%(member)s, column %(column)s"), member=member, column=column)
    return message(gettext_noop("column %(column)s"), column=column)


def is_column(place):
    """True when a finding's place is a table's column (not the text of a file)."""
    return isinstance(place, dict) and "column" in (place.get("params") or {})


class Tally:
    """Counts findings per place (a column or a file: a stored message) and kind, keeping a few masked examples."""

    def __init__(self):
        self._places = {}

    def scan(self, place, text: str) -> None:
        """Scan one cell or line of text found at `place`."""
        for item in find(text):
            key = (json.dumps(place, sort_keys=True), item.kind)
            entry = self._places.setdefault(key, {"place": place, "count": 0, "examples": []})
            entry["count"] += 1
            if len(entry["examples"]) < MAX_EXAMPLES and item.masked not in entry["examples"]:
                entry["examples"].append(item.masked)

    def results(self) -> list[dict]:
        """Return one record per place and kind: place, kind, label (stored messages), count, masked examples."""
        return [
            {
                "place": entry["place"],
                "kind": kind,
                "label": message(KIND_LABELS[kind]),
                "count": entry["count"],
                "examples": entry["examples"],
            }
            for (_place, kind), entry in self._places.items()
        ]


def _keep_edges(value, *, head, tail):
    """Mask every letter and digit of `value` but the first `head` and the last `tail` of them."""
    positions = [index for index, char in enumerate(value) if char.isalnum()]
    shown = set(positions[:head]) | set(positions[len(positions) - tail :] if tail else [])
    return "".join(char if index in shown or not char.isalnum() else "*" for index, char in enumerate(value))


def _email(candidate):
    try:
        validate_email(candidate, check_deliverability=False)
    except EmailNotValidError:
        return None
    local, domain = candidate.rsplit("@", 1)
    name, _, top = domain.rpartition(".")
    return f"{local[0]}***@{name[0]}***.{top}"


def _phone(candidate):
    try:
        number = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    digits = str(number.national_number)
    hidden = re.sub(r"\d", "*", digits[:-4])
    return f"+{number.country_code} {hidden} {digits[-4:]}"


def _iban(candidate):
    if not iban.is_valid(candidate):
        return None
    compact = iban.compact(candidate)
    return f"{compact[:2]}** **** {compact[-4:]}"


def _card(candidate):
    digits = re.sub(r"\D", "", candidate)
    if not 13 <= len(digits) <= 19 or not _CARD_PREFIX.match(digits) or not luhn.is_valid(digits):
        return None
    return f"**** **** **** {digits[-4:]}"


def _ip(candidate):
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return None
    if address.version == 4:
        return candidate.split(".", 1)[0] + ".***.***.***"
    return candidate.split(":", 1)[0] + ":****:…"


def _national(validator):
    def confirm(candidate):
        if not validator.is_valid(candidate):
            return None
        return _keep_edges(candidate, head=0, tail=2)

    return confirm


_DETECTORS = [
    (EMAIL, _EMAIL, _email),
    (IBAN, _IBAN, _iban),
    (CARD, _CARD, _card),
    (PHONE, _PHONE, _phone),
    (NATIONAL_ID, _SSN, _national(ssn)),
    (NATIONAL_ID, _DNI, _national(dni)),
    (NATIONAL_ID, _CODICE, _national(codicefiscale)),
    (NATIONAL_ID, _NIR, _national(nir)),
    (IP, _IPV4, _ip),
    (IP, _IPV6, _ip),
]
