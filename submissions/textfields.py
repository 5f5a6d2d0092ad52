"""Text fields of the portal's forms: a control character is refused with a message that says what to do.

A name, an address, a licence id or any other one-line value holds no control character at all (a \\x01 in
a dataset name reached e-mail subjects); a message, a reason or a list of locations may hold line breaks
and tabs, and nothing else of Unicode's control category (Cc). Every text field of the contributor's forms and of the curators'
review page is one of the fields below, and all of them check with `refuse_control_characters`. The check
runs first, in `to_python`, so that its message is the only one (Django's own NUL check and the e-mail
validator would add a vaguer second one).
"""

import re

from django import forms
from django.utils.translation import gettext as _

# Unicode's control characters (Cc: U+0000-U+001F, U+007F-U+009F) and the two line separators of Zl/Zp.
_SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MULTI_LINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # line breaks and tabs are allowed
_LINE_BREAKS = "\n\r\x85\u2028\u2029"


def refuse_control_characters(value, *, multiline=False):
    """Raise ValidationError naming the first control character in `value` and where it is, or do nothing."""
    found = (_MULTI_LINE if multiline else _SINGLE_LINE).search(value or "")
    if found is None:
        return
    char, position = found.group(), found.start() + 1
    if char in _LINE_BREAKS:
        message = _("Write this on one line: remove the line break at character %(position)s.")
    elif char == "\t":
        message = _("Remove the tab at character %(position)s: this field takes one line of text.")
    else:
        message = _(
            "Remove the invisible control character %(code)s at character %(position)s: it can't be shown "
            "or sent by e-mail. If you pasted this text, type it instead."
        )
    raise forms.ValidationError(
        message, code="control_character", params={"position": position, "code": f"U+{ord(char):04X}"}
    )


class SingleLineField(forms.CharField):
    """One line of text (a name, an address, a licence id): no control character, no line break."""

    def to_python(self, value):
        """Return the stripped text, or raise ValidationError for a control character in it."""
        value = super().to_python(value)
        refuse_control_characters(value)
        return value


class MultiLineField(forms.CharField):
    """Text of several lines (a message, a reason, locations): line breaks and tabs, no other control character."""

    widget = forms.Textarea

    def to_python(self, value):
        """Return the stripped text, or raise ValidationError for a control character in it."""
        value = super().to_python(value)
        refuse_control_characters(value, multiline=True)
        return value


class EmailAddressField(forms.EmailField):
    """An e-mail address, whose control characters are refused with their own message."""

    def to_python(self, value):
        """Return the stripped address, or raise ValidationError for a control character in it."""
        value = super().to_python(value)
        refuse_control_characters(value)
        return value
