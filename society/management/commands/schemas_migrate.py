from django.core.management.base import BaseCommand

from society.services import schemas_migrate


class Command(BaseCommand):
    help = "Migrate the public schema, the group template schema and every group schema."

    def handle(self, *args: object, **options: object) -> None:
        migrated = schemas_migrate(verbosity=max(0, int(options["verbosity"]) - 1))
        self.stdout.write(f"Migrated public, the template and {len(migrated)} group schema(s).")
