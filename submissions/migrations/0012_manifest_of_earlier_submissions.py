"""Give every submission made before manifests existed the manifest its one location makes.

Before 0010 a submission had one https address of one file; publication read it directly. Now publication
copies the manifest's files, so a submission approved (or failed, to be retried) before the upgrade needs its
one row: the file at its address, named as the mirror named it, with the size its location check found.
"""

from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from django.db import migrations


def file_name_of(url):
    # As submissions.locations.file_name_of (and the mirror before it) named a downloaded file; copied here so
    # that this migration keeps doing what it did when the function changes.
    name = PurePosixPath(unquote(urlsplit(url).path)).name
    name = "".join(ch for ch in name if ch.isalnum() or ch in "._- ").strip(" .")
    return name[:120] or "data"


def add_manifests(apps, schema_editor):
    Submission = apps.get_model("submissions", "Submission")
    ManifestFile = apps.get_model("submissions", "ManifestFile")
    CheckResult = apps.get_model("submissions", "CheckResult")
    without = Submission.objects.exclude(manifest_files__isnull=False).exclude(location="")
    for submission in without.iterator(chunk_size=500):
        url = submission.location.strip().splitlines()[0].strip()
        if not url.lower().startswith("https://"):
            continue
        check = (
            CheckResult.objects.filter(revision__submission=submission, kind="location")
            .order_by("-revision__number")
            .first()
        )
        size = (check.details or {}).get("size") if check is not None else None
        ManifestFile.objects.create(
            submission=submission,
            position=0,
            path=file_name_of(url),
            source_url=url[:2000],
            size=size if isinstance(size, int) else None,
        )


class Migration(migrations.Migration):
    dependencies = [("submissions", "0011_contributor_orcid")]

    operations = [migrations.RunPython(add_manifests, migrations.RunPython.noop)]
