"""A quality bar (docs/developing/design.md, "Quality bars"): under 50 concurrent submissions every submission, card file and e-mail is there."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from submissions.models import CardRevision, Domain, Submission
from tests.conftest import stored_files
from tests.factories import GOOD_CARD

pytestmark = pytest.mark.django_db(transaction=True)

CONTRIBUTORS = 50


def test_fifty_concurrent_submissions_are_all_stored_and_confirmed(media_root):
    domain = Domain.objects.get(name="Marine").pk
    start = threading.Barrier(CONTRIBUTORS)

    def contribute(number):
        client = Client()
        data = {
            "submission_key": str(uuid.uuid4()),
            "name": f"Concurrent harbour series {number:02d} {uuid.uuid4().hex[:6]}",
            "location": f"https://data.harbour.example/{number}.csv",
            "hosting_wanted": "on",
            "card": SimpleUploadedFile("README.md", GOOD_CARD.encode(), content_type="text/markdown"),
            "modalities": ["text"],
            "domain": str(domain),
            "suggested_domain": "",
            "contact_email": f"contributor{number}@example.org",
            "accept_terms": "on",
        }
        try:
            start.wait(timeout=30)
            response = client.post("/contribute/", data)
            return response.status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=CONTRIBUTORS) as pool:
        statuses = list(pool.map(contribute, range(CONTRIBUTORS)))

    assert statuses == [302] * CONTRIBUTORS
    assert Submission.objects.count() == CONTRIBUTORS
    assert Submission.objects.values("reference").distinct().count() == CONTRIBUTORS
    assert CardRevision.objects.count() == CONTRIBUTORS
    assert len(stored_files(media_root)) == CONTRIBUTORS
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        f"contributor{number}@example.org" for number in range(CONTRIBUTORS)
    )
