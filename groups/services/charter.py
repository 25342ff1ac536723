"""The group's norms (charter) and each member's confidentiality pledge."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from society.models import User

from ..models import (
    Charter,
    Membership,
)
from .reminders import charter_review_keep


def charter_get() -> Charter:
    """The group's charter as stored, or the defaults (unsaved: reading writes nothing, also
    in a concluded group's read-only archive; charter_update stores it)."""
    return Charter.objects.filter(singleton=True).first() or Charter(singleton=True)


@transaction.atomic
def charter_update(*, actor: User, **fields: object) -> Charter:
    """Change the norms (saving them unchanged records that they were looked at). Raises
    ValidationError for an empty pledge.

    Side effect: the next reminder to look at them is due at the group's rhythm (the index)."""
    charter = charter_get()
    for name, value in fields.items():
        setattr(charter, name, value)
    if not str(charter.pledge).strip():
        raise ValidationError({"pledge": _("The confidentiality pledge cannot be empty.")})
    charter.updated_at = timezone.now()
    charter.full_clean()
    charter.save()
    charter_review_keep()
    return charter


@transaction.atomic
def pledge_accept(*, membership: Membership) -> Membership:
    """A member accepts the confidentiality pledge (asked on joining)."""
    if membership.pledge_accepted_at is None:
        membership.pledge_accepted_at = timezone.now()
        membership.save(update_fields=["pledge_accepted_at"])
    return membership
