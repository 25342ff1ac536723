"""Start-up checks: every ready group must have its schema (a missing one fails closed, loudly)."""

from __future__ import annotations

from django.core.checks import Error, Tags, register
from django.db import DatabaseError, connection


@register(Tags.database)
def check_group_schemas(app_configs: object = None, **kwargs: object) -> list[Error]:
    from .models import PeerGroup

    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT g.slug FROM society_peergroup g WHERE g.status = %s AND NOT EXISTS "
                "(SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.nspname = g.schema_name)",
                [PeerGroup.Status.READY],
            )
            missing = [row[0] for row in cursor.fetchall()]
    except DatabaseError:
        return []  # not migrated yet: nothing to check
    return [
        Error(
            f"Group '{slug}' is marked ready but its schema is missing; its host answers 404.",
            hint="Restore the schema from its per-group dump, or set the group's status to failed.",
            id="society.E001",
        )
        for slug in missing
    ]
