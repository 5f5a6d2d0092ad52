"""`manage.py loadcatalogdemo`: six realistic datasets for the offline demo, published through the real mirror.

Each demo dataset becomes a catalog row (no submission) and a mirror job, queued like an approved
submission's: the worker creates the (private) repository on the Hub, uploads the card and, for a hosted
dataset, a small sample file served by the demo data source from `var/demo-data/catalog/`, verifies, makes
it public and marks it published. So the catalog and the Hub agree, and `make run` stays quick: the command
only queues the jobs (the worker that `runportal` starts runs them). Idempotent: rows are matched by slug,
and a published row is left alone. It refuses to publish demo data to the real Hub.
"""

import csv
import datetime
import io
import random

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from catalog import hub, publishing
from catalog.models import Dataset, UsageSnapshot
from submissions.models import fold_name

DEMO_SOURCE_URL = "https://127.0.0.1:8801/"

DEMO = [
    {
        "slug": "north-sea-wave-heights",
        "name": "North Sea wave heights 2015-2024",
        "domain": "Marine",
        "modalities": "text",
        "hosted": True,
        "license": "cc-by-4.0",
        "languages": ["en", "nl"],
        "tags": ["oceanography", "waves", "time-series"],
        "summary": "Significant wave height and period every 30 minutes from 22 offshore platforms in the North Sea.",
        "downloads": 1843,
        "likes": 37,
    },
    {
        "slug": "alpine-glacier-photographs",
        "name": "Alpine glacier photographs 1890-1990",
        "domain": "Climate",
        "modalities": "images,text",
        "hosted": True,
        "license": "cc-by-sa-4.0",
        "languages": ["de", "fr", "it"],
        "tags": ["glaciers", "historical-photographs", "archives"],
        "summary": "Digitised glass plates and prints of 41 Alpine glaciers, with dates, places and photographers.",
        "downloads": 9120,
        "likes": 212,
    },
    {
        "slug": "municipal-council-minutes",
        "name": "Municipal council minutes of Ghent",
        "domain": "Social science",
        "modalities": "text",
        "hosted": False,
        "license": "cc0-1.0",
        "languages": ["nl"],
        "tags": ["government", "transcripts", "open-data"],
        "summary": "Minutes of the Ghent city council since 2001, one record per agenda item, as published by the city.",
        "downloads": 402,
        "likes": 9,
    },
    {
        "slug": "wafer-surface-scans",
        "name": "Wafer surface scans with defect labels",
        "domain": "Semiconductors",
        "modalities": "images",
        "hosted": True,
        "license": "cdla-permissive-2.0",
        "languages": [],
        "tags": ["defect-detection", "manufacturing", "segmentation"],
        "summary": "Optical scans of 300 mm wafers with pixel masks for scratches, particles and pattern defects.",
        "downloads": 5311,
        "likes": 144,
    },
    {
        "slug": "dawn-chorus-recordings",
        "name": "Dawn chorus recordings of European songbirds",
        "domain": "Not domain specific",
        "modalities": "audio,text",
        "hosted": True,
        "license": "cc-by-nc-4.0",
        "languages": ["en"],
        "tags": ["bioacoustics", "birds", "audio-classification"],
        "summary": "Ten-minute dawn recordings from 63 sites with species annotations by volunteer ornithologists.",
        "downloads": 2677,
        "likes": 88,
    },
    {
        "slug": "court-rulings-summaries",
        "name": "Appellate court rulings with summaries",
        "domain": "Legal",
        "modalities": "text",
        "hosted": True,
        "license": "cc-by-4.0",
        "languages": ["fr", "en"],
        "tags": ["law", "summarization", "case-law"],
        "summary": "Anonymised rulings of appellate courts with their official summaries, for legal summarisation.",
        "downloads": 733,
        "likes": 21,
    },
]


def sample_name(entry):
    """Return the file name of a hosted demo dataset's sample, under the demo data folder."""
    return f"catalog/{entry['slug']}.csv"


def sample_bytes(entry):
    """Return a small CSV sample for a hosted demo dataset (the same bytes every time)."""
    rows = random.Random(entry["slug"])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "label", "value"])
    for number in range(200):
        writer.writerow([number, rows.choice(entry["tags"]), f"{rows.uniform(0, 100):.3f}"])
    return out.getvalue().encode()


def demo_card(entry):
    """Return a dataset card (YAML header and Markdown body) for a demo entry."""
    languages = "".join(f"- {code}\n" for code in entry["languages"])
    tags = "".join(f"- {tag}\n" for tag in entry["tags"])
    structure = (
        f"A sample of the data for the offline demo: `{sample_name(entry).rsplit('/', 1)[1]}` (id, label, value)."
        if entry["hosted"]
        else "The data stays at its original location (linked, not hosted)."
    )
    return (
        f"---\npretty_name: {entry['name']}\nlicense: {entry['license']}\n"
        + (f"language:\n{languages}" if languages else "")
        + f"tags:\n{tags}---\n\n# {entry['name']}\n\n## Dataset Description\n\n{entry['summary']}\n\n"
        "## Uses\n\nResearch and teaching. Check the licence before commercial use.\n\n"
        f"## Dataset Structure\n\n{structure}\n"
        "\n## Citation\n\nPlease cite the dataset with the BibTeX entry on its catalog page.\n"
    )


DEMO_HISTORY_POINTS = 8
# The demo's usage history spans this many days before today.
DEMO_HISTORY_DAYS = 60


def demo_usage_history(dataset, entry, *, now):
    """Give a demo dataset a usage history that grows to its current figures, so its chart has a shape."""
    days = DEMO_HISTORY_DAYS
    step = max(1, days // DEMO_HISTORY_POINTS)
    for offset in range(0, days + 1, step):
        share = 1 - offset / (days + 1)  # 1 today, close to 0 on the day of publication
        UsageSnapshot.objects.update_or_create(
            dataset=dataset,
            day=(now - datetime.timedelta(days=offset)).date(),
            defaults={
                "downloads": round(entry["downloads"] * share**2),
                "likes": round(entry["likes"] * share),
                "taken_at": now - datetime.timedelta(days=offset),
            },
        )


class Command(BaseCommand):
    help = "Queue six demo datasets for publication through the mirror to the local Hub (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--source-url",
            default=DEMO_SOURCE_URL,
            help="where the demo data source serves var/demo-data/ (runportal's --source-port)",
        )

    def handle(self, *args, source_url, **options):
        """Create the demo rows and queue the publication of those not published yet."""
        if settings.HF_TOKEN and settings.HF_ENDPOINT.rstrip("/") == hub.PUBLIC_HUB:
            raise CommandError("The demo catalog is published only to a local Hub, never to huggingface.co.")
        organization = settings.HUB_ORGANIZATION
        now = timezone.now()
        queued = 0
        with transaction.atomic():
            for entry in DEMO:
                if entry["hosted"]:
                    sample = settings.PORTAL_DEMO_DATA_DIR / sample_name(entry)
                    sample.parent.mkdir(parents=True, exist_ok=True)
                    if not sample.exists():
                        sample.write_bytes(sample_bytes(entry))
                dataset = Dataset.objects.filter(slug=entry["slug"]).first()
                if dataset is not None and dataset.published_at is not None:
                    continue
                source = (
                    source_url.rstrip("/") + "/" + sample_name(entry)
                    if entry["hosted"]
                    else f"https://data.example.org/{entry['slug']}/"
                )
                dataset, _ = Dataset.objects.update_or_create(
                    slug=entry["slug"],
                    defaults={
                        "name": entry["name"],
                        "name_key": fold_name(entry["name"]),
                        "repo_id": f"{organization}/{entry['slug']}",
                        "hosted": entry["hosted"],
                        "source_url": source,
                        "license": entry["license"],
                        "domain": entry["domain"],
                        "modalities": entry["modalities"],
                        "languages": entry["languages"],
                        "tags": entry["tags"],
                        "summary": entry["summary"],
                        "card": demo_card(entry),
                        "downloads": entry["downloads"],
                        "likes": entry["likes"],
                    },
                )
                demo_usage_history(dataset, entry, now=now)
                publishing.queue_mirror(dataset)
                queued += 1
        self.stdout.write(
            f"Demo catalog: {queued} dataset(s) queued; the worker publishes them to the Hub once it runs."
            if queued
            else "Demo catalog: every dataset is published."
        )
