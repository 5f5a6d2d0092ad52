"""Metadata for machines: Croissant 1.1 (validated with mlcroissant), DCAT-AP 3 (parsed with rdflib), CITATION.cff."""

import json

import mlcroissant
import pytest
import yaml
from django.urls import reverse
from rdflib import RDF, Graph, Namespace, URIRef

from catalog import croissant, dcat
from catalog.views import bibtex
from tests.catalog.catalog_rows import published

pytestmark = pytest.mark.django_db

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
SPDX = Namespace("http://spdx.org/rdf/terms#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")

HOSTED_MANIFEST = [
    {"path": "data/levels.csv", "size": 1234, "sha256": "a" * 64},
    {"path": "data/stations.json", "size": 99, "sha256": "b" * 64},
]


def validated(document):
    """Return the mlcroissant dataset for a document; mlcroissant raises on any validation error."""
    dataset = mlcroissant.Dataset(jsonld=document)
    assert not dataset.metadata.ctx.issues.errors
    return dataset


def test_croissant_of_a_hosted_dataset_lists_its_files_with_sha256(client):
    dataset = published(slug="tides", name="Harbour tides", manifest=HOSTED_MANIFEST)
    response = client.get(reverse("catalog:croissant", args=["tides"]))
    assert response["Content-Type"] == "application/ld+json"
    document = response.json()
    assert document["conformsTo"] == "http://mlcommons.org/croissant/1.1"
    metadata = validated(document).metadata
    files = {item.id: item for item in metadata.distribution}
    assert files["data/levels.csv"].sha256 == "a" * 64
    assert files["data/levels.csv"].content_url.endswith(
        f"/datasets/{dataset.repo_id}/resolve/main/data/levels.csv"
    )
    assert "README.md" in files
    assert document["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert "recordSet" not in document  # no schema from a data inspection


def test_croissant_record_set_comes_from_the_schema_columns():
    dataset = published(slug="tides", manifest=HOSTED_MANIFEST)
    columns = [
        {"name": "timestamp", "type": "TIMESTAMP WITH TIME ZONE"},
        {"name": "level cm", "type": "DECIMAL(6,2)"},
        {"name": "station", "type": "VARCHAR"},
        {"name": "count", "type": "BIGINT"},
        {"name": "note", "type": ""},
        {"bad": 1},
    ]
    document = croissant.croissant(
        dataset, description="Harbour tides " * 5, citation=bibtex(dataset), columns=columns
    )
    metadata = validated(document).metadata
    (record_set,) = metadata.record_sets
    assert [field.name for field in record_set.fields] == [
        "timestamp",
        "level cm",
        "station",
        "count",
        "note",
    ]
    assert [field["dataType"] for field in document["recordSet"][0]["field"]] == [
        "sc:DateTime",
        "sc:Float",
        "sc:Text",
        "sc:Integer",
        "sc:Text",
    ]
    assert document["recordSet"][0]["field"][0]["source"]["fileObject"] == {"@id": "data/levels.csv"}


def test_croissant_of_a_linked_dataset_points_at_the_source(client):
    published(slug="photos", hosted=False, source_url="https://archive.example.org/photos.zip", manifest=[])
    document = client.get(reverse("catalog:croissant", args=["photos"])).json()
    metadata = validated(document).metadata
    assert document["isLiveDataset"] is True
    assert "https://archive.example.org/photos.zip" in [item.content_url for item in metadata.distribution]


def test_croissant_of_an_unpublished_dataset_is_404(client):
    published(slug="draft", published_at=None)
    assert client.get(reverse("catalog:croissant", args=["draft"])).status_code == 404


def test_dataset_page_and_api_link_croissant_and_citation(client):
    published(slug="tides")
    page = client.get(reverse("catalog:dataset", args=["tides"])).content.decode()
    assert reverse("catalog:croissant", args=["tides"]) in page
    assert "cff-version: 1.2.0" in page and reverse("catalog:citation", args=["tides"]) in page
    detail = client.get(reverse("catalog:api-dataset", args=["tides"])).json()
    assert detail["croissant_url"].endswith("/datasets/tides/croissant.json")
    assert detail["citation_url"].endswith("/datasets/tides/CITATION.cff")


def test_citation_cff_names_the_dataset_its_licence_and_repository(client):
    dataset = published(slug="tides", name="Harbour tides", license="cdla-permissive-2.0")
    cff = yaml.safe_load(client.get(reverse("catalog:citation", args=["tides"])).content)
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "dataset"
    assert cff["title"] == "Harbour tides" and cff["license"] == "CDLA-Permissive-2.0"
    assert cff["repository"].endswith(dataset.repo_id)
    assert cff["date-released"] == dataset.published_at.date().isoformat()


def dcat_graph(client, page=1, *, turtle=False):
    name = "catalog:dcat-turtle" if turtle else "catalog:dcat"
    response = client.get(reverse(name), {"page": page})
    assert response.status_code == 200
    graph = Graph()
    if turtle:
        assert response["Content-Type"].startswith("text/turtle")
        graph.parse(data=response.content.decode(), format="turtle")
    else:
        assert response["Content-Type"] == "application/ld+json"
        graph.parse(data=json.dumps(response.json()), format="json-ld")
    return graph


def test_dcat_catalog_has_the_required_classes_and_properties(client):
    published(slug="tides", manifest=HOSTED_MANIFEST)
    published(slug="photos", hosted=False, source_url="https://archive.example.org/photos.zip", manifest=[])
    published(slug="draft", published_at=None)
    graph = dcat_graph(client)
    (catalog,) = graph.subjects(RDF.type, DCAT.Catalog)
    for predicate in (DCT.title, DCT.description, DCT.publisher):
        assert graph.value(catalog, predicate) is not None, predicate
    publisher = graph.value(catalog, DCT.publisher)
    assert (publisher, RDF.type, FOAF.Agent) in graph and graph.value(publisher, FOAF.name) is not None
    datasets = set(graph.objects(catalog, DCAT.dataset))
    assert datasets == set(graph.subjects(RDF.type, DCAT.Dataset))
    assert {str(item).rsplit("/", 2)[-2] for item in datasets} == {"tides", "photos"}
    for dataset in datasets:
        assert (
            graph.value(dataset, DCT.title) is not None and graph.value(dataset, DCT.description) is not None
        )
        distributions = list(graph.objects(dataset, DCAT.distribution))
        assert distributions
        for distribution in distributions:
            assert (distribution, RDF.type, DCAT.Distribution) in graph
            assert graph.value(distribution, DCAT.accessURL) is not None
    checksums = list(graph.objects(None, SPDX.checksum))
    assert len(checksums) == 2
    assert {str(graph.value(checksum, SPDX.checksumValue)) for checksum in checksums} == {"a" * 64, "b" * 64}


def test_catalog_page_links_the_dcat_feed(client):
    page = client.get(reverse("catalog:list")).content.decode()
    assert f'type="application/ld+json" href="{reverse("catalog:dcat")}"' in page
    assert f'type="text/turtle" href="{reverse("catalog:dcat-turtle")}"' in page


def test_dcat_turtle_says_the_same_as_the_json_ld(client):
    published(slug="tides", manifest=HOSTED_MANIFEST)
    json_ld, turtle = dcat_graph(client), dcat_graph(client, turtle=True)
    assert len(json_ld) == len(turtle) > 20
    assert set(turtle.subjects(RDF.type, DCAT.Dataset)) == set(json_ld.subjects(RDF.type, DCAT.Dataset))


def test_dcat_is_paged_with_a_fixed_number_of_queries(client, monkeypatch, django_assert_max_num_queries):
    monkeypatch.setattr(dcat, "PAGE_SIZE", 2)
    for number in range(5):
        published(slug=f"set-{number}")
    with django_assert_max_num_queries(2):
        first = dcat_graph(client, 1)
    last = dcat_graph(client, 3)
    view = URIRef("http://testserver" + reverse("catalog:dcat") + "?page=1")
    assert str(first.value(view, HYDRA.next)).endswith("?page=2")
    assert str(first.value(view, HYDRA.totalItems)) == "5"
    assert len(set(first.subjects(RDF.type, DCAT.Dataset))) == 2
    assert len(set(last.subjects(RDF.type, DCAT.Dataset))) == 1
    assert str(last.value(URIRef(str(view)[:-1] + "3"), HYDRA.previous)).endswith("?page=2")


@pytest.mark.parametrize("name", ["catalog:dcat", "catalog:dcat-turtle"])
@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("9223372036854775807", "There are only 3 pages of results; page 9223372036854775807 is past"),
        ("99999999999999999999", "There are only 3 pages of results; page 99999999999999999999 is past"),
        ("4", "There are only 3 pages of results; page 4 is past the last page."),
        ("-1", "The page must be at least 1."),
        ("0", "The page must be at least 1."),
        ("abc", "The page must be a whole number from 1, not “abc”."),
        ("1.5", "The page must be a whole number from 1, not “1.5”."),
        ("9" * 5000, "The page must be a whole number from 1"),
    ],
)
def test_a_dcat_page_that_names_no_page_is_a_400_saying_why(client, monkeypatch, name, page, message):
    # Regression: huge numbers reached the database's OFFSET (500 IntegrityError: datatype mismatch) and the
    # others answered 200 with an empty or a different page; the API answers 400 for the same numbers.
    monkeypatch.setattr(dcat, "PAGE_SIZE", 2)
    for number in range(5):
        published(slug=f"set-{number}")
    response = client.get(reverse(name), {"page": page})
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_an_empty_catalog_has_one_dcat_page(client):
    assert client.get(reverse("catalog:dcat")).status_code == 200
    assert client.get(reverse("catalog:dcat"), {"page": "1"}).status_code == 200
    assert client.get(reverse("catalog:dcat"), {"page": "2"}).status_code == 400


def test_croissant_url_serves_the_record_set_of_the_data_inspection(client):
    dataset = published(slug="tide-columns", manifest=HOSTED_MANIFEST)
    dataset.columns = [{"name": "station", "type": "VARCHAR"}, {"name": "level", "type": "DOUBLE"}]
    dataset.save(update_fields=["columns"])
    document = client.get(f"/datasets/{dataset.slug}/croissant.json").json()
    (record_set,) = validated(document).metadata.record_sets
    assert [field.name for field in record_set.fields] == ["station", "level"]
