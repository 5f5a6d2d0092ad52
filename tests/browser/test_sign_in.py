"""Browser journeys of sign-in: a researcher signs in with ORCID, contributes with a prefilled form and finds the
verified iD on the status page; a curator signs in with the institution and reaches the review queue. The
provider is devhub.oidc on 127.0.0.1, reached by the browser as a real one would be."""

import pytest

from devhub.oidc import Client, OIDCProvider, Realm, redirect_uris
from tests.browser.conftest import screenshot
from tests.browser.test_journeys import fill_contribution, link_in_last_mail
from tests.identity.conftest import (
    INSTITUTION_CLIENT,
    ORCID_CLIENT,
    RESEARCHER_ORCID,
    curator_user,
    researcher,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def provider(portal, settings):
    realms = [
        Realm(
            name="orcid",
            title="ORCID",
            users=[researcher()],
            clients=[Client(*ORCID_CLIENT, redirect_uris=redirect_uris([portal], "orcid"))],
            scopes=("openid",),
        ),
        Realm(
            name="institution",
            title="Example University",
            users=[curator_user()],
            clients=[Client(*INSTITUTION_CLIENT, redirect_uris=redirect_uris([portal], "institution"))],
        ),
    ]
    with OIDCProvider(realms) as server:
        settings.ORCID_BASE_URL = server.issuer("orcid")
        settings.ORCID_CLIENT_ID, settings.ORCID_CLIENT_SECRET = ORCID_CLIENT
        settings.OIDC_ISSUER = server.issuer("institution")
        settings.OIDC_CLIENT_ID, settings.OIDC_CLIENT_SECRET = INSTITUTION_CLIENT
        settings.OIDC_PROVIDER_NAME = "Example University"
        yield server


def test_researcher_signs_in_with_orcid_contributes_and_sees_the_verified_id(
    portal, provider, open_browser, tmp_path
):
    page = open_browser()
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{portal}/contribute/")
    page.get_by_role("button", name="Sign in with ORCID").click()
    assert "Choose who signs in" in page.content()
    page.get_by_role("link", name="Ada Okafor").click()

    page.wait_for_url(f"{portal}/contribute/")
    assert page.get_by_label("Your given names, as credited").input_value() == "Ada"
    assert page.get_by_label("Your family names, as credited").input_value() == "Okafor"
    assert RESEARCHER_ORCID in page.locator(".orcid-credit").inner_text()
    screenshot(page, "sign-in-01-contribute-signed-in")

    fill_contribution(page, tmp_path, name="Tide gauges of the North Sea", email="ada@university.example")
    page.get_by_role("button", name="Send the dataset for review").click()
    assert "Thank you, we have received your dataset" in page.locator("h1").inner_text()

    page.goto(link_in_last_mail(to="ada@university.example", path="/status/"))
    credit = page.locator(".contributor-orcid").inner_text()
    assert "Ada Okafor" in credit and RESEARCHER_ORCID in credit and "verified" in credit
    screenshot(page, "sign-in-02-status-with-orcid")

    page.goto(f"{portal}/my-submissions/")
    assert "Tide gauges of the North Sea" in page.locator("table").inner_text()
    page.get_by_role("link", name="Sign out (Ada Okafor)").click()
    page.get_by_role("button", name="Sign Out").click()
    page.goto(f"{portal}/contribute/")
    assert page.get_by_role("button", name="Sign in with ORCID").is_visible()
    assert violations == []


def test_curator_signs_in_with_the_institution_and_reaches_the_review_queue(portal, provider, open_browser):
    page = open_browser()
    page.goto(f"{portal}/admin/")
    page.get_by_role("button", name="Sign in with Example University").click()
    page.get_by_role("link", name="Casey Curator").click()
    page.wait_for_url(f"{portal}/admin/")
    assert "Submissions (review queue)" in page.content()
    screenshot(page, "sign-in-03-curator-admin")
