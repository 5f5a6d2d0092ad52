"""Messages stored now, read later in the reader's language.

A check's summary, a lint finding, a timeline event written by the portal, a publication error: written once
(often by a worker, with no reader in sight), read by a contributor in French and a curator in English. They
are stored as their English message id and its parameters, and rendered at display time:

    stored = i18n.message(gettext_noop("%(count)s files were found."), count=12)
    i18n.english(stored)     # "12 files were found." (logs, the API, search)
    i18n.translated(stored)  # in the active language; in templates: {{ stored|translated }}

Mark the message id with `gettext_noop` so that `makemessages` finds it. A message whose words follow a
count is made by `message_plural(singular, plural, count=n, ...)`: the portal's `makemessages`
(portal/management/commands/makemessages.py) extracts its two strings as one plural entry, as it does
ngettext's, and the reader's language picks the form (French says "1 fichier", "0 fichier", "2 fichiers").
`count` is also the parameter `%(count)s`.

Parameters are JSON values (strings, numbers); a parameter that must itself be translated is a nested stored
message. A number or a size that the reader's language writes its own way is a parameter made by `number(n)`
("12,000" / "12 000") or `file_size(n)` ("1.5 MB" / "1,5 Mo"), rendered at display like the message; a list
of stored messages is one made by `joined(parts)`, its separators translated too.
"""

from django.template.defaultfilters import filesizeformat
from django.utils import formats, translation
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_noop, ngettext

# Translators: a list's items, one after the other: "CSV, 4 columns, 59 rows". Keep both placeholders.
LIST = gettext_noop("%(first)s, %(then)s")
# Translators: a list of clauses: "1 column holds e-mail addresses; the text holds phone numbers".
CLAUSES = gettext_noop("%(first)s; %(then)s")


def message(msgid, *, plural=None, count=None, **params):
    """Return a stored message: the English id, its plural form and count if any, and its parameters."""
    if count is not None:
        params["count"] = count
    stored = {"msgid": str(msgid), "params": params}
    if plural is not None:
        stored["plural"] = str(plural)
        stored["count"] = count
    return stored


def message_plural(singular, plural, *, count, **params):
    """Return a stored message with a plural form chosen by `count` (also the parameter `%(count)s`).

    `makemessages` extracts the pair (the portal's command adds this function as a keyword, like ngettext).
    """
    return message(singular, plural=plural, count=count, **params)


def label_message(label):
    """Return a stored message of a label marked with `gettext_lazy` (a model's choice, a checklist item).

    str() of a lazy label is already in the active language; the message keeps its English id instead, so
    that the label is translated where the message is read.
    """
    with translation.override("en"):
        return message(str(label))


def sentence(stored):
    """Return the stored message marked to open a sentence: its first letter is capitalised once rendered."""
    return {**stored, "sentence": True}


def number(value):
    """Return a number parameter, written with the reader's digit grouping at display ("12,000", "12 000")."""
    return {"number": value}


def file_size(value):
    """Return a size parameter in bytes, written in the reader's language at display ("1.5 MB", "1,5 Mo")."""
    return {"file_size": value}


def joined(parts, *, separator=LIST):
    """Return stored messages (or plain strings) as one list, a stored message; "" for none."""
    parts = list(parts)
    if len(parts) <= 1:
        return parts[0] if parts else ""
    return message(separator, first=parts[0], then=joined(parts[1:], separator=separator))


def is_message(value):
    """True for a value `message()` made (a dict with an id): anything else is shown as it is."""
    return isinstance(value, dict) and isinstance(value.get("msgid"), str)


def _parameter(value, translate, translate_plural):
    if is_message(value):
        return _render(value, translate, translate_plural)
    if isinstance(value, dict) and isinstance(value.get("number"), int | float):
        return formats.number_format(value["number"], force_grouping=True)
    if isinstance(value, dict) and isinstance(value.get("file_size"), int | float):
        return filesizeformat(value["file_size"])
    return value


def _render(stored, translate, translate_plural):
    params = {
        name: _parameter(value, translate, translate_plural)
        for name, value in (stored.get("params") or {}).items()
    }
    if "plural" in stored:
        text = translate_plural(stored["msgid"], stored["plural"], stored.get("count") or 0)
    else:
        text = translate(stored["msgid"])
    if params:
        try:
            text = text % params
        except (KeyError, TypeError, ValueError):
            # A translation that lost a placeholder must not hide the message: fall back to the English one.
            text = stored["msgid"] % params
    return text[:1].upper() + text[1:] if stored.get("sentence") else text


def translated(stored):
    """Return a stored message in the active language; a plain string is returned as it is."""
    if not is_message(stored):
        return "" if stored is None else str(stored)
    return _render(stored, gettext, ngettext)


# For a value that code renders later in a language it chooses (an e-mail, in its recipient's language): the
# stored message is translated when it is turned into text, not now.
translated_lazy = lazy(translated, str)


def english(stored):
    """Return a stored message in English (the id itself, its placeholders filled)."""
    if not is_message(stored):
        return "" if stored is None else str(stored)
    # Numbers and sizes in parameters are written the English way too.
    with translation.override("en"):
        return _render(stored, lambda msgid: msgid, lambda one, many, count: one if count == 1 else many)


class MessageError(Exception):
    """An error whose message is a stored message: `message` keeps it, str() says it in the active language."""

    @property
    def message(self):
        """Return the stored message the error was raised with."""
        return self.args[0] if self.args else ""

    def __str__(self):
        return translated(self.message)


def of_error(exc):
    """Return what an error says, to be stored: its stored message when it has one, else its text."""
    return exc.message if isinstance(exc, MessageError) else str(exc)
