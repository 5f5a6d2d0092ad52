"""The review page's Data panel and the approval gate, driven in Chromium against the live portal.

The location is served by the local https test source; the data check ran on confirmation, as it does
for every submission. The curator reads the panel, is refused an approval without the override, then
approves with a reason, which the timeline shows.
"""

import pytest

from tests.browser.conftest import CHROMIUM, screenshot
from tests.browser.test_journeys import sign_in_as_curator
from tests.factories import in_review, make_curator_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: install Debian's chromium"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

COLUMNS = ["name", "email", "note"] + [f"measure_{n:02d}" for n in range(30)]


def survey_csv():
    rows = [",".join(COLUMNS)]
    for n in range(40):
        note = "<b>bold?</b> " + "long text " * 60 if n == 0 else f"row {n}"
        rows.append(
            ",".join([f"Person {n}", f"person{n}@example.org", note, *[str(n * k) for k in range(30)]])
        )
    return ("\n".join(rows) + "\n").encode()


def test_curator_reads_the_data_panel_and_approves_with_an_override(
    portal, open_browser, source_server, queued_mirrors
):
    source_server.add_bytes("/survey.csv", survey_csv(), content_type="text/csv")
    alice = make_curator_user("alice")
    submission, _ = in_review(alice, name="Beach survey 2023", location=source_server.url("/survey.csv"))

    curator = open_browser()
    sign_in_as_curator(curator, portal, "alice")
    curator.goto(f"{portal}/admin/submissions/submission/{submission.pk}/change/")
    panel = curator.locator("#data")
    assert (
        "CSV, 33 columns, 40 rows; 1 column holds e-mail addresses"
        in panel.locator(".data-summary").inner_text()
    )
    assert "CSV · delimiter: comma · encoding utf_8" in panel.locator("table.details").inner_text()
    findings = panel.locator("h4#personal-data + table").inner_text()
    assert "column email" in findings and "e-mail addresses" in findings and "p***@e***.org" in findings
    assert "@example.org" not in panel.inner_text()

    schema = panel.locator("#data-schema")
    assert schema.locator("tbody tr").count() == 33
    assert schema.locator("tbody tr").first.inner_text().split("\t")[:2] == ["name", "VARCHAR"]

    rows = panel.locator("#data-rows")
    first = rows.locator("tbody tr").first.locator("td")
    assert first.nth(1).inner_text() == "p***@e***.org"
    # Escaped, not rendered: the cell shows the tags as text, and the long cell is cut.
    note = first.nth(2).inner_text()
    assert note.startswith("<b>bold?</b> long text") and note.endswith("…") and len(note) <= 201
    assert rows.locator("b").count() == 0
    region = panel.get_by_role("region", name="First rows of the data")
    assert region.evaluate("node => node.scrollWidth > node.clientWidth")
    assert region.evaluate("node => getComputedStyle(node).overflowX") == "auto"
    screenshot(curator, "14-review-data-panel")

    curator.locator("#approve-panel summary").click()
    concerns = curator.locator("#approval-concerns").inner_text()
    assert "Personal data was found: 40 e-mail addresses in column email." in concerns
    for label in (
        "The licence is compatible with the contribution terms",
        "No personal or sensitive data, or a documented basis for it",
        "The provenance of the data is stated",
        "The card is complete enough to use the dataset",
    ):
        curator.get_by_label(label).check()
    curator.get_by_role("button", name="Approve and publish").click()
    errors = curator.locator("#approve-form").inner_text()
    assert "Personal data was found: tick this item to approve." in errors
    assert "A check fails or personal data was found: write why you approve anyway." in errors
    assert curator.locator("#review-state").inner_text() == "In review"

    curator.get_by_label("I looked at the personal data found", exact=False).check()
    curator.get_by_label("Override: why approve despite the concerns above").fill(
        "Volunteers agreed to be listed; the contributor removes the column before publication."
    )
    for label in (
        "The licence is compatible with the contribution terms",
        "No personal or sensitive data, or a documented basis for it",
        "The provenance of the data is stated",
        "The card is complete enough to use the dataset",
    ):
        curator.get_by_label(label).check()
    curator.get_by_role("button", name="Approve and publish").click()
    assert curator.locator("#review-state").inner_text() == "Approved, waiting to be published"
    override = curator.locator("#timeline li.event-override")
    assert "Approval override" in override.inner_text()
    assert "Reason: Volunteers agreed to be listed" in override.inner_text()
    screenshot(curator, "15-review-after-override")
