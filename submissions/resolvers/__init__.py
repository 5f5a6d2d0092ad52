"""Interim: plain files only, until the repository resolvers land (same interface)."""

import dataclasses

from submissions.locations import doi_of, file_name_of


@dataclasses.dataclass(frozen=True)
class PlainFile:
    location: str
    url: str
    path: str


class InvalidLocation(ValueError):
    """A line that is neither an https address nor a DOI."""


class ResolveError(Exception):
    """A location that could not be resolved."""

    def __init__(self, message, *, retryable=False):
        super().__init__(message)
        self.retryable = retryable


def classify(line):
    """Return "file", "doi" or "record" for a location line."""
    return "doi" if doi_of(line) else "file"


def resolve(line):
    """Return what a location line names."""
    if doi_of(line):
        raise ResolveError("DOIs are not resolved yet.")
    return PlainFile(location=line, url=line, path=file_name_of(line))
