"""Periodic work over groups: one failing group never stops the rest, nor hides a time limit."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from crossschema.fanout import for_each_group, ready_groups
from crossschema.shredding import groups_shred_due
from groups.models import ConfidentialEntry
from groups.services.confidential import confidential_entry_create
from society.models import PeerGroup

MARKER = "salary-negotiation-7f3a"


def _conclude(world, settings, *groups: PeerGroup) -> None:
    long_ago = timezone.now() - timedelta(days=settings.HORIZONTAL_EXPORT_WINDOW_DAYS + 1)
    PeerGroup.objects.filter(pk__in=[g.pk for g in groups]).update(
        lifecycle=PeerGroup.Lifecycle.CONCLUDED, concluded_at=long_ago
    )


def _entries(schema: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {schema}.groups_confidentialentry")
        return cursor.fetchone()[0]


def test_one_failing_group_does_not_stop_shredding_for_the_others(db, world, settings, caplog):
    for group, author in ((world.alpha, world.alice), (world.beta, world.mallory)):
        with tenant_context(group):
            confidential_entry_create(author=author, text=MARKER)
    _conclude(world, settings, world.alpha, world.beta)
    alpha_entries = _entries("g_alpha")
    assert alpha_entries >= 1 and _entries("g_beta") >= 1
    # Alpha comes first and breaks: its key table is gone (a half-migrated schema, say).
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE g_alpha.groups_groupkey RENAME TO groups_groupkey_moved")

    with caplog.at_level(logging.ERROR, logger="crossschema.fanout"):
        result = groups_shred_due()

    assert result.failed == ["alpha"]
    assert result.done == ["beta"]
    assert _entries("g_beta") == 0
    assert _entries("g_alpha") == alpha_entries  # untouched, not half-destroyed
    assert PeerGroup.objects.get(pk=world.alpha.pk).shredded_at is None
    assert PeerGroup.objects.get(pk=world.beta.pk).shredded_at is not None
    assert "Shredding failed for group" in caplog.text
    assert "ProgrammingError" in caplog.text
    assert MARKER not in caplog.text

    # The next run finds alpha again from the database, and beta is not shredded twice.
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE g_alpha.groups_groupkey_moved RENAME TO groups_groupkey")
    again = groups_shred_due()
    assert (again.done, again.failed) == (["alpha"], [])
    assert _entries("g_alpha") == 0


def test_a_soft_time_limit_stops_the_fanout_instead_of_being_swallowed(db, world):
    visited = []

    def work(group: PeerGroup) -> None:
        visited.append(group.slug)
        raise SoftTimeLimitExceeded()

    with pytest.raises(SoftTimeLimitExceeded):
        for_each_group(ready_groups(), work, what="Test work")
    assert visited == ["alpha"]


def test_fanout_runs_each_group_in_its_own_schema_and_skips_groups_not_ready(db, world):
    PeerGroup.objects.filter(pk=world.beta.pk).update(status=PeerGroup.Status.FAILED)
    seen = {}

    def work(group: PeerGroup) -> None:
        seen[group.slug] = (connection.schema_name, ConfidentialEntry.objects.count())

    result = for_each_group(ready_groups(), work, what="Test work")
    assert result.done == ["alpha"]
    assert seen == {"alpha": ("g_alpha", _entries("g_alpha"))}
    assert connection.schema_name == "public"
