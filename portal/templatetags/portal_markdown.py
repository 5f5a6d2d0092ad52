"""Template filter that shows user Markdown: ``{% load portal_markdown %}{{ card_body|markdown }}``.

Rendering and sanitising live in ``portal.markdown``; this module only marks its output safe and must not
mark anything else safe.
"""

from django import template
from django.utils.safestring import SafeString, mark_safe

from portal.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown", is_safe=False)
def markdown_filter(value, heading_offset=0) -> SafeString:
    """Render Markdown to sanitised HTML, headings demoted by the optional argument; ``None`` renders as nothing."""
    text = "" if value is None else str(value)
    try:
        offset = max(0, min(5, int(heading_offset)))
    except (TypeError, ValueError):
        offset = 0
    return mark_safe(render_markdown(text, heading_offset=offset))  # noqa: S308 (render_markdown sanitises with nh3)
