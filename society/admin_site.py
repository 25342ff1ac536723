"""The society's admin site (models are registered in society/admin.py; kept apart so that
importing the site class registers nothing)."""

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from .urls_helpers import is_safe_redirect


def is_society_admin(request) -> bool:
    user = request.user
    return user.is_active and user.is_authenticated and user.is_society_admin


class SocietyAdminSite(admin.AdminSite):
    site_header = "Horizontal: society records"
    site_title = "Horizontal records"
    index_title = "Public records (no group's content is here)"

    def has_permission(self, request) -> bool:
        return is_society_admin(request)

    def login(self, request, extra_context=None):
        """The admin signs in through allauth too: one sign-in page, one set of rate limits."""
        target = request.GET.get("next", "")
        if not is_safe_redirect(target, path_only=True):
            target = reverse("admin:index", current_app=self.name)
        if request.user.is_authenticated:
            if self.has_permission(request):
                return redirect(target)
            # Signed in without the role: a plain refusal (the sign-in page would send a
            # signed-in visitor straight back here, in a loop).
            raise PermissionDenied
        return redirect(f"{settings.LOGIN_URL}?{urlencode({'next': target})}")
