"""The point-persons' check that the Celery worker runs tasks in this group."""

from __future__ import annotations

from celery import current_app
from django.db import connection, transaction
from django.utils import timezone

from society.models import User

from ..models import (
    WorkerCheck,
)


def worker_check_request(*, actor: User) -> WorkerCheck:
    """Record a worker check and queue it for the Celery worker once the row is committed."""
    with transaction.atomic():
        check = WorkerCheck.objects.create(requested_by=actor)
        # Asked for by name (groups/tasks.py): tasks call services, never the other way round.
        # robust: with the broker down the check is recorded and shown as not run, no 500.
        transaction.on_commit(
            lambda: current_app.send_task("groups.worker_check_run", args=[check.pk]), robust=True
        )
    return check


@transaction.atomic
def worker_check_run(*, check_id: int) -> WorkerCheck | None:
    """Mark a check as run, recording the schema this code actually ran in. Idempotent."""
    check = WorkerCheck.objects.select_for_update().filter(pk=check_id).first()
    if check is None or check.ran_at is not None:
        return check
    check.ran_at = timezone.now()
    check.ran_in_schema = connection.schema_name
    check.save(update_fields=["ran_at", "ran_in_schema"])
    return check
