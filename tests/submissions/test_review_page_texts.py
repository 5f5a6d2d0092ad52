"""The review page says things once and in words: checklist labels, one checklist error, the assignee."""

import re

import pytest
from django.test import Client

from submissions import services
from tests.factories import OFFLINE_OVERRIDE, in_review

pytestmark = pytest.mark.django_db

QUEUE = "/admin/submissions/submission/"


@pytest.fixture
def admin_client(curator):
    client = Client()
    client.force_login(curator)
    return client


def test_checklist_error_is_shown_once(admin_client, curator, queued_mirrors):
    submission, _ = in_review(curator)
    response = admin_client.post(f"{QUEUE}{submission.pk}/approve/", {"licence_compatible": "on"})
    assert response.status_code == 400
    assert response.content.decode().count("Tick every item of the checklist") == 1


def test_recorded_checklist_shows_labels_not_field_names(admin_client, curator, queued_mirrors):
    submission, _ = in_review(curator)
    services.approve(
        submission,
        by=curator,
        checklist=services.ReviewChecklist.all_ticked(),
        concerns_override=OFFLINE_OVERRIDE,
    )
    page = admin_client.get(f"{QUEUE}{submission.pk}/change/").content.decode()
    assert "licence_compatible" not in page.split('id="approve-panel"')[0]
    assert "✓ The licence is compatible with the contribution terms" in page


def test_assign_form_shows_the_current_assignee(admin_client, curator):
    submission, _ = in_review(curator)
    page = admin_client.get(f"{QUEUE}{submission.pk}/change/").content.decode()
    form = re.search(r'<form[^>]*id="assign-form".*?</form>', page, re.S).group(0)
    assert re.search(rf'<option value="{curator.pk}" selected>{curator.username}</option>', form)
    assert "---------" not in form
