"""Development settings used by `make run`."""

import os

# A published key: fine for development, never for real data.
os.environ.setdefault("HORIZONTAL_KEYS", "ZGV2ZWxvcG1lbnQtb25seS1rZXktbm90LXNlY3JldCE=")
os.environ.setdefault("DJANGO_SECRET_KEY", "insecure-development-key-not-for-production")
os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")

from .base import *  # noqa: F403

WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
