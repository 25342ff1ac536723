"""How the society's own e-mails read, rendered by the worker when it sends them
(society.outbox records them; crossschema.outbox sends them)."""

from __future__ import annotations

from datetime import datetime

from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    ApplicationEvent,
    GroupApplication,
    IdentityConfirmation,
    Institution,
    OutboundEmail,
    User,
)
from .outbox import EmailNoLongerApplies
from .reminders import APPLICATION_WAITING
from .services import identity_confirmation_token
from .timezones import zone_get, zone_name
from .urls_helpers import society_url


def application_state(email: OutboundEmail) -> EmailMessage:
    """An application moved (submitted, returned, approved, rejected): the event's new state
    and the society's comment, to the applicant."""
    event = ApplicationEvent.objects.select_related("application").get(pk=email.context["event"])
    application = event.application
    label = GroupApplication.State(event.to_state).label
    body = render_to_string(
        "emails/society/application_state.txt",
        {
            "application": application,
            "state": label,
            "comment": event.comment,
            "url": society_url(f"/applications/{application.pk}/"),
        },
    )
    subject = _("Your group application “%(name)s”: %(state)s") % {
        "name": application.name,
        "state": label.lower(),
    }
    return EmailMessage(subject=subject, body=body, to=[email.to])


def admin_applications(email: OutboundEmail) -> EmailMessage:
    """A group application waiting more than seven days for a decision, to one society admin
    (still an admin, the application still undecided since the same submission), in their
    zone, with the link to review it. Nothing but its name and when it was submitted."""
    reader = User.objects.filter(
        pk=email.context["user"], is_society_admin=True, is_active=True
    ).first()
    application = GroupApplication.objects.filter(
        pk=email.context["object"], state=GroupApplication.State.SUBMITTED
    ).first()
    due = datetime.fromisoformat(email.context["due"])
    if (
        reader is None
        or application is None
        or application.updated_at + APPLICATION_WAITING != due  # returned and sent again
    ):
        raise EmailNoLongerApplies
    zone = zone_get(reader.time_zone)
    with timezone.override(zone):
        body = render_to_string(
            "emails/society/admin_applications.txt",
            {
                "application": application,
                "submitted_at": application.updated_at,
                "zone": zone_name(zone.key),
                "url": society_url(f"/manage/applications/{application.pk}/"),
            },
        )
    subject = _("Waiting for a decision: the application “%(name)s”") % {"name": application.name}
    return EmailMessage(subject=subject, body=body, to=[reader.email])


def institution_identity_changed(email: OutboundEmail) -> EmailMessage:
    """An institution's sign-in changed identity (certificate, entity ID, issuer, method): to
    each society admin, with what changed."""
    institution = Institution.objects.get(pk=email.context["institution"])
    actor = User.objects.filter(pk=email.context.get("actor")).first()
    body = render_to_string(
        "emails/society/institution_identity_changed.txt",
        {"institution": institution, "changes": email.context["changes"], "actor": actor},
    )
    subject = _("Sign-in changed for %(name)s") % {"name": institution.name}
    return EmailMessage(subject=subject, body=body, to=[email.to])


def identity_confirm(email: OutboundEmail) -> EmailMessage:
    """The one-time link that confirms an institution's changed sign-in as the member's own;
    the token is computed again from the confirmation's nonce and the secret key."""
    confirmation = (
        IdentityConfirmation.objects.select_related("institution")
        .filter(
            pk=email.context["confirmation"],
            token_nonce__gt="",
            confirmed_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )
    if confirmation is None:
        raise EmailNoLongerApplies  # confirmed meanwhile, or the link has expired
    token = identity_confirmation_token(confirmation.token_nonce)
    body = render_to_string(
        "emails/society/identity_confirm.txt",
        {
            "institution": confirmation.institution,
            "url": society_url(f"/accounts/confirm-institution/{token}/"),
        },
    )
    subject = _("Confirm your %(name)s sign-in") % {"name": confirmation.institution.name}
    return EmailMessage(subject=subject, body=body, to=[email.to])
