"""Host routing: the base host is the society site (public); <slug>.<base host> is a group."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import set_urlconf
from django.utils import timezone
from django_tenants.middleware.main import TenantMainMiddleware

from .selectors import group_get_for_host
from .timezones import UTC, zone_get

logger = logging.getLogger(__name__)


class RefuseNulMiddleware:
    """Answers 400 to a NUL anywhere in the path, the query string or a posted form.

    PostgreSQL refuses NUL in text, so a NUL that reached a query would be a 500. The forms
    refuse it too (society.inputs); this stops it before any view reads a raw parameter.
    Runs before the group is chosen: the refusal names no group.
    """

    REASON = (
        "The request contains a NUL character (\\0), which nothing here accepts. Remove it "
        "and try again."
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if self._has_nul(request):
            logger.info("Refused a request with a NUL in its parameters")
            body = render_to_string("400.html", {"reason": self.REASON}, request=request)
            return HttpResponse(body, status=400)
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        if "\x00" in request.path:
            return True
        params = [request.GET]
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            params.append(request.POST)
        return any(
            "\x00" in key or any("\x00" in value for value in values)
            for query in params
            for key, values in query.lists()
        )


class GroupHostMiddleware(TenantMainMiddleware):
    """Selects the schema from the Host header and fails closed for anything unknown."""

    def process_request(self, request: HttpRequest) -> None:
        connection.set_schema_to_public()
        request.group = None
        request.tenant = None
        request.group_host_unknown = False
        hostname = self.hostname_from_request(request)  # DisallowedHost -> 400
        if hostname == settings.HORIZONTAL_BASE_HOST:
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            set_urlconf(request.urlconf)
            return
        group = group_get_for_host(hostname=hostname)
        if group is None:
            if hostname.endswith("." + settings.HORIZONTAL_BASE_HOST):
                # No ready group here: groups.middleware answers exactly as it does to a
                # non-member of a real group, so nobody can tell which groups exist.
                request.group_host_unknown = True
                return
            raise Http404("No group at this address.")
        group.domain_url = hostname
        request.tenant = request.group = group
        connection.set_tenant(group)


class SignInErrorMiddleware:
    """Any unexpected error while answering an identity provider ends in our refusal page.

    A malformed SAMLResponse makes the XML parser raise inside allauth, and an unreachable
    OpenID Provider makes `requests` raise: the member gets a clear 400, never a 500.
    """

    PREFIXES = ("/accounts/saml/", "/accounts/oidc/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        from allauth.core.exceptions import ImmediateHttpResponse
        from django.core.exceptions import PermissionDenied
        from django.shortcuts import render

        if isinstance(exception, ImmediateHttpResponse):
            return exception.response  # our own refusal pages, already rendered
        if not request.path.startswith(self.PREFIXES) or isinstance(
            exception, Http404 | PermissionDenied
        ):
            return None
        logger.warning("Sign-in answer refused: %s", type(exception).__name__)
        return render(
            request,
            "socialaccount/authentication_error.html",
            {
                "reason": "Your institution's answer could not be read, so you are not signed "
                "in and nothing was changed. Start again from the sign-in page."
            },
            status=400,
        )


class TimeZoneMiddleware:
    """Shows every page in the signed-in reader's own time zone (UTC for visitors).

    Forms read typed times in the same zone. A stored zone we do not offer falls back to UTC
    (society.timezones.zone_get), so a bad string never becomes a 500.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        user = getattr(request, "user", None)
        zone = zone_get(user.time_zone) if user is not None and user.is_authenticated else UTC
        with timezone.override(zone):
            return self.get_response(request)
