"""The curators' pages as a laptop shows them (1280 x 800), in Chromium against the live portal.

The review queue: every column visible without scrolling sideways, one line per row where the name
allows, the curator's own claims marked. The dashboard: its charts drawn, with words for screen readers.
Screenshots go to var/screenshots/ for a human to look at.
"""

import datetime

import pytest
from django.utils import timezone

from submissions.models import CorrectionRequest, Submission
from tests.browser.accessibility import axe_violations, basic_problems
from tests.browser.conftest import CHROMIUM, screenshot
from tests.browser.test_journeys import sign_in_as_curator
from tests.factories import confirmed, in_review, make_curator_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: install Debian's chromium"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LAPTOP = {"width": 1280, "height": 800}


@pytest.fixture
def laptop(chromium):
    """A browser tab the size of a laptop's screen."""
    context = chromium.new_context(viewport=LAPTOP, locale="en-GB")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def busy_queue():
    """A queue whose rows hold the widest values each column can show."""
    alice = make_curator_user("alice")
    bob = make_curator_user("bob")
    mine, _ = in_review(alice, name="Harbour water levels, 2001-2024", modalities=["images", "text"])
    in_review(
        bob,
        name="Bird song recordings of the northern coast",
        modalities=["text", "images", "audio", "video"],
    )
    suggested, _ = confirmed(name="Coastal litter survey 2023", modalities=["video", "audio"])
    Submission.objects.filter(pk=suggested.pk).update(
        domain=None, suggested_domain="Underwater acoustics and sound archives of the North Sea"
    )
    overdue, _ = confirmed(name="Tide gauges")
    Submission.objects.filter(pk=overdue.pk).update(
        state_changed_at=timezone.now() - datetime.timedelta(days=9)
    )
    corrected, _ = confirmed(name="Wafer defect maps")
    Submission.objects.filter(pk=corrected.pk).update(state=Submission.State.PUBLISHED, assignee=alice)
    CorrectionRequest.objects.create(
        submission=corrected, number=1, kind=CorrectionRequest.Kind.CATEGORISATION
    )
    return mine


def test_every_column_of_the_queue_is_visible_at_1280_pixels(portal, laptop):
    mine = busy_queue()
    sign_in_as_curator(laptop, portal, "alice")
    laptop.goto(f"{portal}/admin/submissions/submission/?open=open")
    screenshot(laptop, "30-review-queue-1280")

    table = laptop.locator("#result_list")
    results = laptop.locator("#changelist .results")
    visible = results.bounding_box()
    right_edge = min(LAPTOP["width"], visible["x"] + visible["width"])
    for row in (table.locator("thead tr"), *table.locator("tbody tr").all()):
        last = row.locator("th, td").last
        box = last.bounding_box()
        assert box["x"] + box["width"] <= right_edge + 1, (last.inner_text(), box, visible)
    assert results.evaluate("node => node.scrollWidth <= node.clientWidth"), "the queue scrolls sideways"

    # One line per row where the name allows: a row is as high as its tallest cell other than the name.
    for row in table.locator("tbody tr").all():
        height = row.bounding_box()["height"]
        state = row.locator(".state").bounding_box()["height"]
        name_lines = row.locator(".queue-name").evaluate(
            "node => Math.round(node.getBoundingClientRect().height / parseFloat(getComputedStyle(node).lineHeight))"
        )
        if name_lines == 1:
            assert height < state * 2.5, (row.inner_text(), height, state)

    # States are short badges with the full name as their title; the curator's own claims stand out.
    badge = table.locator("tbody tr", has_text=mine.reference).locator(".state")
    assert badge.inner_text() == "In review" and badge.get_attribute("title") == "In review"
    assert table.locator("tbody tr", has_text="Coastal litter").locator(".state").inner_text() == "New"
    assert table.locator(".mine").count() == 2  # alice's claim in review, and her published one
    correction = table.locator("tbody tr", has_text="Wafer defect maps").locator(".correction-open")
    assert correction.inner_text() == "Waiting"
    assert correction.get_attribute("title") == "A correction or a new card version waits for a decision"
    assert table.locator("tbody tr", has_text="Tide gauges").locator("time.overdue").inner_text() == "9 d"

    laptop.locator("#quick-mine").click()
    assert laptop.locator("#quick-mine").get_attribute("aria-current") == "page"
    rows = laptop.locator("#result_list tbody tr")
    assert rows.count() == 2 and rows.locator(".mine").count() == 2
    assert basic_problems(laptop) == []


def test_dashboard_draws_its_charts_with_words(portal, laptop):
    busy_queue()
    sign_in_as_curator(laptop, portal, "alice")
    laptop.goto(f"{portal}/admin/")
    laptop.get_by_role("link", name="Dashboard: backlog, claims and pace").click()
    assert laptop.locator("h1").inner_text() == "Curation dashboard"
    screenshot(laptop, "31-curation-dashboard")
    backlog = laptop.get_by_role("img", name="The backlog by state and by how long it has waited")
    assert backlog.count() == 1
    assert "4 submissions in the backlog: 3 waiting under 2 days, 0 for 2 to 7 days, 1 over 7 days." in (
        laptop.locator("#chart-backlog figcaption").inner_text()
    )
    assert laptop.locator("#chart-backlog rect[fill='#dc3545'] title").all_text_contents() == [
        "New, over 7 days: 1"
    ]
    claims = laptop.locator("#claims-table tbody tr")
    assert claims.first.inner_text().split("\t")[:2] == ["alice (you)", "1"]
    assert laptop.locator("#pace-table tbody tr").count() == 12
    assert basic_problems(laptop) == []
    assert axe_violations(laptop) == []
