from __future__ import annotations

from config.celery import app

from .models import GroupApplication, PeerGroup
from .services import application_provision, group_provision, groups_shred_due


@app.task(name="society.group_provision")
def group_provision_task(group_id: int) -> None:
    group = PeerGroup.objects.filter(pk=group_id).first()
    if group is None:
        return
    group_provision(group=group)


@app.task(name="society.application_provision")
def application_provision_task(application_id: int) -> None:
    application = GroupApplication.objects.filter(pk=application_id, group__isnull=False).first()
    if application is None:
        return
    application_provision(application=application)


@app.task(name="society.groups_shred_due")
def groups_shred_due_task() -> None:
    groups_shred_due()
