"""Django's makemessages, also extracting the plural pairs of `portal.i18n.message_plural` (stored messages)."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    # message_plural(singular, plural, count=n) is stored now and translated at display: its two strings must
    # reach the catalog as one plural entry, as ngettext's do (xgettext knows only the keywords it is given).
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=message_plural:1,2"]
