"""DOIs as contributors write them, and where the DOI resolver sends them.

Accepted forms: `10.5281/zenodo.123`, `doi:10.5281/zenodo.123` (any case, a space after the colon
allowed), and the resolver's addresses `https://doi.org/10...` and `https://dx.doi.org/10...` (their
`http://` forms too: the DOI is what counts, and it is always followed through DOI_RESOLVER_URL over https).
A DOI is `10.` + a registrant code of 4 to 9 digits (dot-separated parts allowed) + `/` + a suffix without
spaces (DOI Handbook, section 2.2). DOIs are case-insensitive: the normalised form is lowercase.
"""

import re
from urllib.parse import quote, unquote, urlsplit

from django.conf import settings
from django.utils.translation import gettext_noop

from portal import i18n
from submissions.locations import DOI as _DOI
from submissions.resolvers.records import InvalidLocation

_DOI_PREFIX = re.compile(r"^doi:\s*", re.IGNORECASE)
_RESOLVER_HOSTS = frozenset({"doi.org", "dx.doi.org", "www.doi.org"})


def parse(line):
    """Return the DOI a line names, as written (not lowercased), or None when the line is not a DOI form.

    Raise InvalidLocation for a line that says it is a DOI (`doi:...`, a doi.org address) but is not one.
    """
    if _DOI_PREFIX.match(line):
        doi = _DOI_PREFIX.sub("", line, count=1)
        if not _DOI.match(doi):
            raise InvalidLocation(
                i18n.message(
                    gettext_noop(
                        "%(line)s is not a DOI: a DOI starts with 10., a registrant number, a slash and a name, "
                        "such as doi:10.5281/zenodo.123."
                    ),
                    line=repr(line),
                )
            )
        return doi
    if _DOI.match(line):
        return line
    try:
        parts = urlsplit(line)
    except ValueError:
        return None
    if parts.scheme.lower() in ("https", "http") and (parts.hostname or "") in _RESOLVER_HOSTS:
        doi = unquote(parts.path.lstrip("/"))
        if parts.username or parts.password or not _DOI.match(doi):
            raise InvalidLocation(
                i18n.message(
                    gettext_noop(
                        "%(line)s is not the address of a DOI: write it as https://doi.org/10.5281/zenodo.123, or "
                        "give the DOI alone (10.5281/zenodo.123)."
                    ),
                    line=repr(line),
                )
            )
        return doi
    return None


def normalise(doi):
    """Return a DOI in its comparable form: lowercase."""
    return doi.strip().lower()


def resolver_url(doi):
    """Return the address that asks DOI_RESOLVER_URL where `doi` leads."""
    # Characters that a URL path would read otherwise (#, ?, %, spaces) are escaped, the rest kept readable.
    return settings.DOI_RESOLVER_URL + quote(doi, safe="/:;()")
