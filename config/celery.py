"""The Celery app. tenant-schemas-celery carries the sender's schema in every message."""

from __future__ import annotations

import logging
import os
from typing import Any

from django.db import connection
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

logger = logging.getLogger(__name__)

app = CeleryApp("horizontal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class GroupTask(app.Task):  # type: ignore[name-defined,misc]
    """A task that works inside one group's schema.

    It must be sent from inside that group's context (a group request, or tenant_context in
    fan-out code); one that arrives in the public or template schema refuses to run rather
    than touch the wrong tables.
    """

    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from django.conf import settings

        if connection.schema_name in ("public", settings.TENANT_BASE_SCHEMA):
            logger.error("Refused %s: it was sent without a group schema.", self.name)
            return None
        return super().__call__(*args, **kwargs)
