"""The group a service runs in (the current schema's tenant) and its public row."""

from __future__ import annotations

from django.db import connection

from society.models import PeerGroup


def current_group() -> PeerGroup:
    """The group whose schema this connection is in; RuntimeError in public or the template."""
    group = connection.tenant
    if not isinstance(group, PeerGroup):
        raise RuntimeError("Group services run in a group schema (see crossschema.fanout.inside).")
    return group


def group_row() -> PeerGroup:
    """The current group's public row as stored now (for lifecycle writes)."""
    return PeerGroup.objects.get(pk=current_group().pk)
