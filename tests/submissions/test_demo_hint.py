"""In the offline demo the form says where a newcomer's own data files are served from; otherwise it does not."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_form_points_at_the_demo_data_folder_in_demo_mode(settings):
    settings.PORTAL_DEMO_DATA_URL = "https://127.0.0.1:8801/"
    page = Client().get("/contribute/").content.decode()
    assert "demo-data-hint" in page
    assert "var/demo-data" in page and "https://127.0.0.1:8801/&lt;file name&gt;" in page


def test_no_demo_hint_outside_the_demo(settings):
    settings.PORTAL_DEMO_DATA_URL = ""
    assert "demo-data-hint" not in Client().get("/contribute/").content.decode()
