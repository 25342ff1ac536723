"""Isolation between groups (SECURITY.md 1, 2, 4): schemas, hosts and caches never mix."""

import io
import uuid
import zipfile
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import ProgrammingError, connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from groups.models import Membership, Mission, WorkerCheck
from groups.services.achievements import achievement_add
from groups.services.calendar import calendar_feed_issue
from groups.services.charter import charter_update
from groups.services.confidential import confidential_entry_create, confidential_reply
from groups.services.goals import goal_save
from groups.services.meetings import (
    agenda_notes_record,
    attendance_record,
    commitment_add,
    meeting_schedule,
)
from groups.services.minutes import minutes_publish
from groups.services.mission import mission_adopt
from groups.services.polls import poll_create
from society.models import GroupDomain, PeerGroup
from tests.conftest import fresh
from tests.groups.test_role_matrix import GET, OTHER, POST, url_of


def test_a_row_in_alpha_cannot_be_read_from_betas_schema_or_from_public(db, world, client_for):
    marker = uuid.uuid4().hex
    with tenant_context(world.alpha):
        mission_adopt(text=f"{marker} alpha's mission", actor=world.alice)
        WorkerCheck.objects.create(requested_by=world.alice)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT count(*) FROM {world.alpha.schema_name}.groups_mission"
            "          WHERE position(%s in text) > 0),"
            f"       (SELECT count(*) FROM {world.beta.schema_name}.groups_mission"
            "          WHERE position(%s in text) > 0)",
            [marker, marker],
        )
        assert cursor.fetchone() == (1, 0)  # there in alpha's schema, and only there
    with tenant_context(world.beta):
        assert not Mission.objects.filter(text__contains=marker).exists()
        assert not Membership.objects.filter(user=world.bob).exists()
    as_beta_lead = client_for(world.mallory, world.beta)
    for path in ("/", "/mission/", "/status/workers/"):
        page = as_beta_lead.get(path)
        assert page.status_code == 200, path
        assert marker not in page.text and "Bob Tester" not in page.text, path

    with schema_context("public"), pytest.raises(ProgrammingError), transaction.atomic():
        # group tables do not exist in public: nothing to fall back to
        WorkerCheck.objects.count()
    with schema_context("public"), connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('groups_workercheck'), to_regclass('groups_membership')")
        assert cursor.fetchone() == (None, None)


def _plant(group, lead, member, marker) -> tuple[dict, str]:
    """`marker`-label in every kind of thing `group`'s members write; returns the samples
    (for url_of) and the lead's calendar-feed token."""
    now = timezone.now()
    with tenant_context(group):
        mission_adopt(text=f"{marker}-mission", actor=lead)
        charter_update(actor=lead, work_between_meetings=f"{marker}-norms")
        goal = goal_save(owner=member, text=f"{marker}-goal", alignment=f"{marker}-alignment")
        thread = confidential_entry_create(author=lead, text=f"{marker}-confidential")
        confidential_reply(thread=thread, author=member, text=f"{marker}-reply")
        peers = confidential_entry_create(
            author=member, text=f"{marker}-peers-only", peers_only=True
        )
        poll = poll_create(
            title=f"{marker}-poll",
            duration_minutes=60,
            actor=lead,
            starts=[now + timedelta(days=30)],
        )
        past = meeting_schedule(
            title=f"{marker}-past-meeting",
            starts_at=now - timedelta(days=7),
            duration_minutes=60,
            actor=lead,
            allow_past=True,
        )
        first, second = past.agenda.order_by("position")[:2]
        attendance_record(meeting=past, present_ids={lead.pk, member.pk}, actor=lead)
        agenda_notes_record(item=first, notes=f"{marker}-notes", confidential=False, actor=lead)
        agenda_notes_record(
            item=second, notes=f"{marker}-sealed-notes", confidential=True, actor=lead
        )
        commitment = commitment_add(
            meeting=past, owner=member, text=f"{marker}-commitment", actor=lead
        )
        minutes_publish(meeting=past, actor=lead)
        meeting_schedule(
            title=f"{marker}-next-meeting",
            starts_at=now + timedelta(days=3),
            duration_minutes=60,
            actor=lead,
            place=f"{marker}-place",
        )
        achievement = achievement_add(
            owner=member, kind="paper", text=f"{marker}-achievement", shareable=False
        )
        token = calendar_feed_issue(member=lead)
        samples = {
            "poll": poll.pk,
            "meeting": past.pk,
            "item": first.pk,
            "commitment": commitment.pk,
            "goal": goal.pk,
            "thread": thread.pk,
            "peers_thread": peers.pk,
            "achievement": achievement.pk,
            "membership": Membership.objects.get(user=member).pk,
        }
    return samples, token


LABELS = [
    "mission", "norms", "goal", "alignment", "confidential", "reply", "peers-only", "poll",
    "past-meeting", "notes", "sealed-notes", "commitment", "next-meeting", "place",
    "achievement",
]  # fmt: skip


def _body(response) -> str:
    """Everything a response carries, as text: a zip's files unpacked, iCalendar lines unfolded
    (a long line is folded with CRLF and a space, which could split the marker)."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type", "").startswith("application/zip"):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            content = b"\n".join(archive.read(name) for name in archive.namelist())
    return content.decode("utf-8", "replace").replace("\r\n ", "").replace("\n ", "")


def test_betas_content_never_reaches_a_member_of_alpha_on_either_host(db, world, client_for):
    """Bob (alpha only) asks for every group URL, with every method, on beta's host and on
    his own; a marker planted in everything beta's members wrote must never come back."""
    marker = uuid.uuid4().hex
    beta_samples, beta_feed = _plant(world.beta, fresh(world.mallory), fresh(world.alice), marker)

    # The control: beta's own point-person does see every planted thing on beta's host.
    lead = client_for(world.mallory, world.beta)
    seen = "".join(_body(lead.get(url_of(name, world, beta_samples))) for name in GET)
    seen += _body(lead.get(f"/calendar/feed/{beta_feed}.ics"))
    assert [label for label in LABELS if f"{marker}-{label}" not in seen] == []

    on_beta = client_for(world.bob, world.beta)
    on_alpha = client_for(world.bob, world.alpha)
    for name in GET:
        for method, table in (("get", GET), ("post", POST)):
            url = url_of(name, world, beta_samples)
            response = getattr(on_beta, method)(url)
            assert response.status_code == table[name][OTHER], (name, method)
            assert marker not in _body(response), ("beta's host", name, method)
            for samples in (None, beta_samples):  # alpha's own ids (the default), and beta's
                response = getattr(on_alpha, method)(url_of(name, world, samples))
                assert marker not in _body(response), ("alpha's host", name, method, samples)
    # beta's feed token is a credential in beta only
    response = on_alpha.get(f"/calendar/feed/{beta_feed}.ics")
    assert response.status_code == 404 and marker not in _body(response)


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
