from __future__ import annotations

from config.celery import GroupTask, app

from .services import worker_check_run


@app.task(base=GroupTask, name="groups.worker_check_run")
def worker_check_run_task(check_id: int) -> None:
    worker_check_run(check_id=check_id)
