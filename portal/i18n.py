"""Messages stored now, read later in the reader's language.

A check's summary, a lint finding, a timeline event written by the portal, a publication error: written once
(often by a worker, with no reader in sight), read by a contributor in French and a curator in English. They
are stored as their English message id and its parameters, and rendered at display time:

    stored = i18n.message(gettext_noop("%(count)s files were found."), count=12)
    i18n.english(stored)     # "12 files were found." (logs, the API, search)
    i18n.translated(stored)  # in the active language; in templates: {{ stored|translated }}

Mark the message id with `gettext_noop` (or `ngettext_lazy`'s pair through `plural=`) so that
`makemessages` finds it. Parameters are JSON values (strings, numbers); a parameter that must itself be
translated is a nested stored message.
"""

from django.utils.translation import gettext, ngettext


def message(msgid, *, plural=None, count=None, **params):
    """Return a stored message: the English id, its plural form and count if any, and its parameters."""
    stored = {"msgid": str(msgid), "params": params}
    if plural is not None:
        stored["plural"] = str(plural)
        stored["count"] = count
    return stored


def is_message(value):
    """True for a value `message()` made (a dict with an id): anything else is shown as it is."""
    return isinstance(value, dict) and isinstance(value.get("msgid"), str)


def _render(stored, translate, translate_plural):
    params = {
        name: _render(value, translate, translate_plural) if is_message(value) else value
        for name, value in (stored.get("params") or {}).items()
    }
    if "plural" in stored:
        text = translate_plural(stored["msgid"], stored["plural"], stored.get("count") or 0)
    else:
        text = translate(stored["msgid"])
    if not params:
        return text
    try:
        return text % params
    except (KeyError, TypeError, ValueError):
        # A translation that lost a placeholder must not hide the message: fall back to the English one.
        return stored["msgid"] % params


def translated(stored):
    """Return a stored message in the active language; a plain string is returned as it is."""
    if not is_message(stored):
        return "" if stored is None else str(stored)
    return _render(stored, gettext, ngettext)


def english(stored):
    """Return a stored message in English (the id itself, its placeholders filled)."""
    if not is_message(stored):
        return "" if stored is None else str(stored)
    return _render(stored, lambda msgid: msgid, lambda one, many, count: one if count == 1 else many)
