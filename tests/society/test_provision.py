"""Provisioning a group: template copy, failure clean-up, the command and the Celery task."""

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DatabaseError, connection
from django_tenants.utils import schema_exists, tenant_context

from crossschema.provisioning import group_provision
from crossschema.tasks import group_provision_task
from groups.models import Membership
from groups.services.membership import membership_add
from society.models import GroupDomain, PeerGroup
from society.services import group_create, group_schema_drop
from tests.conftest import wait_for
from tests.society.factories import UserFactory


def tables_in(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [schema]
        )
        return {row[0] for row in cursor.fetchall()}


def test_provision_copies_the_template_into_a_working_space(db, world, client_for):
    group = group_provision(group=group_create(name="Gamma Group", slug="gamma"))

    assert group.status == PeerGroup.Status.READY and group.ready_at is not None
    assert tables_in("g_gamma") == tables_in("group_template")
    assert {"groups_membership", "django_migrations"} <= tables_in("g_gamma")
    assert GroupDomain.objects.get(tenant=group).domain == "gamma.horizontal.localhost"
    member = UserFactory(email="gina@example.edu", full_name="Gina Member")
    with tenant_context(group):
        membership_add(user=member, role=Membership.Role.POINT_PERSON)
    response = client_for(member, group).get("/")
    assert response.status_code == 200
    assert "Gamma Group" in response.text and "Gina Member" in response.text


def test_provisioning_twice_changes_nothing(db, world):
    group = group_provision(group=group_create(name="Delta", slug="delta"))
    again = group_provision(group=group)
    assert again.status == PeerGroup.Status.READY
    assert GroupDomain.objects.filter(tenant=group).count() == 1


def test_failed_provisioning_is_visible_leaves_no_schema_and_a_retry_succeeds(
    db, world, monkeypatch
):
    group = group_create(name="Epsilon", slug="epsilon")
    real_create = GroupDomain.objects.create

    def broken(*args, **kwargs):
        assert schema_exists("g_epsilon"), "the schema was made before the failing step"
        raise DatabaseError("simulated failure after the schema was copied")

    monkeypatch.setattr(GroupDomain.objects, "create", broken)
    with pytest.raises(DatabaseError):
        group_provision(group=group)
    group.refresh_from_db()
    assert group.status == PeerGroup.Status.FAILED
    assert group.provision_error == "DatabaseError"
    assert not schema_exists("g_epsilon")
    assert not GroupDomain.objects.filter(tenant=group).exists()

    monkeypatch.setattr(GroupDomain.objects, "create", real_create)
    group_provision(group=group)
    group.refresh_from_db()
    assert group.status == PeerGroup.Status.READY and schema_exists("g_epsilon")


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("Bad Slug", "lower-case"),
        ("ab", "lower-case"),
        ("admin", "reserved"),
        ("alpha", "already exists"),
        ("double--hyphen", "lower-case"),
    ],
)
def test_bad_or_taken_slugs_are_refused_with_a_sentence(db, world, slug, message):
    with pytest.raises(ValidationError) as info:
        group_create(name="Whatever", slug=slug)
    assert message in " ".join(info.value.messages)
    assert not PeerGroup.objects.filter(name="Whatever").exists()


def test_group_provision_command_makes_a_ready_group(db, world, capsys):
    call_command("group_provision", "zeta", name="Zeta Circle")
    assert (
        "Zeta Circle is ready at http://zeta.horizontal.localhost:8765/" in capsys.readouterr().out
    )
    assert PeerGroup.objects.get(slug="zeta").is_ready and schema_exists("g_zeta")


def test_dropping_refuses_anything_but_a_group_schema(db):
    for name in ("public", "group_template", "pg_catalog"):
        with pytest.raises(ValueError):
            group_schema_drop(schema_name=name)


def test_provision_task_runs_on_the_real_worker(committed, world, celery_worker_process):
    slug = f"t-{uuid.uuid4().hex[:8]}"
    group = group_create(name="Task-made group", slug=slug)
    try:
        group_provision_task.delay(group.pk)
        wait_for(
            lambda: PeerGroup.objects.get(pk=group.pk).status == PeerGroup.Status.READY,
            60,
            "the worker to provision the group",
        )
        assert schema_exists(group.schema_name)
    finally:
        group_schema_drop(schema_name=group.schema_name)
        GroupDomain.objects.filter(tenant=group).delete()
        PeerGroup.objects.filter(pk=group.pk).delete()
