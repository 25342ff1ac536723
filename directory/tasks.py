from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="directory.post_deliver")
def post_deliver(post_id: int) -> int:
    return services.post_deliver(post_id=post_id)


@shared_task(name="directory.profiles_follow_accounts")
def profiles_follow_accounts() -> int:
    """Every minute (beat): directory entries catch up with their accounts and institutions."""
    return services.profiles_follow_accounts()


@shared_task(name="directory.digests_send")
def digests_send() -> int:
    """Hourly (beat): first what per-post delivery missed, then the digests that are due."""
    services.posts_deliver_recent()
    return services.digests_send()
