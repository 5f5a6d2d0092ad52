"""More query parameters than Django reads, or a NUL in one: one 400 with a message on every page, with DEBUG
on or off."""

import pytest
from django.test import Client

from tests.factories import make_curator_user

pytestmark = pytest.mark.django_db

TOO_MANY = "&".join(f"p{number}=1" for number in range(1001))
PAGES = ["/", "/datasets/", "/datasets/dcat.jsonld", "/datasets/dcat.ttl", "/admin/login/", "/contribute/"]
API = ["/api/datasets/", "/api/schema/"]
MESSAGE = "The address holds more than 1,000 parameters"


@pytest.fixture(params=[True, False], ids=["debug", "production"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.mark.parametrize("path", PAGES)
def test_too_many_parameters_is_a_400_page_saying_what_to_do(debug, path):
    # Regression: with DEBUG on, the debug page read request.GET again and answered 500 (TooManyFieldsSent).
    response = Client(raise_request_exception=False).get(f"{path}?{TOO_MANY}")
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()
    assert "Nothing was stored." in response.content.decode()


@pytest.mark.parametrize("path", API)
def test_too_many_parameters_is_a_json_400_on_the_api(debug, path):
    response = Client(raise_request_exception=False).get(f"{path}?{TOO_MANY}")
    assert response.status_code == 400
    assert MESSAGE in response.json()["detail"]


def test_too_many_parameters_on_a_curators_page_is_a_400(debug):
    client = Client(raise_request_exception=False)
    client.force_login(make_curator_user("alice"))
    response = client.get(f"/admin/submissions/submission/?{TOO_MANY}")
    assert response.status_code == 400


def test_a_thousand_parameters_are_still_read(debug):
    few = "&".join(f"p{number}=1" for number in range(999))
    assert Client(raise_request_exception=False).get(f"/datasets/?{few}").status_code == 200


def test_too_many_posted_fields_are_a_400_and_store_nothing(debug):
    from submissions.models import Submission

    fields = {f"f{number}": "x" for number in range(1001)}
    response = Client(raise_request_exception=False).post("/contribute/", fields)
    assert response.status_code == 400
    assert not Submission.objects.exists()


NUL_MESSAGE = "The address holds a NUL character (%00)"


@pytest.mark.parametrize(
    "query", ["q=a%00b", "state=%00", "page=%00", "a%00=1", "domain=Mar%00ine&domain=Marine"]
)
@pytest.mark.parametrize("path", [*PAGES, "/admin/submissions/submission/", "/admin/submissions/event/"])
def test_a_nul_in_the_query_string_is_a_400_page_saying_what_to_do(debug, path, query):
    # Regression: on PostgreSQL the review queue's state filter passed "\x00" to a query, a 500 (ValueError).
    client = Client(raise_request_exception=False)
    client.force_login(make_curator_user("alice"))
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400
    assert NUL_MESSAGE in response.content.decode()


def test_a_nul_on_the_api_is_a_json_400(debug):
    response = Client(raise_request_exception=False).get("/api/datasets/?q=tide%00")
    assert response.status_code == 400
    assert NUL_MESSAGE in response.json()["detail"]


def test_an_encoded_percent_sign_is_no_nul(debug):
    assert Client(raise_request_exception=False).get("/datasets/?q=%2500").status_code == 200
