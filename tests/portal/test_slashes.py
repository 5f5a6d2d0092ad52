"""An address missing its final slash: redirected for every method, never a server error, DEBUG on or off."""

import pytest
from django.test import Client

from submissions.models import Submission
from tests.production import HTTPS_HEADERS

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_request_with_a_body_to_an_address_without_its_slash_is_redirected_keeping_its_method(mode, method):
    # Regression (found by the generated form posts): with DEBUG on, Django raised a RuntimeError (500).
    response = getattr(Client(**HTTPS_HEADERS), method)("/contribute", {"name": "x"})
    assert response.status_code == 308
    assert response["Location"] == "/contribute/"
    assert not Submission.objects.exists()


def test_a_post_without_the_slash_reaches_the_form_when_repeated_there(mode):
    response = Client(**HTTPS_HEADERS).post("/my-submissions", {"email": "x"}, follow=True)
    assert response.redirect_chain == [("/my-submissions/", 308)]
    assert "Enter an e-mail address such as name@example.org." in response.content.decode()


def test_a_get_without_the_slash_keeps_djangos_301(mode):
    response = Client(**HTTPS_HEADERS).get("/datasets", {"q": "tide"})
    assert response.status_code == 301
    assert response["Location"] == "/datasets/?q=tide"


def test_an_address_that_exists_nowhere_is_still_a_404(mode):
    assert Client(**HTTPS_HEADERS).post("/no-such-page").status_code == 404
