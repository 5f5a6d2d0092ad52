"""The Content-Security-Policy holds on every kind of page, the admin included: Chromium reports no
violation in its console while a person uses the pages (scripts, progress bar, copy button, admin forms)."""

import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.test_journeys import sign_in_as_curator, visit_public_pages
from tests.catalog.catalog_rows import published
from tests.factories import make_curator_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: install Debian's chromium"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def watch_console(page):
    """Collect the console's errors and the page's CSP violation events."""
    seen = []
    page.on("console", lambda message: seen.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: seen.append(str(error)))
    return seen


def csp_errors(seen):
    return [text for text in seen if "Content Security Policy" in text or "Content-Security-Policy" in text]


def test_public_pages_and_the_admin_raise_no_csp_violation(portal, open_browser, tmp_path):
    page = open_browser()
    seen = watch_console(page)
    visited = list(visit_public_pages(page, portal, tmp_path))
    dataset = published(name="Harbour water levels west")
    page.goto(f"{portal}/datasets/")
    page.goto(f"{portal}/datasets/{dataset.slug}/")
    visited += ["catalog", "dataset"]

    make_curator_user("alice")
    curator = open_browser()
    seen_admin = watch_console(curator)
    sign_in_as_curator(curator, portal, "alice")
    curator.locator("tr.model-submission").get_by_role("link", name="Submissions").click()
    curator.locator("#result_list a").first.click()
    curator.goto(f"{portal}/admin/auth/user/")
    assert curator.locator("h1").first.is_visible()

    assert len(visited) >= 7
    assert csp_errors(seen) == []
    assert csp_errors(seen_admin) == []
