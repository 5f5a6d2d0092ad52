"""Page numbers of the catalog's paged answers: one reading of `?page=` for the list page, the JSON API and
the DCAT feed.

`page_number()` returns the page a raw parameter names or raises `BadPage` with a message for a person and
the page that was most likely meant: the JSON API and the DCAT feed answer 400 with the message, the list
page shows that nearest page with the message above it. Checking the number against the page count before
any query also keeps absurd numbers (9223372036854775807, 10^30) away from the database's OFFSET.
"""

from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext


class BadPage(ValueError):
    """A page parameter that names no page; `nearest` is the page the reader most likely wanted.

    `say` returns the message in the active language. `str()` is the message in English (the JSON API and
    the DCAT feed speak English); `localized()` is the same message in the reader's language, its numbers
    written the reader's way (the list page).
    """

    def __init__(self, say, *, nearest):
        self.say = say
        self.nearest = nearest
        with translation.override("en"):
            super().__init__(say())

    def localized(self):
        """Return the message in the active language."""
        return self.say()


def _number(value):
    return number_format(value, force_grouping=True)


def page_number(raw, *, pages, capped_at=None):
    """Return the 1-based page that `raw` names among `pages` (missing or empty: 1), or raise `BadPage`.

    `capped_at`: only the first this many results can be paged through (the search's count cap was passed),
    which the message past the last page says.
    """
    if raw is None or raw == "":
        return 1
    shown = str(raw)[:20]
    try:
        number = int(raw)
    except (TypeError, ValueError):
        raise BadPage(
            lambda: gettext("The page must be a whole number from 1, not “%(page)s”.") % {"page": shown},
            nearest=1,
        ) from None
    if number < 1:
        raise BadPage(lambda: gettext("The page must be at least 1."), nearest=1)
    if number > pages:
        if capped_at is not None:
            raise BadPage(
                lambda: (
                    ngettext(
                        "Only the first %(cap)s results can be browsed page by page, on %(pages)s page; page "
                        "%(page)s is past the last page: narrow the search or add a filter to reach the others.",
                        "Only the first %(cap)s results can be browsed page by page, on %(pages)s pages; page "
                        "%(page)s is past the last page: narrow the search or add a filter to reach the others.",
                        pages,
                    )
                    % {"cap": _number(capped_at), "pages": _number(pages), "page": shown}
                ),
                nearest=pages,
            )
        raise BadPage(
            lambda: (
                ngettext(
                    "There is only %(pages)s page of results; page %(page)s is past the last page.",
                    "There are only %(pages)s pages of results; page %(page)s is past the last page.",
                    pages,
                )
                % {"pages": _number(pages), "page": shown}
            ),
            nearest=pages,
        )
    return number
