"""Page numbers of the catalog's paged answers: one reading of `?page=` for the list page, the JSON API and
the DCAT feed.

`page_number()` returns the page a raw parameter names or raises `BadPage` with a message for a person and
the page that was most likely meant: the JSON API and the DCAT feed answer 400 with the message, the list
page shows that nearest page with the message above it. Checking the number against the page count before
any query also keeps absurd numbers (9223372036854775807, 10^30) away from the database's OFFSET.
"""


class BadPage(ValueError):
    """A page parameter that names no page; `nearest` is the page the reader most likely wanted."""

    def __init__(self, message, *, nearest):
        super().__init__(message)
        self.nearest = nearest


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
        raise BadPage(f"The page must be a whole number from 1, not “{shown}”.", nearest=1) from None
    if number < 1:
        raise BadPage("The page must be at least 1.", nearest=1)
    if number > pages:
        if capped_at is not None:
            raise BadPage(
                f"Only the first {capped_at:,} results can be browsed page by page, on {pages:,} "
                f"page{'s' if pages != 1 else ''}; page {shown} is past the last page: narrow the search or "
                "add a filter to reach the others.",
                nearest=pages,
            )
        there = "There is only 1 page" if pages == 1 else f"There are only {pages:,} pages"
        raise BadPage(f"{there} of results; page {shown} is past the last page.", nearest=pages)
    return number
