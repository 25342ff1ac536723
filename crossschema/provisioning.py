"""Making a group's space: the template copied into a new schema, then seeded inside it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context, schema_exists, tenant_context

from groups.models import Membership
from groups.services.invitations import invitation_create, invitation_email_send
from groups.services.membership import membership_add
from groups.services.mission import mission_adopt
from groups.services.reminders import group_reminders_keep
from society.models import GroupApplication, GroupDomain, PeerGroup
from society.schema_copy import schema_copy
from society.services import group_provision_lock, group_schema_drop, group_status_set
from society.urls_helpers import group_host

logger = logging.getLogger(__name__)

# An approved group still queued this long after approval lost its task: the sweep takes it.
PROVISION_SWEEP_AFTER = timedelta(minutes=1)


def group_schema_clone(*, schema_name: str) -> None:
    """Create `schema_name` as a copy of the template schema (tables, indexes, migration records).

    Runs in one transaction: either the whole schema exists afterwards or none of it.
    """
    with schema_context("public"):
        schema_copy(source=settings.TENANT_BASE_SCHEMA, target=schema_name)


def group_provision(
    *, group: PeerGroup, populate: Callable[[PeerGroup], object] | None = None
) -> PeerGroup:
    """Make a group's space: clone the template schema, add its primary domain, run
    `populate` inside the new schema (mission, founding members, invitations), mark it ready.

    Idempotent: a ready group is returned unchanged, and a concurrent call for the same group
    returns at once. A failed or interrupted attempt is cleaned up (its partial schema and
    domain removed) by the next one. On error the group is marked failed, no schema is left
    behind, and the error is re-raised.
    """
    group.refresh_from_db()
    if group.status == PeerGroup.Status.READY and schema_exists(group.schema_name):
        return group
    with schema_context("public"), group_provision_lock(group) as acquired:
        if not acquired:
            logger.info("Group %s is being provisioned by another process", group.pk)
            return group
        group.provision_started_at = timezone.now()
        group.save(update_fields=["provision_started_at"])
        group_status_set(group, PeerGroup.Status.CREATING)
        try:
            GroupDomain.objects.filter(tenant=group).delete()
            group_schema_drop(schema_name=group.schema_name)
            group_schema_clone(schema_name=group.schema_name)
            with transaction.atomic():
                GroupDomain.objects.create(
                    domain=group_host(group.slug), tenant=group, is_primary=True
                )
                if populate is not None:
                    group_status_set(group, PeerGroup.Status.INVITING)
                    with tenant_context(group):
                        populate(group)
                group_status_set(group, PeerGroup.Status.READY)
                with tenant_context(group):
                    group_reminders_keep()  # the norms' review, "no meeting yet" in 45 days
        except Exception as exc:
            GroupDomain.objects.filter(tenant=group).delete()
            group_schema_drop(schema_name=group.schema_name)
            group_status_set(group, PeerGroup.Status.FAILED, error=type(exc).__name__)
            logger.exception("Provisioning group %s failed", group.pk)
            raise
    logger.info("Provisioned group %s", group.pk)
    return group


def application_provision(*, application: GroupApplication) -> PeerGroup:
    """Make the approved group's space, seeded from the application, then e-mail invitations.

    The mission draft becomes mission version 1, the applicant joins (as point-person if
    named one), and every other founding member is invited with their role.
    """
    application = GroupApplication.objects.select_related("applicant", "group").get(
        pk=application.pk
    )
    applicant = application.applicant
    leads = set(application.point_person_emails)

    def role_of(email: str) -> str:
        return Membership.Role.POINT_PERSON if email in leads else Membership.Role.MEMBER

    def populate(group: PeerGroup) -> None:
        mission_adopt(text=application.mission_draft, actor=applicant, note="from the application")
        membership_add(user=applicant, role=role_of(applicant.email.lower()), actor=applicant)
        for email in application.founding_emails:
            if email != applicant.email.lower():
                invitation, _token = invitation_create(
                    email=email, role=role_of(email), actor=applicant
                )
                # recorded with the space; the worker sends it once the space is committed
                invitation_email_send(invitation=invitation)

    return group_provision(group=application.group, populate=populate)


def applications_queued() -> list[int]:
    """Approved applications whose group is still queued a while after approval: their task
    was lost (a broker outage, a restart), so nobody would otherwise make the space."""
    cutoff = timezone.now() - PROVISION_SWEEP_AFTER
    return list(
        GroupApplication.objects.filter(
            state=GroupApplication.State.APPROVED,
            group__status=PeerGroup.Status.QUEUED,
            group__created_at__lte=cutoff,
        ).values_list("pk", flat=True)
    )
