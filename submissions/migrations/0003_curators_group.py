"""Create the Curators group with exactly the permissions the review work needs."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CURATOR_PERMISSIONS = [
    ("submissions", "review_submission"),
    ("submissions", "view_submission"),
    ("submissions", "change_submission"),
    ("submissions", "view_cardrevision"),
    ("submissions", "view_event"),
    ("submissions", "view_checkresult"),
    ("submissions", "view_domain"),
    ("submissions", "add_domain"),
    ("submissions", "change_domain"),
    ("submissions", "view_termsversion"),
]


def create_group(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the group needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Curators")
    for app_label, codename in CURATOR_PERMISSIONS:
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Curators").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0002_seed_domains_and_terms"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
