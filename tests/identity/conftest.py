"""A real OpenID Connect provider on 127.0.0.1 (devhub.oidc) with the portal configured to use it, and a sign-in
driven through the Django test client: the client posts to the portal, the provider answers over real HTTP,
and the callback goes back through the client, so allauth's own client code talks to a real server."""

from urllib.parse import urlsplit

import pytest
import requests

from devhub.oidc import Client, OIDCProvider, Realm, User, orcid_id, redirect_uris

RESEARCHER_ORCID = orcid_id(1_0002_1825_009)
CURATOR_SUB = "curator-0001"
ORCID_CLIENT = ("APP-TEST0000PORTAL", "orcid-test-secret")
INSTITUTION_CLIENT = ("portal-test", "institution-test-secret")


def researcher():
    return User(
        sub=RESEARCHER_ORCID,
        claims={"name": "Ada Okafor", "given_name": "Ada", "family_name": "Okafor"},
    )


def curator_user(groups=("curators",), email="casey@institution.example"):
    return User(
        sub=CURATOR_SUB,
        claims={
            "name": "Casey Curator",
            "given_name": "Casey",
            "family_name": "Curator",
            "preferred_username": "casey",
            "email": email,
            "email_verified": True,
            "groups": list(groups),
        },
    )


@pytest.fixture
def oidc(settings):
    """The provider with an ORCID realm and an institution realm; the portal's settings point at it."""
    portal = ["http://testserver"]
    realms = [
        Realm(
            name="orcid",
            title="ORCID",
            users=[researcher()],
            clients=[Client(*ORCID_CLIENT, redirect_uris=redirect_uris(portal, "orcid"))],
            scopes=("openid",),
        ),
        Realm(
            name="institution",
            title="Institution",
            users=[curator_user()],
            clients=[Client(*INSTITUTION_CLIENT, redirect_uris=redirect_uris(portal, "institution"))],
        ),
    ]
    with OIDCProvider(realms) as provider:
        settings.ORCID_BASE_URL = provider.issuer("orcid")
        settings.ORCID_CLIENT_ID, settings.ORCID_CLIENT_SECRET = ORCID_CLIENT
        settings.OIDC_ISSUER = provider.issuer("institution")
        settings.OIDC_CLIENT_ID, settings.OIDC_CLIENT_SECRET = INSTITUTION_CLIENT
        settings.OIDC_PROVIDER_NAME = "Example University"
        yield provider


def start_sign_in(client, app, *, next_url=None):
    """POST the portal's sign-in button; return the provider's authorize URL it redirects to."""
    url = f"/accounts/oidc/{app}/login/" + (f"?next={next_url}" if next_url else "")
    response = client.post(url)
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def at_provider(authorize_url, *, user):
    """The browser at the provider: pick `user`; return the provider's answer (a redirect, or a page)."""
    return requests.get(authorize_url, params={"user": user}, allow_redirects=False, timeout=10)


def back_to_portal(client, location, **kwargs):
    """Follow the provider's redirect to the portal's callback with the test client."""
    parts = urlsplit(location)
    assert parts.netloc == "testserver", location
    return client.get(f"{parts.path}?{parts.query}", **kwargs)


def sign_in(client, app, *, user, next_url=None, follow=True):
    """A whole sign-in: button, provider, callback. Returns the portal's last response."""
    answer = at_provider(start_sign_in(client, app, next_url=next_url), user=user)
    assert answer.status_code == 302, answer.text[:500]
    return back_to_portal(client, answer.headers["Location"], follow=follow)
