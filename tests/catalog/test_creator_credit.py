"""A contributor who signed in with ORCID is published as the dataset's creator with their iD: in the Hub card,
CITATION.cff, Croissant (validated with mlcroissant), DCAT (parsed with rdflib), schema.org JSON-LD and BibTeX.
Without a sign-in, the portal stays the creator as before."""

import json

import pytest
import yaml
from django.urls import reverse
from huggingface_hub import HfApi
from rdflib import Graph, Namespace, URIRef

from catalog import mirror
from catalog.models import Dataset
from catalog.views import bibtex
from portal.orcid import Creator
from submissions.cards import build_hub_card
from tests.catalog.catalog_rows import published
from tests.catalog.test_machine_metadata import validated
from tests.catalog.test_mirror import approve
from tests.factories import in_review, submit

pytestmark = pytest.mark.django_db

ORCID = "0000-0002-1825-0097"
ORCID_URL = f"https://orcid.org/{ORCID}"
DCT = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")


@pytest.fixture
def credited():
    submission, _ = submit(
        name="Tide gauges",
        contributor_orcid=ORCID,
        contributor_given_names="Ada",
        contributor_family_names="Okafor",
    )
    return published(slug="tides", name="Tide gauges", submission=submission)


def test_citation_cff_names_the_contributor_with_the_orcid_id(client, credited):
    cff = yaml.safe_load(client.get(reverse("catalog:citation", args=["tides"])).content)
    assert cff["authors"] == [{"given-names": "Ada", "family-names": "Okafor", "orcid": ORCID_URL}]


def test_croissant_creator_is_a_person_with_the_orcid_id(client, credited):
    document = client.get(reverse("catalog:croissant", args=["tides"])).json()
    validated(document)
    assert document["creator"]["@type"] == "sc:Person"
    assert document["creator"]["name"] == "Ada Okafor"
    assert document["creator"]["sameAs"] == ORCID_URL and document["creator"]["identifier"] == ORCID_URL


def test_dcat_creator_is_the_orcid_id(client, credited, django_assert_max_num_queries):
    published(slug="other")
    with django_assert_max_num_queries(3):
        response = client.get(reverse("catalog:dcat"))
    graph = Graph().parse(data=response.content, format="json-ld")
    dataset = URIRef("http://testserver/datasets/tides/")
    assert (dataset, DCT.creator, URIRef(ORCID_URL)) in graph
    assert str(graph.value(URIRef(ORCID_URL), FOAF.name)) == "Ada Okafor"
    assert graph.value(URIRef("http://testserver/datasets/other/"), DCT.creator) is None
    turtle = client.get(reverse("catalog:dcat-turtle")).content.decode()
    assert ORCID_URL in turtle


def test_dataset_page_json_ld_and_bibtex_credit_the_contributor(client, credited):
    page = client.get(reverse("catalog:dataset", args=["tides"])).content.decode()
    start = page.index('<script type="application/ld+json">') + len('<script type="application/ld+json">')
    data = json.loads(page[start : page.index("</script>", start)])
    assert data["creator"]["sameAs"] == ORCID_URL and data["creator"]["identifier"]["value"] == ORCID
    assert "author       = {Okafor, Ada}," in bibtex(credited)


def test_hub_card_credits_the_creator_with_escaped_name():
    card = build_hub_card(
        "# Data\n",
        name="Data",
        license="",
        modalities=["text"],
        domain="Marine",
        creator=Creator(given_names="Ada](javascript:alert(1))", family_names="<b>Okafor</b>", orcid=ORCID),
    )
    assert f"(ORCID iD [{ORCID}]({ORCID_URL}))" in card.body
    assert "Ada\\]\\(javascript:alert\\(1\\)\\) \\<b\\>Okafor\\</b\\>" in card.body


def test_without_a_sign_in_the_portal_stays_the_creator(client, settings):
    submission, _ = submit(name="Tide gauges")
    dataset = published(slug="tides", submission=submission)
    cff = yaml.safe_load(client.get(reverse("catalog:citation", args=["tides"])).content)
    assert cff["authors"] == [{"name": settings.PORTAL_NAME}]
    assert (
        client.get(reverse("catalog:croissant", args=["tides"])).json()["creator"]["@type"]
        == "sc:Organization"
    )
    assert "Created by" not in mirror.build_readme(dataset).text


def test_published_card_on_the_hub_credits_the_orcid_id(devhub, curator):
    submission, _ = in_review(
        curator,
        hosting=False,
        location="https://archive.example.org/tides/",
        contributor_orcid=ORCID,
        contributor_given_names="Ada",
        contributor_family_names="Okafor",
    )
    approve(submission, curator)
    dataset = Dataset.objects.get(submission=submission)
    assert dataset.published_at is not None
    readme = HfApi(endpoint=devhub.url, token="test-token").hf_hub_download(
        dataset.repo_id, "README.md", repo_type="dataset"
    )
    with open(readme, encoding="utf-8") as handle:
        text = handle.read()
    assert f"Created by Ada Okafor (ORCID iD [{ORCID}]({ORCID_URL}))" in text
