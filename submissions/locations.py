"""The rules for a dataset's locations and related links, shared by the form, the status page and the review page.

A location line is an https:// address without credentials that does not point into a private network
(`portal.safefetch` decides the last part), or a DOI (`10.5281/zenodo.123`, `doi:…`, `https://doi.org/…`).
Only the rules live here: resolving records and fetching are the location check's job.
"""

import re
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _

from portal import safefetch

# A DOI: "10.", a registrant code of 4 to 9 digits (dot-separated parts allowed), "/", a suffix without spaces
# (DOI Handbook, section 2.2). The one grammar of DOIs: the resolvers read lines with it too.
DOI = re.compile(r"^10\.\d{4,9}(?:\.\d+)*/\S+$")
DOI_PREFIXES = ("doi:", "https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/")
# New-style arXiv identifiers (2101.00001, with a version) and old-style ones (hep-th/9901001).
ARXIV = re.compile(
    r"^(?:arxiv:)?(?P<id>\d{4}\.\d{4,5}(?:v\d+)?|[a-z-]+(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?)$", re.I
)


def doi_of(text):
    """Return the DOI that `text` spells (bare, `doi:` or a doi.org address), lowercased, or None."""
    text = text.strip()
    lowered = text.lower()
    for prefix in DOI_PREFIXES:
        if lowered.startswith(prefix):
            text = unquote(text[len(prefix) :])
            break
    return text.lower() if DOI.match(text) else None


def file_name_of(url):
    """Return a safe file name for the data at `url`, from the last part of its path."""
    name = PurePosixPath(unquote(urlsplit(url).path)).name
    name = "".join(ch for ch in name if ch.isalnum() or ch in "._- ").strip(" .")
    return name[:120] or "data"


def clean_location(location):
    """Return one https:// location stripped, or raise ValidationError saying how to make it acceptable."""
    location = location.strip()
    if len(location) > settings.PORTAL_URL_MAX_LENGTH:
        raise forms.ValidationError(
            _("Use an address of at most %(limit)s characters (it has %(length)s)."),
            params={"limit": f"{settings.PORTAL_URL_MAX_LENGTH:,}", "length": f"{len(location):,}"},
        )
    parts = urlsplit(location)
    if parts.scheme.lower() != "https":
        raise forms.ValidationError(
            _("Use an https:// address (http, ftp, file and other kinds of address are not accepted).")
        )
    if not parts.hostname:
        raise forms.ValidationError(_("Enter a complete address such as https://example.org/data.zip."))
    if parts.username or parts.password:
        raise forms.ValidationError(
            _("Remove the user name or password from the address; share a public link instead.")
        )
    if any(ch.isspace() or ord(ch) < 32 for ch in location):
        raise forms.ValidationError(_("Remove spaces and control characters from the address."))
    try:
        forms.URLField(assume_scheme="https").clean(location)
    except forms.ValidationError:
        raise forms.ValidationError(
            _("Enter a complete address such as https://example.org/data.zip.")
        ) from None
    try:
        safefetch.check_url(location)
    except safefetch.FetchBlocked as exc:
        raise forms.ValidationError(
            _("Use the public address of the data; this one points to a private or local network: %(why)s"),
            params={"why": exc},
        ) from None
    return location


def clean_paper(text):
    """Return the paper as an https address (arXiv id and DOI turned into theirs), "" when empty."""
    text = (text or "").strip()
    if not text:
        return ""
    match = ARXIV.match(text)
    if match is not None:
        return f"https://arxiv.org/abs/{match['id']}"
    doi = doi_of(text)
    if doi is not None:
        return f"https://doi.org/{doi}"
    if not text.lower().startswith("https://"):
        raise forms.ValidationError(
            _(
                "Give the paper as an arXiv identifier (2101.00001), a DOI (10.1234/abcd) or an https:// address."
            )
        )
    return _public_https(text)


def clean_code_url(text):
    """Return the code's https address, "" when empty."""
    text = (text or "").strip()
    if not text:
        return ""
    if not text.lower().startswith("https://"):
        raise forms.ValidationError(_("Give the code's https:// address (e.g. its GitHub or GitLab page)."))
    return _public_https(text)


def _public_https(text):
    if any(ch.isspace() or ord(ch) < 32 for ch in text) or len(text) > settings.PORTAL_URL_MAX_LENGTH:
        raise forms.ValidationError(_("Remove spaces and control characters from the address."))
    try:
        forms.URLField(assume_scheme="https").clean(text)
        safefetch.check_url(text)
    except (forms.ValidationError, safefetch.FetchBlocked):
        raise forms.ValidationError(_("Enter a complete public https:// address.")) from None
    return text
