"""The curators' review workflow under generated input: every admin route of a submission (the review page and
each action) with ids that are not numbers, huge or unknown, submissions claimed by another curator, junk
in every field, and the review queue with junk filters. Never a server error; a refused action changes
nothing. Run with DEBUG on and with the production settings.
"""

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from submissions import services
from tests.factories import OFFLINE_OVERRIDE, changes_requested, committed, confirmed, in_review
from tests.generated import junk_field, junk_id, junk_params, stored
from tests.production import HTTPS_HEADERS

pytestmark = pytest.mark.django_db

QUEUE = "/admin/submissions/submission/"
# Each action route with the fields its form reads (approve also reads the checklist's items).
ACTIONS = {
    "claim": [],
    "assign": ["curator"],
    "message": ["text", "public"],
    "request-changes": ["message"],
    "approve": [
        "licence_compatible",
        "no_personal_data",
        "provenance_stated",
        "card_usable",
        "personal_data_reviewed",
        "override_reason",
        "concerns_override",
        "note",
        "unpack_archives",
    ],
    "reject": ["reason"],
    "retry-mirror": [],
    "change-location": ["location", "checksums", "message"],
    "rerun-checks": [],
    "accept-correction": ["note"],
    "decline-correction": ["reason"],
    "retry-correction": [],
}
QUEUE_FILTERS = [
    "q",
    "o",
    "p",
    "e",
    "all",
    "state",
    "state__exact",
    "domain__id__exact",
    "assignee",
    "open",
    "correction",
    "confirmation",
    "suggested",
    "modality",
    "hosting_wanted__exact",
    "check_summary__exact",
]
ANSWERS = {200, 302, 400, 403, 404, 405}


@pytest.fixture
def review(mode, curator, other_curator, queued_mirrors):
    """Alice's admin client and submissions in each state: unclaimed, hers, Bob's, sent back, failed."""
    failed, _ = in_review(curator, name="Harbour levels that failed")
    with committed():
        services.approve(
            failed,
            by=curator,
            checklist=services.ReviewChecklist.all_ticked(),
            concerns_override=OFFLINE_OVERRIDE,
        )
        services.mark_mirror_failed(failed, reason="The Hub answered 403.")
    ids = [
        str(confirmed(name="Harbour levels unclaimed")[0].pk),
        str(in_review(curator, name="Harbour levels of Alice")[0].pk),
        str(in_review(other_curator, name="Harbour levels of Bob")[0].pk),
        str(changes_requested(curator, name="Harbour levels sent back")[0].pk),
        str(failed.pk),
    ]
    client = Client(**HTTPS_HEADERS)
    client.force_login(curator)
    return client, ids, other_curator


def messages_of(response):
    return [message.level_tag for message in response.wsgi_request._messages]


@settings(max_examples=100)  # a dozen routes, each with its own fields
@given(
    action=st.sampled_from(sorted(ACTIONS)),
    which=st.one_of(st.integers(min_value=0, max_value=4), junk_id),
    data=st.data(),
)
def test_every_review_action_refuses_junk_without_changing_anything(review, media_root, action, which, data):
    client, ids, _ = review
    object_id = ids[which] if isinstance(which, int) else which
    fields = data.draw(junk_params(ACTIONS[action], extra=False))
    before = stored(media_root)
    with committed():
        response = client.post(f"{QUEUE}{object_id}/{action}/", fields)
    assert response.status_code in ANSWERS, (action, object_id, response.status_code)
    if "success" not in messages_of(response):
        assert stored(media_root) == before, (action, object_id, fields)


@given(
    which=st.one_of(st.integers(min_value=0, max_value=4), junk_id),
    params=junk_params(["_changelist_filters"]),
)
def test_every_review_page_answers_any_id(review, which, params):
    client, ids, _ = review
    object_id = ids[which] if isinstance(which, int) else which
    for path in (f"{QUEUE}{object_id}/change/", f"{QUEUE}{object_id}/history/", f"{QUEUE}{object_id}/"):
        response = client.get(path, params)
        assert response.status_code in ANSWERS, (path, response.status_code)
    assert client.get(f"{QUEUE}{object_id}/claim/").status_code in (302, 404, 405)


@settings(max_examples=60)  # one request each, over sixteen filters
@given(params=junk_params(QUEUE_FILTERS))
def test_the_review_queue_answers_any_filter(review, params):
    client, _, _ = review
    response = client.get(QUEUE, params)
    assert response.status_code in (200, 302, 400), response.status_code


@given(
    selected=st.lists(st.one_of(st.integers(min_value=0, max_value=4), junk_id), max_size=8),
    action=junk_field,
)
def test_the_queues_bulk_actions_refuse_junk_without_changing_anything(review, media_root, selected, action):
    client, ids, _ = review
    chosen = [ids[item] if isinstance(item, int) else item for item in selected]
    before = stored(media_root)
    with committed():
        response = client.post(QUEUE, {"action": action, "_selected_action": chosen, "index": "0"})
    assert response.status_code in (200, 302), response.status_code
    if "success" not in messages_of(response):
        assert stored(media_root) == before
