"""Sign-in with ORCID and with the institution's OpenID Connect provider, end to end against devhub.oidc."""

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from submissions.curators import CURATORS_GROUP, is_curator
from tests.identity.conftest import (
    CURATOR_SUB,
    RESEARCHER_ORCID,
    at_provider,
    back_to_portal,
    curator_user,
    sign_in,
    start_sign_in,
)

pytestmark = pytest.mark.django_db

User = get_user_model()


def signed_in_user(client):
    return client.get("/").wsgi_request.user


def test_orcid_sign_in_creates_an_account_linked_to_the_orcid_id(client, oidc):
    response = sign_in(client, "orcid", user=RESEARCHER_ORCID)
    assert response.status_code == 200
    user = signed_in_user(client)
    assert user.is_authenticated and not user.is_staff
    account = SocialAccount.objects.get(user=user)
    assert account.provider == "orcid" and account.uid == RESEARCHER_ORCID
    assert (user.first_name, user.last_name) == ("Ada", "Okafor")


def test_second_orcid_sign_in_finds_the_same_account(client, oidc):
    sign_in(client, "orcid", user=RESEARCHER_ORCID)
    client.post("/accounts/logout/")
    assert not signed_in_user(client).is_authenticated
    sign_in(client, "orcid", user=RESEARCHER_ORCID)
    assert signed_in_user(client).is_authenticated
    assert User.objects.count() == 1 and SocialAccount.objects.count() == 1


def test_institution_sign_in_with_the_curators_group_makes_a_curator(client, oidc):
    response = sign_in(client, "institution", user=CURATOR_SUB, next_url="/admin/")
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/admin/"
    user = signed_in_user(client)
    assert user.is_staff and is_curator(user)
    assert user.groups.filter(name=CURATORS_GROUP).exists()
    assert b"Review queue" in response.content or b"submissions" in response.content.lower()


def test_curator_who_loses_the_group_loses_curator_rights_at_the_next_sign_in(client, oidc):
    sign_in(client, "institution", user=CURATOR_SUB)
    assert is_curator(User.objects.get())
    client.post("/accounts/logout/")
    oidc.realm("institution").users[:] = [curator_user(groups=("library",))]
    response = sign_in(client, "institution", user=CURATOR_SUB)
    user = User.objects.get()
    assert not user.is_staff and not user.groups.filter(name=CURATORS_GROUP).exists()
    assert "does not list you in the curators" in response.content.decode()
    assert client.get("/admin/").status_code == 302  # back to the admin's sign-in page


def test_keycloak_style_group_paths_count(client, oidc, settings):
    oidc.realm("institution").users[:] = [curator_user(groups=("/staff/curators",))]
    sign_in(client, "institution", user=CURATOR_SUB)
    assert is_curator(User.objects.get())


def test_institution_sign_in_links_an_existing_account_with_the_same_verified_email(client, oidc):
    existing = User.objects.create_user("alice", email="casey@institution.example", password="old-password-1")
    sign_in(client, "institution", user=CURATOR_SUB)
    assert signed_in_user(client).pk == existing.pk
    assert SocialAccount.objects.get().user_id == existing.pk
    assert User.objects.count() == 1


def test_orcid_sign_in_never_links_by_email_nor_grants_curator_rights(client, oidc):
    oidc.realm("orcid").users[0].claims.update(
        email="casey@institution.example", email_verified=True, groups=["curators"]
    )
    existing = User.objects.create_user("alice", email="casey@institution.example")
    sign_in(client, "orcid", user=RESEARCHER_ORCID)
    user = signed_in_user(client)
    assert user.pk != existing.pk and not user.is_staff and not is_curator(user)


def test_superuser_keeps_rights_without_the_group(client, oidc):
    boss = User.objects.create_superuser("boss", email="casey@institution.example", password="x-1234567")
    oidc.realm("institution").users[:] = [curator_user(groups=())]
    sign_in(client, "institution", user=CURATOR_SUB)
    boss.refresh_from_db()
    assert boss.is_superuser and boss.is_staff


def test_admin_sign_in_page_offers_the_institution(client, oidc):
    page = client.get("/admin/login/?next=/admin/").content.decode()
    assert "Sign in with Example University" in page
    assert 'name="password"' in page  # passwords stay on by default


def test_without_oidc_settings_the_admin_sign_in_is_unchanged(client, settings, curator):
    settings.OIDC_ISSUER = settings.OIDC_CLIENT_ID = settings.ORCID_CLIENT_ID = ""
    page = client.get("/admin/login/").content.decode()
    assert "Sign in with" not in page and 'name="password"' in page
    curator.set_password("secret-pass-123")
    curator.save()
    response = client.post("/admin/login/?next=/admin/", {"username": "alice", "password": "secret-pass-123"})
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_staff_password_login_off_hides_the_form_and_refuses_password_posts(client, oidc, settings, curator):
    settings.STAFF_PASSWORD_LOGIN = False
    curator.set_password("secret-pass-123")
    curator.save()
    page = client.get("/admin/login/").content.decode()
    assert 'name="password"' not in page and "Sign in with Example University" in page
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "alice", "password": "secret-pass-123"}, follow=True
    )
    assert "Signing in with a password is switched off here" in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated
    assert "_auth_user_id" not in client.session


def test_password_posts_to_allauth_are_refused(client, oidc, curator):
    curator.set_password("secret-pass-123")
    curator.save()
    response = client.post("/accounts/login/", {"login": "alice", "password": "secret-pass-123"})
    assert response.status_code == 405
    assert "_auth_user_id" not in client.session


def test_next_goes_only_to_local_paths(client, oidc):
    response = sign_in(client, "orcid", user=RESEARCHER_ORCID, next_url="https://evil.example/", follow=False)
    assert response.status_code == 302 and response["Location"] == "/"


def test_sign_in_page_lists_both_providers(client, oidc):
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with ORCID" in page and "Sign in with Example University" in page


# Bad answers: a clear message, no account, no session ------------------------------------------------------


def assert_refused(response, text):
    page = response.content.decode()
    assert response.status_code == 401, page[:300]
    assert text in page, page
    assert User.objects.count() == 0 and SocialAccount.objects.count() == 0
    assert "_auth_user_id" not in response.client.session


@pytest.mark.parametrize(
    ("fault", "text"),
    [
        ("wrong_key", "does not match the provider"),
        ("expired", "has expired"),
        ("wrong_audience", "issued for another application"),
        ("wrong_nonce", "belongs to another sign-in"),
        ("wrong_issuer", "issued by another provider"),
        ("userinfo_other_sub", "names another person"),
    ],
)
@pytest.mark.parametrize("app", ["orcid", "institution"])
def test_a_bad_token_signs_nobody_in(client, oidc, app, fault, text):
    oidc.set_faults(app, fault)
    user = RESEARCHER_ORCID if app == "orcid" else CURATOR_SUB
    assert_refused(sign_in(client, app, user=user), text)


def test_a_state_that_does_not_match_signs_nobody_in(client, oidc):
    answer = at_provider(start_sign_in(client, "orcid"), user=RESEARCHER_ORCID)
    location = answer.headers["Location"].replace("state=", "state=forged")
    assert_refused(back_to_portal(client, location), "was not started in this browser")


def test_a_callback_in_another_browser_signs_nobody_in(client, oidc, django_user_model):
    from django.test import Client

    answer = at_provider(start_sign_in(client, "orcid"), user=RESEARCHER_ORCID)
    assert_refused(back_to_portal(Client(), answer.headers["Location"]), "was not started in this browser")


def test_a_replayed_callback_signs_nobody_in_twice(client, oidc):
    answer = at_provider(start_sign_in(client, "orcid"), user=RESEARCHER_ORCID)
    back_to_portal(client, answer.headers["Location"])
    client.post("/accounts/logout/")
    response = back_to_portal(client, answer.headers["Location"])
    assert response.status_code == 401
    assert "_auth_user_id" not in client.session


def test_a_provider_that_answers_500_is_explained(client, oidc):
    oidc.set_faults("institution", "down")
    response = client.post("/accounts/oidc/institution/login/")
    assert_refused(response, "Example University did not answer")


def test_a_token_endpoint_error_is_explained(client, oidc):
    oidc.set_faults("orcid", "token_error")
    assert_refused(sign_in(client, "orcid", user=RESEARCHER_ORCID), "ORCID did not complete the sign-in")


def test_a_provider_that_is_not_running_is_explained(client, oidc, settings):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.OIDC_ISSUER = f"http://127.0.0.1:{port}/institution"
    assert_refused(client.post("/accounts/oidc/institution/login/"), "Example University did not answer")


def test_a_provider_that_goes_down_during_the_sign_in_is_explained(client, oidc):
    answer = at_provider(start_sign_in(client, "institution"), user=CURATOR_SUB)
    oidc.set_faults("institution", "down")
    assert_refused(back_to_portal(client, answer.headers["Location"]), "Example University did not answer")


def test_a_discovery_document_of_another_issuer_is_refused(client, oidc):
    oidc.set_faults("institution", "discovery_other_issuer")
    assert_refused(client.post("/accounts/oidc/institution/login/"), "not set up as the portal expects")


def test_an_orcid_subject_that_is_not_an_orcid_id_is_refused(client, oidc, settings):
    settings.ORCID_BASE_URL = oidc.issuer("institution")
    settings.ORCID_CLIENT_ID, settings.ORCID_CLIENT_SECRET = (
        settings.OIDC_CLIENT_ID,
        settings.OIDC_CLIENT_SECRET,
    )
    realm = oidc.realm("institution")
    realm.clients[0].redirect_uris += ("http://testserver/accounts/oidc/orcid/login/callback/",)
    assert_refused(sign_in(client, "orcid", user=CURATOR_SUB), "not an ORCID iD")


def test_cancelling_at_the_provider_signs_nobody_in(client, oidc):
    import requests

    authorize = start_sign_in(client, "orcid")
    answer = requests.get(authorize, params={"deny": "1"}, allow_redirects=False, timeout=10)
    response = back_to_portal(client, answer.headers["Location"], follow=True)
    assert "You cancelled the sign-in" in response.content.decode()
    assert User.objects.count() == 0


def test_an_unregistered_redirect_uri_is_not_followed_by_the_provider(client, oidc):
    oidc.realm("orcid").clients[0].redirect_uris = ("http://elsewhere.example/callback/",)
    answer = at_provider(start_sign_in(client, "orcid"), user=RESEARCHER_ORCID)
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_pkce_and_nonce_are_sent(client, oidc):
    from urllib.parse import parse_qs, urlsplit

    query = parse_qs(urlsplit(start_sign_in(client, "institution")).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert len(query["nonce"][0]) >= 32 and len(query["state"][0]) >= 16
    assert set(query["scope"][0].split()) == {"openid", "profile", "email"}


def test_the_curators_group_exists(db):
    assert Group.objects.filter(name=CURATORS_GROUP).exists()
