from django.core.management.base import BaseCommand, CommandError

from crossschema.keys import group_keys_rewrap


class Command(BaseCommand):
    help = (
        "Re-wrap every group's data key with the first HORIZONTAL_KEYS entry; after it succeeds "
        "for every group, the retired keys may be removed from HORIZONTAL_KEYS."
    )

    def handle(self, *args: object, **options: object) -> None:
        result, changed = group_keys_rewrap()
        self.stdout.write(
            f"Re-wrapped {len(changed)} group key(s); {len(result.done) - len(changed)} already "
            "current."
        )
        if result.failed:
            raise CommandError(
                f"{len(result.failed)} group(s) failed: {', '.join(result.failed)}. Keep the old "
                "keys in HORIZONTAL_KEYS and run the command again."
            )
