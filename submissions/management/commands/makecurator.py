"""Add an existing user to the Curators group (and make them staff), or create one with --create."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from submissions.curators import make_curator


class Command(BaseCommand):
    help = "Give a user access to the curators' review queue."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--create", action="store_true", help="Create the user; you are asked for a password."
        )
        parser.add_argument("--email", default="")

    def handle(self, *args, username, create=False, email="", **options):
        user_model = get_user_model()
        try:
            user = user_model.objects.get(username=username)
        except user_model.DoesNotExist:
            if not create:
                raise CommandError(f"No user “{username}”. Pass --create to create it.") from None
            user = user_model.objects.create_user(username=username, email=email)
            user.set_unusable_password()
            user.save()
            self.stdout.write(
                f"Created “{username}”; set a password with: manage.py changepassword {username}"
            )
        make_curator(user)
        self.stdout.write(self.style.SUCCESS(f"“{username}” is now a curator."))
