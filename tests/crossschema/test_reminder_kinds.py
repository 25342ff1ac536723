"""The reminder kinds beyond meetings: commitment nudges, mission and norms reviews, the
point-persons' nudges (no meeting, attendance, join requests) and the society admins'
applications reminder. Each is indexed by the service that changes what it is about, found by
beat's one query, recorded once per recipient, and re-checked when it is sent: what was
reviewed, answered, moved or cancelled meanwhile is not sent."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone
from django_tenants.utils import tenant_context

from crossschema.outbox import RENDERERS, emails_send_due
from crossschema.reminders import RECIPIENTS, register_reminder, reminders_group
from directory.models import JoinRequest
from directory.services import join_request_create, join_request_decide
from groups.models import Charter, Commitment, Meeting, Membership, Mission, MissionReview
from groups.rules import add_months
from groups.services.charter import charter_update
from groups.services.meetings import (
    attendance_record,
    commitment_add,
    commitment_review,
    meeting_cancel,
    meeting_schedule,
    meeting_update,
)
from groups.services.mission import mission_adopt, mission_review_record
from society.models import GroupApplication, OutboundEmail, PeerGroup, ReminderDue, User
from society.notifications import KIND_CHOICE
from society.reminders import admin_applications_remind, reminders_due
from society.services import application_request_changes, application_submit
from tests.conftest import fresh
from tests.society.factories import UserFactory
from tests.society.test_applications import draft

TOKYO = "Asia/Tokyo"


def _schedule(world, starts, title="Check-ins"):
    with tenant_context(world.alpha):
        return meeting_schedule(
            title=title, starts_at=starts, duration_minutes=60, actor=world.alice, allow_past=True
        )


def _row(world, kind, object_id=0):
    return ReminderDue.objects.filter(group=world.alpha, kind=kind, object_id=object_id).first()


def _time_passes(group, delta: timedelta) -> None:
    """Everything `group` has recorded moves `delta` into the past, its index with it: as if
    that much time had gone by."""
    with tenant_context(group):
        Meeting.objects.update(starts_at=F("starts_at") - delta)
        Meeting.objects.filter(held_at__isnull=False).update(held_at=F("held_at") - delta)
        Mission.objects.update(adopted_at=F("adopted_at") - delta)
        MissionReview.objects.update(reviewed_at=F("reviewed_at") - delta)
    JoinRequest.objects.filter(group=group).update(created_at=F("created_at") - delta)
    PeerGroup.objects.filter(pk=group.pk).update(ready_at=F("ready_at") - delta)
    ReminderDue.objects.filter(group=group).update(due_at=F("due_at") - delta)


def _dispatch(group, kind) -> int:
    """What beat's scan and the group's task do, for one kind (run here, in the test's
    transaction)."""
    ids = [r.pk for r in reminders_due() if r.group_id == group.pk and r.kind == kind]
    return reminders_group(group.pk, ids)


def _sent(kind, to=None):
    rows = OutboundEmail.objects.filter(kind=kind, sent_at__isnull=False)
    return rows.filter(to=to) if to else rows


def _mail(subject_start):
    return [m for m in mail.outbox if m.subject.startswith(subject_start)]


def test_every_kind_is_registered_with_recipients_and_a_renderer_under_its_choice():
    for kind in (
        "commitment_nudge",
        "mission_review",
        "charter_review",
        "pp_no_meeting",
        "pp_attendance",
        "pp_join_request",
    ):
        assert kind in RECIPIENTS and kind in RENDERERS and kind in KIND_CHOICE
    assert "admin_applications" in RENDERERS
    with pytest.raises(ValueError, match="KIND_CHOICE"):
        register_reminder("survey_reopened", lambda _id: [], lambda _email: None)
    with pytest.raises(ValueError, match="registered already"):
        register_reminder("mission_review", lambda _id: [], lambda _email: None)


def test_a_commitment_nudge_reaches_each_owner_halfway_once_in_their_zone(db, world):
    now = timezone.now().replace(microsecond=0)
    held = _schedule(world, now - timedelta(hours=1), "March check-ins")
    following = _schedule(world, now + timedelta(days=4), "April check-ins")
    with tenant_context(world.alpha):
        commitment_add(meeting=held, owner=world.bob, text="Send aims to Carol", actor=world.bob)
        commitment_add(
            meeting=held, owner=world.bob, text="Book the grants office", actor=world.bob
        )
        carols = commitment_add(meeting=held, owner=world.carol, text="Draft", actor=world.carol)
    halfway = held.starts_at + (following.starts_at - held.starts_at) / 2
    assert _row(world, "commitment_nudge", held.pk).due_at == halfway
    User.objects.filter(pk=world.bob.pk).update(time_zone=TOKYO)

    _time_passes(world.alpha, timedelta(days=2, hours=1))
    assert _dispatch(world.alpha, "commitment_nudge") == 2  # Bob and Carol, never Alice
    assert _dispatch(world.alpha, "commitment_nudge") == 0  # a rerun records nothing
    with tenant_context(world.alpha):
        commitment_review(commitment=carols, outcome="kept", actor=world.alice)  # meanwhile
    mail.outbox.clear()
    emails_send_due()

    (nudge,) = _mail("Halfway to your next meeting")
    assert nudge.to == [world.bob.email]
    assert "- Send aims to Carol\n- Book the grants office\n" in nudge.body
    with tenant_context(world.alpha):
        starts = Meeting.objects.get(pk=following.pk).starts_at  # as time has passed
    local = starts.astimezone(ZoneInfo(TOKYO))
    assert f"{local:%H:%M} JST ({TOKYO})" in nudge.body and "April check-ins" in nudge.body
    assert f"/meetings/{following.pk}/" in nudge.body
    assert not _sent("commitment_nudge", world.carol.email).exists()  # nothing open any more
    User.objects.filter(pk=world.bob.pk).update(time_zone=world.bob.time_zone)


def test_the_nudge_follows_the_next_meeting_moved_cancelled_or_added(db, world):
    now = timezone.now().replace(microsecond=0)
    held = _schedule(world, now - timedelta(hours=1))
    following = _schedule(world, now + timedelta(days=4), "Next")
    with tenant_context(world.alpha):
        commitment_add(meeting=held, owner=world.bob, text="Aims", actor=world.bob)
        meeting_update(
            meeting=following,
            actor=world.alice,
            title="Next",
            starts_at=now + timedelta(days=8),
            duration_minutes=60,
        )
    assert (
        _row(world, "commitment_nudge", held.pk).due_at
        == held.starts_at + (now + timedelta(days=8) - held.starts_at) / 2
    )
    with tenant_context(world.alpha):
        meeting_cancel(meeting=Meeting.objects.get(pk=following.pk), actor=world.alice)
    assert _row(world, "commitment_nudge", held.pk).due_at == held.starts_at + timedelta(days=7)
    sooner = _schedule(world, now + timedelta(days=2), "Sooner")
    assert (
        _row(world, "commitment_nudge", held.pk).due_at
        == held.starts_at + (sooner.starts_at - held.starts_at) / 2
    )

    # Recorded, then the next meeting moved before the mail server took it: not sent.
    _time_passes(world.alpha, timedelta(days=1, hours=1))
    assert _dispatch(world.alpha, "commitment_nudge") == 1
    with tenant_context(world.alpha):
        meeting_update(
            meeting=Meeting.objects.get(pk=sooner.pk),
            actor=world.alice,
            title="Sooner",
            starts_at=now + timedelta(days=5),
            duration_minutes=60,
        )
    mail.outbox.clear()
    emails_send_due()
    assert not _mail("Halfway to your next meeting")
    assert OutboundEmail.objects.filter(kind="commitment_nudge", skipped_at__isnull=False).count()


def test_no_nudge_once_every_commitment_is_marked(db, world):
    held = _schedule(world, timezone.now() - timedelta(hours=1))
    with tenant_context(world.alpha):
        only = commitment_add(meeting=held, owner=world.bob, text="Aims", actor=world.bob)
        assert _row(world, "commitment_nudge", held.pk) is not None
        commitment_review(commitment=only, outcome="dropped", actor=world.bob)
    assert _row(world, "commitment_nudge", held.pk) is None


def test_the_point_person_hears_when_no_meeting_is_planned_for_45_days(db, world):
    with tenant_context(world.alpha):
        latest = Meeting.objects.filter(cancelled_at=None).order_by("-starts_at").first()
    assert _row(world, "pp_no_meeting").due_at == latest.starts_at + timedelta(days=45)
    planned = _schedule(world, timezone.now() + timedelta(days=10))
    assert _row(world, "pp_no_meeting").due_at == planned.starts_at + timedelta(days=45)
    with tenant_context(world.alpha):
        meeting_cancel(meeting=planned, actor=world.alice)
    assert _row(world, "pp_no_meeting").due_at == latest.starts_at + timedelta(days=45)

    _time_passes(world.alpha, timedelta(days=46) - (timezone.now() - latest.starts_at))
    assert _dispatch(world.alpha, "pp_no_meeting") == 1
    assert _dispatch(world.alpha, "pp_no_meeting") == 0
    mail.outbox.clear()
    emails_send_due()
    (nudge,) = _mail("No meeting planned")
    assert nudge.to == [world.alice.email]  # the point-person only
    assert "Your group's last meeting was on" in nudge.body and "/polls/" in nudge.body


def test_a_meeting_planned_before_the_nudge_goes_out_stops_it(db, world):
    with tenant_context(world.alpha):
        latest = Meeting.objects.filter(cancelled_at=None).order_by("-starts_at").first()
    _time_passes(world.alpha, timedelta(days=46) - (timezone.now() - latest.starts_at))
    assert _dispatch(world.alpha, "pp_no_meeting") == 1
    _schedule(world, timezone.now() + timedelta(days=3))
    mail.outbox.clear()
    emails_send_due()
    assert not _mail("No meeting planned")


def test_a_join_request_waiting_three_days_nudges_the_point_person_until_answered(db, world):
    PeerGroup.objects.filter(pk=world.alpha.pk).update(open_seats=2)
    alpha = PeerGroup.objects.get(pk=world.alpha.pk)
    olivia = join_request_create(user=fresh(world.olivia), group=alpha, message="PRIVATE-NOTE")
    other = join_request_create(
        user=UserFactory(email="dana@lakeside.edu"), group=alpha, message="Hello"
    )
    assert _row(world, "pp_join_request", olivia.pk).due_at == olivia.created_at + timedelta(days=3)
    answered = join_request_create(
        user=UserFactory(email="eve@lakeside.edu"), group=alpha, message="Hi"
    )
    join_request_decide(request=answered, by=fresh(world.alice), accept=False)
    assert _row(world, "pp_join_request", answered.pk) is None  # answered: no nudge

    _time_passes(world.alpha, timedelta(days=3, minutes=1))
    assert _dispatch(world.alpha, "pp_join_request") == 2  # to Alice, one per request
    join_request_decide(request=other, by=fresh(world.alice), accept=False)  # meanwhile
    mail.outbox.clear()
    emails_send_due()
    (nudge,) = _mail("A request to join is waiting")
    assert nudge.to == [world.alice.email]
    assert world.olivia.display_name in nudge.body and "/join-requests/" in nudge.body
    assert "PRIVATE-NOTE" not in nudge.body
    assert _dispatch(world.alpha, "pp_join_request") == 0


def test_the_mission_review_reaches_every_participating_member(db, world):
    with tenant_context(world.alpha):
        mission_adopt(text="Each of us submits a K award.", actor=world.alice)
        adopted = Mission.objects.get()
    assert _row(world, "mission_review").due_at == adopted.adopted_at + timedelta(days=182)
    with tenant_context(world.alpha):
        review = mission_review_record(outcome="kept", actor=world.alice)
    assert _row(world, "mission_review").due_at == review.reviewed_at + timedelta(days=182)

    _time_passes(world.alpha, timedelta(days=183))
    assert _dispatch(world.alpha, "mission_review") == 3  # Alice, Bob, Carol; not Erin
    with tenant_context(world.alpha):  # Bob left before the mail server took it
        Membership.objects.filter(user=world.bob).update(is_active=False)
    mail.outbox.clear()
    emails_send_due()
    sent = {m.to[0]: m for m in _mail("Time to look at your mission again")}
    assert set(sent) == {world.alice.email, world.carol.email}
    assert "record the review" in sent[world.alice.email].body
    assert "a point-person records the review" in sent[world.carol.email].body
    with tenant_context(world.alpha):
        Membership.objects.filter(user=world.bob).update(is_active=True)
    assert all("/mission/" in m.body for m in sent.values())

    # Once sent, the next reminder waits for the next review; then one recorded, due, and
    # reviewed again before the e-mails went out: none is sent.
    _time_passes(world.alpha, timedelta(days=183))
    assert _dispatch(world.alpha, "mission_review") == 0
    with tenant_context(world.alpha):
        mission_review_record(outcome="kept", actor=world.alice)
    _time_passes(world.alpha, timedelta(days=183))
    assert _dispatch(world.alpha, "mission_review") == 3
    with tenant_context(world.alpha):
        mission_review_record(outcome="kept", actor=world.alice)
    mail.outbox.clear()
    emails_send_due()
    assert not _mail("Time to look at your mission again")
    assert _row(world, "mission_review").done_at is None  # the next one is pending


def test_the_norms_come_up_at_the_rhythm_the_group_chose(db, world, client_for):
    page = client_for(world.alice, world.alpha).get("/charter/").text
    assert 'name="review_every_months"' in page and "Every three months" in page
    with tenant_context(world.alpha):
        charter = charter_update(actor=world.alice, review_every_months=3)
    assert _row(world, "charter_review").due_at == add_months(charter.updated_at, 3)
    with tenant_context(world.alpha):
        charter_update(actor=world.alice, review_every_months=0)
    assert _row(world, "charter_review") is None  # "never"
    with tenant_context(world.alpha):
        charter_update(actor=world.alice, review_every_months=6)
        # Six months and a day go by since the norms were saved (the index as it was set then).
        saved = timezone.now() - timedelta(days=190)
        Charter.objects.update(updated_at=saved)
    ReminderDue.objects.filter(group=world.alpha, kind="charter_review").update(
        due_at=add_months(saved, 6), done_at=None
    )
    assert _dispatch(world.alpha, "charter_review") == 3
    mail.outbox.clear()
    emails_send_due()
    sent = _mail("Time to look at your norms again")
    assert sorted(m.to[0] for m in sent) == sorted(
        [world.alice.email, world.bob.email, world.carol.email]
    )
    assert all("/charter/" in m.body for m in sent)


def test_low_attendance_over_the_last_three_meetings_is_told_once(db, world):
    now = timezone.now()
    meetings = [_schedule(world, now - timedelta(days=d), f"M{d}") for d in (30, 20, 10)]
    with tenant_context(world.alpha):
        for meeting in meetings:
            attendance_record(meeting=meeting, present_ids={world.alice.pk}, actor=world.alice)
            if meeting is not meetings[-1]:
                assert _row(world, "pp_attendance", meeting.pk) is None  # fewer than three
    assert _row(world, "pp_attendance", meetings[-1].pk).done_at is None  # due now
    assert _dispatch(world.alpha, "pp_attendance") == 1
    with tenant_context(world.alpha):  # recorded again, the same: nothing new
        attendance_record(meeting=meetings[-1], present_ids={world.alice.pk}, actor=world.alice)
    assert _dispatch(world.alpha, "pp_attendance") == 0
    mail.outbox.clear()
    emails_send_due()
    (nudge,) = _mail("Attendance is under half")
    assert nudge.to == [world.alice.email]
    assert "3 of 9 expected attendances were recorded as present (33 %)" in nudge.body
    assert world.bob.display_name not in nudge.body and "/attendance/" in nudge.body


def test_society_admins_hear_of_applications_waiting_a_week_once(db, world, settings):
    waiting = draft(world)
    application_submit(application=waiting, actor=world.olivia)
    returned = draft(world, slug="returned-group")
    application_submit(application=returned, actor=world.olivia)
    recent = draft(world, slug="recent-group")
    application_submit(application=recent, actor=world.olivia)
    GroupApplication.objects.filter(pk__in=[waiting.pk, returned.pk]).update(
        updated_at=F("updated_at") - timedelta(days=8)
    )
    admins = User.objects.filter(is_society_admin=True, is_active=True).count()
    assert admin_applications_remind() == 2 * admins  # not the one submitted today
    assert admin_applications_remind() == 0  # a second run records nothing
    application_request_changes(application=returned, actor=fresh(world.sam), comment="Fix")
    mail.outbox.clear()
    emails_send_due()
    to_sam = [m for m in _mail("Waiting for a decision") if m.to == [world.sam.email]]
    assert len(to_sam) == 1
    assert waiting.name in to_sam[0].subject
    assert f"/manage/applications/{waiting.pk}/" in to_sam[0].body
    task = settings.CELERY_BEAT_SCHEDULE["remind-admins-of-waiting-applications"]
    assert task == {"task": "crossschema.admin_applications_remind", "schedule": 86400.0}


def test_a_paused_group_gets_none_of_them(db, world):
    with tenant_context(world.alpha):
        mission_adopt(text="Each of us submits a K award.", actor=world.alice)
    _time_passes(world.alpha, timedelta(days=183))
    PeerGroup.objects.filter(pk=world.alpha.pk).update(lifecycle="paused")
    assert _dispatch(world.alpha, "mission_review") == 0
    assert _dispatch(world.alpha, "pp_no_meeting") == 0
    assert not OutboundEmail.objects.filter(kind__in=["mission_review", "pp_no_meeting"]).exists()


def test_the_backfill_indexes_groups_older_than_the_index_and_is_idempotent(db, world):
    PeerGroup.objects.filter(pk=world.alpha.pk).update(open_seats=1)
    request = join_request_create(
        user=fresh(world.olivia), group=PeerGroup.objects.get(pk=world.alpha.pk), message="Hi"
    )
    upcoming = _schedule(world, timezone.now() + timedelta(days=5))
    with tenant_context(world.alpha):
        mission_adopt(text="Each of us submits a K award.", actor=world.alice)
        commitment_add(meeting=upcoming, owner=world.bob, text="Aims", actor=world.bob)
    before = {
        row
        for row in ReminderDue.objects.values_list("group_id", "kind", "object_id", "due_at")
        if row[3] > timezone.now() or not row[1].startswith("meeting_")
    }  # (a past meeting's reminders are history: the backfill leaves them out)
    beta = PeerGroup.objects.get(pk=world.beta.pk)  # no meeting, norms never saved
    provisioned = {(k, d) for g, k, _o, d in before if g == beta.pk}
    assert provisioned == {
        ("charter_review", add_months(beta.ready_at, 12)),  # indexed when it became ready
        ("pp_no_meeting", beta.ready_at + timedelta(days=45)),
    }
    ReminderDue.objects.all().delete()  # as before the index existed

    call_command("reminders_backfill")
    rows = ReminderDue.objects.values_list("group_id", "kind", "object_id", "due_at")
    assert set(rows) >= before
    kinds = {(k, o) for g, k, o, _due in rows if g == world.alpha.pk}
    assert {
        ("meeting_24h", upcoming.pk),
        ("meeting_1h", upcoming.pk),
        ("commitment_nudge", upcoming.pk),
        ("commitment_nudge", world.samples["meeting"]),  # Bob's open "Draft aims"
        ("mission_review", 0),
        ("charter_review", 0),
        ("pp_no_meeting", 0),
        ("pp_join_request", request.pk),
    } <= kinds
    assert {k for g, k, _o, _d in rows if g == world.beta.pk} >= {"charter_review", "pp_no_meeting"}
    snapshot = sorted(ReminderDue.objects.values_list("pk", "kind", "due_at", "done_at"))
    call_command("reminders_backfill")
    assert sorted(ReminderDue.objects.values_list("pk", "kind", "due_at", "done_at")) == snapshot
    with tenant_context(world.alpha):
        assert Commitment.objects.filter(meeting=upcoming).count() == 1


def test_a_review_missed_while_paused_is_sent_once_the_group_resumes(db, world):
    from groups.services.lifecycle import group_pause_set

    with tenant_context(world.alpha):
        mission_adopt(text="Each of us submits a K award.", actor=world.alice)
        group_pause_set(paused=True, actor=world.alice)
    _time_passes(world.alpha, timedelta(days=183))
    assert _dispatch(world.alpha, "mission_review") == 0  # paused: marked done, not sent
    with tenant_context(world.alpha):
        group_pause_set(paused=False, actor=world.alice)
    recorded = _dispatch(world.alpha, "mission_review")
    assert recorded >= 3  # every participating member
    mail.outbox.clear()
    emails_send_due()
    assert len(_mail("Time to look at your mission again")) == recorded
    with tenant_context(world.alpha):  # paused and resumed again: nothing twice
        group_pause_set(paused=True, actor=world.alice)
        group_pause_set(paused=False, actor=world.alice)
    assert _dispatch(world.alpha, "mission_review") == 0
