"""Page numbers of the catalog's paged answers: one reading of `?page=` for the list page, the JSON API and
the DCAT feed.

`page_number()` returns the page a raw parameter names or raises `BadPage` with a message for a person and
the page that was most likely meant: the JSON API and the DCAT feed answer 400 with the message, the list
page shows that nearest page with the message above it. Checking the number against the page count before
any query also keeps absurd numbers (9223372036854775807, 10^30) away from the database's OFFSET.
"""

from django.utils.translation import gettext_noop

from portal import i18n


class BadPage(ValueError):
    """A page parameter that names no page; `nearest` is the page the reader most likely wanted.

    `message` is a stored message (`portal.i18n`): `str()` says it in English (the JSON API and the DCAT feed
    speak English), `localized()` in the reader's language, numbers written the reader's way (the list page).
    """

    def __init__(self, message, *, nearest):
        self.message = message
        self.nearest = nearest
        super().__init__(i18n.english(message))

    def localized(self):
        """Return the message in the active language."""
        return i18n.translated(self.message)


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
            i18n.message(gettext_noop("The page must be a whole number from 1, not “%(page)s”."), page=shown),
            nearest=1,
        ) from None
    if number < 1:
        raise BadPage(i18n.message(gettext_noop("The page must be at least 1.")), nearest=1)
    if number > pages:
        if capped_at is not None:
            raise BadPage(
                i18n.message_plural(
                    "Only the first %(cap)s results can be browsed page by page, on %(pages)s page; page "
                    "%(page)s is past the last page: narrow the search or add a filter to reach the others.",
                    "Only the first %(cap)s results can be browsed page by page, on %(pages)s pages; page "
                    "%(page)s is past the last page: narrow the search or add a filter to reach the others.",
                    count=pages,
                    cap=i18n.number(capped_at),
                    pages=i18n.number(pages),
                    page=shown,
                ),
                nearest=pages,
            )
        raise BadPage(
            i18n.message_plural(
                "There is only %(pages)s page of results; page %(page)s is past the last page.",
                "There are only %(pages)s pages of results; page %(page)s is past the last page.",
                count=pages,
                pages=i18n.number(pages),
                page=shown,
            ),
            nearest=pages,
        )
    return number
