"""`{% load portal_i18n %}{{ stored|translated }}`: a message stored by `portal.i18n.message`, in the page's language."""

from django import template

from portal import i18n

register = template.Library()


@register.filter
def translated(stored):
    """Render a stored message (or a plain string, as it is) in the active language."""
    return i18n.translated(stored)
