from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubmissionsConfig(AppConfig):
    """Contribution form, review workflow and status tracking."""

    name = "submissions"
    verbose_name = _("Submissions")
