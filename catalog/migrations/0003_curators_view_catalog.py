"""Let curators read the catalog's datasets and mirror jobs (to follow publications) in the admin."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = ["view_dataset", "view_mirrorjob"]


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Curators")
    group.permissions.add(*Permission.objects.filter(content_type__app_label="catalog", codename__in=PERMISSIONS))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="Curators"):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="catalog", codename__in=PERMISSIONS)
        )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_catalog_search"), ("submissions", "0003_curators_group")]

    operations = [migrations.RunPython(grant, revoke)]
