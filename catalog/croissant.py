"""Croissant 1.1 (MLCommons) JSON-LD metadata of a published dataset, for ML tools and dataset search.

http://mlcommons.org/croissant/1.1 — the distribution lists the files on the Hub with their SHA-256 (hosted)
or the publisher's location (linked; such a dataset is marked live, since its data can change without us);
record sets and fields come from the data inspection's schema, a list of {name, type} columns, when the
dataset has one. Only reads the row; the view serves the result. Tests validate it with `mlcroissant`.
"""

import hashlib
import mimetypes
import re

from django.conf import settings

from catalog import hub, selectors
from submissions.carddata import license_info

CONFORMS_TO = "http://mlcommons.org/croissant/1.1"

# The standard @context of Croissant 1.1 (as published with the specification and used by mlcroissant).
CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "arrayShape": "cr:arrayShape",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "description": {"@container": "@language"},
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isArray": "cr:isArray",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "name": {"@container": "@language"},
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

# Column types of the data inspection's schema (the engine's names: BIGINT, DOUBLE, VARCHAR, DATE, BOOLEAN,
# DECIMAL(18,3), TIMESTAMP WITH TIME ZONE, ...), by their first word, as Croissant data types; others are text.
DATA_TYPES = {
    **dict.fromkeys(
        (
            "BIGINT",
            "INTEGER",
            "INT",
            "SMALLINT",
            "TINYINT",
            "HUGEINT",
            "UBIGINT",
            "UINTEGER",
            "USMALLINT",
            "UTINYINT",
            "UHUGEINT",
            "INT64",
            "INT32",
            "INT16",
            "INT8",
            "LONG",
        ),
        "sc:Integer",
    ),
    **dict.fromkeys(
        ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC", "FLOAT64", "FLOAT32", "NUMBER"), "sc:Float"
    ),
    **dict.fromkeys(("BOOLEAN", "BOOL"), "sc:Boolean"),
    "DATE": "sc:Date",
    **dict.fromkeys(("TIMESTAMP", "TIMESTAMPTZ", "DATETIME"), "sc:DateTime"),
}
TABULAR_TYPES = {"text/csv", "text/tab-separated-values", "application/json", "application/x-ndjson"}
EXTRA_TYPES = {
    ".parquet": "application/x-parquet",
    ".jsonl": "application/x-ndjson",
    ".tsv": "text/tab-separated-values",
}


def encoding_format(path):
    """Return the media type of a file by its name (application/octet-stream when unknown)."""
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
    return EXTRA_TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def data_type(engine_type):
    """Return the Croissant data type of a column type named by the data inspection ("" or unknown: text)."""
    words = re.split(r"[\s(]", str(engine_type or "").strip().upper(), maxsplit=1)
    return DATA_TYPES.get(words[0], "sc:Text")


def _node_id(text):
    """Return an @id usable inside the document: no spaces or characters that break a relative IRI."""
    return re.sub(r"[^A-Za-z0-9._/-]+", "_", text).strip("_") or "item"


def distribution(dataset):
    """Return the Croissant FileObjects of a dataset: its files on the Hub, or its external location."""
    hub_url = hub.dataset_url(dataset.repo_id)
    files = []
    if dataset.hosted:
        for entry in dataset.manifest:
            if not isinstance(entry, dict) or not entry.get("sha256"):
                continue
            path = str(entry.get("path", ""))
            files.append(
                {
                    "@type": "cr:FileObject",
                    "@id": _node_id(path),
                    "name": _node_id(path),
                    "contentUrl": f"{hub_url}/resolve/main/{path}",
                    "encodingFormat": encoding_format(path),
                    "contentSize": f"{int(entry.get('size', 0))} B",
                    "sha256": entry["sha256"],
                }
            )
    elif dataset.manifest:
        # A linked dataset: each file at its source, with the checksums its repository or contributor gave.
        for entry in dataset.manifest:
            if not isinstance(entry, dict) or not entry.get("url"):
                continue
            path = str(entry.get("path", ""))
            node = {
                "@type": "cr:FileObject",
                "@id": _node_id(f"source/{path}"),
                "name": _node_id(path),
                "description": "At its publisher's location; the catalog does not hold a copy.",
                "contentUrl": entry["url"],
                "encodingFormat": encoding_format(path),
            }
            if entry.get("size") is not None:
                node["contentSize"] = f"{int(entry['size'])} B"
            for algorithm in ("sha256", "md5"):
                if (entry.get("checksums") or {}).get(algorithm):
                    node[algorithm] = entry["checksums"][algorithm]
            files.append(node)
    else:
        files.append(
            {
                "@type": "cr:FileObject",
                "@id": "source",
                "name": "source",
                "description": "The data at its publisher's location; the catalog does not hold a copy.",
                "contentUrl": dataset.source_url,
                "encodingFormat": encoding_format(dataset.source_url.split("?", 1)[0]),
            }
        )
    card = dataset.card.encode("utf-8")
    files.append(
        {
            "@type": "cr:FileObject",
            "@id": "README.md",
            "name": "README.md",
            "description": "The dataset card.",
            "contentUrl": f"{hub_url}/resolve/main/README.md",
            "encodingFormat": "text/markdown",
            "contentSize": f"{len(card)} B",
            "sha256": hashlib.sha256(card).hexdigest(),
        }
    )
    return files


def record_sets(files, columns):
    """Return one RecordSet whose fields are the schema's columns, read from the first tabular file."""
    tabular = [item for item in files if item["encodingFormat"] in TABULAR_TYPES]
    if not columns or not tabular:
        return []
    source = tabular[0]["@id"]
    fields = []
    for column in columns:
        if not isinstance(column, dict) or not column.get("name"):
            continue
        name = str(column["name"])
        fields.append(
            {
                "@type": "cr:Field",
                "@id": f"records/{_node_id(name)}",
                "name": name,
                "dataType": data_type(column.get("type")),
                "source": {"fileObject": {"@id": source}, "extract": {"column": name}},
            }
        )
    if not fields:
        return []
    return [
        {
            "@type": "cr:RecordSet",
            "@id": "records",
            "name": "records",
            "description": f"The rows of {source}, as the portal's data inspection read its schema.",
            "field": fields,
        }
    ]


def creators(dataset):
    """Return the schema.org creators of a dataset: the people it credits (an ORCID iD as `sameAs` and
    `identifier`), else the portal (an Organization)."""
    people = []
    for person in selectors.people_of(dataset):
        data = {
            "@type": "sc:Person",
            "name": person.name,
            "givenName": person.given_names,
            "familyName": person.family_names,
            "sameAs": person.orcid_url,
            "identifier": person.orcid_url,
        }
        if person.affiliation:
            data["affiliation"] = {"@type": "sc:Organization", "name": person.affiliation}
        people.append({key: value for key, value in data.items() if value})
    portal = {"@type": "sc:Organization", "name": settings.PORTAL_NAME, "url": settings.PORTAL_BASE_URL + "/"}
    return (people[0] if len(people) == 1 else people) if people else portal


def croissant(dataset, *, description, citation, columns=()):
    """Return the Croissant 1.1 JSON-LD document of a published dataset, as a dict."""
    hub_url = hub.dataset_url(dataset.repo_id)
    files = distribution(dataset)
    data = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CONFORMS_TO,
        "name": dataset.name,
        "description": description,
        "url": settings.PORTAL_BASE_URL + dataset.get_absolute_url(),
        "sameAs": hub_url,
        "identifier": f"https://doi.org/{dataset.doi}" if dataset.doi else None,
        # The paper that describes the data is what its users are asked to cite, when there is one.
        "citeAs": dataset.paper or citation,
        "creator": creators(dataset),
        "isBasedOn": [f"https://doi.org/{doi}" for doi in dataset.source_dois],
        "publisher": {"@type": "sc:Organization", "name": settings.PORTAL_NAME},
        "keywords": selectors.keywords_of(dataset),
        "inLanguage": list(dataset.languages),
        "datePublished": dataset.published_at.date().isoformat() if dataset.published_at else None,
        "dateModified": (dataset.card_updated_at or dataset.published_at or dataset.updated_at)
        .date()
        .isoformat(),
        "version": "1.0.0",
        "isLiveDataset": not dataset.hosted,
        "distribution": files,
        "recordSet": record_sets(files, columns),
    }
    info = license_info(dataset.license) if dataset.license else None
    if info:
        data["license"] = info["url"]
    return {key: value for key, value in data.items() if value not in (None, [], "")}
