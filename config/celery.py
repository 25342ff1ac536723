"""The Celery app. tenant-schemas-celery carries the sender's schema in every message.

Apps declare tasks with `celery.shared_task` (group tasks with society.tasking.GroupTask), so
no app imports this module.
"""

from __future__ import annotations

import logging
import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

logger = logging.getLogger(__name__)

app = CeleryApp("horizontal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
