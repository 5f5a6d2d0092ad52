"""Curators adopt contributors' suggested domains; sign-in links cannot flood an inbox."""

import pytest
from django.core import mail

from submissions import services
from submissions.models import Domain, SignInLink, Submission
from tests.factories import committed, confirmed, make_curator_user, submit

pytestmark = pytest.mark.django_db


def test_adopt_suggested_domain_from_the_queue(client):
    curator = make_curator_user()
    submission, _ = confirmed()  # the queue lists confirmed submissions by default
    Submission.objects.filter(pk=submission.pk).update(domain=None, suggested_domain="Cultural heritage")
    client.force_login(curator)
    response = client.post(
        "/admin/submissions/submission/",
        {"action": "adopt_suggested_domains", "_selected_action": [submission.pk]},
        follow=True,
    )
    assert "Added to the curated domains: Cultural heritage." in response.content.decode()
    domain = Domain.objects.get(name="Cultural heritage")
    assert domain.active and domain.group == Domain.Group.OTHER
    form = client.get("/contribute/").content.decode()
    assert "Cultural heritage" in form


def test_adopting_an_existing_name_reactivates_it_instead_of_duplicating():
    curator = make_curator_user()
    Domain.objects.filter(name="Legal").update(active=False)
    domain = services.adopt_domain("legal", by=curator)
    assert domain.name == "Legal" and domain.active
    assert Domain.objects.filter(name__iexact="legal").count() == 1


@pytest.mark.parametrize("name", ["", "x", "y" * 61])
def test_adopting_a_bad_name_is_refused(name):
    with pytest.raises(services.InvalidTransition, match="2 to 60 characters"):
        services.adopt_domain(name, by=make_curator_user())


def test_sign_in_links_are_limited_per_address_and_hour(client):
    submit(email="busy@example.org")
    mail.outbox.clear()
    for _ in range(services.SIGN_IN_LINKS_PER_HOUR + 3):
        with committed():
            response = client.post("/my-submissions/", {"email": "busy@example.org"})
        assert "Check your e-mail" in response.content.decode()
    assert len(mail.outbox) == services.SIGN_IN_LINKS_PER_HOUR
    assert SignInLink.objects.count() == services.SIGN_IN_LINKS_PER_HOUR
