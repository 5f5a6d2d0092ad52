"""The resolvers' only way to the network: JSON from a repository's API and a DOI followed, through safefetch.

Every request goes through `portal.safefetch` (the SSRF policy, redirects re-checked, timeouts, byte caps);
nothing here sends a credential or a cookie. Failures become `ResolveError`s whose message says what to do:
a 404 names the record and asks to check the address, a 429 is asked again once after a short Retry-After
(`RESOLVER_MAX_RETRY_AFTER`) and is otherwise retryable, an HTML page or bytes that are not JSON say that
the repository did not answer as its API documents, a refused address carries safefetch's reason.
"""

import json
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_noop

from portal import i18n, safefetch
from submissions.resolvers.records import ResolveError

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def get_json(url, *, subject):
    """Return the JSON document at `url` (an API address); `subject` names it in messages (a stored message,
    "record 12 at zenodo.org")."""
    host = urlsplit(url).hostname or url
    cap = settings.RESOLVER_MAX_JSON_BYTES
    waited = False
    while True:
        try:
            with safefetch.stream(url, max_bytes=cap, headers={"Accept": "application/json"}) as response:
                content_type = response.content_type
                body = b"".join(response.iter_chunks())
            break
        except safefetch.FetchBlocked as exc:
            raise ResolveError(
                i18n.sentence(
                    i18n.message(
                        gettext_noop("%(subject)s cannot be read: %(reason)s"),
                        subject=subject,
                        reason=i18n.of_error(exc),
                    )
                ),
                retryable=False,
            ) from exc
        except safefetch.FetchTooLarge as exc:
            raise ResolveError(
                i18n.message(
                    gettext_noop(
                        "The description of %(subject)s that %(host)s sends is larger than %(limit)s bytes, more "
                        "than the portal reads. Split the record, or give its files' addresses one per line."
                    ),
                    subject=subject,
                    host=host,
                    limit=i18n.number(cap),
                ),
                retryable=False,
            ) from exc
        except safefetch.FetchError as exc:
            if exc.status == 429 and not waited and _short(exc.retry_after):
                # Honour a short Retry-After once; a long one (or a second 429) is for the caller's backoff.
                waited = True
                time.sleep(exc.retry_after)
                continue
            raise status_error(exc, subject=subject, url=url) from exc
    if content_type in _HTML_TYPES or body.lstrip()[:1] == b"<":
        raise ResolveError(
            i18n.message(
                gettext_noop(
                    "%(host)s answered a web page instead of the data of %(subject)s (JSON), so it is not the "
                    "repository the address looks like, or it is down. Check the address (the record's own page "
                    "or its DOI), or give the data files' addresses one per line."
                ),
                host=host,
                subject=subject,
            ),
            retryable=False,
        )
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ResolveError(
            i18n.message(
                gettext_noop(
                    "%(host)s answered something that is not JSON for %(subject)s, so the record cannot be read. "
                    "Try again later; if it persists, give the data files' addresses one per line."
                ),
                host=host,
                subject=subject,
            ),
            retryable=False,
        ) from exc


def follow(url, *, subject):
    """Probe `url` (following its redirects through safefetch); return safefetch's ProbeResult."""
    try:
        return safefetch.probe(url)
    except safefetch.FetchBlocked as exc:
        raise ResolveError(
            i18n.sentence(
                i18n.message(
                    gettext_noop("%(subject)s cannot be followed: %(reason)s"),
                    subject=subject,
                    reason=i18n.of_error(exc),
                )
            ),
            retryable=False,
        ) from exc
    except safefetch.FetchError as exc:
        raise status_error(exc, subject=subject, url=url) from exc


def status_error(exc, *, subject, url):
    """Return the ResolveError for a FetchError (an HTTP status or a network failure) about `subject`."""
    host = urlsplit(url).hostname or url
    status = exc.status
    if status in (404, 410):
        return ResolveError(
            i18n.sentence(
                i18n.message(
                    gettext_noop(
                        "%(subject)s was not found at %(host)s (%(status)s): check the address or DOI for typos. "
                        "A record that is not published yet, was deleted or is private cannot be used."
                    ),
                    subject=subject,
                    host=host,
                    status=status,
                )
            ),
            retryable=False,
        )
    if status in (401, 403):
        return ResolveError(
            i18n.sentence(
                i18n.message(
                    gettext_noop(
                        "%(subject)s is not public: %(host)s answered %(status)s. Only public records can be used; "
                        "ask the repository to open it, or give the files' public addresses one per line."
                    ),
                    subject=subject,
                    host=host,
                    status=status,
                )
            ),
            retryable=False,
        )
    if status == 429:
        if exc.retry_after is not None:
            limiting = i18n.message(
                gettext_noop(
                    "%(host)s is limiting requests (429 Too Many Requests) (it asks to wait %(seconds)s s) while "
                    "reading %(subject)s; the check will try again later."
                ),
                host=host,
                seconds=exc.retry_after,
                subject=subject,
            )
        else:
            limiting = i18n.message(
                gettext_noop(
                    "%(host)s is limiting requests (429 Too Many Requests) while reading %(subject)s; the check "
                    "will try again later."
                ),
                host=host,
                subject=subject,
            )
        return ResolveError(limiting, retryable=True)
    if status is not None and status >= 500:
        return ResolveError(
            i18n.message(
                gettext_noop(
                    "%(host)s failed (%(status)s) while reading %(subject)s; the check will try again later."
                ),
                host=host,
                status=status,
                subject=subject,
            ),
            retryable=True,
        )
    if status is not None:
        return ResolveError(
            i18n.message(
                gettext_noop(
                    "%(host)s refused to give %(subject)s (%(status)s): check the address, or give the files' "
                    "addresses one per line."
                ),
                host=host,
                subject=subject,
                status=status,
            ),
            retryable=False,
        )
    return ResolveError(
        i18n.sentence(
            i18n.message(
                gettext_noop("%(subject)s could not be read: %(reason)s"),
                subject=subject,
                reason=i18n.of_error(exc),
            )
        ),
        retryable=exc.retryable,
    )


def _short(seconds):
    """Tell whether a Retry-After is short enough to wait for here."""
    return seconds is not None and 0 <= seconds <= settings.RESOLVER_MAX_RETRY_AFTER
