"""The group a service runs in (the current schema's tenant) and its public row."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from society.models import PeerGroup


def current_group() -> PeerGroup:
    """The group whose schema this connection is in; RuntimeError in public or the template."""
    group = connection.tenant
    if not isinstance(group, PeerGroup):
        raise RuntimeError("Group services run in a group schema (see crossschema.fanout.inside).")
    return group


def paused_refuse() -> None:
    """ValidationError, saying why, when the current group is paused (no new meetings or polls).

    The pages say the same sentence where the refused form would be
    (templates/groups/partials/paused_note.html)."""
    if current_group().is_paused:
        raise ValidationError(
            _("This group is paused: meetings and polls wait until a point-person resumes it."),
            code="paused",
        )


def group_row() -> PeerGroup:
    """The current group's public row as stored now (for lifecycle writes)."""
    return PeerGroup.objects.get(pk=current_group().pk)


def group_row_update(**fields: object) -> None:
    """Write `fields` to the current group's public row (copies the society's pages read
    without entering the schema), leaving the rest of the row as it is."""
    PeerGroup.objects.filter(pk=current_group().pk).update(**fields)
