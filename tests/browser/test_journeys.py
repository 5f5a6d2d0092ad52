"""The contributor's and the curator's journeys, driven in Chromium against the live portal.

Assertions are on what a person sees on the page; the database is read only where it is the sole witness
(the e-mails in Django's outbox, which the live server fills in this process). Each main page is saved to
var/screenshots/ for a human review.
"""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from catalog import mirror
from submissions import services
from tests.browser.accessibility import axe_violations, basic_problems
from tests.browser.conftest import CHROMIUM, screenshot
from tests.factories import GOOD_CARD, OFFLINE_OVERRIDE, confirmed, in_review, make_curator_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: install Debian's chromium"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "correct horse battery staple"
LINK = re.compile(r"https?://[^\s\"'<>]+")


def card_path(tmp_path, text=GOOD_CARD, name="README.md"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def link_in_last_mail(*, to, path):
    """Return the first link to `path` in the newest e-mail sent to `to`."""
    messages = [message for message in mail.outbox if to in message.to]
    assert messages, f"no e-mail to {to}: {[m.subject for m in mail.outbox]}"
    links = [link for link in LINK.findall(messages[-1].body) if path in link]
    assert links, messages[-1].body
    return links[0]


def state_of(page):
    return page.locator("#state").inner_text().strip()


def fill_contribution(page, tmp_path, *, name, email):
    page.get_by_label("Dataset name").fill(name)
    page.get_by_label("Dataset location").fill("https://data.harbour.example/levels.csv")
    page.get_by_label("Dataset card").set_input_files(str(card_path(tmp_path)))
    page.get_by_label("Text", exact=True).check()
    page.locator("#id_domain").select_option(label="Marine")
    page.get_by_label("Your e-mail address").fill(email)
    page.get_by_label("I accept the contribution terms").check()


def test_contributor_fixes_a_mistake_submits_and_confirms(portal, open_browser, tmp_path):
    page = open_browser()
    page.goto(f"{portal}/contribute/")
    assert page.locator("h1").inner_text() == "Contribute a dataset"
    # The stylesheet is served and applied: a primary button is not the browser's grey default.
    button = page.get_by_role("button", name="Send the dataset for review")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") != "rgb(239, 239, 239)"
    screenshot(page, "01-contribute-form")

    fill_contribution(page, tmp_path, name="Harbour water levels 2001-2025", email="data@harbour")
    button.click()

    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert "Please correct this problem" in summary.inner_text()
    summary_link = summary.get_by_role("link", name="Your e-mail address")
    assert summary_link.get_attribute("href") == "#id_contact_email"
    field_box = page.locator("#div_id_contact_email")
    assert "Enter an e-mail address such as name@example.org." in field_box.inner_text()
    assert "is-invalid" in (page.locator("#id_contact_email").get_attribute("class") or "")
    # What was typed is still there, and the card need not be chosen again.
    assert page.get_by_label("Dataset name").input_value() == "Harbour water levels 2001-2025"
    assert page.get_by_label("Dataset location").input_value() == "https://data.harbour.example/levels.csv"
    assert page.get_by_label("Your e-mail address").input_value() == "data@harbour"
    assert page.get_by_label("Text", exact=True).is_checked()
    assert page.get_by_label("I accept the contribution terms").is_checked()
    assert page.locator("#id_domain").evaluate("s => s.selectedOptions[0].text") == "Marine"
    assert "We kept “README.md” from your last try" in page.locator("#div_id_card").inner_text()
    screenshot(page, "02-contribute-error")

    summary_link.click()
    assert page.url.endswith("#id_contact_email")
    assert page.locator("#id_contact_email").is_visible()
    assert page.evaluate("document.activeElement.id") == "id_contact_email"
    page.get_by_label("Your e-mail address").fill("data@harbour.example")
    page.get_by_role("button", name="Send the dataset for review").click()

    reference = page.locator("#reference").inner_text()
    assert re.fullmatch(r"DP-\d{4}-\d{6}", reference)
    assert "Thank you, we have received your dataset" in page.locator("h1").inner_text()
    assert "data@harbour.example" in page.content()
    screenshot(page, "03-receipt")

    page.goto(link_in_last_mail(to="data@harbour.example", path="/status/"))
    # Opening the link confirms nothing (mail scanners open links): the page's button does.
    assert state_of(page) == "Waiting for e-mail confirmation"
    screenshot(page, "04-status-confirm")
    page.get_by_role("button", name="Confirm my e-mail address").click()
    assert "your e-mail address is confirmed" in page.get_by_role("status").first.inner_text()
    assert state_of(page) == "Submitted, waiting for a curator"
    assert page.locator(".reference").first.inner_text() == reference
    assert page.locator("h1").inner_text() == "Harbour water levels 2001-2025"
    screenshot(page, "04-status-submitted")


def sign_in_as_curator(page, portal, username):
    page.goto(f"{portal}/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_curator_and_contributor_work_a_submission_to_publication(portal, open_browser, tmp_path, devhub):
    make_curator_user("alice")
    submission, token = confirmed(
        name="Harbour photographs 1890-1950", hosting=False, location="https://archive.example.org/photos/"
    )
    status_url = f"{portal}/status/{token}/"

    curator = open_browser()
    sign_in_as_curator(curator, portal, "alice")
    screenshot(curator, "05-admin-index")
    # The queue is the "Submissions" model of the admin index (the app caption links elsewhere).
    curator.locator("tr.model-submission").get_by_role("link", name="Submissions").click()
    screenshot(curator, "06-review-queue")
    curator.get_by_role("link", name=submission.reference).click()
    assert curator.locator("#review-state").inner_text() == "Submitted, waiting for a curator"
    curator.get_by_role("button", name="Claim: I review this").click()
    assert curator.locator("#review-state").inner_text() == "In review"
    assert curator.locator("#review-assignee").inner_text() == "alice"
    screenshot(curator, "07-review-page")
    curator.locator("#request-changes-panel summary").click()
    curator.get_by_label("What should change").fill("Please say where the photographs were taken.")
    curator.get_by_role("button", name="Send to the contributor").click()
    assert curator.locator("#review-state").inner_text() == "Changes requested"

    contributor = open_browser()
    contributor.goto(status_url)
    assert state_of(contributor) == "Changes requested"
    assert "Please say where the photographs were taken." in contributor.locator("#timeline").inner_text()
    revised = card_path(tmp_path, GOOD_CARD + "\nTaken in the harbours of Bergen and Hull.\n", "README-v2.md")
    contributor.get_by_label("Revised dataset card", exact=True).set_input_files(str(revised))
    contributor.get_by_label("What you changed (optional)").fill("Added where they were taken.")
    contributor.get_by_role("button", name="Send the revised card").click()
    assert state_of(contributor) == "Submitted, waiting for a curator"
    screenshot(contributor, "08-status-after-revision")

    curator.reload()
    assert curator.locator("#review-state").inner_text() == "Submitted, waiting for a curator"
    diff = curator.locator("#revisions")
    assert "Changes from revision 1 to 2" in diff.inner_text()
    assert "Taken in the harbours of Bergen and Hull." in diff.locator(".diff-add").all_inner_texts()[-1]
    curator.get_by_role("button", name="Claim: I review this").click()
    curator.locator("#approve-panel summary").click()
    for label in (
        "The licence is compatible with the contribution terms",
        "No personal or sensitive data, or a documented basis for it",
        "The provenance of the data is stated",
        "The card is complete enough to use the dataset",
    ):
        curator.get_by_label(label).check()
    # The made-up location is unreachable offline, so the location and data checks fail: approving overrides them.
    assert "The location check fails" in curator.locator("#approval-concerns").inner_text()
    curator.get_by_label("Override: why approve despite the concerns above").fill(
        "A linked collection; the museum confirmed the address."
    )
    curator.get_by_role("button", name="Approve and publish").click()
    screenshot(curator, "09-review-after-approval")
    assert curator.locator("#review-state").inner_text() == "Published"

    contributor.goto(status_url)
    assert state_of(contributor) == "Published"
    hub_link = contributor.get_by_role("link", name="On the Hugging Face Hub")
    assert hub_link.get_attribute("href").startswith(f"{devhub.url}/datasets/dataset-portal/")
    screenshot(contributor, "10-status-published")
    contributor.get_by_role("link", name="In the catalog").click()
    assert contributor.locator("h1").first.inner_text() == "Harbour photographs 1890-1950"
    # The page's title is its first h1; the card's own "# ..." heading currently renders as a second one.
    assert "Linked: the data stays at its source" in contributor.locator("aside").inner_text()
    screenshot(contributor, "11-dataset-page")
    contributor.get_by_role("link", name="Datasets").first.click()
    assert contributor.get_by_role("link", name="Harbour photographs 1890-1950").is_visible()
    screenshot(contributor, "12-catalog-list")


def test_a_failed_publication_is_mended_with_a_new_location_and_published(
    portal, open_browser, devhub, source_server
):
    make_curator_user("alice")
    source_server.add_status("/old/levels.csv", 404)
    source_server.add_bytes("/new/levels.csv", b"t,level\n0,1.2\n1,1.4\n", content_type="text/csv")
    submission, token = confirmed(name="Harbour levels moved", location=source_server.url("/old/levels.csv"))
    status_url = f"{portal}/status/{token}/"

    curator = open_browser()
    sign_in_as_curator(curator, portal, "alice")
    curator.goto(f"{portal}/admin/submissions/submission/{submission.pk}/change/")
    curator.get_by_role("button", name="Claim: I review this").click()
    curator.locator("#approve-panel summary").click()
    for box in curator.locator("#approve-form input[type=checkbox]").all():
        if box.get_attribute("name") != "unpack_archives":
            box.check()
    # The location answers 404, so the location and data checks fail: approving needs an override.
    curator.get_by_label("Override: why approve despite the concerns above").fill(
        "The contributor is moving the file; we publish once it is back."
    )
    curator.get_by_role("button", name="Approve and publish").click()
    assert curator.locator("#review-state").inner_text() == "Publishing failed, curators are on it"
    assert "404" in curator.locator("#mirror-job").inner_text()

    contributor = open_browser()
    contributor.goto(status_url)
    assert state_of(contributor) == "Publishing failed, curators are on it"
    assert "give the new location below" in contributor.locator("main").inner_text()
    contributor.get_by_label("Dataset locations").fill(source_server.url("/new/levels.csv"))
    contributor.get_by_role("button", name="Send the new locations").click()
    assert "your changes are with the curators" in contributor.locator("main").inner_text()
    assert "Changed the data location" in contributor.locator("#timeline").inner_text()
    screenshot(contributor, "16-status-location-mended")
    # The status page follows the publication and reloads itself when its state changes; a reload racing the
    # navigation below would abort it. The contributor comes back once the curator is done.
    contributor.goto("about:blank")

    curator.reload()
    # The curator's "Change the location" form holds the locations as they are now.
    assert (
        source_server.url("/new/levels.csv")
        in curator.locator("#change-location-panel textarea").first.input_value()
    )
    curator.get_by_role("button", name="Retry publication").click()
    assert curator.locator("#review-state").inner_text() == "Published"

    contributor.goto(status_url)
    assert state_of(contributor) == "Published"
    contributor.get_by_role("link", name="On the Hugging Face Hub").click()
    # The offline Hub's page of the dataset: the card rendered and the fetched file listed.
    assert "dataset-portal/harbour-levels-moved" in contributor.locator("h1").first.inner_text()
    assert "data/levels.csv" in contributor.locator("table").inner_text()
    screenshot(contributor, "17-dev-hub-dataset-page")


def test_contributor_withdraws_through_the_confirmation_page(portal, open_browser):
    _, token = confirmed(name="Tide gauge calibration notes")
    page = open_browser()
    page.goto(f"{portal}/status/{token}/")
    page.get_by_role("link", name="Withdraw this submission…").click()
    assert "Withdraw “Tide gauge calibration notes”?" in page.locator("h1").inner_text()
    page.get_by_role("button", name="Withdraw the submission").click()
    # Not ticking the confirmation is refused with a message, and nothing happens.
    assert "Tick the box to confirm" in page.locator("main").inner_text()
    screenshot(page, "13-withdraw-confirmation")
    page.get_by_label("Yes, withdraw this submission").check()
    page.get_by_label("Why (optional, helps us improve)").fill("Published elsewhere.")
    page.get_by_role("button", name="Withdraw the submission").click()
    assert state_of(page) == "Withdrawn"
    assert page.get_by_role("link", name="Withdraw this submission…").count() == 0


def test_status_page_forms_work_under_no_referrer(portal, open_browser):
    """Under `Referrer-Policy: no-referrer` Chromium posts with `Origin: null`; the reply must still go through."""
    _, token = confirmed(name="Tide gauge readings west")
    page = open_browser()
    page.goto(f"{portal}/status/{token}/")
    page.get_by_label("Your message to the curators").fill("Is anything missing?")
    response_of_post = []
    page.on("response", lambda r: r.request.method == "POST" and response_of_post.append(r.status))
    page.get_by_role("button", name="Send the message").click()
    page.wait_for_load_state()
    screenshot(page, "15-status-reply-sent")
    assert response_of_post and response_of_post[0] in (200, 302), response_of_post
    assert "Is anything missing?" in page.locator("#timeline").inner_text()


def test_my_submissions_sign_in_link_lists_them_once(portal, open_browser):
    first, _ = confirmed(name="Harbour water levels north", email="archive@museum.example")
    second, _ = confirmed(name="Harbour water levels south", email="archive@museum.example")
    confirmed(name="Someone else's levels", email="other@example.org")
    page = open_browser()
    page.goto(f"{portal}/my-submissions/")
    page.get_by_label("Your e-mail address").fill("archive@museum.example")
    page.get_by_role("button", name="Send me the link").click()
    assert page.locator("h1").inner_text() == "Check your e-mail"
    link = link_in_last_mail(to="archive@museum.example", path="/my-submissions/")
    page.goto(link)
    page.get_by_role("button", name="Show my submissions").click()
    table = page.locator("table").inner_text()
    assert first.reference in table and second.reference in table
    assert "Someone else's levels" not in table
    screenshot(page, "14-my-submissions")
    page.get_by_role("link", name="Harbour water levels north").click()
    assert page.locator("h1").inner_text() == "Harbour water levels north"
    assert page.goto(link).status == 404


# -- Accessibility ----------------------------------------------------------------------------------------


def visit_public_pages(page, portal, tmp_path):
    """Open each contributor page in turn, yielding its name once it is shown."""
    _, token = confirmed(name="Harbour water levels east")
    page.goto(f"{portal}/contribute/")
    yield "contribute"
    page.get_by_label("Dataset card").set_input_files(str(card_path(tmp_path)))
    # Wait for the answer page: checking the page while it is being replaced finds no document element
    # (the cause of an intermittent "Cannot read properties of null (reading 'getAttribute')").
    with page.expect_navigation():
        page.get_by_role("button", name="Send the dataset for review").click()
    yield "contribute with errors"
    page.goto(f"{portal}/status/{token}/")
    yield "status"
    page.goto(f"{portal}/status/{token}/withdraw/")
    yield "withdraw"
    page.goto(f"{portal}/my-submissions/")
    yield "my submissions"
    page.goto(f"{portal}/datasets/")
    yield "catalog"


def test_public_pages_have_labels_alt_texts_one_h1_and_a_language(portal, open_browser, tmp_path):
    page = open_browser()
    problems = {name: basic_problems(page) for name in visit_public_pages(page, portal, tmp_path)}
    assert {name: found for name, found in problems.items() if found} == {}


@pytest.mark.parametrize("width", [1280, 320])
def test_public_pages_have_no_serious_axe_violations(portal, open_browser, tmp_path, width):
    pytest.importorskip(
        "axe_playwright_python", reason="axe-playwright-python (ships axe-core) is not installed"
    )
    page = open_browser()
    page.set_viewport_size({"width": width, "height": 800})
    found = {name: axe_violations(page) for name in visit_public_pages(page, portal, tmp_path)}
    assert {name: violations for name, violations in found.items() if violations} == {}


def test_public_pages_fit_a_320_px_screen(portal, open_browser, tmp_path):
    page = open_browser()
    page.set_viewport_size({"width": 320, "height": 800})
    widths = {
        name: page.evaluate("document.documentElement.scrollWidth")
        for name in visit_public_pages(page, portal, tmp_path)
    }
    assert {name: width for name, width in widths.items() if width > 320} == {}


def test_a_refused_form_moves_the_focus_to_the_error_summary_and_marks_the_fields(
    portal, open_browser, tmp_path
):
    page = open_browser()
    page.goto(f"{portal}/contribute/")
    # The domain is required (either it or a suggestion), and marked so like the other required fields.
    assert page.locator("label[for=id_domain] .asteriskField").count() == 1
    page.get_by_label("Or suggest another domain").fill("x")
    with page.expect_navigation():
        page.get_by_role("button", name="Send the dataset for review").click()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    for field in ("#id_suggested_domain", "#id_name", "#id_location"):
        assert page.locator(field).get_attribute("aria-invalid") == "true", field
        described = page.locator(field).get_attribute("aria-describedby") or ""
        assert any(page.locator(f"#{ident}").count() for ident in described.split()), field
    page.get_by_label("Or suggest another domain").fill("")
    with page.expect_navigation():
        page.get_by_role("button", name="Send the dataset for review").click()
    assert page.locator("#id_domain").get_attribute("aria-invalid") == "true"
    assert (
        "Choose a domain from the list, or suggest another one below."
        in page.locator("#error-summary").inner_text()
    )


def test_review_page_follows_the_publication_without_a_reload(
    portal, open_browser, devhub, source_server, queued_mirrors
):
    alice = make_curator_user("alice")
    source_server.add_bytes("/levels.csv", b"t,level\n0,1.2\n", content_type="text/csv")
    submission, _ = in_review(
        alice, name="Harbour levels followed", location=source_server.url("/levels.csv")
    )
    # Approved, with its mirror job queued but not run yet (queued_mirrors holds it back).
    services.approve(
        submission,
        by=alice,
        checklist=services.ReviewChecklist.all_ticked(),
        concerns_override=OFFLINE_OVERRIDE,
    )
    page = open_browser()
    sign_in_as_curator(page, portal, "alice")
    page.goto(f"{portal}/admin/submissions/submission/{submission.pk}/change/")
    assert page.locator("#review-state").inner_text() == "Approved, waiting to be published"
    mirror.run(queued_mirrors[0])
    # A locator assertion waits without evaluating a string in the page (the CSP forbids eval).
    expect(page.locator("#review-state")).to_have_text("Published", timeout=15_000)
