"""Isolation between groups (SECURITY.md 1, 2, 4): schemas, hosts and caches never mix."""

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import ProgrammingError, connection, transaction
from django_tenants.utils import schema_context, tenant_context

from groups.models import Membership, WorkerCheck
from society.models import GroupDomain, PeerGroup
from tests.groups.test_role_matrix import GET, url_of


def test_a_row_in_alpha_cannot_be_read_from_betas_request_or_from_public(db, world, client_for):
    with tenant_context(world.alpha):
        canary = WorkerCheck.objects.create(requested_by=world.alice)

    as_beta_lead = client_for(world.mallory, world.beta).get("/status/workers/")
    assert as_beta_lead.status_code == 200
    assert f'data-check="{canary.pk}"' not in as_beta_lead.text
    with tenant_context(world.beta):
        assert not WorkerCheck.objects.filter(pk=canary.pk).exists()
        assert not Membership.objects.filter(user=world.bob).exists()
    assert "Bob Tester" not in client_for(world.mallory, world.beta).get("/").text

    with schema_context("public"), pytest.raises(ProgrammingError), transaction.atomic():
        # group tables do not exist in public: nothing to fall back to
        WorkerCheck.objects.count()
    with schema_context("public"), connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('groups_workercheck'), to_regclass('groups_membership')")
        assert cursor.fetchone() == (None, None)


def test_a_member_of_another_group_gets_only_404_on_every_url_and_sees_no_canary(
    db, world, client_for
):
    with tenant_context(world.alpha):
        WorkerCheck.objects.create(requested_by=world.alice)
    client = client_for(world.mallory, world.alpha)  # mallory's session, alpha's host
    for name in GET:
        url = url_of(name, world)
        for method in (client.get, client.post):
            response = method(url)
            # the token-only calendar feed refuses other methods before looking at the token
            allowed = {404, 405} if name == "groups:calendar-feed" else {404}
            assert response.status_code in allowed, (name, method)
            assert "Alpha Peer Group" not in response.text
            assert "Bob Tester" not in response.text


def test_a_ready_group_whose_schema_is_missing_fails_closed(db, world, client_for):
    ghost = PeerGroup.objects.create(
        name="Ghost Group", slug="ghost", schema_name="g_ghost", status=PeerGroup.Status.READY
    )
    GroupDomain.objects.create(domain="ghost.horizontal.localhost", tenant=ghost, is_primary=True)

    response = client_for(world.sam, ghost).get("/")
    assert response.status_code == 404
    assert "Page not found" in response.text

    from society.checks import check_group_schemas

    assert [e.id for e in check_group_schemas()] == ["society.E001"]


def test_a_group_that_is_not_ready_is_not_served(db, world, client_for):
    queued = PeerGroup.objects.create(name="Queued", slug="queued", schema_name="g_queued")
    GroupDomain.objects.create(domain="queued.horizontal.localhost", tenant=queued, is_primary=True)
    assert client_for(world.alice, queued).get("/").status_code == 404


def test_unknown_group_host_answers_404_in_the_sites_look(db, world, client_for):
    response = client_for(world.alice).get("/", HTTP_HOST="nosuch.horizontal.localhost:8765")
    assert response.status_code == 404
    assert "Page not found" in response.text and "Go to the society home page" in response.text


def test_a_foreign_host_is_refused(db, client_for):
    assert client_for().get("/", HTTP_HOST="evil.example.com").status_code == 400


def test_cache_keys_carry_the_schema(db, world):
    with tenant_context(world.alpha):
        cache.set("shared-name", "alpha's value", 30)
    with tenant_context(world.beta):
        assert cache.get("shared-name") is None
    with tenant_context(world.alpha):
        assert cache.get("shared-name") == "alpha's value"
        cache.delete("shared-name")


def test_no_group_app_is_shared():
    from django.conf import settings

    assert not set(settings.TENANT_APPS) & set(settings.SHARED_APPS)


def test_migrations_are_complete(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
