"""How a group's e-mails read, rendered by the worker when it sends them (society.outbox
records them with ids only; crossschema.outbox sends them inside the group's schema).

Each renderer takes the recorded row and reads everything else from the current group's
schema, so nothing written inside a group is ever stored in the public outbox.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from society.models import OutboundEmail, User
from society.outbox import EmailNoLongerApplies
from society.templatetags.horizontal import when as when_filter
from society.timezones import zone_get, zone_name
from society.urls_helpers import group_url

from .models import (
    PARTICIPANT_ROLES,
    ConfidentialEntry,
    Invitation,
    Meeting,
    Membership,
    Minutes,
)
from .scheduling import calendar_method, zone_of
from .services.context import current_group
from .services.invitations import invitation_token
from .services.meetings import meeting_one_ics

READERS = tuple(r for r in Membership.Role.values if r != Membership.Role.EVALUATOR)


def reader(email: OutboundEmail, roles) -> tuple[User, Membership]:
    """The recipient as they are now: still an active member in one of `roles` with an open
    account, or the e-mail no longer applies (removed, made evaluator, account closed while
    it waited for a mail server). Their address is read now too."""
    membership = (
        Membership.objects.select_related("user")
        .filter(user_id=email.context["user"], is_active=True, role__in=roles)
        .first()
    )
    if membership is None or not membership.user.is_active:
        raise EmailNoLongerApplies
    return membership.user, membership


def minutes(email: OutboundEmail) -> EmailMessage:
    """Published minutes, to one member, opening with the meeting's time in their own zone.

    The body is the minutes as stored when sent (so a redaction made meanwhile holds)."""
    group = current_group()
    user, _membership = reader(email, READERS)
    doc = Minutes.objects.select_related("meeting").get(meeting_id=email.context["meeting"])
    meeting = doc.meeting
    zone = zone_get(user.time_zone)
    with timezone.override(zone):
        when = _("Meeting held %(when)s (%(zone)s)") % {
            "when": when_filter(meeting.starts_at, "long"),
            "zone": zone_name(zone.key),
        }
    subject = _("Minutes: %(group)s, %(title)s") % {"group": group.name, "title": meeting.title}
    return EmailMessage(subject=subject, body=f"{when}\n\n{doc.body}", to=[user.email])


def _invitation_subject(change: str) -> str:
    if change == "moved":
        return _("Moved: %(group)s, %(title)s")
    if change == "cancelled":
        return _("Cancelled: %(group)s, %(title)s")
    return _("%(group)s: %(title)s")


def meeting_invitation(email: OutboundEmail) -> EmailMessage:
    """A meeting scheduled, moved or cancelled (`change`), to one participant, with the time in
    their own zone and the meeting's .ics (the same UID throughout, its current SEQUENCE)."""
    group = current_group()
    meeting = Meeting.objects.get(pk=email.context["meeting"])
    user, _membership = reader(email, PARTICIPANT_ROLES)
    if email.context.get("sequence", meeting.sequence) != meeting.sequence:
        raise EmailNoLongerApplies  # changed again since: the later e-mail tells it
    change = email.context["change"]
    previous = email.context.get("previous")
    message = EmailMessage(
        subject=_invitation_subject(change) % {"group": group.name, "title": meeting.title},
        body=render_to_string(
            "emails/groups/meeting_invitation.txt",
            {
                "group": group,
                "meeting": meeting,
                "change": change,
                "previous": datetime.fromisoformat(previous) if previous else None,
                "zone": str(zone_of(user)),
                "zone_label": zone_name(str(zone_of(user))),
                "url": group_url(group.slug, f"/meetings/{meeting.pk}/"),
            },
        ),
        to=[user.email],
    )
    message.attach(
        "meeting.ics",
        meeting_one_ics(meeting),
        f"text/calendar; method={calendar_method(meeting)}",
    )
    return message


def confidential_notice(email: OutboundEmail) -> EmailMessage:
    """Something was posted in the confidential space ("new"), or someone replied to the
    recipient's own thread ("reply"): the group's name and a link, never a word of the text."""
    group = current_group()
    # The thread must still exist: after crypto-shredding there is nothing to tell.
    thread = ConfidentialEntry.objects.only("pk", "peers_only").get(pk=email.context["thread"])
    user, membership = reader(email, READERS)
    if thread.peers_only and membership.role == Membership.Role.FACILITATOR:
        raise EmailNoLongerApplies
    if email.context["notice"] == "reply":
        subject = _("%(group)s: a reply to your thread") % {"group": group.name}
        body = _(
            "Someone replied to your thread in the confidential space of %(group)s. "
            "Sign in to read it: %(url)s"
        ) % {"group": group.name, "url": group_url(group.slug, f"/confidential/{thread.pk}/")}
    else:
        subject = _("%(group)s: new in the confidential space") % {"group": group.name}
        body = _(
            "Something new was posted in the confidential space of %(group)s. Sign in "
            "to read it: %(url)s"
        ) % {"group": group.name, "url": group_url(group.slug, "/confidential/")}
    return EmailMessage(subject=subject, body=body, to=[user.email])


def group_invitation(email: OutboundEmail) -> EmailMessage:
    """An invitation to join the group, with its one-time link (the token computed again from
    the invitation's nonce), in the invitee's zone if they have an account. Not sent once the
    invitation is withdrawn, accepted or expired."""
    group = current_group()
    invitation = (
        Invitation.objects.select_related("invited_by")
        .filter(pk=email.context["invitation"], token_nonce__gt="")
        .first()
    )
    if invitation is None or not invitation.is_pending:
        raise EmailNoLongerApplies
    token = invitation_token(invitation.token_nonce)
    invitee = User.objects.filter(email__iexact=invitation.email).first()
    with timezone.override(zone_get(invitee.time_zone if invitee else None)):
        body = render_to_string(
            "emails/groups/invitation.txt",
            {
                "group_name": group.name,
                "inviter": invitation.invited_by.display_name,
                "role": invitation.get_role_display(),
                "url": group_url(group.slug, f"/invitations/{token}/"),
                "expires_at": invitation.expires_at,
            },
        )
    # Prefixed with the society's name: the invitee may not know the group's name yet.
    subject = f"[{settings.SOCIETY_NAME}] " + _("Invitation to join %(group)s") % {
        "group": group.name
    }
    return EmailMessage(subject=subject, body=body, to=[invitation.email])
