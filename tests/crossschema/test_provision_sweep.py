"""An approved group whose provisioning message was lost is found again from the database."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import schema_exists, tenant_context

from crossschema.provisioning import PROVISION_SWEEP_AFTER, applications_queued
from crossschema.tasks import application_provision_task
from groups.models import Mission
from society.models import PeerGroup
from society.services import application_approve, application_submit
from tests.society.test_applications import FIELDS, draft


def test_the_sweep_provisions_an_approved_group_whose_task_was_lost(db, world, settings):
    # In a test transaction on_commit never fires: the approval's message is "lost".
    application = draft(world)
    application_submit(application=application, actor=world.olivia)
    application_approve(application=application, actor=world.sam)
    application.refresh_from_db()
    group = application.group
    assert group.status == PeerGroup.Status.QUEUED
    assert applications_queued() == []  # its message may still be on its way

    PeerGroup.objects.filter(pk=group.pk).update(
        created_at=timezone.now() - PROVISION_SWEEP_AFTER - timedelta(seconds=1)
    )
    assert applications_queued() == [application.pk]
    assert (
        settings.CELERY_BEAT_SCHEDULE["provision-queued-groups"]["task"]
        == "crossschema.applications_provision_queued"
    )

    application_provision_task.apply(args=[application.pk])  # what the sweep queues, run here
    group.refresh_from_db()
    assert group.status == PeerGroup.Status.READY
    assert schema_exists(group.schema_name)
    with tenant_context(group):
        assert Mission.objects.get().text == FIELDS["mission_draft"]
    assert applications_queued() == []
