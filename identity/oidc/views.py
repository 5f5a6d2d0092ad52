"""The login and callback views of the portal's OpenID Connect apps (allauth's, with the portal's adapter)."""

from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.http import Http404

from identity.oidc.errors import SignInFailed
from identity.oidc.provider import PortalOpenIDConnectAdapter


class CallbackView(OAuth2CallbackView):
    """allauth's callback; a failure before the code exchange (the provider's discovery document, fetched to
    build the token client) gets the same explained page as one after it."""

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except SignInFailed as exc:
            return render_authentication_error(request, self.adapter.get_provider(), exception=exc)


@login_not_required
def login(request, provider_id):
    """Start a sign-in: POST sends the browser to the provider (GET shows allauth's confirmation page)."""
    try:
        return OAuth2LoginView.adapter_view(PortalOpenIDConnectAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None


@login_not_required
def callback(request, provider_id):
    """The provider sends the browser back here with a code and the state."""
    try:
        return CallbackView.adapter_view(PortalOpenIDConnectAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None
