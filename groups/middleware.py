"""Deny by default: on a group host, only the group's active members get past this point."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.handlers.exception import response_for_exception
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control

from .selectors import membership_get_active

# Paths on a group host that a signed-in non-member may open. Keep this list short and explicit;
# each entry has its own test (tests/groups/test_invitations.py).
PATHS_WITHOUT_MEMBERSHIP: tuple[str, ...] = ("/invitations/",)
# Paths authorised by a secret token in the URL instead of a session (calendar apps have none):
# the view checks the token against an active membership (tests/groups/test_space.py).
PATHS_WITH_TOKEN: tuple[str, ...] = ("/calendar/feed/",)
# The only changes a concluded group accepts (exact paths): reopening it within the export
# window (groups.services.lifecycle.group_reopen checks the rest).
PATHS_OPEN_WHEN_CONCLUDED: frozenset[str] = frozenset({"/lifecycle/reopen/"})


NOT_A_MEMBER = "Not a member of this group."


class GroupMembershipMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership = None
        if getattr(request, "group_host_unknown", False):
            return self._as_for_a_non_member(request)
        if getattr(request, "group", None) is None:
            return self.get_response(request)
        if request.path.startswith(PATHS_WITH_TOKEN):
            response = self.get_response(request)
            patch_cache_control(response, no_store=True, private=True)
            return response
        if not request.user.is_authenticated:
            return redirect_to_login(request.build_absolute_uri(), settings.LOGIN_URL)
        request.membership = membership_get_active(user_id=request.user.pk)
        if request.membership is None and not request.path.startswith(PATHS_WITHOUT_MEMBERSHIP):
            # 404, not 403: someone outside the group learns nothing about what is inside.
            raise Http404(NOT_A_MEMBER)
        if (
            request.group.is_read_only
            and request.method not in ("GET", "HEAD", "OPTIONS")
            and request.path not in PATHS_OPEN_WHEN_CONCLUDED
        ):
            # A concluded group is an archive: it can be read and exported, not changed.
            return render(request, "groups/read_only.html", status=403)
        response = self.get_response(request)
        # Group pages are confidential: never stored by the browser or a proxy.
        patch_cache_control(response, no_store=True, private=True)
        return response

    @staticmethod
    def _as_for_a_non_member(request: HttpRequest) -> HttpResponse:
        """A group host with no ready group (unknown, queued, failed): the answers a real
        group gives someone outside it, so its existence cannot be told apart."""
        if request.path.startswith(PATHS_WITH_TOKEN):  # an unknown feed token
            response = response_for_exception(request, Http404(NOT_A_MEMBER))
        elif not request.user.is_authenticated:
            return redirect_to_login(request.build_absolute_uri(), settings.LOGIN_URL)
        elif request.path.startswith(PATHS_WITHOUT_MEMBERSHIP):
            response = render(request, "groups/invitation_invalid.html", status=404)
        else:
            raise Http404(NOT_A_MEMBER)
        # As a real group's views answer these: never stored (the header must not differ).
        patch_cache_control(response, no_store=True, private=True)
        return response
