"""Writing the audit log (public schema). Notes are short and never carry group content."""

from __future__ import annotations

from .models import AuditEvent, PeerGroup, User


def audit_record(
    *,
    kind: str,
    actor: User | None = None,
    subject: User | None = None,
    group: PeerGroup | None = None,
    detail: str = "",
) -> AuditEvent:
    """Append one event to the audit log."""
    return AuditEvent.objects.create(
        kind=kind,
        actor=actor if actor is not None and actor.pk else None,
        subject=subject,
        group=group,
        detail=detail[:500],
    )
