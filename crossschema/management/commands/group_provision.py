from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from crossschema.provisioning import group_provision
from society.models import PeerGroup
from society.services import group_create
from society.urls_helpers import group_url


class Command(BaseCommand):
    help = "Create a group (or retry a failed one) and provision its space now, without the worker."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug", help="Address label, e.g. k-club -> k-club.<base host>")
        parser.add_argument("--name", help="Group name (required for a new group)")

    def handle(self, *args: object, slug: str, name: str | None, **options: object) -> None:
        group = PeerGroup.objects.filter(slug=slug).first()
        try:
            if group is None:
                if not name:
                    raise CommandError("A new group needs --name.")
                group = group_create(name=name, slug=slug)
            group = group_provision(group=group)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"{group.name} is ready at {group_url(group.slug)}")
