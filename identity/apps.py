from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    """Sign-in with OpenID Connect: ORCID for contributors, the institution's provider for curators."""

    name = "identity"
    verbose_name = _("Sign-in")

    def ready(self):
        from allauth.account.signals import user_logged_in

        from identity import curator_rights

        user_logged_in.connect(curator_rights.on_sign_in, dispatch_uid="identity-curator-rights")
