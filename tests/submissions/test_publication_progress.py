"""The contributor follows the publication on the status page: step, progress bar, then the links."""

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import MirrorJob
from submissions import services
from tests.factories import OFFLINE_OVERRIDE, committed, in_review, make_curator_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def mirroring(queued_mirrors):
    curator = make_curator_user()
    submission, token = in_review(curator)
    with committed():
        services.approve(
            submission,
            by=curator,
            checklist=services.ReviewChecklist.all_ticked(),
            concerns_override=OFFLINE_OVERRIDE,
        )
    services.start_mirroring(submission)
    job = MirrorJob.objects.get(dataset__submission=submission)
    MirrorJob.objects.filter(pk=job.pk).update(
        step=MirrorJob.Step.UPLOAD, bytes_fetched=1000, bytes_uploaded=250, bytes_total=1000
    )
    return submission, token, job


def test_status_page_shows_the_step_and_a_progress_bar(mirroring):
    _, token, _ = mirroring
    html = Client().get(f"/status/{token}/").content.decode()
    assert "Being published to the Hub" in html
    assert "Uploading to the Hub" in html
    assert 'aria-valuenow="25"' in html
    assert f'data-progress-url="/status/{token}/progress.json"' in html
    assert "portal/progress.js" in html


def test_progress_json_follows_the_job_and_is_private(mirroring):
    _, token, _ = mirroring
    response = Client().get(f"/status/{token}/progress.json")
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "no-referrer" and "no-store" in response["Cache-Control"]
    data = response.json()
    assert data["state"] == "mirroring"
    assert data["step"] == "upload" and data["percent"] == 25 and not data["published"]
    assert Client().get("/status/not-a-token/progress.json").status_code == 404


def test_published_status_links_to_the_hub_and_the_catalog(mirroring, settings):
    submission, token, job = mirroring
    dataset = job.dataset
    dataset.published_at = timezone.now()
    dataset.save()
    with committed():
        services.mark_published(
            submission, hub_url="https://hub.example/x", catalog_url="http://testserver/x"
        )
    data = Client().get(f"/status/{token}/progress.json").json()
    assert data["published"] and data["hub_url"].endswith(f"/datasets/{dataset.repo_id}")
    assert data["catalog_url"] == dataset.get_absolute_url()
    html = Client().get(f"/status/{token}/").content.decode()
    assert f'href="{dataset.get_absolute_url()}"' in html
