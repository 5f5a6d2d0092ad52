"""Let curators read correction requests and the card updates they cause (to follow them) in the admin."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = [("catalog", "view_cardupdate"), ("submissions", "view_correctionrequest")]


def _permissions(Permission):
    for app_label, codename in PERMISSIONS:
        yield Permission.objects.get(content_type__app_label=app_label, codename=codename)


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.get_or_create(name="Curators")
    group.permissions.add(*_permissions(apps.get_model("auth", "Permission")))


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name="Curators"):
        group.permissions.remove(*_permissions(Permission))


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0007_usage_history_and_card_updates"),
        ("submissions", "0007_correction_requests"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
