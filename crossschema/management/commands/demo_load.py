from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from crossschema.demo import DEMO_PASSWORD, DEMO_SIGN_IN, demo_load


class Command(BaseCommand):
    help = "Load the demo society, groups and members (idempotent; development only)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--allow-without-debug", action="store_true", help="Load even though DEBUG is off."
        )

    def handle(self, *args: object, allow_without_debug: bool, **options: object) -> None:
        if not settings.DEBUG and not allow_without_debug:
            raise CommandError("Demo accounts have a published password: refusing without DEBUG.")
        counts = demo_load()
        self.stdout.write(
            "Demo data: {institutions} institutions, {users} users, {groups} groups. ".format(
                **counts
            )
            + f"Sign in as {DEMO_SIGN_IN} with password {DEMO_PASSWORD}."
        )
