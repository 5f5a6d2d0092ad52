"""The demo catalog is published through the real mirror, so every catalog entry exists on the (dev) Hub."""

import pytest
from django.core.management import CommandError, call_command
from huggingface_hub import HfApi

from catalog.management.commands.loadcatalogdemo import DEMO, sample_bytes, sample_name
from catalog.models import Dataset
from tests.factories import committed

pytestmark = pytest.mark.django_db


def test_every_demo_dataset_is_on_the_hub_as_the_catalog_says(devhub, source_server, settings, tmp_path):
    settings.PORTAL_DEMO_DATA_DIR = tmp_path / "demo-data"
    for entry in DEMO:
        if entry["hosted"]:
            source_server.add_bytes("/" + sample_name(entry), sample_bytes(entry), content_type="text/csv")
    with committed():
        call_command("loadcatalogdemo", source_url=source_server.url("/"))

    anonymous = HfApi(endpoint=devhub.url, token=False)
    public = {info.id for info in anonymous.list_datasets(author=settings.HUB_ORGANIZATION)}
    datasets = list(Dataset.objects.all())
    assert len(datasets) == len(DEMO)
    for dataset in datasets:
        assert dataset.published_at is not None, dataset.slug
        assert dataset.repo_id in public
        files = {
            item.path: item
            for item in anonymous.list_repo_tree(dataset.repo_id, repo_type="dataset", recursive=True)
        }
        assert "README.md" in files
        for entry in dataset.manifest:
            assert files[entry["path"]].size == entry["size"]
        if dataset.hosted:
            assert dataset.manifest and (settings.PORTAL_DEMO_DATA_DIR / "catalog").is_dir()
    # Running it again changes nothing: everything is published.
    call_command("loadcatalogdemo", source_url=source_server.url("/"))
    assert Dataset.objects.count() == len(DEMO)


def test_the_demo_catalog_is_never_published_to_the_real_hub(settings):
    settings.HF_TOKEN = "hf_real"
    settings.HF_ENDPOINT = "https://huggingface.co"
    with pytest.raises(CommandError, match=r"never to huggingface\.co"):
        call_command("loadcatalogdemo")
    assert not Dataset.objects.exists()
