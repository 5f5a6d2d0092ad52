"""English and French on the public pages: the browser's Accept-Language or the switcher's choice picks the
language of every word, date and number; the catalog's cached page is kept per language; the API stays English."""

import datetime

import pytest
from django.core.cache import cache
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from catalog import paging
from catalog.models import Dataset
from identity.adapters import describe_failure
from portal.usage_chart import UsagePoint, usage_chart
from tests.catalog.catalog_rows import parse_html, published

pytestmark = pytest.mark.django_db

FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr"}
NBSP = "\xa0"


def french():
    """A browser that asks for French and holds no cookie."""
    return Client(**FRENCH)


def page(response):
    return response.content.decode()


def switchers(html):
    """The language switcher's forms of a page: [(action, next, [languages offered])]."""
    elements = parse_html(html).elements
    forms = []
    for tag, attributes in elements:
        if tag == "form" and "language-switcher" in attributes.get("class", ""):
            forms.append([attributes["action"], None, []])
        elif forms and tag == "input" and attributes.get("name") == "next" and forms[-1][1] is None:
            forms[-1][1] = attributes["value"]
        elif forms and tag == "button" and attributes.get("name") == "language":
            forms[-1][2].append(attributes["value"])
    return [tuple(form) for form in forms]


@pytest.fixture
def dataset():
    return published(
        name="Harbour levels",
        slug="harbour-levels",
        domain="Marine",
        modalities="text,images",
        languages=["fr", "zh"],
        downloads=1_234_567,
        likes=12_345,
        published_at=timezone.make_aware(datetime.datetime(2026, 12, 7, 10, 0)),
    )


@pytest.fixture
def no_page_cache(settings):
    settings.CATALOG_FACET_CACHE_SECONDS = 0


def withdrawn():
    return published(
        name="Old tides",
        slug="old-tides",
        published_at=None,
        withdrawn_at=timezone.make_aware(datetime.datetime(2026, 3, 1, 9, 0)),
        withdrawal_reason="The owner asked for it.",
    )


# Each public page and a phrase only its French version has.
FRENCH_PAGES = [
    ("/", "Partagez votre jeu de données avec le monde"),
    ("/datasets/", "Rechercher dans les noms, descriptions, mots-clés et domaines"),
    ("/datasets/harbour-levels/", "À propos de ce jeu de données"),
    ("/datasets/old-tides/", "Ce jeu de données a été retiré le 1 mars 2026."),
    ("/contribute/what-we-accept/", "Pas de données personnelles"),
    ("/accounts/login/", "Ce portail ne propose pas de connexion"),
]


@pytest.mark.parametrize(("path", "phrase"), FRENCH_PAGES)
def test_a_french_browser_reads_every_public_page_in_french(no_page_cache, dataset, path, phrase):
    withdrawn()
    response = french().get(path)
    assert response.status_code == 200
    html = page(response)
    assert '<html lang="fr">' in html
    assert phrase in html
    assert "Aller au contenu" in html and "Proposer un jeu de données" in html  # the skip link and the nav
    assert "un catalogue ouvert et organisé de jeux de données" in html  # the footer
    assert response["Content-Language"] == "fr"
    assert "Accept-Language" in response["Vary"]


def test_without_accept_language_the_pages_are_english(no_page_cache, dataset):
    response = Client().get("/")
    assert '<html lang="en">' in page(response)
    assert "Share your dataset with the world" in page(response)
    assert response["Content-Language"] == "en"


def test_the_catalog_in_french_translates_labels_but_not_what_contributors_wrote(no_page_cache, dataset):
    html = page(french().get("/datasets/", {"domain": "marine"}))
    # Facets, sorts, the seeded domain, the modalities, the languages (CLDR names) and the hosting.
    assert '<h2 class="h6">Domaine</h2>' in html and "Les plus téléchargés" in html
    assert "Milieu marin" in html and "Texte, Images" in html and "français, chinois" in html
    assert "hébergé sur le Hub" in html and "Hébergés sur le Hub" in html
    assert "Retirer le filtre Domaine\xa0: Milieu marin" in html
    # Counts and dates the French way: no-break spaces between thousands, French month names.
    assert f"1{NBSP}234{NBSP}567 téléchargements" in html and f"12{NBSP}345 mentions J’aime" in html
    assert "publié le <time" in html and "7 déc. 2026</time>" in html
    # The dataset's own words are never translated.
    assert "Harbour levels" in html and "Measurements of dataset" in html


def test_the_dataset_page_in_french_has_french_dates_numbers_and_plurals(no_page_cache, dataset):
    html = page(french().get(dataset.get_absolute_url()))
    assert "<dt>Publié le</dt>" in html and "7 décembre 2026</time>" in html
    assert f"<dt>Téléchargements</dt><dd>1{NBSP}234{NBSP}567</dd>" in html
    assert "<dd>Milieu marin</dd>" in html and "<dd>Texte, Images</dd>" in html
    assert 'title="1\xa0234 octets"' in html  # the file's exact size
    assert "1,2\xa0Kio" in html  # filesizeformat, localised by Django


def test_a_bad_page_number_is_explained_in_french_on_the_page_and_in_english_in_the_api(
    no_page_cache, dataset
):
    html = page(french().get("/datasets/", {"page": "abc"}))
    assert (
        "La page doit être un nombre entier à partir de 1, et non «\xa0abc\xa0». Voici la première page."
        in html
    )
    api = french().get("/api/datasets/", {"page": "abc"})
    assert api.status_code == 400
    assert api.json()["detail"] == "The page must be a whole number from 1, not “abc”."


def test_past_the_last_page_the_page_says_so_in_french(no_page_cache, dataset):
    html = page(french().get("/datasets/", {"page": "12345"}))
    assert "Il n’y a qu’une page de résultats\xa0; la page 12345 est au-delà de la dernière." in html


def test_a_bad_page_says_its_numbers_the_readers_way_and_in_english_for_machines():
    with pytest.raises(paging.BadPage) as raised:
        paging.page_number("5000", pages=1234, capped_at=24_680)
    with translation.override("fr"):
        french_words = raised.value.localized()
        english_words = str(raised.value)
    assert french_words.startswith(
        f"Seuls les 24{NBSP}680 premiers résultats peuvent être parcourus page par page, sur 1{NBSP}234 pages"
    )
    assert english_words.startswith(
        "Only the first 24,680 results can be browsed page by page, on 1,234 pages; page 5000"
    )


def test_unknown_filters_and_sorts_are_explained_in_french(no_page_cache, dataset):
    html = page(french().get("/datasets/", {"modality": "smell", "sort": "oldest"}))
    assert "«\xa0smell\xa0» n’est pas une valeur connue du filtre modalité\xa0; elle a été ignorée." in html
    assert "«\xa0oldest\xa0» n’est pas un ordre de tri\xa0; l’ordre par défaut est appliqué." in html


def test_the_api_stays_english_for_a_french_browser(no_page_cache, dataset):
    body = french().get("/api/datasets/", {"domain": "Marine"}).json()
    labels = {facet: {value["label"] for value in values} for facet, values in body["facets"].items()}
    assert labels["domain"] == {"Marine"} and "Hosted on the Hub" in labels["hosting"]
    assert {"French", "Chinese"} <= labels["language"]
    assert "Text" in labels["modality"]


def test_the_cached_catalog_page_is_kept_per_language(settings, dataset):
    settings.CATALOG_FACET_CACHE_SECONDS = 60
    cache.clear()
    first_french = page(french().get("/datasets/"))
    english = page(Client().get("/datasets/"))
    second_french = page(french().get("/datasets/"))
    second_english = page(Client(HTTP_ACCEPT_LANGUAGE="en").get("/datasets/"))
    assert '<html lang="fr">' in first_french and "Jeux de données" in first_french
    assert '<html lang="en">' in english and "Search names, descriptions" in english
    assert second_french == first_french and second_english == english
    # Both were cached: a change of the row that leaves the catalog's stamp alone does not show in either.
    Dataset.objects.filter(pk=dataset.pk).update(name="Renamed quietly")
    assert "Harbour levels" in page(french().get("/datasets/"))
    assert "Harbour levels" in page(Client().get("/datasets/"))


def test_the_switcher_goes_back_to_the_same_page_in_the_chosen_language(no_page_cache, dataset):
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/datasets/?q=harbour"})
    assert response.status_code == 302
    assert response["Location"] == "/datasets/?q=harbour"
    html = page(client.get(response["Location"]))
    assert '<html lang="fr">' in html
    assert "correspond à «\xa0harbour\xa0»" in html
    # And back to English, whatever the browser asks for.
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert '<html lang="en">' in page(client.get("/", **FRENCH))


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/datasets/", "/\\evil.example"])
def test_the_switcher_never_sends_to_another_site(target):
    response = Client().post("/i18n/setlang/", {"language": "fr", "next": target})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_the_switcher_refuses_a_language_the_portal_does_not_offer():
    client = Client()
    client.post("/i18n/setlang/", {"language": "de", "next": "/"})
    assert '<html lang="en">' in page(client.get("/"))


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/datasets/?q=harbour&sort=newest",
        "/datasets/harbour-levels/",
        "/datasets/old-tides/",
        "/contribute/what-we-accept/",
        "/accounts/login/?next=/contribute/",
        "/no/such/page/?x=1",
    ],
)
def test_every_public_page_has_the_switcher_keeping_its_address(no_page_cache, dataset, path):
    withdrawn()
    for client, offered in ((Client(), ["fr"]), (french(), ["en"])):
        forms = switchers(page(client.get(path)))
        assert forms == [(reverse("set_language"), path, offered)], path


def test_the_switcher_names_each_language_in_itself():
    assert 'lang="fr">Français</button>' in page(Client().get("/"))
    assert 'lang="en">English</button>' in page(french().get("/"))


def test_the_400_page_is_french(settings):
    response = french().get("/datasets/?q=%00")
    assert response.status_code == 400
    html = page(response)
    assert "Cette requête est illisible" in html
    assert "L’adresse contient un caractère NUL (%00)" in html and '<html lang="fr">' in html


def test_too_many_parameters_counts_the_french_way(settings):
    response = french().get("/datasets/?" + "&".join(f"p{number}=1" for number in range(1001)))
    assert response.status_code == 400
    assert f"plus de 1{NBSP}000 paramètres" in page(response)


def test_the_429_page_is_french(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "fr"}
    }
    settings.RATELIMIT_ENABLE = True
    settings.PORTAL_RATE_CONTRIBUTE_ATTEMPTS_PER_IP = "1/h"
    cache.clear()
    client = french()
    client.post(reverse("submissions:contribute"), {})
    response = client.post(reverse("submissions:contribute"), {})
    assert response.status_code == 429
    html = page(response)
    # "1 minute" or "N minutes": the limit's window may end at any time.
    assert "Trop de requêtes" in html and "Veuillez réessayer dans " in html and ", après <time" in html


def test_the_404_page_is_french():
    response = french().get("/no/such/page/")
    assert response.status_code == 404
    assert "Page introuvable" in page(response) and '<html lang="fr">' in page(response)


def test_the_standalone_error_pages_follow_the_language():
    with translation.override("fr"):
        unavailable = render_to_string("503.html", {"retry_after": 30})
        server_error = render_to_string("500.html")
    assert '<html lang="fr">' in unavailable and "renvoyez-le dans 30 secondes" in unavailable
    assert '<html lang="fr">' in server_error and "Un problème est survenu de notre côté" in server_error


def test_the_usage_chart_speaks_french():
    history = [
        UsagePoint(day=datetime.date(2026, 11, 1), downloads=10, likes=3),
        UsagePoint(day=datetime.date(2026, 11, 3), downloads=12_040, likes=3),
    ]
    with translation.override("fr"):
        downloads, likes = usage_chart(history).series
    assert downloads.summary == (
        f"Téléchargements\xa0: 12{NBSP}040 le 3 novembre 2026, en hausse de 12{NBSP}030 depuis le 1 novembre 2026"
        f"\xa0; maximum 12{NBSP}040."
    )
    assert likes.summary.startswith("Mentions J’aime\xa0: 3 le 3 novembre 2026, sans changement")


def test_a_failed_sign_in_is_explained_in_french():
    with translation.override("fr"):
        words = describe_failure("expired", "ORCID")
    assert words.startswith(
        "La réponse du fournisseur ORCID n’a pas pu être vérifiée\xa0: son jeton d’identité a expiré."
    )


def test_the_sign_in_page_offers_its_buttons_in_french(settings):
    settings.ORCID_CLIENT_ID = "APP-TEST"
    html = page(french().get("/accounts/login/"))
    assert "Se connecter avec ORCID" in html and "Contributeurs et contributrices" in html
