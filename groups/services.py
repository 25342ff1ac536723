"""Writes inside the current group schema, and the public MembershipIndex mirroring membership."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from society.models import MembershipIndex, PeerGroup, User

from .models import Membership, WorkerCheck


def _current_group() -> PeerGroup:
    group = connection.tenant
    if not isinstance(group, PeerGroup):
        raise RuntimeError("Group services run inside a group's schema (use tenant_context).")
    return group


@transaction.atomic
def membership_add(*, user: User, role: str = Membership.Role.MEMBER) -> Membership:
    """Add `user` to the current group with `role`, or reactivate / update their membership.

    Side effects: writes the public MembershipIndex row so the society site can link here.
    Raises ValidationError for an unknown role or an inactive account.
    """
    if role not in Membership.Role.values:
        raise ValidationError(_("Unknown role."))
    if not user.is_active:
        raise ValidationError(_("This account is deactivated."))
    group = _current_group()
    membership, _created = Membership.objects.update_or_create(
        user=user, defaults={"role": role, "is_active": True, "ended_at": None}
    )
    MembershipIndex.objects.get_or_create(user=user, group=group)
    return membership


@transaction.atomic
def membership_end(*, membership: Membership) -> Membership:
    """End a membership: the person loses access at their next request.

    Side effects: removes the public MembershipIndex row.
    """
    group = _current_group()
    membership.is_active = False
    membership.ended_at = timezone.now()
    membership.save(update_fields=["is_active", "ended_at"])
    MembershipIndex.objects.filter(user_id=membership.user_id, group=group).delete()
    return membership


def worker_check_request(*, actor: User) -> WorkerCheck:
    """Record a worker check and queue it for the Celery worker once the row is committed."""
    from .tasks import worker_check_run_task

    with transaction.atomic():
        check = WorkerCheck.objects.create(requested_by=actor)
        transaction.on_commit(lambda: worker_check_run_task.delay(check.pk))
    return check


@transaction.atomic
def worker_check_run(*, check_id: int) -> WorkerCheck | None:
    """Mark a check as run, recording the schema this code actually ran in. Idempotent."""
    check = WorkerCheck.objects.select_for_update().filter(pk=check_id).first()
    if check is None or check.ran_at is not None:
        return check
    check.ran_at = timezone.now()
    check.ran_in_schema = connection.schema_name
    check.save(update_fields=["ran_at", "ran_in_schema"])
    return check
