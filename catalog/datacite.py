"""The only module that talks to DataCite: its REST API (JSON:API) for DOIs, with the repository's account.

https://support.datacite.org/docs/api-create-dois and .../updating-metadata-with-the-rest-api: `POST /dois`
creates a DOI (with `"event": "publish"` it is findable at once), `PUT /dois/<doi>` updates its metadata or
its state (`publish`, `register`, `hide`: findable -> registered), `GET /dois/<doi>` reads one back (the way
to find a DOI whose creation answer was lost). Requests carry HTTP basic auth with DATACITE_REPOSITORY_ID
and DATACITE_PASSWORD and go to DATACITE_API_URL. Errors become `DataCiteError`, which says whether
retrying can help (network errors, 429, 5xx) or not (401/403, 422 with DataCite's reasons). Nothing else
in the portal calls DataCite; `enabled()` is false, and nothing is sent, without an account and a prefix.
"""

import dataclasses
from urllib.parse import quote

import requests
from django.conf import settings

MEDIA_TYPE = "application/vnd.api+json"
# DataCite's own answer to a second creation of the same DOI (a 422 whose error names the DOI).
TAKEN = "This DOI has already been taken"


class DataCiteError(Exception):
    """A call to DataCite failed; `retryable` says whether trying again later can succeed."""

    def __init__(self, message, *, retryable, status=None, retry_after=None, taken=False):
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
        self.taken = taken  # the DOI exists already (a creation that had in fact succeeded before)


@dataclasses.dataclass(frozen=True)
class DoiRecord:
    """A DOI as DataCite holds it."""

    doi: str
    state: str  # draft, registered or findable
    url: str
    attributes: dict


def enabled():
    """Whether DOIs are registered at all: a repository account and its prefix are configured."""
    return bool(settings.DATACITE_REPOSITORY_ID and settings.DATACITE_PASSWORD and settings.DATACITE_PREFIX)


def _url(doi=None):
    base = f"{settings.DATACITE_API_URL}/dois"
    return base if doi is None else f"{base}/{quote(doi, safe='/')}"


def _send(method, url, *, description, body=None):
    try:
        response = requests.request(
            method,
            url,
            json=body,
            auth=(settings.DATACITE_REPOSITORY_ID, settings.DATACITE_PASSWORD),
            headers={"Content-Type": MEDIA_TYPE, "Accept": MEDIA_TYPE},
            timeout=settings.DATACITE_TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        # Includes a connection closed before the answer: the request may have been carried out.
        raise DataCiteError(
            f"{description}: network error talking to DataCite ({type(exc).__name__}: {exc}).", retryable=True
        ) from exc
    return response


def _errors(response):
    """Return DataCite's reasons for a refusal ("source: title" for each JSON:API error), or the status line."""
    try:
        payload = response.json()
    except ValueError:
        return response.reason or f"HTTP {response.status_code}"
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if not isinstance(errors, list) or not errors:
        return response.reason or f"HTTP {response.status_code}"
    parts = []
    for error in errors[:10]:
        if not isinstance(error, dict):
            continue
        title = str(error.get("title") or error.get("detail") or "error")
        source = error.get("source")
        parts.append(f"{source}: {title}" if isinstance(source, str) and source else title)
    return "; ".join(parts) or f"HTTP {response.status_code}"


def _retry_after(value):
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def classify(response, *, description):
    """Return the DataCiteError of an answer that is not a success."""
    status = response.status_code
    detail = _errors(response)
    if status == 429 or status >= 500 or status == 408:
        return DataCiteError(
            f"{description}: DataCite answered HTTP {status} ({detail}); retrying.",
            retryable=True,
            status=status,
            retry_after=_retry_after(response.headers.get("Retry-After")),
        )
    if status in (401, 403):
        return DataCiteError(
            f"{description}: DataCite refused our account (HTTP {status}). Check DATACITE_REPOSITORY_ID, "
            f"DATACITE_PASSWORD and that the account may register DOIs under {settings.DATACITE_PREFIX}.",
            retryable=False,
            status=status,
        )
    return DataCiteError(
        f"{description}: DataCite refused the request (HTTP {status}): {detail}",
        retryable=False,
        status=status,
        taken=status == 422 and TAKEN in detail,
    )


def _record(response, *, description):
    try:
        data = response.json()["data"]
        attributes = data["attributes"]
        return DoiRecord(
            doi=str(attributes.get("doi") or data["id"]).lower(),
            state=str(attributes.get("state") or ""),
            url=str(attributes.get("url") or ""),
            attributes=attributes,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise DataCiteError(
            f"{description}: DataCite's answer is not a DOI ({type(exc).__name__}).", retryable=True
        ) from exc


def _envelope(doi, attributes, event):
    body = {"doi": doi, **attributes}
    if event:
        body["event"] = event
    return {"data": {"type": "dois", "attributes": body}}


def get_doi(doi):
    """Return the DOI as DataCite holds it, or None when DataCite does not know it."""
    description = f"Looking up {doi}"
    response = _send("GET", _url(doi), description=description)
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise classify(response, description=description)
    return _record(response, description=description)


def create_doi(doi, attributes, *, event="publish"):
    """Create a DOI with its metadata (`attributes`, Metadata Schema 4 as JSON); "publish" makes it findable."""
    description = f"Registering {doi}"
    response = _send("POST", _url(), description=description, body=_envelope(doi, attributes, event))
    if response.status_code not in (200, 201):
        raise classify(response, description=description)
    return _record(response, description=description)


def update_doi(doi, attributes, *, event=None):
    """Replace a DOI's metadata with `attributes` and trigger `event` ("publish", "hide") if given."""
    description = f"Updating {doi}"
    response = _send("PUT", _url(doi), description=description, body=_envelope(doi, attributes, event))
    if response.status_code not in (200, 201):
        raise classify(response, description=description)
    return _record(response, description=description)


def doi_url(doi):
    """Return the DOI's address for people and links (DataCite's display guidance: https://doi.org/...)."""
    return f"https://doi.org/{doi}"
