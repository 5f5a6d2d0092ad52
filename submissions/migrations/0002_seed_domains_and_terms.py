"""Seed the curated domains and the first version of the contribution terms."""

import datetime

from django.db import migrations

DOMAINS = [
    ("general", 0, "Not domain specific"),
    ("science", 0, "Climate"),
    ("science", 1, "Marine"),
    ("science", 2, "Materials"),
    ("science", 3, "Semiconductors"),
    ("science", 4, "Time series"),
    ("science", 5, "Other industrial"),
    ("other", 0, "Finance"),
    ("other", 1, "Healthcare"),
    ("other", 2, "Legal"),
    ("other", 3, "Social science"),
]

TERMS_VERSION = "1.0"
TERMS_TEXT = """\
By submitting this dataset you confirm that:

1. You own the dataset, or you have the permission of its owner to contribute it under these terms.
2. You (or the owner) keep all rights in the dataset.
3. You grant the operator of this portal a non-exclusive, worldwide, royalty-free, perpetual licence \
to use, modify, copy and distribute the dataset under the Community Data License Agreement \
Permissive 2.0 (CDLA-Permissive-2.0).
4. The dataset contains no personal or sensitive data, or you have a documented legal basis to share it, \
and you will tell the curators about it.
"""


def seed(apps, schema_editor):
    Domain = apps.get_model("submissions", "Domain")
    TermsVersion = apps.get_model("submissions", "TermsVersion")
    for group, position, name in DOMAINS:
        Domain.objects.update_or_create(name=name, defaults={"group": group, "position": position})
    TermsVersion.objects.get_or_create(
        version=TERMS_VERSION, defaults={"text": TERMS_TEXT, "published_on": datetime.date(2026, 11, 1)}
    )


def unseed(apps, schema_editor):
    Domain = apps.get_model("submissions", "Domain")
    TermsVersion = apps.get_model("submissions", "TermsVersion")
    Domain.objects.filter(name__in=[name for _, _, name in DOMAINS], submission__isnull=True).delete()
    TermsVersion.objects.filter(version=TERMS_VERSION, submission__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("submissions", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
