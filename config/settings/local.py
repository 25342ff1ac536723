"""Development settings used by `make run`."""

import os

from . import published

# Published keys: fine for development, never for real data (production refuses them).
os.environ.setdefault("HORIZONTAL_KEYS", published.DEVELOPMENT_HORIZONTAL_KEY)
os.environ.setdefault("DJANGO_SECRET_KEY", published.DEVELOPMENT_SECRET_KEY)
os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")

from .base import *  # noqa: F403

WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
