"""Catalog test data and HTML inspection shared by the catalog's test modules (search, pages, API, JSON-LD)."""

import datetime
import itertools
from html.parser import HTMLParser

from django.utils import timezone

from catalog.models import Dataset
from submissions.models import fold_name

_numbers = itertools.count(1)


def dataset_fields(**overrides):
    """Return the fields of a published dataset row; `overrides` replace any of them."""
    number = next(_numbers)
    slug = overrides.pop("slug", f"dataset-{number}")
    name = overrides.pop("name", f"Dataset number {number}")
    fields = {
        "slug": slug,
        "name": name,
        "name_key": fold_name(name),
        "repo_id": f"dataset-portal/{slug}",
        "hosted": True,
        "source_url": f"https://data.example.org/{slug}.zip",
        "license": "cc-by-4.0",
        "domain": "Marine",
        "modalities": "text",
        "languages": ["en"],
        "tags": ["sensors"],
        "summary": f"Measurements of dataset {number}.",
        "card": f"---\nlicense: cc-by-4.0\n---\n\n# {name}\n\nMeasurements of dataset {number}.\n",
        "manifest": [{"path": "data.csv", "size": 1234, "sha256": "a" * 64}],
        "downloads": number,
        "likes": number % 7,
        "published_at": timezone.now() - datetime.timedelta(minutes=number),
    }
    fields.update(overrides)
    return fields


def published(**overrides):
    """Create and return one published dataset."""
    return Dataset.objects.create(**dataset_fields(**overrides))


def many_published(count, **overrides):
    """Create `count` published datasets in one bulk insert (the PostgreSQL trigger fills the search column)."""
    return Dataset.objects.bulk_create([Dataset(**dataset_fields(**overrides)) for _ in range(count)])


class ElementCollector(HTMLParser):
    """Collect every start tag with its attributes, and the text inside each <script>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements = []  # (tag, {attribute: value})
        self.scripts = []  # (attributes, text)
        self._script = None

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        self.elements.append((tag, attributes))
        if tag == "script":
            self._script = (attributes, [])

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    def handle_data(self, data):
        if self._script is not None:
            self._script[1].append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script[0], "".join(self._script[1])))
            self._script = None


def parse_html(content):
    """Parse an HTML page (bytes or str) and return its ElementCollector."""
    collector = ElementCollector()
    collector.feed(content.decode() if isinstance(content, bytes) else content)
    collector.close()
    return collector
