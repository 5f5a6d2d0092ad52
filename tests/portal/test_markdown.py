"""Tests of portal.markdown: hostile Markdown and HTML come out inert, a normal card keeps its structure."""

import html
from html.parser import HTMLParser

import pytest
from django.template import Context, Engine

from portal.markdown import LINK_REL, render_markdown

FORBIDDEN_ELEMENTS = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "form",
    "input",
    "frame",
    "link",
    "meta",
    "base",
}
FORBIDDEN_SCHEMES = ("javascript:", "data:", "vbscript:")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "srcset", "background", "poster"}


class _Collector(HTMLParser):
    """Records every start tag with its attributes and the text inside each element kind."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        self.text.append(data)


def _parse(output: str) -> _Collector:
    collector = _Collector()
    collector.feed(output)
    collector.close()
    return collector


def _normalised_url(value: str) -> str:
    """What a browser would treat as the URL: entities decoded, whitespace and control characters removed."""
    decoded = html.unescape(value)
    return "".join(char for char in decoded if not char.isspace() and ord(char) >= 32).lower()


def assert_inert(output: str) -> _Collector:
    """Structural check: no dangerous element, no event handler, no style, no script-capable URL."""
    parsed = _parse(output)
    for tag, attrs in parsed.elements:
        assert tag not in FORBIDDEN_ELEMENTS, f"<{tag}> survived in {output!r}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name} survived in {output!r}"
            assert name != "style", f"style attribute survived in {output!r}"
            if name in URL_ATTRIBUTES:
                assert not _normalised_url(value).startswith(FORBIDDEN_SCHEMES), f"{name}={value!r} survived"
    return parsed


def _elements(parsed: _Collector, tag: str) -> list[dict[str, str]]:
    return [attrs for name, attrs in parsed.elements if name == tag]


HOSTILE = {
    "script": "<script>alert(1)</script>",
    "img_onerror": "<img src=x onerror=alert(1)>",
    "svg_onload": "<svg onload=alert(1)><circle r=1 /></svg>",
    "md_link_javascript": "[x](javascript:alert(1))",
    "md_link_mixed_case": "[x](JaVaScRiPt:alert(1))",
    "md_link_leading_spaces": "[x](  javascript:alert(1))",
    "md_link_entity_colon": "[x](javascript&#58;alert(1))",
    "html_link_entity_colon": '<a href="javascript&#58;alert(1)">x</a>',
    "html_link_tab_in_scheme": '<a href="java&#x09;script:alert(1)">x</a>',
    "html_link_data": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "md_link_data": "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "iframe": '<iframe src="https://evil.example/">frame text</iframe>',
    "style": "<style>body { display: none }</style>",
    "object": '<object data="https://evil.example/x.swf"><param name=a value=b>fallback</object>',
    "embed": '<embed src="https://evil.example/x.swf">',
    "form": '<form action="https://evil.example/"><input name=password><button>Go</button></form>',
    "vbscript": '<a href="vbscript:msgbox(1)">x</a>',
    "md_image_javascript": "![x](javascript:alert(1))",
    "html_image_javascript": '<img src="javascript:alert(1)">',
    "html_image_data": '<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">',
    "div_style": '<div style="position:fixed;top:0;left:0;width:100%">overlay</div>',
    "math": "<math><mtext><script>alert(1)</script></mtext></math>",
    "meta_refresh": '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "link_stylesheet": '<link rel="stylesheet" href="https://evil.example/x.css">',
    "base": '<base href="https://evil.example/">',
    "attribute_breakout": '<a href="https://ok.example/" onclick="alert(1)" onmouseover=alert(1)>x</a>',
    "fence_info_breakout": '```python" onmouseover="alert(1)\nprint(1)\n```',
    "nested_script_in_table": "| a |\n|---|\n| <script>alert(1)</script> |",
    "comment": "<!-- <script>alert(1)</script> -->visible",
    "unclosed_script": "<script>alert(1)",
}


@pytest.mark.parametrize("source", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_input_is_inert(source):
    output = render_markdown(source)
    assert_inert(output)
    # Belt and braces beside the structural check: no raw tag opener of an active element in the text.
    for opener in ("<script", "<iframe", "<svg", "<object", "<embed", "<style", "<form", "<math"):
        assert opener not in output.lower()


@pytest.mark.parametrize("source", ["<script>alert(1)</script>", "<script>alert(1)", "<style>p{}</style>x"])
def test_script_and_style_text_does_not_leak(source):
    output = render_markdown(source)
    assert_inert(output)
    assert "alert(1)" not in output
    assert "p{}" not in output


@pytest.mark.parametrize(
    "source", [HOSTILE["iframe"], HOSTILE["object"], HOSTILE["form"], HOSTILE["svg_onload"]]
)
def test_embedded_documents_are_dropped_with_their_content(source):
    output = render_markdown(source)
    assert_inert(output)
    for leaked in ("frame text", "fallback", "password", "Go", "circle"):
        assert leaked not in output


def test_img_keeps_src_but_loses_event_handler():
    parsed = assert_inert(render_markdown("<img src=x onerror=alert(1)>"))
    assert _elements(parsed, "img") == [{"src": "x"}]


@pytest.mark.parametrize(
    "source",
    [
        HOSTILE["md_link_javascript"],
        HOSTILE["md_link_mixed_case"],
        HOSTILE["md_link_leading_spaces"],
        HOSTILE["md_link_entity_colon"],
        HOSTILE["html_link_entity_colon"],
        HOSTILE["html_link_tab_in_scheme"],
        HOSTILE["html_link_data"],
        HOSTILE["md_link_data"],
        HOSTILE["vbscript"],
    ],
)
def test_script_capable_links_lose_their_href(source):
    parsed = assert_inert(render_markdown(source))
    assert all("href" not in attrs for attrs in _elements(parsed, "a"))


@pytest.mark.parametrize(
    "source",
    [HOSTILE["md_image_javascript"], HOSTILE["html_image_javascript"], HOSTILE["html_image_data"]],
)
def test_script_capable_images_lose_their_src(source):
    parsed = assert_inert(render_markdown(source))
    assert all("src" not in attrs for attrs in _elements(parsed, "img"))


def test_style_class_and_id_attributes_are_dropped():
    output = render_markdown('<div style="position:fixed" class="x" id="y">overlay</div>')
    assert_inert(output)
    assert "overlay" in output
    assert "position" not in output
    assert "class=" not in output
    assert "id=" not in output


def test_link_keeps_safe_href_and_drops_handlers():
    parsed = assert_inert(render_markdown(HOSTILE["attribute_breakout"]))
    assert _elements(parsed, "a") == [{"href": "https://ok.example/", "rel": LINK_REL}]


def test_code_class_keeps_only_language_name():
    parsed = assert_inert(render_markdown('<code class="language-py evil other">c</code>'))
    assert _elements(parsed, "code") == [{"class": "language-py"}]
    parsed = assert_inert(render_markdown(HOSTILE["fence_info_breakout"]))
    assert _elements(parsed, "code") == [{}]


def test_comments_are_stripped():
    output = render_markdown("<!-- secret note -->visible")
    assert "secret note" not in output
    assert "visible" in output


CARD = """\
# Marine sensor readings

Temperature and salinity from **12 buoys**, with *hourly* readings and ~~old~~ current data.

## Files

| file | rows | note |
|:-----|-----:|:----:|
| `train.csv` | 10,000 | cleaned |
| `test.csv` | 2,000 | raw |

```python
from datasets import load_dataset
ds = load_dataset("org/marine")
```

See the [project page](https://example.org/marine "Project") or write to <mailto:data@example.org>.

> Licence: CC-BY-4.0

<details><summary>Citation</summary>

Doe et al. 2024

</details>
"""


def test_normal_card_renders_structure():
    output = render_markdown(CARD)
    parsed = assert_inert(output)
    tags = [tag for tag, _ in parsed.elements]
    for expected in ("h1", "h2", "p", "strong", "em", "s", "table", "thead", "tbody", "th", "td", "pre"):
        assert expected in tags, f"<{expected}> missing from {output!r}"
    assert {"details", "summary", "blockquote"} <= set(tags)
    assert "<h1>Marine sensor readings</h1>" in output
    assert [attrs for attrs in _elements(parsed, "th")] == [
        {"align": "left"},
        {"align": "right"},
        {"align": "center"},
    ]
    assert {"class": "language-python"} in _elements(parsed, "code")
    assert 'ds = load_dataset("org/marine")' in output
    links = _elements(parsed, "a")
    assert {"href": "https://example.org/marine", "title": "Project", "rel": LINK_REL} in links
    assert {"href": "mailto:data@example.org", "rel": LINK_REL} in links


def test_rendering_is_deterministic():
    assert render_markdown(CARD) == render_markdown(CARD)


def test_empty_input_renders_nothing():
    assert render_markdown("") == ""


def test_huge_input_is_cut_and_still_sanitised():
    source = "<script>alert(1)</script>" + "a" * 5000
    output = render_markdown(source, max_chars=1000)
    assert_inert(output)
    assert "too long to show in full" in output
    assert output.count("a") < 1100


def test_default_cap_bounds_input():
    output = render_markdown("x" * 2_100_000)
    assert "too long to show in full" in output
    assert "x" * 2_000_000 in output
    assert "x" * 2_000_001 not in output


def _filter_engine() -> Engine:
    return Engine(libraries={"portal_markdown": "portal.templatetags.portal_markdown"})


def test_template_filter_renders_safe_html_without_double_escaping():
    template = _filter_engine().from_string("{% load portal_markdown %}<div>{{ body|markdown }}</div>")
    output = template.render(
        Context({"body": "# Title\n\n<script>alert(1)</script>[x](javascript:alert(1))"})
    )
    assert "<h1>Title</h1>" in output
    assert_inert(output)
    assert "<script" not in output
    assert "&lt;h1&gt;" not in output


def test_template_filter_treats_none_as_empty():
    template = _filter_engine().from_string("{% load portal_markdown %}[{{ body|markdown }}]")
    assert template.render(Context({"body": None})) == "[]"
