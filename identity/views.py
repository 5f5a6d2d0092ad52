"""The admin's sign-in page: "Sign in with <institution>", and the password form only where STAFF_PASSWORD_LOGIN allows."""

from django.conf import settings
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from identity import providers


@never_cache
@csrf_protect
def admin_login(request, extra_context=None):
    """The admin's login view, with the institution's button; a password POST is refused when passwords are off.

    Passwords that remain go through the admin's own view, so django-axes counts their failures as before.
    """
    if request.method == "POST" and not settings.STAFF_PASSWORD_LOGIN:
        messages.error(
            request,
            _("Signing in with a password is switched off here. Sign in with {provider}.").format(
                provider=settings.OIDC_PROVIDER_NAME
            ),
        )
        return redirect(request.get_full_path())
    context = {
        "institution_sign_in": providers.institution_button(),
        "password_sign_in": settings.STAFF_PASSWORD_LOGIN,
        **(extra_context or {}),
    }
    return admin.site.login(request, extra_context=context)
