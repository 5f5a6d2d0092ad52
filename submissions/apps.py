from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    """Contribution form, review workflow and status tracking."""

    name = "submissions"
    verbose_name = "Submissions"
