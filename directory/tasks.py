from __future__ import annotations

from celery import shared_task
from django.db import transaction

from . import services
from .models import Post


@shared_task(name="directory.profiles_follow_accounts")
def profiles_follow_accounts() -> int:
    """Every minute (beat): directory entries catch up with their accounts and institutions."""
    return services.profiles_follow_accounts()


@shared_task(name="directory.digests_send")
def digests_send() -> int:
    """Hourly (beat): record the digests that are due in the outbox, which sends them.
    (Its name is older than the outbox; beat's database schedule knows it by that name.)"""
    return services.digests_enqueue()


@shared_task(name="directory.post_deliver")
def post_deliver(post_id: int) -> int:
    """For a deploy: a post made by the previous version just before it left its delivery task
    in the queue (that version had no outbox); its e-mails are recorded in the outbox now
    (keyed per post and member, so nothing twice). Nothing new sends this task."""
    post = Post.objects.filter(pk=post_id).first()
    if post is None:
        return 0
    with transaction.atomic():
        return services.post_enqueue(post=post)
