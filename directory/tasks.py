from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="directory.profiles_follow_accounts")
def profiles_follow_accounts() -> int:
    """Every minute (beat): directory entries catch up with their accounts and institutions."""
    return services.profiles_follow_accounts()


@shared_task(name="directory.digests_send")
def digests_send() -> int:
    """Hourly (beat): record the digests that are due in the outbox, which sends them.
    (Its name is older than the outbox; beat's database schedule knows it by that name.)"""
    return services.digests_enqueue()
