"""The public pages and the contributor's pages in French, walked in Chromium: no English sentence is left.

The browser asks for French as a French reader's does (locale fr-FR, Accept-Language: fr). Each page's text
is searched for English sentences by tests/browser/english.py, which leaves data alone: what the templates
mark `translate="no"` (names, cards, summaries, citations), code, addresses and file names, and the names this
test gave its datasets. Every page is walked before the test fails, and the failure lists every page with its
English sentences: the list of what is left to translate. The language switcher is tested here too: it
keeps the page, its search and its filters.
"""

import datetime

import pytest
from django.core import mail

from catalog.management.commands.loadcatalogdemo import DEMO, demo_card, demo_usage_history
from tests.browser.conftest import CHROMIUM, screenshot
from tests.browser.english import english_on
from tests.browser.test_journeys import card_path, link_in_last_mail
from tests.catalog import catalog_rows
from tests.factories import changes_requested, confirmed, make_curator_user, published, submit

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: install Debian's chromium"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CONTRIBUTOR = "archives@musee-maritime.example"
# The datasets' names are data, in English as most are; the status pages and the withdrawal page quote them in
# their sentences, so the detector is told them. Each name would be taken for English if it were not.
WAITING = "Tidal currents of the estuary"
CHECKED = "Tide gauges of the North Sea"
SENT_BACK = "Harbour photographs of the city and its docks"
PUBLISHED = "Lighthouse logs of the Channel coast"
SENT = "Sea ice charts of the Baltic"
NAMES = [WAITING, CHECKED, SENT_BACK, PUBLISHED, SENT, *(entry["name"] for entry in DEMO)]
# The data check reads this file at the location: three columns, one of e-mail addresses (a finding).
SURVEY = "\n".join(
    ["station,observer,level_cm"] + [f"S{n},obs{n}@tides.example,{100 + n}" for n in range(40)]
).encode()


@pytest.fixture
def french(chromium):
    """A fresh browser whose reader asks for French, and its first tab."""
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900}, locale="fr-FR", extra_http_headers={"Accept-Language": "fr"}
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def sign_in_offered(settings):
    """ORCID and an institution configured, so that the sign-in page and the form offer their buttons."""
    settings.ORCID_CLIENT_ID, settings.ORCID_CLIENT_SECRET = "APP-PORTAL", "orcid-secret"
    settings.OIDC_ISSUER = "https://login.university.example/realms/staff"
    settings.OIDC_CLIENT_ID, settings.OIDC_CLIENT_SECRET = "portal", "institution-secret"
    settings.OIDC_PROVIDER_NAME = "Université d’exemple"


def demo_catalog():
    """The demo's six datasets (`loadcatalogdemo`) as published rows, with their usage history and a DOI."""
    now = datetime.datetime.now(tz=datetime.UTC)
    for number, entry in enumerate(DEMO):
        fields = {key: entry[key] for key in ("slug", "name", "domain", "modalities", "hosted", "license")}
        dataset = catalog_rows.published(
            **fields,
            languages=entry["languages"],
            tags=entry["tags"],
            summary=entry["summary"],
            card=demo_card(entry),
            downloads=entry["downloads"],
            likes=entry["likes"],
            doi=f"10.5072/portal.{entry['slug']}" if number == 0 else "",
        )
        demo_usage_history(dataset, entry, now=now)


def contributor_pages(portal, source_server, devhub):
    """Make the contributor's submissions; return the status pages to visit, by name."""
    source_server.add_bytes("/tides/levels.csv", SURVEY, content_type="text/csv")
    curator = make_curator_user("camille")
    _, waiting = submit(name=WAITING, email=CONTRIBUTOR)
    _, checked = confirmed(
        name=CHECKED, email=CONTRIBUTOR, location=source_server.url("/tides/levels.csv"), hosting=True
    )
    # The location is not reachable (the factory's made-up host): its check fails and asks for a new one.
    _, sent_back = changes_requested(
        curator,
        name=SENT_BACK,
        email=CONTRIBUTOR,
        # The curator writes in English: a person's words are shown as written, marked as such.
        message="Could you say in the card where the photographs were taken, and add the licence of the scans?",
    )
    _, done = published(curator, name=PUBLISHED, email=CONTRIBUTOR)
    return {
        "status: waiting for the e-mail confirmation": f"{portal}/status/{waiting}/",
        "status: checks run": f"{portal}/status/{checked}/",
        "status: changes requested": f"{portal}/status/{sent_back}/",
        "status: published": f"{portal}/status/{done}/",
        "withdraw": f"{portal}/status/{checked}/withdraw/",
    }


def submit_button(page):
    return page.locator("main form[method=post] [type=submit][name=submit]")


def walk(page, portal, tmp_path, status_pages):
    """Open each page in turn, yielding its name once it is shown."""
    page.goto(f"{portal}/")
    yield "home"
    page.goto(f"{portal}/datasets/?q=recordings")
    yield "catalog: a search"
    with page.expect_navigation():
        page.locator("aside a").first.click()
    yield "catalog: a search and a filter"
    page.fill("#catalog-q", "xylophone")
    with page.expect_navigation():
        page.locator("form[role=search] [type=submit]").click()
    yield "catalog: nothing found"
    page.goto(f"{portal}/datasets/?sort=downloads&page=2")
    yield "catalog: sorted, page 2"
    page.goto(f"{portal}/datasets/north-sea-wave-heights/")
    yield "dataset: hosted, with a DOI"
    page.goto(f"{portal}/datasets/municipal-council-minutes/")
    yield "dataset: linked"

    page.goto(f"{portal}/contribute/")
    yield "contribution form"
    with page.expect_navigation():
        submit_button(page).click()
    yield "contribution form: empty, sent"
    page.fill("#id_name", SENT)
    page.fill("#id_location", "https://data.ice.example/charts/")
    page.set_input_files("#id_card", str(card_path(tmp_path)))
    page.check("input[name=modalities][value=images]")
    page.select_option("#id_domain", label="Marine")
    page.fill("#id_contact_email", "data@harbour")
    with page.expect_navigation():
        submit_button(page).click()
    yield "contribution form: a mistake"
    page.fill("#id_contact_email", CONTRIBUTOR)
    page.check("#id_accept_terms")
    with page.expect_navigation():
        submit_button(page).click()
    assert page.locator("#reference").count() == 1, "the form was not accepted"
    yield "receipt"
    page.goto(f"{portal}/contribute/what-we-accept/")
    yield "what we accept"

    page.goto(f"{portal}/accounts/login/")
    yield "sign in"
    page.goto(f"{portal}/accounts/3rdparty/login/error/")
    yield "sign in: failed"
    page.goto(f"{portal}/my-submissions/")
    yield "my submissions: ask for a link"
    page.fill("input[type=email]", CONTRIBUTOR)
    with page.expect_navigation():
        page.locator("main form [type=submit]").click()
    yield "my submissions: link sent"
    page.goto(link_in_last_mail(to=CONTRIBUTOR, path="/my-submissions/"))
    yield "my submissions: open the list"
    with page.expect_navigation():
        page.locator("main form [type=submit]").click()
    yield "my submissions: the list"

    for name, url in status_pages.items():
        page.goto(url)
        yield name

    assert page.goto(f"{portal}/no-such-page/").status == 404
    yield "404"
    assert page.goto(f"{portal}/datasets/no-such-dataset/").status == 404
    yield "404: dataset"
    page.goto(f"{portal}/status/not-a-real-token/")
    yield "status: a broken link"


def test_public_and_contributor_pages_have_no_english_left_in_french(
    portal, french, tmp_path, source_server, devhub, sign_in_offered
):
    demo_catalog()
    catalog_rows.many_published(16)  # two pages of datasets
    status_pages = contributor_pages(portal, source_server, devhub)
    mail.outbox.clear()
    english = {}
    not_french = []
    for name in walk(french, portal, tmp_path, status_pages):
        if french.locator("html").get_attribute("lang") != "fr":
            not_french.append(name)
        found = english_on(french, data=NAMES)
        if found:
            english[name] = found
        screenshot(french, "fr-" + "-".join(name.replace(":", "").split()))
    assert not not_french, f"pages not in French: {not_french}"
    report = "\n".join(f"{name}: {sentence}" for name, sentences in english.items() for sentence in sentences)
    total = sum(len(sentences) for sentences in english.values())
    assert not english, f"{total} English sentences on {len(english)} French pages:\n{report}"


def test_the_language_switcher_keeps_the_catalog_search_and_its_filters(portal, open_browser):
    demo_catalog()
    page = open_browser()  # an English reader (en-GB)
    page.goto(f"{portal}/datasets/?q=recordings")
    with page.expect_navigation():
        page.locator("aside a").first.click()
    address = page.url
    assert "q=recordings" in address and "&" in address
    assert page.locator("html").get_attribute("lang") == "en"

    with page.expect_navigation():
        page.get_by_role("button", name="Français").click()
    assert page.url == address
    assert page.locator("html").get_attribute("lang") == "fr"
    screenshot(page, "fr-switched-catalog")

    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    assert page.url == address
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("button", name="Français").is_visible()

    # The catalog's cached page is kept per language: another English reader is not served the French one.
    with page.expect_navigation():
        page.get_by_role("button", name="Français").click()
    other = open_browser()
    other.goto(address)
    assert other.locator("html").get_attribute("lang") == "en"
