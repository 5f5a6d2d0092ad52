"""The contributor follows the publication on the status page: step, progress bar, then the links."""

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import MirrorBatch, MirrorJob
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
    MirrorJob.objects.filter(pk=job.pk).update(step=MirrorJob.Step.COPY)
    # Two batches: the first is done, the second has fetched its files and sent half of them.
    MirrorBatch.objects.create(
        job=job, index=0, state="done", bytes_fetched=600, bytes_uploaded=600, bytes_total=600
    )
    MirrorBatch.objects.create(
        job=job, index=1, state="commit", bytes_fetched=400, bytes_uploaded=200, bytes_total=400
    )
    return submission, token, job


def test_status_page_shows_the_step_and_a_progress_bar(mirroring):
    _, token, _ = mirroring
    html = Client().get(f"/status/{token}/").content.decode()
    assert "Being published to the Hub" in html
    assert "Copying the files to the Hub" in html
    assert "1 of 2 batches of files done" in html
    # Half the way is fetching, half uploading: (1000 fetched + 800 sent) / 2 of 1000 bytes.
    assert 'aria-valuenow="90"' in html
    assert f'data-progress-url="/status/{token}/progress.json"' in html
    assert "portal/progress.js" in html


def test_progress_json_follows_the_job_and_is_private(mirroring):
    _, token, _ = mirroring
    response = Client().get(f"/status/{token}/progress.json")
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "no-referrer" and "no-store" in response["Cache-Control"]
    data = response.json()
    assert data["state"] == "mirroring"
    assert data["step"] == "copy" and data["percent"] == 90 and not data["published"]
    assert (data["batches"], data["batches_done"]) == (2, 1)
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
