"""How the catalog's values read on a page, in the reader's language: domains, modalities, languages.

The values themselves stay as they are where they are stored, searched, exported (the API, Croissant, DCAT)
and cached: only the words a page shows for them are translated, here, when the page is drawn. A domain
the portal seeds is translated; one a curator added or a contributor suggested is shown as it was typed.
Languages are named by the Unicode CLDR through Babel (French: "chinois" for "zh"); in English, and for a
code CLDR does not know, by `submissions.carddata.language_name`.
"""

import functools

from babel import Locale, UnknownLocaleError
from django.utils.translation import get_language, gettext, gettext_noop

from submissions.carddata import language_name
from submissions.models import Modality

# The curated domains seeded by submissions' migration 0002 (curators edit the list; a new one reads as typed).
SEEDED_DOMAINS = frozenset(
    {
        gettext_noop("Not domain specific"),
        gettext_noop("Climate"),
        gettext_noop("Marine"),
        gettext_noop("Materials"),
        gettext_noop("Semiconductors"),
        gettext_noop("Time series"),
        gettext_noop("Other industrial"),
        gettext_noop("Finance"),
        gettext_noop("Healthcare"),
        gettext_noop("Legal"),
        gettext_noop("Social science"),
    }
)


def domain_label(name):
    """Return a domain as the page shows it: a seeded one in the reader's language, any other as typed."""
    return gettext(name) if name in SEEDED_DOMAINS else name


def modality_label(value):
    """Return a modality's label in the reader's language ("Images" for "images"), an unknown value as it is."""
    return str(dict(Modality.choices).get(value, value))


@functools.cache
def _cldr_names(language):
    try:
        return Locale.parse(language.replace("-", "_")).languages
    except (UnknownLocaleError, ValueError):
        return {}


def language_label(code):
    """Return a language's name in the reader's language ("chinois" for "zh" in French), else its English name."""
    language = get_language() or "en"
    if not language.startswith("en"):
        name = _cldr_names(language).get(code)
        if name:
            return name
    return language_name(code)
