from __future__ import annotations

from celery import shared_task

from society.tasking import GroupTask

from .services.workers import worker_check_run


@shared_task(base=GroupTask, name="groups.worker_check_run")
def worker_check_run_task(check_id: int) -> None:
    worker_check_run(check_id=check_id)
