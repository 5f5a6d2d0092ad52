"""The admin's date hierarchy with numbers too large for a date: back to the list, as for other odd filters."""

import pytest
from django.test import Client

from tests.catalog.catalog_rows import published
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    [
        "published_at__year=9223372036854775808",
        "published_at__year=2026&published_at__month=99999999999999999999",
    ],
)
def test_a_date_too_large_for_a_date_goes_back_to_the_list(query):
    # Regression (found by the crawl's mutations): an OverflowError in Django's change list, a 500.
    published(name="Harbour levels")
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = client.get(f"/admin/catalog/dataset/?{query}")
    assert response.status_code == 302
    assert response["Location"] == "/admin/catalog/dataset/?e=1"
    assert "Harbour levels" in client.get(response["Location"]).content.decode()
