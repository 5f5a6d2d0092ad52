"""What a resolver hands back: a repository's record (or a plain file), and the two ways of failing.

Plain data only: no network, no database. `submissions.resolvers` re-exports everything here; callers import
from there. Messages meant for people (an error, a file's restriction) are stored messages (`portal.i18n`),
shown later in the reader's language.
"""

from dataclasses import dataclass

from portal import i18n


@dataclass(frozen=True)
class Creator:
    """A creator of a record, as the repository names them."""

    name: str
    orcid: str = ""  # bare iD "0000-0002-1825-0097" with a valid check digit, else ""
    affiliation: str = ""


@dataclass(frozen=True)
class RecordFile:
    """One file of a record: where it sits in the dataset and where it is downloaded from."""

    path: str  # "/"-separated path inside the record, folders kept (Dataverse directoryLabel)
    url: str  # https download URL; "" for a restricted file (listed, never fetched)
    size: int | None
    checksums: dict  # as announced: {"md5": hex, "sha1": hex, "sha256": hex, ...}, lowercase hex
    media_type: str = ""
    restricted: bool = False
    restriction: str = ""  # plain words: "restricted (needs permission)", "embargoed until 2027-03-01"
    restriction_message: dict | None = None  # the same as a stored message (portal.i18n)


@dataclass(frozen=True)
class Record:
    """A record of a research-data repository, read through its public API."""

    family: str  # "invenio" (Zenodo and any InvenioRDM), "dataverse", "figshare"
    location: str  # the line as the contributor gave it
    landing_url: str
    api_url: str
    doi: str  # normalised lowercase "10.5281/zenodo.123", or ""
    title: str
    description: str  # as the repository gives it (may be HTML)
    creators: tuple  # of Creator
    license: str  # Hub licence id when recognised (cc-by-4.0, cc0-1.0, mit, ...), else ""
    license_name: str  # as the repository names it
    license_url: str
    published: str  # ISO date "2024-05-01", or ""
    version: str
    keywords: tuple  # of str
    files: tuple  # of RecordFile


@dataclass(frozen=True)
class PlainFile:
    """A line that is the address of one file (given directly, or reached through a DOI)."""

    location: str  # the line as given
    url: str  # the https URL of the file (after DOI resolution, the final URL)
    path: str  # a safe file name from the URL's last path segment


class ResolveError(i18n.MessageError):
    """A line that could not be resolved; the message says what to do. `retryable`: may heal by itself.

    Raised with a stored message (`portal.i18n.message`): `message` is kept by the location check, str()
    says it in the active language (the form shows it).
    """

    retryable = False

    def __init__(self, message, *, retryable=False):
        super().__init__(message)
        self.retryable = retryable


class InvalidLocation(ValueError, ResolveError):
    """A line that is neither an https:// address nor a DOI; the message says what to write instead.

    Also a ResolveError (never retryable), so that a caller of `resolve` that catches ResolveError reports
    a malformed line like any other line that cannot be resolved.
    """
