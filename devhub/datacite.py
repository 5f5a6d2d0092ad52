"""A double of DataCite's REST API for DOIs on 127.0.0.1, for tests and the offline demo.

It speaks what the portal's client (catalog/datacite.py) uses, as DataCite documents it
(https://support.datacite.org/docs/api-create-dois, .../updating-metadata-with-the-rest-api,
.../api-error-codes):
- `POST /dois` creates a DOI from a JSON:API document (`data.type` "dois", `data.attributes` with `doi`, or
  `prefix` alone for a generated suffix). Without `event` it is a draft; `"event": "publish"` makes it
  findable, `"register"` registered. A DOI that exists answers 422 "This DOI has already been taken".
- `PUT /dois/<doi>` updates the attributes it is given (and creates the DOI when it does not exist, as
  DataCite does); `event` moves the state: publish (draft or registered -> findable), register (draft ->
  registered), hide (findable -> registered). A DOI that is not a draft is never deleted.
- `GET /dois/<doi>`: the DOI, or 404. Without credentials only findable DOIs are shown, as DataCite does.
Writes need HTTP basic auth with the repository's id and password (401 otherwise), and a DOI under one of
the repository's prefixes (403 otherwise). A DOI that is or becomes registered or findable must have the
Metadata Schema 4 required properties (url, creators with names, titles, publisher, a four-digit
publicationYear, types.resourceTypeGeneral from the schema's list); related identifiers, dates, names and
rights are checked against the schema's vocabularies. A refusal is a 422 with JSON:API `errors`
(`source`, `title`), as DataCite answers.

Faults for tests (`DataCiteDouble.inject`): "429" (with Retry-After), "500", and "lost_answer" (the request
is carried out, then the connection closes before any answer). `requests` records what was asked.
For tests and the demo only: it binds 127.0.0.1 and keeps everything in memory.
"""

import argparse
import base64
import contextlib
import datetime
import json
import re
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

FAULTS = frozenset({"429", "500", "lost_answer"})
DOI_PATTERN = re.compile(r"\A10\.\d{4,9}/[-._;()/:a-zA-Z0-9*~$=]+\Z")
# DataCite Metadata Schema 4.5's controlled lists (the ones this double checks).
RESOURCE_TYPES = frozenset(
    {
        "Audiovisual", "Award", "Book", "BookChapter", "Collection", "ComputationalNotebook", "ConferencePaper",
        "ConferenceProceeding", "DataPaper", "Dataset", "Dissertation", "Event", "Image", "Instrument",
        "InteractiveResource", "Journal", "JournalArticle", "Model", "OutputManagementPlan", "PeerReview",
        "PhysicalObject", "Preprint", "Project", "Report", "Service", "Software", "Sound", "Standard",
        "StudyRegistration", "Text", "Workflow", "Other",
    }
)  # fmt: skip
RELATION_TYPES = frozenset(
    {
        "IsCitedBy", "Cites", "IsSupplementTo", "IsSupplementedBy", "IsContinuedBy", "Continues",
        "IsDescribedBy", "Describes", "HasMetadata", "IsMetadataFor", "HasVersion", "IsVersionOf", "IsNewVersionOf",
        "IsPreviousVersionOf", "IsPartOf", "HasPart", "IsPublishedIn", "IsReferencedBy", "References",
        "IsDocumentedBy", "Documents", "IsCompiledBy", "Compiles", "IsVariantFormOf", "IsOriginalFormOf",
        "IsIdenticalTo", "IsReviewedBy", "Reviews", "IsDerivedFrom", "IsSourceOf", "IsRequiredBy", "Requires",
        "IsObsoletedBy", "Obsoletes", "IsCollectedBy", "Collects", "IsTranslationOf", "HasTranslation",
    }
)  # fmt: skip
RELATED_IDENTIFIER_TYPES = frozenset(
    {
        "ARK", "arXiv", "bibcode", "CSTR", "DOI", "EAN13", "EISSN", "Handle", "IGSN", "ISBN", "ISSN", "ISTC",
        "LISSN", "LSID", "PMID", "PURL", "RRID", "UPC", "URL", "URN", "w3id",
    }
)  # fmt: skip
DATE_TYPES = frozenset(
    {
        "Accepted", "Available", "Copyrighted", "Collected", "Coverage", "Created", "Issued", "Submitted",
        "Updated", "Valid", "Withdrawn", "Other",
    }
)  # fmt: skip
NAME_TYPES = frozenset({"Personal", "Organizational"})
TRANSITIONS = {
    "publish": ({"draft", "registered", "findable"}, "findable"),
    "register": ({"draft", "registered"}, "registered"),
    "hide": ({"findable", "registered"}, "registered"),
}


def _now():
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(source, title):
    return {"source": source, "title": title}


def required_errors(attributes):
    """Return DataCite's errors for a record that may not be registered or findable as it is."""
    errors = []
    url = attributes.get("url")
    if not isinstance(url, str) or not re.match(r"\Ahttps?://\S+\Z", url):
        errors.append(_error("url", "URL is not valid" if url else "Can't be blank"))
    creators = attributes.get("creators")
    if not isinstance(creators, list) or not creators:
        errors.append(_error("creators", "Missing child element(s). Expected is ( creator )."))
    else:
        for creator in creators:
            if not isinstance(creator, dict) or not str(creator.get("name") or "").strip():
                errors.append(_error("creators", "Missing child element(s). Expected is ( creatorName )."))
                break
            if creator.get("nameType") not in (None, *NAME_TYPES):
                errors.append(_error("creators", f"Value '{creator['nameType']}' is not a valid nameType."))
            for identifier in creator.get("nameIdentifiers") or []:
                if not isinstance(identifier, dict) or not identifier.get("nameIdentifier"):
                    errors.append(_error("creators", "A nameIdentifier can't be blank."))
                elif not identifier.get("nameIdentifierScheme"):
                    errors.append(_error("creators", "A nameIdentifier needs its nameIdentifierScheme."))
    titles = attributes.get("titles")
    if not isinstance(titles, list) or not any(isinstance(t, dict) and t.get("title") for t in titles):
        errors.append(_error("titles", "Missing child element(s). Expected is ( title )."))
    publisher = attributes.get("publisher")
    if isinstance(publisher, dict):
        publisher = publisher.get("name")
    if not isinstance(publisher, str) or not publisher.strip():
        errors.append(_error("publisher", "Missing child element(s). Expected is ( publisher )."))
    if not re.match(r"\A\d{4}\Z", str(attributes.get("publicationYear") or "")):
        errors.append(_error("publicationYear", "publicationYear must be a year (YYYY)."))
    types = attributes.get("types")
    general = types.get("resourceTypeGeneral") if isinstance(types, dict) else None
    if not general:
        errors.append(_error("types", "Missing child element(s). Expected is ( resourceType )."))
    elif general not in RESOURCE_TYPES:
        errors.append(_error("types", f"Value '{general}' is not a valid resourceTypeGeneral."))
    return errors + vocabulary_errors(attributes)


def vocabulary_errors(attributes):
    """Return errors for values outside the schema's vocabularies (related identifiers, dates, rights)."""
    errors = []
    for item in attributes.get("relatedIdentifiers") or []:
        if not isinstance(item, dict) or not item.get("relatedIdentifier"):
            errors.append(_error("relatedIdentifiers", "A relatedIdentifier can't be blank."))
            continue
        if item.get("relationType") not in RELATION_TYPES:
            errors.append(
                _error(
                    "relatedIdentifiers", f"Value '{item.get('relationType')}' is not a valid relationType."
                )
            )
        if item.get("relatedIdentifierType") not in RELATED_IDENTIFIER_TYPES:
            errors.append(
                _error(
                    "relatedIdentifiers",
                    f"Value '{item.get('relatedIdentifierType')}' is not a valid relatedIdentifierType.",
                )
            )
        general = item.get("resourceTypeGeneral")
        if general is not None and general not in RESOURCE_TYPES:
            errors.append(
                _error("relatedIdentifiers", f"Value '{general}' is not a valid resourceTypeGeneral.")
            )
    for item in attributes.get("dates") or []:
        if not isinstance(item, dict) or item.get("dateType") not in DATE_TYPES or not item.get("date"):
            errors.append(_error("dates", "A date needs a date and a valid dateType."))
    for item in attributes.get("rightsList") or []:
        if not isinstance(item, dict):
            errors.append(_error("rightsList", "A rights entry must be an object."))
        elif item.get("rightsIdentifier") and item.get("rightsIdentifierScheme") not in (
            None,
            "SPDX",
            "spdx",
        ):
            errors.append(_error("rightsList", "Only SPDX rights identifiers are known here."))
    for name in ("sizes", "formats"):
        value = attributes.get(name)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            errors.append(_error(name, f"{name} must be a list of strings."))
    return errors


class _Handler(BaseHTTPRequestHandler):
    server_version = "DataCiteDouble/1.0"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # quiet: tests and the demo read the JSON, not a log
        pass

    # Plumbing ------------------------------------------------------------------------------------

    def _send(self, status, payload=None, headers=None):
        body = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.api+json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _errors(self, status, errors, headers=None):
        self._send(status, {"errors": [{"status": str(status), **error} for error in errors]}, headers)

    def _authorized(self):
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        double = self.server.double
        return secrets.compare_digest(user, double.repository_id) and secrets.compare_digest(
            password, double.password
        )

    def _doi_of_path(self):
        path = urlsplit(self.path).path
        if path == "/dois":
            return ""
        if path.startswith("/dois/"):
            return unquote(path[len("/dois/") :]).lower()
        return None

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _fault(self):
        """Answer an injected fault (or begin one: a lost answer); return None, "lost", or "answered"."""
        double = self.server.double
        with double.lock:
            fault = double.take_fault(self.command)
        if fault is None:
            return None
        kind, retry_after = fault
        if kind == "429":
            self._errors(429, [{"title": "Too many requests"}], {"Retry-After": str(retry_after)})
            return "answered"
        if kind == "500":
            self._errors(500, [{"title": "Internal server error"}])
            return "answered"
        return "lost"

    def _lose_answer(self):
        # The work is done; the connection closes before a single byte of the answer.
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(2)

    def _record(self, doi):
        return {"data": {"id": doi, "type": "dois", "attributes": self.server.double.dois[doi]}}

    # Methods -------------------------------------------------------------------------------------

    def do_GET(self):
        doi = self._doi_of_path()
        self.server.double.log(self.command, self.path)
        if not doi:
            return self._errors(404, [{"title": "The resource you are looking for doesn't exist."}])
        if self._fault() == "answered":
            return None
        with self.server.double.lock:
            record = self.server.double.dois.get(doi)
            visible = record is not None and (record["state"] == "findable" or self._authorized())
            payload = self._record(doi) if visible else None
        if payload is None:
            return self._errors(404, [{"title": "The resource you are looking for doesn't exist."}])
        return self._send(200, payload)

    def do_POST(self):
        return self._write(create=True)

    def do_PUT(self):
        return self._write(create=False)

    def _write(self, *, create):
        double = self.server.double
        raw = self._read_body()
        doi = self._doi_of_path()
        double.log(self.command, self.path, raw)
        if doi is None or (create and doi) or (not create and not doi):
            return self._errors(405, [{"title": "Method Not Allowed"}])
        if not self._authorized():
            return self._errors(401, [{"title": "Bad credentials."}])
        fault = self._fault()
        if fault == "answered":
            return None
        try:
            document = json.loads(raw or b"null")
        except ValueError:
            return self._errors(400, [{"title": "The request body is not JSON."}])
        data = document.get("data") if isinstance(document, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("attributes"), dict):
            return self._errors(422, [_error("data", "A JSON:API document needs data.attributes.")])
        if data.get("type") != "dois":
            return self._errors(422, [_error("type", 'data.type must be "dois".')])
        attributes = dict(data["attributes"])
        event = attributes.pop("event", None)
        if event is not None and event not in TRANSITIONS:
            return self._errors(422, [_error("event", f"Unknown event '{event}'.")])
        with double.lock:
            status, payload = double.apply(doi, attributes, event, create=create)
        if status >= 400:
            return self._errors(status, payload)
        if fault == "lost":
            return self._lose_answer()
        return self._send(status, payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, double):
        super().__init__(address, _Handler)
        self.double = double


class DataCiteDouble:
    """DataCite's DOI API on 127.0.0.1 (a free port by default), served from a background thread."""

    def __init__(
        self,
        *,
        repository_id="TEST.PORTAL",
        password="test-password",  # noqa: S107 - the double's own
        prefixes=("10.5072",),
        host="127.0.0.1",
        port=0,
    ):
        self.repository_id = repository_id
        self.password = password
        self.prefixes = tuple(prefixes)
        self.dois = {}
        self.requests = []  # (method, path, body) of every request, in order
        self.lock = threading.Lock()
        self._faults = []  # [kind, methods, times left, retry_after]
        self._httpd = _Server((host, port), self)
        self._thread = None

    @property
    def url(self):
        """The API's base URL (DATACITE_API_URL)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # Faults and records --------------------------------------------------------------------------

    def inject(self, fault, *, times=1, methods=("POST", "PUT"), retry_after=0):
        """Answer the next `times` requests of `methods` with `fault` ("429", "500" or "lost_answer")."""
        if fault not in FAULTS:
            raise ValueError(f"Unknown fault {fault!r}; known: {sorted(FAULTS)}")
        with self.lock:
            self._faults.append([fault, tuple(methods), times, retry_after])

    def take_fault(self, method):
        """The fault for a request of `method`, if one is injected (called under the lock)."""
        for entry in self._faults:
            kind, methods, left, retry_after = entry
            if method in methods and left > 0:
                entry[2] -= 1
                return kind, retry_after
        return None

    def log(self, method, path, body=b""):
        """Record a request."""
        with self.lock:
            self.requests.append((method, path, body))

    def calls(self, method):
        """Return the paths of the requests made with `method`."""
        with self.lock:
            return [path for logged, path, _body in self.requests if logged == method]

    def state_of(self, doi):
        """Return the state of a DOI (draft, registered, findable), or None when it does not exist."""
        with self.lock:
            record = self.dois.get(doi.lower())
            return None if record is None else record["state"]

    def attributes_of(self, doi):
        """Return a copy of a DOI's attributes."""
        with self.lock:
            return json.loads(json.dumps(self.dois[doi.lower()]))

    # The API's rules -----------------------------------------------------------------------------

    def apply(self, doi, attributes, event, *, create):
        """Create or update a DOI (called under the lock); return (status, JSON:API answer or errors)."""
        if create:
            doi = str(attributes.get("doi") or "").lower()
            if not doi and attributes.get("prefix"):
                doi = f"{attributes['prefix']}/{secrets.token_hex(4)}".lower()
        if not doi or not DOI_PATTERN.match(doi):
            return 422, [_error("doi", "DOI is not valid.")]
        if str(attributes.get("doi") or doi).lower() != doi:
            return 422, [_error("doi", "The DOI in the body is not the one in the address.")]
        if doi.split("/", 1)[0] not in self.prefixes:
            return 403, [{"title": "You are not authorized to access this resource."}]
        existing = self.dois.get(doi)
        if create and existing is not None:
            return 422, [{"source": "doi", "title": "This DOI has already been taken", "uid": doi}]
        record = dict(existing or {"state": "draft", "created": _now()})
        record.update({key: value for key, value in attributes.items() if key not in ("prefix", "state")})
        record["doi"] = doi
        if event is not None:
            allowed, target = TRANSITIONS[event]
            if record["state"] not in allowed:
                return 422, [_error("event", f"Can't {event} a {record['state']} DOI.")]
            record["state"] = target
        if record["state"] != "draft":
            errors = required_errors(record)
            if errors:
                return 422, errors
        else:
            errors = vocabulary_errors(record)
            if errors:
                return 422, errors
        record["updated"] = _now()
        self.dois[doi] = record
        return (201 if existing is None else 200), {"data": {"id": doi, "type": "dois", "attributes": record}}

    # Serving -------------------------------------------------------------------------------------

    def start(self):
        """Serve in a daemon thread and return self."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="devhub-datacite", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        """Serve in the calling thread until interrupted (`python -m devhub.datacite`)."""
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()

    def stop(self):
        """Stop serving and free the port."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


# The offline demo's account (`make run`); 10.5072 is DataCite's test prefix, never a real DOI.
DEMO_REPOSITORY_ID = "DEMO.PORTAL"
DEMO_PASSWORD = "datacite-demo-password"  # noqa: S105 - the demo double's
DEMO_PREFIX = "10.5072"


def main(argv=None):
    """Serve the double until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m devhub.datacite", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8803)
    parser.add_argument("--repository-id", default=DEMO_REPOSITORY_ID)
    parser.add_argument("--password", default=DEMO_PASSWORD)
    parser.add_argument(
        "--prefix", action="append", default=[], help=f"a prefix of the account (default {DEMO_PREFIX})"
    )
    args = parser.parse_args(argv)
    double = DataCiteDouble(
        repository_id=args.repository_id,
        password=args.password,
        prefixes=args.prefix or [DEMO_PREFIX],
        host=args.host,
        port=args.port,
    )
    print(f"DataCite double at {double.url} (prefixes {', '.join(double.prefixes)})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        double.serve_forever()


if __name__ == "__main__":
    main()
