"""WSGI entry point (django-tenants' schema context does not survive async views: stay on WSGI)."""

import os

from django.core.wsgi import get_wsgi_application

# Production unless told otherwise: those settings refuse to start without their secrets.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_wsgi_application()
