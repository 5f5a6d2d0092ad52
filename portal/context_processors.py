"""Template context shared by every page."""

from django.conf import settings


def portal(request):
    """Expose the portal's name to templates."""
    return {"portal_name": settings.PORTAL_NAME}
