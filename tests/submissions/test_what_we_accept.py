"""The "What we accept" page and the card template download at the contribution form."""

import pytest
from django.urls import reverse

from submissions import cards
from submissions.card_template import LICENSE_PLACEHOLDER

pytestmark = pytest.mark.django_db


def test_form_links_the_page_and_the_page_states_the_configured_limits(client, settings):
    settings.PORTAL_CARD_MAX_BYTES = 512 * 1024
    settings.MIRROR_MAX_BYTES = 2 * 1024**3
    form = client.get(reverse("submissions:contribute")).content.decode()
    assert reverse("submissions:what_we_accept") in form
    assert 'formaction="' + reverse("submissions:card_template") in form
    page = client.get(reverse("submissions:what_we_accept")).content.decode()
    assert "512.0\xa0KB" in page and "2.0\xa0GB" in page
    assert "No personal data" in page and "cdla-permissive-2.0" in page


def test_template_is_prefilled_from_the_form_and_passes_the_card_parser(client):
    response = client.post(
        reverse("submissions:card_template"),
        {
            "name": 'Harbour "tides": 2001–2024',
            "modalities": ["audio", "text"],
            "contact_email": "x@example.org",
        },
    )
    assert response["Content-Disposition"] == 'attachment; filename="README.md"'
    raw = response.content
    parsed = cards.parse_card(raw, filename="README.md")
    assert parsed.metadata["pretty_name"] == 'Harbour "tides": 2001–2024'
    assert parsed.metadata["task_categories"] == ["text-classification", "audio-classification"]
    assert parsed.metadata["license"] == LICENSE_PLACEHOLDER
    codes = {finding.code for finding in parsed.findings}
    # Every recommended section is there; the licence and the sections' placeholder texts are left to replace
    # (and the form refuses the card until the licence is).
    assert codes == {"license-unknown", "template-placeholder"}
    assert b"x@example.org" not in raw


def test_template_with_nothing_typed_yet_is_still_a_valid_card(client):
    raw = client.get(reverse("submissions:card_template")).content
    parsed = cards.parse_card(raw, filename="README.md")
    assert parsed.metadata["task_categories"] == ["other"]
    assert "tags" not in parsed.metadata
