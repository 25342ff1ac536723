from __future__ import annotations

from config.celery import app

from . import services


@app.task(name="directory.post_deliver")
def post_deliver(post_id: int) -> int:
    return services.post_deliver(post_id=post_id)


@app.task(name="directory.digests_send")
def digests_send() -> int:
    """Hourly (beat): first what per-post delivery missed, then the digests that are due."""
    services.posts_deliver_recent()
    return services.digests_send()
