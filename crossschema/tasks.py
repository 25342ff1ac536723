"""Celery tasks for cross-schema work: thin, by id, quiet when the row is gone."""

from __future__ import annotations

from celery import shared_task

from society.models import GroupApplication, PeerGroup
from society.outbox import SEND_MANY_TASK, emails_purge
from society.reminders import admin_applications_remind
from society.services import APPLICATION_PROVISION_TASK

from .outbox import email_send, emails_send, emails_send_due
from .provisioning import application_provision, applications_queued, group_provision
from .reminders import reminders_dispatch, reminders_group
from .shredding import groups_shred_due


@shared_task(name="crossschema.group_provision")
def group_provision_task(group_id: int) -> None:
    group = PeerGroup.objects.filter(pk=group_id).first()
    if group is None:
        return
    group_provision(group=group)


@shared_task(name=APPLICATION_PROVISION_TASK)
def application_provision_task(application_id: int) -> None:
    application = GroupApplication.objects.filter(pk=application_id, group__isnull=False).first()
    if application is None:
        return
    application_provision(application=application)


@shared_task(name="crossschema.applications_provision_queued")
def applications_provision_queued_task() -> int:
    """Every minute (beat): approved groups whose provisioning task was lost."""
    queued = applications_queued()
    for application_id in queued:
        application_provision_task.delay(application_id)
    return len(queued)


@shared_task(name="crossschema.groups_shred_due")
def groups_shred_due_task() -> dict[str, list[str]]:
    result = groups_shred_due()
    return {"done": result.done, "failed": result.failed}


@shared_task(name="crossschema.email_send")
def email_send_task(email_id: int) -> bool:
    return email_send(email_id)


@shared_task(name=SEND_MANY_TASK)
def emails_send_task(email_ids: list[int]) -> int:
    """A batch recorded together (society.outbox.emails_enqueue_many), e.g. a directory post
    to every member who wants each post."""
    return emails_send(email_ids)


@shared_task(name="crossschema.emails_send_due")
def emails_send_due_task() -> int:
    """Every minute (beat): e-mails a lost task, a stopped broker or a refusing mail server
    left unsent."""
    return emails_send_due()


@shared_task(name="crossschema.emails_purge")
def emails_purge_task() -> int:
    """Daily (beat): forget e-mails sent or given up on more than 90 days ago."""
    return emails_purge()


@shared_task(name="crossschema.reminders_dispatch")
def reminders_dispatch_task() -> int:
    """Every minute (beat): what is due across all groups, one task per group."""
    return reminders_dispatch()


@shared_task(name="crossschema.reminders_group")
def reminders_group_task(group_id: int, reminder_ids: list[int]) -> int:
    return reminders_group(group_id, reminder_ids)


@shared_task(name="crossschema.admin_applications_remind")
def admin_applications_remind_task() -> int:
    """Daily (beat): applications undecided for more than seven days, to each society admin
    once (the public schema only: no group is entered)."""
    return admin_applications_remind()
