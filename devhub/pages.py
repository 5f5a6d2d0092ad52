"""Human pages of the development Hub: `/datasets/<org>/<name>` as a browser sees it.

The portal links every published dataset to `<HF_ENDPOINT>/datasets/<repo id>`; offline that is this
server, so the link must open a page a person can read (the card rendered, the files listed) rather than a
JSON error. Private repositories are not shown (no browser sends a token), as on the Hub. The card is
Markdown from contributors: raw HTML is not rendered and the result is sanitised with nh3.
"""

import html

import nh3
from markdown_it import MarkdownIt

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")

_STYLE = (
    "body{font-family:system-ui,sans-serif;line-height:1.5;max-width:60rem;margin:2rem auto;padding:0 1rem}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}"
    ".note{color:#555}code{word-break:break-all}"
)


def card_body(readme: bytes) -> str:
    """Return a README's Markdown without its YAML header."""
    text = readme.decode("utf-8-sig", errors="replace").replace("\r\n", "\n")
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end >= 0:
            text = text[end + 4 :].split("\n", 1)[1] if "\n" in text[end + 4 :] else ""
    return text


def _page(title: str, body: str) -> bytes:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · local dev Hub</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    ).encode()


def repo_page(*, repo_id: str, files: dict, readme: bytes | None, file_url) -> bytes:
    """Return the HTML page of a repository: its id, its card rendered and its files with sizes and hashes."""
    rows = "".join(
        '<tr><td><a href="{}"><code>{}</code></a></td><td>{:,}</td><td><code>{}</code></td></tr>'.format(
            html.escape(file_url(path)),
            html.escape(path),
            entry["size"],
            html.escape(entry["sha256"] if entry.get("lfs") else entry["oid"]),
        )
        for path, entry in sorted(files.items())
    )
    card = (
        nh3.clean(_MARKDOWN.render(card_body(readme)))
        if readme is not None
        else "<p>This repository has no README.md.</p>"
    )
    body = (
        f'<p class="note">Dataset on the local development Hub (offline demo)</p><h1>{html.escape(repo_id)}</h1>'
        f'<section aria-labelledby="card-title"><h2 id="card-title">Dataset card</h2>{card}</section>'
        '<section aria-labelledby="files-title"><h2 id="files-title">Files</h2>'
        "<table><thead><tr><th>Path</th><th>Bytes</th><th>SHA-256 (LFS) or git blob id</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )
    return _page(repo_id, body)


def not_found_page(repo_id: str) -> bytes:
    """Return the HTML page of a repository that does not exist (or is private)."""
    return _page(
        "Not found",
        f"<h1>Not found</h1><p>There is no public dataset <code>{html.escape(repo_id)}</code> on this local "
        "development Hub. A dataset appears here once the portal has published it; until then its "
        "repository is private.</p>",
    )
