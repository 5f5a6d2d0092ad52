"""Sign-in in the admin: linked accounts can be read; the apps come from the settings, not from the database."""

from allauth.socialaccount.models import SocialApp, SocialToken
from django.contrib import admin

# Apps are configured by environment variables (identity.providers) and tokens are never stored: their admin
# pages would only mislead.
for model in (SocialApp, SocialToken):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
