"""A group's lifecycle: stage, pause, redefine, conclude, export, destruction after the window."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
import vobject
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from crossschema.shredding import groups_shred_due
from groups.crypto import KeyDestroyed
from groups.models import ConfidentialEntry, GroupKey, Mission
from groups.services.confidential import (
    confidential_entry_create,
    confidential_entry_text,
    group_key_rewrap,
)
from groups.services.meetings import meeting_schedule
from groups.services.mission import mission_adopt
from society.models import AuditEvent, PeerGroup
from tests.conftest import fresh

MARKER = "CANARY-salary-negotiation-7f3a"


def _alpha(world) -> PeerGroup:
    return PeerGroup.objects.get(pk=world.alpha.pk)


def test_point_person_moves_stage_pauses_and_redefines(db, world, client_for):
    lead = client_for(world.alice, world.alpha)
    with tenant_context(world.alpha):
        mission_adopt(text="Our first mission.", actor=world.alice)
    assert lead.post("/lifecycle/stage/", {"stage": "cultivation"}).status_code == 302
    assert _alpha(world).stage == "cultivation"
    lead.post("/lifecycle/pause/", {"paused": "1"})
    assert _alpha(world).lifecycle == "paused"
    assert "This group is paused." in lead.get("/").text
    lead.post("/lifecycle/pause/", {"paused": "0"})
    assert _alpha(world).lifecycle == "active"
    assert lead.post("/lifecycle/redefine/", {"mission": "A sharper mission."}).status_code == 302
    with tenant_context(world.alpha):
        assert list(Mission.objects.values_list("version", "text")) == [
            (2, "A sharper mission."),
            (1, "Our first mission."),
        ]
    assert _alpha(world).stage == "redefinition"
    assert "A sharper mission." in lead.get("/").text
    empty = lead.post("/lifecycle/redefine/", {"mission": ""})
    assert empty.status_code == 400 and "This field is required." in empty.text


def test_concluding_needs_confirmation_then_the_space_is_read_only(db, world, client_for):
    lead = client_for(world.alice, world.alpha)
    lead.post("/lifecycle/conclude/", {})
    assert _alpha(world).lifecycle == "active"
    lead.post("/lifecycle/conclude/", {"confirm": "conclude"})
    group = _alpha(world)
    assert group.lifecycle == "concluded" and group.concluded_at is not None
    assert lead.get("/").status_code == 200  # still readable
    assert "read-only archive" in lead.get("/").text
    refused = lead.post("/members/invite/", {"email": "late@lakeside.edu", "role": "member"})
    assert refused.status_code == 403 and "This group has concluded" in refused.text
    assert client_for(world.bob, world.alpha).post("/status/workers/").status_code == 403


def test_the_export_opens_with_independent_parsers(db, world, client_for):
    with tenant_context(world.alpha):
        mission_adopt(text="Promotion for all of us.", actor=world.alice)
        confidential_entry_create(author=world.bob, text=MARKER)
    response = client_for(world.alice, world.alpha).get("/export/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert 'filename="alpha-export-' in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None  # every member's CRC checks out
    names = archive.namelist()
    assert {"group.json", "meetings.ics"} <= set(names)
    assert all(n.endswith(".md") for n in names if n.startswith("minutes/"))  # Markdown

    data = json.loads(archive.read("group.json"))
    group = _alpha(world)
    assert (data["group"]["name"], data["group"]["address"]) == ("Alpha Peer Group", "alpha")
    assert (data["group"]["stage"], data["group"]["lifecycle"]) == (group.stage, group.lifecycle)
    exported_at = datetime.fromisoformat(data["exported_at"])
    assert abs(timezone.now() - exported_at) < timedelta(minutes=1)
    assert sorted((m["name"], m["email"], m["role"], m["active"]) for m in data["members"]) == [
        ("Alice Tester", world.alice.email, "point_person", True),
        ("Bob Tester", world.bob.email, "member", True),
        ("Carol Tester", world.carol.email, "facilitator", True),
        ("Erin Tester", world.erin.email, "evaluator", True),
    ]
    assert {m["institution"] for m in data["members"]} == {
        "Northfield University",
        "Lakeside College",
    }
    assert [(m["version"], m["text"]) for m in data["missions"]] == [
        (1, "Promotion for all of us.")
    ]
    # decrypted, with who wrote them and whether they were for peers only (threads; no replies)
    assert sorted(
        (e["author"], e["text"], e["peers_only"]) for e in data["confidential_threads"]
    ) == [
        ("Bob Tester", MARKER, False),
        ("Bob Tester", "Job offer: thoughts?", False),
        ("Bob Tester", "Peers only", True),
    ]

    calendar = vobject.readOne(archive.read("meetings.ics").decode())
    assert calendar.name == "VCALENDAR" and calendar.version.value == "2.0"
    assert calendar.prodid.value.startswith("-//Horizontal")


def test_confidential_text_is_only_ciphertext_in_the_database(db, world):
    with tenant_context(world.alpha):
        entry = confidential_entry_create(author=world.bob, text=MARKER)
        assert confidential_entry_text(entry=entry) == MARKER
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM g_alpha.groups_confidentialentry"
            " WHERE position(%s::bytea in ciphertext) > 0",
            [MARKER.encode()],
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT wrapped FROM g_alpha.groups_groupkey")
        assert MARKER not in cursor.fetchone()[0]


def test_confidential_data_is_destroyed_only_after_the_export_window(db, world, settings):
    with tenant_context(world.alpha):
        entry = confidential_entry_create(author=world.bob, text=MARKER)
    group = _alpha(world)
    group.lifecycle = PeerGroup.Lifecycle.CONCLUDED
    group.concluded_at = timezone.now() - timedelta(days=settings.HORIZONTAL_EXPORT_WINDOW_DAYS - 1)
    group.save(update_fields=["lifecycle", "concluded_at"])
    assert groups_shred_due().done == []
    with tenant_context(world.alpha):
        assert ConfidentialEntry.objects.filter(pk=entry.pk).exists()

    group.concluded_at = timezone.now() - timedelta(days=settings.HORIZONTAL_EXPORT_WINDOW_DAYS + 1)
    group.save(update_fields=["concluded_at"])
    assert groups_shred_due().done == ["alpha"]
    assert groups_shred_due().done == []  # once
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM g_alpha.groups_groupkey),"
            " (SELECT count(*) FROM g_alpha.groups_confidentialentry)"
        )
        assert cursor.fetchone() == (0, 0)
    assert _alpha(world).shredded_at is not None
    with tenant_context(_alpha(world)), pytest.raises(KeyDestroyed):
        confidential_entry_text(entry=entry)


def test_the_periodic_work_is_scheduled(db, settings):
    """Beat runs each sweep the README names, and each names a task the worker knows."""
    from config.celery import app

    app.loader.import_default_modules()
    expected = {
        "shred-concluded-groups": ("crossschema.groups_shred_due", 3600.0),
        "provision-queued-groups": ("crossschema.applications_provision_queued", 60.0),
        "directory-digests": ("directory.digests_send", 3600.0),
        "directory-follow-accounts": ("directory.profiles_follow_accounts", 60.0),
        "send-due-emails": ("crossschema.emails_send_due", 60.0),
        "dispatch-due-reminders": ("crossschema.reminders_dispatch", 60.0),
        "remind-admins-of-waiting-applications": ("crossschema.admin_applications_remind", 86400.0),
        "forget-old-emails": ("crossschema.emails_purge", 86400.0),
    }
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert {name: (e["task"], e["schedule"]) for name, e in schedule.items()} == expected
    assert {task for task, _every in expected.values()} <= set(app.tasks)


def test_the_destruction_is_scheduled(db, settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["shred-concluded-groups"]
    assert schedule["task"] == "crossschema.groups_shred_due"
    from config.celery import app

    app.loader.import_default_modules()
    assert "crossschema.groups_shred_due" in app.tasks


def test_rotating_the_key_encryption_key(db, world, settings):
    with tenant_context(world.alpha):
        entry = confidential_entry_create(author=world.bob, text=MARKER)
        old_wrapped = GroupKey.objects.get().wrapped
        new_kek = "bmV3LWtleS1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcyE="
        settings.HORIZONTAL_KEYS = [new_kek, *settings.HORIZONTAL_KEYS]
        assert confidential_entry_text(entry=entry) == MARKER  # old key still unwraps
        assert group_key_rewrap() is True
        assert GroupKey.objects.get().wrapped != old_wrapped
        settings.HORIZONTAL_KEYS = [new_kek]  # the old KEK is retired
        assert confidential_entry_text(entry=entry) == MARKER
        assert group_key_rewrap() is False


def test_the_society_sees_when_each_group_last_met(db, world, client_for):
    held = datetime(2026, 11, 3, 17, 0, tzinfo=UTC)
    with tenant_context(world.alpha):
        meeting = meeting_schedule(
            title="November",
            starts_at=held,
            duration_minutes=60,
            actor=fresh(world.alice),
            allow_past=True,
        )
    before = client_for(world.sam).get("/manage/groups/").text
    assert "3 Nov 2026" not in before
    client_for(world.alice, world.alpha).post(
        f"/meetings/{meeting.pk}/attendance/", {"present": [world.alice.pk]}
    )
    row = client_for(world.sam).get("/manage/groups/").text.split("Alpha Peer Group")[1]
    assert "3 Nov 2026" in row.split("</tr>")[0]


def test_society_sees_stage_size_and_institutions_but_no_content(db, world, client_for):
    with tenant_context(world.alpha):
        mission_adopt(text=MARKER, actor=world.alice)
    page = client_for(world.sam).get("/manage/groups/").text
    assert "Alpha Peer Group" in page and "Initiation" in page
    assert "Lakeside College, Northfield University" in page
    assert MARKER not in page


def _concluded(world, *, days_ago: float) -> PeerGroup:
    """Alpha concluded `days_ago` (its public row, rolled back with the test)."""
    group = _alpha(world)
    group.lifecycle = PeerGroup.Lifecycle.CONCLUDED
    group.stage = PeerGroup.Stage.SEPARATION
    group.concluded_at = timezone.now() - timedelta(days=days_ago)
    group.save(update_fields=["lifecycle", "stage", "concluded_at"])
    return group


def _audit(world, kind) -> list[int]:
    return list(
        AuditEvent.objects.filter(kind=kind, group_id=world.alpha.pk).values_list(
            "actor_id", flat=True
        )
    )


def test_concluding_is_audited(db, world, client_for):
    client_for(world.alice, world.alpha).post("/lifecycle/conclude/", {"confirm": "conclude"})
    assert _alpha(world).lifecycle == "concluded"
    assert _audit(world, AuditEvent.Kind.GROUP_CONCLUDED) == [world.alice.pk]


def test_a_point_person_reopens_within_the_window_and_nothing_is_destroyed(
    db, world, client_for, settings
):
    with tenant_context(world.alpha):
        entry = confidential_entry_create(author=world.bob, text=MARKER)
    _concluded(world, days_ago=settings.HORIZONTAL_EXPORT_WINDOW_DAYS - 2.5)
    lead = client_for(world.alice, world.alpha)
    page = lead.get("/lifecycle/").text
    assert "can be reopened for 3 more days: after that its confidential space is destroyed" in (
        page
    )
    # only a point-person; the other members know the page exists (403)
    assert client_for(world.bob, world.alpha).post("/lifecycle/reopen/").status_code == 403
    assert client_for(world.mallory, world.alpha).post("/lifecycle/reopen/").status_code == 404
    assert _alpha(world).lifecycle == "concluded"

    reopened = lead.post("/lifecycle/reopen/", follow=True)
    assert "The group is active again; its confidential space will not be destroyed." in (
        reopened.text
    )
    group = _alpha(world)
    assert (group.lifecycle, group.concluded_at) == ("active", None)
    assert _audit(world, AuditEvent.Kind.GROUP_REOPENED) == [world.alice.pk]
    # the space takes changes again
    assert lead.post("/lifecycle/stage/", {"stage": "cultivation"}).status_code == 302
    assert _alpha(world).stage == "cultivation"
    # and the shredding sweep passes it by, however short the window
    settings.HORIZONTAL_EXPORT_WINDOW_DAYS = 0
    assert groups_shred_due().done == []
    with tenant_context(world.alpha):
        assert confidential_entry_text(entry=ConfidentialEntry.objects.get(pk=entry.pk)) == MARKER


def test_reopening_after_the_window_is_refused_with_a_message(db, world, client_for, settings):
    _concluded(world, days_ago=settings.HORIZONTAL_EXPORT_WINDOW_DAYS + 0.1)
    lead = client_for(world.alice, world.alpha)
    assert "Reopen the group" not in lead.get("/lifecycle/").text
    refused = lead.post("/lifecycle/reopen/", follow=True)
    assert (
        f"The {settings.HORIZONTAL_EXPORT_WINDOW_DAYS} days in which a concluded group can be "
        "reopened have passed." in refused.text
    )
    assert _alpha(world).lifecycle == "concluded"
    assert _audit(world, AuditEvent.Kind.GROUP_REOPENED) == []


def test_reopening_after_the_shredding_is_refused_with_a_message(db, world, client_for, settings):
    _concluded(world, days_ago=settings.HORIZONTAL_EXPORT_WINDOW_DAYS + 1)
    assert groups_shred_due().done == ["alpha"]
    # even were the window longer now, a destroyed space cannot come back
    settings.HORIZONTAL_EXPORT_WINDOW_DAYS += 10
    lead = client_for(world.alice, world.alpha)
    assert "Reopen the group" not in lead.get("/lifecycle/").text
    refused = lead.post("/lifecycle/reopen/", follow=True)
    assert "confidential space was destroyed on" in refused.text
    assert "so it can no longer be reopened" in refused.text
    assert _alpha(world).lifecycle == "concluded"
    assert _audit(world, AuditEvent.Kind.GROUP_REOPENED) == []


def test_reopening_an_active_group_changes_nothing(db, world, client_for):
    refused = client_for(world.alice, world.alpha).post("/lifecycle/reopen/", follow=True)
    assert "This group has not concluded, so there is nothing to reopen." in refused.text
    assert _alpha(world).lifecycle == "active"
    assert _audit(world, AuditEvent.Kind.GROUP_REOPENED) == []


def test_a_concluded_group_still_refuses_every_other_change(db, world, client_for, settings):
    _concluded(world, days_ago=1)
    lead = client_for(world.alice, world.alpha)
    for path in ("/lifecycle/stage/", "/lifecycle/reopen/x", "/lifecycle/reopen"):
        refused = lead.post(path, {"stage": "cultivation"})
        assert refused.status_code == 403 and "This group has concluded" in refused.text, path
    assert _alpha(world).lifecycle == "concluded"
