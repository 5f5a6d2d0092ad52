"""The detector of English left on French pages (tests/browser/english.py) sees English and lets French and data
be: without a browser for its sentences, with Chromium for what it takes from a page."""

import pytest

from tests.browser.conftest import CHROMIUM
from tests.browser.english import english_on, english_sentences

ENGLISH = """Share your dataset with the world
Sign in with ORCID
Until you confirm it, the curators do not see your dataset. Send the dataset for review
Skip to the content"""

FRENCH = """Partagez votre jeu de données avec le monde entier
Se connecter avec ORCID
Tant que vous ne l’avez pas confirmée, l’équipe de curation ne voit pas votre jeu de données.
Envoyez la fiche (dataset card) révisée : les vérifications reprennent, in situ ou à distance.
Le but de ce dépôt : un don, un an, ou une note sur 20.
Fichier data/train_split.csv, 12 Mo · https://data.example.org/the/file/of/the/day.csv · doi:10.5281/zenodo.1234
Écrivez à curation@the-portal.example pour toute question."""


def test_english_sentences_are_found_each_one():
    assert english_sentences(ENGLISH) == [
        "Share your dataset with the world",
        "Sign in with ORCID",
        "Until you confirm it, the curators do not see your dataset.",
        "Send the dataset for review",
        "Skip to the content",
    ]


def test_french_sentences_and_data_in_them_are_not_english():
    assert english_sentences(FRENCH) == []


def test_one_english_word_in_a_french_sentence_is_not_enough():
    assert english_sentences("Le Hub de Hugging Face publie la fiche in extenso.") == []
    assert english_sentences("Page 2 of 3") == []


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: install Debian's chromium")
def test_a_page_gives_its_text_and_labels_without_what_is_marked_as_data(chromium):
    page = chromium.new_page()
    page.set_content(
        """<html lang="fr"><head><title>A survey of the birds of the harbour · Portail</title></head><body>
        <h1 translate="no">A survey of the birds of the harbour</h1>
        <p>Retirer « Tide gauges of the North Sea » ?</p>
        <a href="/x" aria-label="Carte de A survey of the birds of the harbour">Carte</a>
        <p>Send the dataset for review</p>
        <p>Déposé par <span translate="no">the harbour lab of the university</span> le 3 mars.</p>
        <button lang="en">Read this in English</button>
        <pre>from datasets import load_dataset; ds = load_dataset("the/name")</pre>
        <details><summary>Détails</summary><p>What we found at your location</p></details>
        <a href="/" aria-label="Go back to the home page">Accueil</a>
        <input type="submit" value="Sign in with ORCID">
        <select><option>Pick one of the domains</option></select>
        </body></html>"""
    )
    assert english_on(page, data=["Tide gauges of the North Sea"]) == [
        "Send the dataset for review",
        "What we found at your location",
        "Pick one of the domains",
        "Go back to the home page",
        "Sign in with ORCID",
    ]
    # A name the test knows is data only once it is told: the heading quoting it is English otherwise.
    assert "Retirer « Tide gauges of the North Sea » ?" in english_on(page)
    # What the page showed before is shown again: the closed <details> closed, the data visible.
    assert page.locator("details").evaluate("d => d.open") is False
    assert page.locator("h1").is_visible()
    page.close()
