from django.core.management.base import BaseCommand, CommandError

from crossschema.reminders import reminders_backfill


class Command(BaseCommand):
    help = (
        "Index the reminders of groups that existed before the reminders' index: meetings to "
        "come, open commitments, mission and norms reviews, the point-persons' nudges and "
        "pending join requests. Safe to run again: it records nothing twice."
    )

    def handle(self, *args: object, **options: object) -> None:
        result, requests = reminders_backfill()
        self.stdout.write(
            f"Indexed the reminders of {len(result.done)} group(s) and {requests} pending join "
            "request(s)."
        )
        if result.failed:
            raise CommandError(
                f"{len(result.failed)} group(s) failed: {', '.join(result.failed)}. Run the "
                "command again; groups already done are left as they are."
            )
