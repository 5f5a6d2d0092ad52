"""Where a dataset's DOI shows: the catalog page's Cite box (APA, BibTeX), CITATION.cff, Croissant (validated
with mlcroissant), DCAT (parsed with rdflib), schema.org JSON-LD, the API and its OpenAPI schema, the Hub card,
the review page and the contributor's status page. Without a DOI, none of them invents one."""

import json

import pytest
import yaml
from django.urls import reverse
from rdflib import Graph, Literal, Namespace, URIRef

from catalog import citation, hub
from catalog.models import Dataset, DoiRegistration
from submissions.cards import CitationInfo, build_hub_card
from tests.catalog.catalog_rows import ElementCollector, published
from tests.catalog.test_machine_metadata import validated
from tests.factories import submit

pytestmark = pytest.mark.django_db

DOI = "10.5072/dp-2026-000042"
DCT = Namespace("http://purl.org/dc/terms/")
ADMS = Namespace("http://www.w3.org/ns/adms#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")


@pytest.fixture
def cited(settings):
    settings.DATACITE_PUBLISHER = "Example University Library"
    submission, _ = submit(
        name="Tide gauges",
        contributor_orcid="0000-0002-1825-0097",
        contributor_given_names="Ada Lovelace",
        contributor_family_names="Okafor",
    )
    dataset = published(slug="tides", name="Tide gauges", submission=submission, doi=DOI)
    DoiRegistration.objects.create(
        dataset=dataset, doi=DOI, state=DoiRegistration.State.FINDABLE, publication_year=2026
    )
    return dataset


def page_of(client, slug):
    response = client.get(reverse("catalog:dataset", args=[slug]))
    assert response.status_code == 200
    return response.content.decode()


def test_catalog_page_has_a_cite_box_with_apa_and_bibtex_both_copyable(client, cited):
    page = page_of(client, "tides")
    collector = ElementCollector()
    collector.feed(page)
    ids = {attributes.get("id") for _tag, attributes in collector.elements}
    assert {"cite", "apa", "bibtex", "doi-link", "aside-doi"} <= ids
    targets = {attributes.get("data-copy-target") for _tag, attributes in collector.elements}
    assert {"apa", "bibtex"} <= targets
    year = cited.published_at.year
    apa = f"Okafor, A. L. ({year}). Tide gauges [Data set]. Example University Library. https://doi.org/{DOI}"
    assert citation.apa(cited) == apa
    assert apa in page
    assert f"doi          = {{{DOI}}}" in page and f"url          = {{https://doi.org/{DOI}}}" in page
    assert "publisher    = {Example University Library}" in citation.bibtex(cited)


def test_without_a_doi_the_citations_point_at_the_hub(client):
    dataset = published(slug="plain", name="Plain")
    page = page_of(client, "plain")
    assert "doi-link" not in page and "doi          =" not in page
    year = dataset.published_at.year
    link = hub.dataset_url("dataset-portal/plain")
    assert citation.apa(dataset) == f"Dataset Portal. ({year}). Plain [Data set]. Hugging Face. {link}"
    cff = yaml.safe_load(client.get(reverse("catalog:citation", args=["plain"])).content)
    assert "doi" not in cff
    document = client.get(reverse("catalog:croissant", args=["plain"])).json()
    assert "identifier" not in document


def test_apa_lists_several_authors_with_an_ampersand(settings):
    dataset = published(
        slug="many",
        name="Many",
        creators=[{"name": "Lindqvist, Jonas"}, {"name": "Okafor, Ada"}, {"name": "Harbour Office"}],
    )
    assert citation.apa(dataset).startswith("Lindqvist, J., Okafor, A., & Harbour Office. (")


def test_citation_cff_names_the_doi(client, cited):
    cff = yaml.safe_load(client.get(reverse("catalog:citation", args=["tides"])).content)
    assert cff["doi"] == DOI
    assert cff["identifiers"][0] == {"type": "doi", "value": DOI, "description": "The DOI of this dataset"}


def test_croissant_identifier_and_cite_as_carry_the_doi(client, cited):
    document = client.get(reverse("catalog:croissant", args=["tides"])).json()
    validated(document)
    assert document["identifier"] == f"https://doi.org/{DOI}"
    # No paper: users are asked to cite the dataset itself, by its DOI.
    assert document["citeAs"].startswith("@misc{") and f"doi          = {{{DOI}}}" in document["citeAs"]


def test_croissant_cites_the_paper_when_there_is_one(client, cited):
    Dataset.objects.filter(pk=cited.pk).update(paper="https://arxiv.org/abs/2101.00001")
    document = client.get(reverse("catalog:croissant", args=["tides"])).json()
    assert document["citeAs"] == "https://arxiv.org/abs/2101.00001"
    assert document["identifier"] == f"https://doi.org/{DOI}"


def test_dcat_identifies_the_dataset_by_its_doi(client, cited):
    published(slug="plain")
    graph = Graph().parse(data=client.get(reverse("catalog:dcat")).content, format="json-ld")
    node = URIRef("http://testserver/datasets/tides/")
    assert graph.value(node, DCT.identifier) == Literal(f"https://doi.org/{DOI}")
    notations = {
        graph.value(identifier, SKOS.notation) for identifier in graph.objects(node, ADMS.identifier)
    }
    assert Literal(DOI, datatype=URIRef("http://purl.org/spar/datacite/doi")) in notations
    assert Literal("dataset-portal/tides") in notations
    assert graph.value(URIRef("http://testserver/datasets/plain/"), DCT.identifier) == Literal(
        "dataset-portal/plain"
    )
    turtle = client.get(reverse("catalog:dcat-turtle")).content.decode()
    assert DOI in turtle


def test_json_ld_identifier_is_the_doi(client, cited):
    page = page_of(client, "tides")
    start = page.index('<script type="application/ld+json">') + len('<script type="application/ld+json">')
    data = json.loads(page[start : page.index("</script>", start)])
    assert data["identifier"] == [f"https://doi.org/{DOI}", "dataset-portal/tides"]


def test_api_gives_the_doi_and_documents_it(client, cited):
    detail = client.get(reverse("catalog:api-dataset", args=["tides"])).json()
    assert detail["doi"] == DOI
    listing = client.get(reverse("catalog:api-datasets")).json()
    assert listing["results"][0]["doi"] == DOI
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    properties = schema["components"]["schemas"]["DatasetDetail"]["properties"]
    assert "doi" in properties and "DOI" in properties["doi"]["description"]
    assert "doi" in schema["components"]["schemas"]["DatasetSummary"]["properties"]


def test_hub_card_citation_block_names_the_doi_with_a_bibtex_entry(cited):
    card = build_hub_card(
        "# Tide gauges\n\nLevels.\n",
        name="Tide gauges",
        license="cc-by-4.0",
        modalities=["text"],
        domain="Marine",
        citation=CitationInfo(doi=DOI, bibtex=citation.bibtex(cited)),
    )
    assert f"- DOI of this dataset: [doi:{DOI}](https://doi.org/{DOI})" in card.body
    block = card.body[card.body.index("```bibtex") :]
    assert f"doi          = {{{DOI}}}" in block and block.rstrip().endswith("```")
