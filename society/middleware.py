"""Host routing: the base host is the society site (public); <slug>.<base host> is a group."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest
from django.urls import set_urlconf
from django_tenants.middleware.main import TenantMainMiddleware

from .selectors import group_get_for_host

logger = logging.getLogger(__name__)


class GroupHostMiddleware(TenantMainMiddleware):
    """Selects the schema from the Host header and fails closed for anything unknown."""

    def process_request(self, request: HttpRequest) -> None:
        connection.set_schema_to_public()
        request.group = None
        request.tenant = None
        hostname = self.hostname_from_request(request)  # DisallowedHost -> 400
        if hostname == settings.HORIZONTAL_BASE_HOST:
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            set_urlconf(request.urlconf)
            return
        group = group_get_for_host(hostname=hostname)
        if group is None:
            raise Http404("No group at this address.")
        group.domain_url = hostname
        request.tenant = request.group = group
        connection.set_tenant(group)
