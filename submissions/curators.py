"""Who is a curator: the Curators group (created by a migration) and its permission to review."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

CURATORS_GROUP = "Curators"
REVIEW_PERMISSION = "submissions.review_submission"


def make_curator(user):
    """Give a user access to the review queue: staff status and membership of the Curators group."""
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user.groups.add(Group.objects.get(name=CURATORS_GROUP))
    return user


def revoke_curator(user):
    """Take access to the review queue away: out of the Curators group, and no staff status."""
    user.groups.remove(*Group.objects.filter(name=CURATORS_GROUP))
    if user.is_staff:
        user.is_staff = False
        user.save(update_fields=["is_staff"])
    return user


def is_curator(user):
    """Whether a user may work the review queue."""
    return bool(user and user.is_active and user.is_staff and user.has_perm(REVIEW_PERMISSION))


def curator_users():
    """Return the users who may work the review queue, as `is_curator` decides for one user."""
    app_label, codename = REVIEW_PERMISSION.split(".")
    permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .filter(
            Q(is_superuser=True) | Q(user_permissions__in=permission) | Q(groups__permissions__in=permission)
        )
        .distinct()
    )
