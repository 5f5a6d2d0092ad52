"""allauth's OpenID Connect provider, with a nonce, full ID-token checks and a clear page when the provider is down.

Named by SOCIALACCOUNT_PROVIDERS["openid_connect"]["provider_class"], so each app (ORCID, the institution)
keeps allauth's flow (state in the session, PKCE, account creation and linking) and its URL names; the
login and callback views are this package's (urls.py), which use the adapter below.
"""

import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter

from identity.oidc.errors import SignInFailed
from identity.oidc.tokens import fetch_json, nonce_for, verify_id_token


class PortalOpenIDConnectAdapter(OpenIDConnectOAuth2Adapter):
    """Fetches the discovery document, exchanges the code and checks every token the provider sends."""

    @property
    def openid_config(self):
        """The provider's discovery document; its issuer must be the one configured (OpenID Discovery 4.3)."""
        if not hasattr(self, "_openid_config"):
            provider = self.get_provider()
            with get_adapter().get_requests_session() as session:
                config = fetch_json(session, provider.server_url)
            expected = provider.app.settings["server_url"].rstrip("/")
            if str(config.get("issuer", "")).rstrip("/") != expected:
                raise SignInFailed("discovery")
            for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(config.get(endpoint), str):
                    raise SignInFailed("discovery")
            self._openid_config = config
        return self._openid_config

    def get_access_token_data(self, request, app, client, pkce_code_verifier=None):
        """Exchange the code; a refusal or an error page of the token endpoint stops the sign-in."""
        try:
            return super().get_access_token_data(request, app, client, pkce_code_verifier=pkce_code_verifier)
        except SignInFailed:
            raise
        except requests.RequestException:
            raise SignInFailed("unavailable") from None
        except OAuth2Error:
            # allauth's message holds the endpoint's answer: never shown or logged as it is.
            raise SignInFailed("token_refused") from None

    def complete_login(self, request, app, token, **kwargs):
        """Check the ID token (and the userinfo answer, which must name the same subject); build the login."""
        id_token = kwargs["response"].get("id_token")
        if not id_token:
            raise SignInFailed("no_id_token")
        with get_adapter().get_requests_session() as session:
            claims = verify_id_token(
                id_token,
                session=session,
                config=self.openid_config,
                client_id=app.client_id,
                nonce=nonce_for(request.GET.get("state", "")),
            )
        data = {"id_token": claims}
        if app.settings.get("fetch_userinfo", True) and self.openid_config.get("userinfo_endpoint"):
            try:
                userinfo = self._fetch_user_info(token.token)
            except requests.RequestException:
                raise SignInFailed("unavailable") from None
            except ValueError:
                raise SignInFailed("userinfo") from None
            if not isinstance(userinfo, dict) or userinfo.get("sub") != claims["sub"]:
                raise SignInFailed("userinfo")
            data["userinfo"] = userinfo
        return self.get_provider().sociallogin_from_response(request, data)


class PortalOpenIDConnectProvider(OpenIDConnectProvider):
    """An OpenID Connect app of the portal: ORCID or the institution's provider."""

    package = "identity.oidc"
    oauth2_adapter_class = PortalOpenIDConnectAdapter
    pkce_enabled_default = True

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        """Send the browser to the provider with a nonce bound to this sign-in's state."""
        state_id = get_adapter().generate_state_param({})
        auth_params = kwargs.pop("auth_params", None)
        auth_params = dict(auth_params if auth_params is not None else self.get_auth_params())
        auth_params["nonce"] = nonce_for(state_id)
        try:
            return super().redirect(
                request, process, next_url, data, auth_params=auth_params, state_id=state_id, **kwargs
            )
        except SignInFailed as exc:
            return render_authentication_error(request, self, exception=exc)
        except requests.RequestException:
            return render_authentication_error(request, self, exception=SignInFailed("unavailable"))

    def get_scope(self):
        """The app's scopes; `openid` always."""
        scope = super().get_scope()
        return scope if "openid" in scope else ["openid", *scope]


provider_classes = [PortalOpenIDConnectProvider]
