"""`manage.py loadcatalogdemo`: put six realistic published datasets in the catalog, so it has content offline.

Idempotent: rows are matched by slug and updated in place, never duplicated. The rows are catalog entries
only (no submission, nothing on the Hub); do not run this against a production database.
"""

import datetime
import hashlib

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from catalog.models import Dataset, UsageSnapshot
from submissions.models import fold_name

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
        "files": [("data/waves-2015-2019.csv", 48_211_904), ("data/waves-2020-2024.csv", 51_002_113)],
        "downloads": 1843,
        "likes": 37,
        "days_ago": 3,
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
        "files": [("images/part-000.tar", 2_147_483_648), ("metadata.csv", 1_204_331)],
        "downloads": 9120,
        "likes": 212,
        "days_ago": 10,
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
        "files": [],
        "downloads": 402,
        "likes": 9,
        "days_ago": 21,
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
        "files": [("train.parquet", 734_003_200), ("test.parquet", 183_500_800)],
        "downloads": 5311,
        "likes": 144,
        "days_ago": 35,
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
        "files": [("audio/recordings.tar", 12_884_901_888), ("annotations.jsonl", 8_388_608)],
        "downloads": 2677,
        "likes": 88,
        "days_ago": 60,
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
        "files": [("rulings.parquet", 402_653_184)],
        "downloads": 733,
        "likes": 21,
        "days_ago": 90,
    },
]


def demo_card(entry):
    """Return a dataset card (YAML header and Markdown body) for a demo entry."""
    languages = "".join(f"- {code}\n" for code in entry["languages"])
    tags = "".join(f"- {tag}\n" for tag in entry["tags"])
    return (
        f"---\npretty_name: {entry['name']}\nlicense: {entry['license']}\n"
        + (f"language:\n{languages}" if languages else "")
        + f"tags:\n{tags}---\n\n# {entry['name']}\n\n## Dataset Description\n\n{entry['summary']}\n\n"
        "## Uses\n\nResearch and teaching. Check the licence before commercial use.\n\n"
        "## Dataset Structure\n\n| file | content |\n| --- | --- |\n"
        + "".join(f"| `{path}` | data |\n" for path, _ in entry["files"])
        + "\n## Citation\n\nPlease cite the dataset with the BibTeX entry on its catalog page.\n"
    )


DEMO_HISTORY_POINTS = 8


def demo_usage_history(dataset, entry, *, now):
    """Give a demo dataset a usage history that grows to its current figures, so its chart has a shape."""
    days = entry["days_ago"]
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
    help = "Create or update six published demo datasets in the catalog (idempotent)."

    def handle(self, *args, **options):
        """Create or update the demo rows."""
        now = timezone.now()
        organization = settings.HUB_ORGANIZATION
        with transaction.atomic():
            for entry in DEMO:
                manifest = [
                    {
                        "path": path,
                        "size": size,
                        "sha256": hashlib.sha256(f"{entry['slug']}/{path}".encode()).hexdigest(),
                    }
                    for path, size in entry["files"]
                ]
                dataset, created = Dataset.objects.update_or_create(
                    slug=entry["slug"],
                    defaults={
                        "name": entry["name"],
                        "name_key": fold_name(entry["name"]),
                        "repo_id": f"{organization}/{entry['slug']}",
                        "hosted": entry["hosted"],
                        "source_url": f"https://data.example.org/{entry['slug']}/",
                        "license": entry["license"],
                        "domain": entry["domain"],
                        "modalities": entry["modalities"],
                        "languages": entry["languages"],
                        "tags": entry["tags"],
                        "summary": entry["summary"],
                        "card": demo_card(entry),
                        "manifest": manifest,
                        "downloads": entry["downloads"],
                        "likes": entry["likes"],
                        "published_at": now - datetime.timedelta(days=entry["days_ago"]),
                    },
                )
                demo_usage_history(dataset, entry, now=now)
                self.stdout.write(f"{'Created' if created else 'Updated'} {entry['slug']}")
