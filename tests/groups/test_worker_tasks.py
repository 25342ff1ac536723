"""A task sent from inside a group request runs, on a real worker, in that group's schema."""

from django_tenants.utils import schema_context, tenant_context

from groups.models import WorkerCheck
from groups.tasks import worker_check_run_task
from tests.conftest import wait_for


def _checks(group):
    with tenant_context(group):
        return list(WorkerCheck.objects.order_by("pk"))


def test_task_sent_from_a_group_request_runs_in_that_groups_schema(
    committed, world, celery_worker_process, client_for
):
    alpha_before = {c.pk for c in _checks(world.alpha)}
    beta_before = [c.pk for c in _checks(world.beta)]
    try:
        response = client_for(world.alice, world.alpha).post("/status/workers/")
        assert response.status_code == 302

        def ran():
            new = [c for c in _checks(world.alpha) if c.pk not in alpha_before]
            return new and new[0].ran_at and new[0]

        check = wait_for(ran, 30, "the worker to run the check")
        assert check.ran_in_schema == world.alpha.schema_name
        assert [c.pk for c in _checks(world.beta)] == beta_before

        page = client_for(world.alice, world.alpha).get("/status/workers/")
        assert f'data-check="{check.pk}"' in page.text and "this group" in page.text
    finally:
        with tenant_context(world.alpha):
            WorkerCheck.objects.exclude(pk__in=alpha_before).delete()


def test_group_task_sent_without_a_group_schema_refuses_to_run(
    committed, world, celery_worker_process
):
    with tenant_context(world.alpha):
        refused = WorkerCheck.objects.create(requested_by=world.alice)
        control = WorkerCheck.objects.create(requested_by=world.alice)
    try:
        with schema_context("public"):
            worker_check_run_task.delay(refused.pk)  # arrives in public: must refuse
        with tenant_context(world.alpha):
            worker_check_run_task.delay(control.pk)  # queued after it, on the same solo worker

        def control_ran():
            with tenant_context(world.alpha):
                return WorkerCheck.objects.get(pk=control.pk).ran_at

        wait_for(control_ran, 30, "the control task")
        with tenant_context(world.alpha):
            assert WorkerCheck.objects.get(pk=refused.pk).ran_at is None
    finally:
        with tenant_context(world.alpha):
            WorkerCheck.objects.filter(pk__in=[refused.pk, control.pk]).delete()
