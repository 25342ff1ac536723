"""How the directory's join-request e-mails read, rendered by the worker when it sends them
(society.outbox records them; crossschema.outbox sends them)."""

from __future__ import annotations

from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from society.models import OutboundEmail
from society.urls_helpers import group_url

from .models import JoinRequest
from .services import author_name


def join_request(email: OutboundEmail) -> EmailMessage:
    """A member asks to join: to each point-person, with the member's message (not their
    profile) and the link to answer."""
    request = JoinRequest.objects.select_related("user", "group").get(pk=email.context["request"])
    name = author_name(request.user)
    body = render_to_string(
        "directory/emails/join_request.txt",
        {"request": request, "name": name, "url": group_url(request.group.slug, "/join-requests/")},
    )
    subject = _("%(name)s asks to join %(group)s") % {"name": name, "group": request.group}
    return EmailMessage(subject=subject, body=body, to=[email.to])


def join_declined(email: OutboundEmail) -> EmailMessage:
    """The group said no: told kindly, with nothing about who decided."""
    request = JoinRequest.objects.select_related("group").get(pk=email.context["request"])
    body = render_to_string("directory/emails/join_declined.txt", {"group": request.group})
    subject = _("About your request to join %(group)s") % {"group": request.group}
    return EmailMessage(subject=subject, body=body, to=[email.to])
