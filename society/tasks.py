from __future__ import annotations

from config.celery import app

from .models import PeerGroup
from .services import group_provision


@app.task(name="society.group_provision")
def group_provision_task(group_id: int) -> None:
    group = PeerGroup.objects.filter(pk=group_id).first()
    if group is None:
        return
    group_provision(group=group)
