"""After publication, in Chromium against the live portal: usage chart, a correction and a new card version.

published -> the contributor asks for a correction -> a curator accepts -> the Hub card and the catalog show
the new domain; then a new card version goes the same way. The Hub is the project's dev Hub; tasks run
eagerly in the live server's thread.
"""

import pytest
from huggingface_hub import HfApi

from catalog import usage
from catalog.models import Dataset
from tests.browser.accessibility import axe_violations, basic_problems
from tests.browser.conftest import CHROMIUM, screenshot
from tests.browser.test_journeys import PASSWORD, card_path
from tests.factories import GOOD_CARD, make_curator_user, published

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: install Debian's chromium"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def hub_readme(devhub, repo_id, tmp_path, name):
    api = HfApi(endpoint=devhub.url, token="test-token")
    path = api.hf_hub_download(repo_id, "README.md", repo_type="dataset", cache_dir=str(tmp_path / name))
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def sign_in(page, portal):
    page.goto(f"{portal}/admin/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_correction_and_card_version_reach_the_hub_and_the_catalog(portal, open_browser, devhub, tmp_path):
    alice = make_curator_user("alice")
    submission, token = published(alice, name="Harbour photographs 1890-1950")
    dataset = Dataset.objects.get(submission=submission)
    devhub.set_counts(dataset.repo_id, downloads=42, likes=3)
    assert usage.refresh_usage().updated == 1

    contributor = open_browser()
    contributor.goto(f"{portal}/status/{token}/")
    chart = contributor.get_by_role("img", name="Downloads over time")
    assert chart.is_visible()
    assert "Downloads: 42 on" in contributor.locator("#usage-chart figcaption").inner_text()
    assert contributor.locator("#published-domain").inner_text() == "Marine"
    screenshot(contributor, "20-status-published-usage")
    assert basic_problems(contributor) == []

    contributor.locator("#ask-correction summary").click()
    contributor.locator("#ask-correction").get_by_role("combobox", name="Domain").select_option("Climate")
    contributor.get_by_label("Why (optional, for the curators)").fill("The photographs show storms.")
    contributor.get_by_role("button", name="Send the correction to the curators").click()
    requests = contributor.locator("#corrections").inner_text()
    assert "Request 1" in requests and "Waiting for a curator" in requests and "Marine → Climate" in requests
    screenshot(contributor, "21-status-correction-sent")

    curator = open_browser()
    sign_in(curator, portal)
    curator.goto(f"{portal}/admin/submissions/submission/?correction=open")
    row = curator.locator("#result_list tbody tr", has_text=submission.reference)
    assert row.locator(".correction-open").inner_text() == "Waiting"
    curator.get_by_role("link", name=submission.reference).click()
    assert "Marine" in curator.locator("#corrections").inner_text()
    screenshot(curator, "22-review-correction")
    curator.get_by_role("button", name="Accept request 1 and publish it").click()
    assert "Request 1 accepted" in curator.locator(".messagelist").inner_text()
    assert "Published" in curator.locator("#corrections").inner_text()

    readme = hub_readme(devhub, dataset.repo_id, tmp_path, "first")
    assert "domain:climate" in readme and "domain:marine" not in readme
    contributor.goto(f"{portal}/datasets/{dataset.slug}/")
    assert "Climate" in contributor.locator("aside").inner_text()
    assert contributor.get_by_role("img", name="Likes over time").is_visible()

    # A new version of the card, the same way.
    contributor.goto(f"{portal}/status/{token}/")
    assert contributor.locator("#published-domain").inner_text() == "Climate"
    contributor.locator("#new-card-version summary").click()
    new_card = card_path(tmp_path, GOOD_CARD + "\nStorm damage is annotated since 2026.\n", "README-v2.md")
    contributor.get_by_label("New version of the dataset card").set_input_files(str(new_card))
    contributor.get_by_role("button", name="Send the new card to the curators").click()
    assert "Request 2" in contributor.locator("#corrections").inner_text()

    curator.reload()
    assert (
        "Storm damage is annotated since 2026."
        in curator.locator("#correction-diff .diff-add").all_inner_texts()[-1]
    )
    curator.get_by_role("button", name="Accept request 2 and publish it").click()
    assert "Request 2 accepted" in curator.locator(".messagelist").inner_text()

    assert "Storm damage is annotated since 2026." in hub_readme(devhub, dataset.repo_id, tmp_path, "second")
    contributor.goto(f"{portal}/datasets/{dataset.slug}/")
    assert "Storm damage is annotated since 2026." in contributor.locator("article").inner_text()
    assert contributor.locator("#card-updated").is_visible()
    screenshot(contributor, "23-dataset-page-updated")
    assert basic_problems(contributor) == []
    contributor.get_by_role("link", name="Croissant (JSON-LD)").click()
    assert '"conformsTo": "http://mlcommons.org/croissant/1.1"' in contributor.content()


def test_new_pages_have_no_serious_axe_violations(portal, open_browser, devhub):
    pytest.importorskip("axe_playwright_python", reason="axe-playwright-python is not installed")
    alice = make_curator_user("alice")
    submission, token = published(alice, name="Harbour photographs 1890-1950")
    dataset = Dataset.objects.get(submission=submission)
    devhub.set_counts(dataset.repo_id, downloads=7, likes=1)
    usage.refresh_usage()
    page = open_browser()
    found = {}
    for url in (f"/status/{token}/", f"/datasets/{dataset.slug}/", "/contribute/what-we-accept/"):
        page.goto(portal + url)
        found[url] = axe_violations(page)
    assert {url: violations for url, violations in found.items() if violations} == {}
