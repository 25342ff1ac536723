"""Settings for the test-suite, its web server and its Celery worker (real PostgreSQL, Redis)."""

import os

from . import published

# Published keys: fine for tests, never for real data (production refuses them).
os.environ.setdefault("HORIZONTAL_KEYS", published.TEST_HORIZONTAL_KEY)
os.environ.setdefault("DJANGO_SECRET_KEY", published.TEST_SECRET_KEY)
# The suite's own port, whatever a surrounding `make run` environment says.
os.environ["HORIZONTAL_BASE_URL"] = os.environ.get(
    "HORIZONTAL_TEST_BASE_URL", "http://horizontal.localhost:8765"
)
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

from .base import *  # noqa: F403

# The suite's broker (db 14) and cache (db 13) live in Redis databases of their own, so a running
# `make run` on the same Redis never sees test tasks, and the suite may empty its cache at will.
_redis_server = REDIS_URL.rsplit("/", 1)[0]  # noqa: F405
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", _redis_server + "/14")
CACHES["default"]["LOCATION"] = _redis_server + "/13"  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
