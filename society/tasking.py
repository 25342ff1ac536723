"""The base class of tasks that work inside one group's schema (groups, evaluation).

tenant-schemas-celery puts the sender's schema in every message and switches to it before the
task runs; this base refuses a task that arrives in the public or template schema rather than
let it touch the wrong tables. Tasks take it with `@shared_task(base=GroupTask, name=...)`.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import connection
from tenant_schemas_celery.task import TenantTask

logger = logging.getLogger(__name__)


class GroupTask(TenantTask):
    """A task that must be sent from inside a group's context (a group request, or a
    crossschema fan-out); elsewhere it logs and returns without running."""

    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if connection.schema_name in ("public", settings.TENANT_BASE_SCHEMA):
            logger.error("Refused %s: it was sent without a group schema.", self.name)
            return None
        return super().__call__(*args, **kwargs)
