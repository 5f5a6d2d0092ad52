"""The DataCite double speaks the REST API as DataCite documents it: JSON:API envelopes, basic auth, the
account's prefixes, the Metadata Schema's required properties (422 with `errors`), state events, and faults."""

import pytest
import requests

from devhub.datacite import DataCiteDouble

AUTH = ("TEST.PORTAL", "secret")
COMPLETE = {
    "url": "https://portal.example.org/datasets/tides/",
    "creators": [{"name": "Okafor, Ada", "nameType": "Personal"}],
    "titles": [{"title": "Tide gauges"}],
    "publisher": "Example University Library",
    "publicationYear": 2026,
    "types": {"resourceTypeGeneral": "Dataset"},
}


@pytest.fixture
def double():
    with DataCiteDouble(repository_id=AUTH[0], password=AUTH[1], prefixes=("10.5072",)) as server:
        yield server


def post(double, attributes, *, auth=AUTH, kind="dois"):
    return requests.post(
        f"{double.url}/dois",
        json={"data": {"type": kind, "attributes": attributes}},
        auth=auth,
        headers={"Content-Type": "application/vnd.api+json"},
        timeout=5,
    )


def put(double, doi, attributes):
    return requests.put(
        f"{double.url}/dois/{doi}",
        json={"data": {"type": "dois", "attributes": attributes}},
        auth=AUTH,
        timeout=5,
    )


def test_publish_creates_a_findable_doi_that_get_returns(double):
    response = post(double, {"doi": "10.5072/dp-1", "event": "publish", **COMPLETE})
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["type"] == "dois" and data["id"] == "10.5072/dp-1"
    assert data["attributes"]["state"] == "findable"
    found = requests.get(f"{double.url}/dois/10.5072/dp-1", timeout=5)
    assert found.status_code == 200 and found.json()["data"]["attributes"]["titles"] == [
        {"title": "Tide gauges"}
    ]


def test_a_second_creation_is_refused_as_taken(double):
    assert post(double, {"doi": "10.5072/dp-1", "event": "publish", **COMPLETE}).status_code == 201
    again = post(double, {"doi": "10.5072/dp-1", "event": "publish", **COMPLETE})
    assert again.status_code == 422
    assert again.json()["errors"][0]["title"] == "This DOI has already been taken"


@pytest.mark.parametrize("missing", ["url", "creators", "titles", "publisher", "publicationYear", "types"])
def test_a_findable_doi_needs_every_required_property(double, missing):
    attributes = {key: value for key, value in COMPLETE.items() if key != missing}
    response = post(double, {"doi": "10.5072/dp-1", "event": "publish", **attributes})
    assert response.status_code == 422
    assert missing in [error["source"] for error in response.json()["errors"]]
    assert double.dois == {}


def test_a_draft_needs_no_metadata_and_events_move_its_state(double):
    assert post(double, {"doi": "10.5072/dp-2"}).json()["data"]["attributes"]["state"] == "draft"
    refused = put(double, "10.5072/dp-2", {"event": "publish"})
    assert refused.status_code == 422  # not findable without its required properties
    assert (
        put(double, "10.5072/dp-2", {"event": "publish", **COMPLETE}).json()["data"]["attributes"]["state"]
        == "findable"
    )
    assert (
        put(double, "10.5072/dp-2", {"event": "hide"}).json()["data"]["attributes"]["state"] == "registered"
    )
    assert (
        put(double, "10.5072/dp-2", {"event": "publish"}).json()["data"]["attributes"]["state"] == "findable"
    )
    # Without credentials, only findable DOIs are shown.
    put(double, "10.5072/dp-2", {"event": "hide"})
    assert requests.get(f"{double.url}/dois/10.5072/dp-2", timeout=5).status_code == 404
    assert requests.get(f"{double.url}/dois/10.5072/dp-2", auth=AUTH, timeout=5).status_code == 200


def test_envelope_credentials_and_prefix_are_checked(double):
    assert post(double, {"doi": "10.5072/dp-3", **COMPLETE}, kind="works").status_code == 422
    assert post(double, {"doi": "10.5072/dp-3", **COMPLETE}, auth=("TEST.PORTAL", "wrong")).status_code == 401
    assert post(double, {"doi": "10.1234/dp-3", **COMPLETE}).status_code == 403
    bare = requests.post(f"{double.url}/dois", json={"attributes": COMPLETE}, auth=AUTH, timeout=5)
    assert bare.status_code == 422 and bare.json()["errors"][0]["source"] == "data"
    assert double.dois == {}


def test_vocabularies_are_checked(double):
    bad = {
        **COMPLETE,
        "relatedIdentifiers": [
            {
                "relatedIdentifier": "https://x.example",
                "relatedIdentifierType": "URL",
                "relationType": "IsCopyOf",
            }
        ],
    }
    response = post(double, {"doi": "10.5072/dp-4", "event": "publish", **bad})
    assert response.status_code == 422 and "relationType" in response.json()["errors"][0]["title"]


def test_faults(double):
    double.inject("429", retry_after=7)
    limited = post(double, {"doi": "10.5072/dp-5", "event": "publish", **COMPLETE})
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    double.inject("500")
    assert post(double, {"doi": "10.5072/dp-5", "event": "publish", **COMPLETE}).status_code == 500
    double.inject("lost_answer")
    with pytest.raises(requests.ConnectionError):
        post(double, {"doi": "10.5072/dp-5", "event": "publish", **COMPLETE})
    assert double.state_of("10.5072/dp-5") == "findable"  # carried out, though the answer was lost
