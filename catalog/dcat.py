"""The catalog as DCAT-AP 3 for harvesters (CKAN, data.europa.eu): JSON-LD, and Turtle through rdflib.

https://semiceu.github.io/DCAT-AP/releases/3.0.0/ — a `dcat:Catalog` with its publisher, one `dcat:Dataset`
per published dataset (with its creator, a `foaf:Person` named by the ORCID iD, when the contributor signed in
with ORCID) and one `dcat:Distribution` per file on the Hub (hosted, with its SHA-256 as an
`spdx:Checksum`) or per external location (linked). Pages of PAGE_SIZE datasets are linked with Hydra's
paging terms, as the DCAT-AP guidance for paged harvesting suggests. Only reads the catalog.
"""

import json
import mimetypes

from django.conf import settings
from django.urls import reverse
from rdflib import Graph

from catalog import hub, paging, selectors
from catalog.models import Dataset
from submissions.carddata import license_info

PAGE_SIZE = 100

CONTEXT = {
    "adms": "http://www.w3.org/ns/adms#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "hydra": "http://www.w3.org/ns/hydra/core#",
    "spdx": "http://spdx.org/rdf/terms#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
}
FIELDS = (
    "slug",
    "name",
    "repo_id",
    "hosted",
    "source_url",
    "license",
    "domain",
    "modalities",
    "tags",
    "summary",
    "manifest",
    "published_at",
    "updated_at",
    "card_updated_at",
    "creators",
    "source_dois",
    "paper",
    "code_url",
    "doi",
)


def _text(value):
    return {"@value": value, "@language": "en"}


def _datetime(value):
    return {"@value": value.isoformat(), "@type": "xsd:dateTime"}


def _media_type(path):
    kind = mimetypes.guess_type(path.split("?", 1)[0])[0]
    return {"@id": f"https://www.iana.org/assignments/media-types/{kind}"} if kind else None


def catalog_url():
    """Return the catalog's identifier: its first JSON-LD page without parameters."""
    return settings.PORTAL_BASE_URL + reverse("catalog:dcat")


def _dataset_nodes(dataset, publisher_id):
    page_url = settings.PORTAL_BASE_URL + dataset.get_absolute_url()
    hub_url = hub.dataset_url(dataset.repo_id)
    info = license_info(dataset.license) if dataset.license else None
    licence = {"dct:license": {"@id": info["url"]}} if info else {}
    distributions = []
    if dataset.hosted:
        for entry in dataset.manifest:
            if not isinstance(entry, dict) or "path" not in entry:
                continue
            url = f"{hub_url}/resolve/main/{entry['path']}"
            node = {
                "@id": url,
                "@type": "dcat:Distribution",
                "dct:title": _text(entry["path"]),
                "dcat:accessURL": {"@id": hub_url},
                "dcat:downloadURL": {"@id": url},
                "dcat:byteSize": {
                    "@value": str(int(entry.get("size", 0))),
                    "@type": "xsd:nonNegativeInteger",
                },
                **licence,
            }
            if entry.get("sha256"):
                node["spdx:checksum"] = {
                    "@type": "spdx:Checksum",
                    "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256"},
                    "spdx:checksumValue": {"@value": entry["sha256"], "@type": "xsd:hexBinary"},
                }
            if media := _media_type(entry["path"]):
                node["dcat:mediaType"] = media
            distributions.append(node)
    else:
        for number, entry in enumerate(
            item for item in dataset.manifest if isinstance(item, dict) and item.get("url")
        ):
            node = {
                "@id": f"{page_url}#source-{number + 1}",
                "@type": "dcat:Distribution",
                "dct:title": _text(str(entry.get("path") or "The data at its publisher")),
                "dcat:accessURL": {"@id": entry["url"]},
                "dcat:downloadURL": {"@id": entry["url"]},
                **licence,
            }
            if entry.get("size") is not None:
                node["dcat:byteSize"] = {"@value": str(int(entry["size"])), "@type": "xsd:nonNegativeInteger"}
            digests = entry.get("checksums") or {}
            for algorithm in ("sha256", "md5"):
                if digests.get(algorithm):
                    node["spdx:checksum"] = {
                        "@type": "spdx:Checksum",
                        "spdx:algorithm": {"@id": f"spdx:checksumAlgorithm_{algorithm}"},
                        "spdx:checksumValue": {"@value": digests[algorithm], "@type": "xsd:hexBinary"},
                    }
                    break
            if media := _media_type(str(entry.get("path", ""))):
                node["dcat:mediaType"] = media
            distributions.append(node)
        if not distributions:
            distributions.append(
                {
                    "@id": f"{page_url}#source",
                    "@type": "dcat:Distribution",
                    "dct:title": _text("The data at its publisher"),
                    "dcat:accessURL": {"@id": dataset.source_url},
                    **licence,
                }
            )
    modified = dataset.card_updated_at or dataset.updated_at
    node = {
        "@id": page_url,
        "@type": "dcat:Dataset",
        "dct:title": _text(dataset.name),
        "dct:description": _text(
            dataset.summary or f"A {dataset.domain} dataset published on the Hugging Face Hub."
        ),
        # DCAT-AP: the main identifier is a literal; the DOI is that when there is one, and is given again as
        # an adms:Identifier with its scheme (the Hub repository stays an other identifier).
        "dct:identifier": f"https://doi.org/{dataset.doi}" if dataset.doi else dataset.repo_id,
        "dct:publisher": {"@id": publisher_id},
        "dcat:landingPage": {"@id": page_url},
        "dcat:keyword": [_text(word) for word in [dataset.domain, *dataset.modality_list, *dataset.tags]],
        "dcat:distribution": [{"@id": item["@id"]} for item in distributions],
        "foaf:page": {"@id": hub_url},
    }
    if dataset.doi:
        node["adms:identifier"] = [
            {
                "@type": "adms:Identifier",
                "skos:notation": {"@value": dataset.doi, "@type": "http://purl.org/spar/datacite/doi"},
                "dct:creator": {"@id": "https://www.datacite.org/"},
            },
            {"@type": "adms:Identifier", "skos:notation": dataset.repo_id},
        ]
    people = selectors.people_of(dataset)
    if people:
        # An ORCID iD's address identifies a person (DCAT-AP: dct:creator, a foaf:Agent).
        node["dct:creator"] = [
            {"@id": person.orcid_url} if person.orcid else {"@type": "foaf:Person", "foaf:name": person.name}
            for person in people
        ]
        distributions.extend(
            {"@id": person.orcid_url, "@type": "foaf:Person", "foaf:name": person.name}
            for person in people
            if person.orcid
        )
    if dataset.source_dois:
        node["dct:source"] = [{"@id": f"https://doi.org/{doi}"} for doi in dataset.source_dois]
    if dataset.paper:
        node["dct:isReferencedBy"] = {"@id": dataset.paper}
    if dataset.code_url:
        node["dct:relation"] = {"@id": dataset.code_url}
    if dataset.published_at:
        node["dct:issued"] = _datetime(dataset.published_at)
    if modified:
        node["dct:modified"] = _datetime(modified)
    return [node, *distributions]


def catalog_page(raw_number):
    """Return (JSON-LD document, page count) for the page `raw_number` names (`?page=`, 1-based; missing: 1).

    Raises `paging.BadPage` for a value that names no page (not a number, below 1, past the last page).
    """
    published = Dataset.objects.published().order_by("published_at", "id")
    total = published.count()
    pages = max(1, -(-total // PAGE_SIZE))
    number = paging.page_number(raw_number, pages=pages)
    rows = published.select_related("submission").only(*FIELDS, *selectors.CREATOR_FIELDS)[
        (number - 1) * PAGE_SIZE : number * PAGE_SIZE
    ]
    base = catalog_url()
    publisher_id = settings.PORTAL_BASE_URL + "/#publisher"
    graph = {}
    dataset_ids = []
    for dataset in rows:
        nodes = _dataset_nodes(dataset, publisher_id)
        dataset_ids.append({"@id": nodes[0]["@id"]})
        # A person who created several datasets of the page is described once.
        graph.update((item["@id"], item) for item in nodes)
    catalog = {
        "@id": base,
        "@type": "dcat:Catalog",
        "dct:title": _text(f"{settings.PORTAL_NAME} catalog"),
        "dct:description": _text(
            f"Datasets contributed to {settings.PORTAL_NAME} and published on the Hugging Face Hub."
        ),
        "dct:publisher": {"@id": publisher_id},
        "foaf:homepage": {"@id": settings.PORTAL_BASE_URL + "/"},
        "dcat:dataset": dataset_ids,
    }
    view = {
        "@id": f"{base}?page={number}",
        "@type": "hydra:PartialCollectionView",
        "hydra:first": {"@id": f"{base}?page=1"},
        "hydra:last": {"@id": f"{base}?page={pages}"},
        "hydra:totalItems": {"@value": str(total), "@type": "xsd:nonNegativeInteger"},
    }
    if number > 1:
        view["hydra:previous"] = {"@id": f"{base}?page={number - 1}"}
    if number < pages:
        view["hydra:next"] = {"@id": f"{base}?page={number + 1}"}
    publisher = {"@id": publisher_id, "@type": "foaf:Agent", "foaf:name": settings.PORTAL_NAME}
    document = {"@context": CONTEXT, "@graph": [catalog, view, publisher, *graph.values()]}
    return document, pages


def to_turtle(document):
    """Return a JSON-LD document as Turtle (rdflib parses the JSON-LD; the context is inline, nothing is fetched)."""
    graph = Graph()
    graph.parse(data=json.dumps(document), format="json-ld")
    for prefix, namespace in CONTEXT.items():
        graph.bind(prefix, namespace)
    return graph.serialize(format="turtle")
