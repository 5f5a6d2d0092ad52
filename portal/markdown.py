"""Render user-written Markdown (dataset cards, curator messages) to HTML that is safe to show.

This is the only place where user Markdown becomes HTML: templates use the ``markdown`` filter of
``portal.templatetags.portal_markdown``, which calls ``render_markdown``. Markdown is rendered with raw HTML
allowed (real Hub cards contain it) and the result is always sanitised by nh3 with an explicit allow-list;
this module must never return HTML that did not go through ``nh3.clean``. Callers pass the card body only
(no YAML header). See https://cheatsheetseries.owasp.org/cheatsheets/Cross_Site_Scripting_Prevention_Cheat_Sheet.html
"""

import re

import nh3
from markdown_it import MarkdownIt

# Cards are capped at 1 MiB on upload (PORTAL_CARD_MAX_BYTES); this cap bounds rendering time for any other
# caller, e.g. a card fetched from elsewhere.
MAX_INPUT_CHARS = 2_000_000

TRUNCATION_NOTICE = "\n\n*(The text is too long to show in full; it was cut here.)*\n"

ALLOWED_TAGS = frozenset(
    {
        *(f"h{level}" for level in range(1, 7)),
        "p",
        "a",
        "em",
        "strong",
        "b",
        "i",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "table",
        "caption",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "th",
        "td",
        "img",
        "hr",
        "br",
        "del",
        "s",  # markdown-it renders ~~strikethrough~~ as <s>
        "sup",
        "sub",
        "details",
        "summary",
        "dl",
        "dt",
        "dd",
        "kbd",
    }
)

_CELL_ATTRIBUTES = frozenset({"colspan", "rowspan", "align"})
ALLOWED_ATTRIBUTES = {
    "a": frozenset({"href", "title"}),
    "img": frozenset({"src", "alt", "title"}),
    "code": frozenset({"class"}),
    "ol": frozenset({"start"}),
    "th": _CELL_ATTRIBUTES,
    "td": _CELL_ATTRIBUTES,
}

ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})

# Dropped with everything inside them: their text is code, styling or an embedded document, never prose
# a reader should see, and letting it leak as text would show e.g. the body of a <script>.
DROPPED_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "svg",
        "math",
        "form",
        "template",
        "noscript",
        "noembed",
        "noframes",
        "textarea",
        "select",
        "title",
        "xmp",
    }
)

LINK_REL = "nofollow noopener noreferrer"

_LANGUAGE_CLASS = re.compile(r"language-[A-Za-z0-9_+#.-]{1,40}")
_TEXT_ALIGN = re.compile(r"text-align:(left|right|center)")

_markdown = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    """nh3 attribute filter: keep a code block's ``language-*`` class and nothing else of ``class``."""
    if attribute != "class":
        return value
    if tag == "code":
        languages = [name for name in value.split() if _LANGUAGE_CLASS.fullmatch(name)]
        return languages[0] if languages else None
    return None


def _move_alignment_to_align(tokens) -> None:
    """Turn markdown-it's ``style="text-align:x"`` on table cells into ``align="x"``.

    The sanitiser drops every ``style`` attribute (CSS can overlay the page), so without this step column
    alignment written in the card would be lost.
    """
    for token in tokens:
        if token.type not in ("th_open", "td_open"):
            continue
        style = token.attrs.pop("style", None)
        match = _TEXT_ALIGN.fullmatch(str(style or ""))
        if match:
            token.attrs["align"] = match.group(1)


def _demote_headings(tokens, offset: int) -> None:
    """Move every heading `offset` levels down (h1 to h2...), so a card never competes with the page's h1."""
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(6, int(token.tag[1]) + offset)
            token.tag = f"h{level}"


def _unsafe_html(text: str, *, heading_offset: int = 0) -> str:
    """Markdown to HTML, not yet sanitised: never return this to a caller."""
    tokens = _markdown.parse(text)
    _move_alignment_to_align(tokens)
    if heading_offset:
        _demote_headings(tokens, heading_offset)
    return _markdown.renderer.render(tokens, _markdown.options, {})


def sanitize_html(html: str) -> str:
    """Clean an HTML fragment with the portal's allow-list (tags, attributes, URL schemes)."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_keep_attribute,
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render_markdown(text: str, *, max_chars: int = MAX_INPUT_CHARS, heading_offset: int = 0) -> str:
    """Render Markdown (raw HTML allowed) to sanitised HTML that a template may mark safe.

    `heading_offset` demotes Markdown headings (1: `#` becomes h2) for text shown under a page's own h1.
    """
    if not text:
        return ""
    if len(text) > max_chars:
        text = text[:max_chars] + TRUNCATION_NOTICE
    return sanitize_html(_unsafe_html(text, heading_offset=heading_offset))
