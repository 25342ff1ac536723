"""Group applications: the review workflow, provisioning on a real worker, failure and retry."""

from __future__ import annotations

import email
import os
import signal
import uuid

import psycopg
import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django_tenants.utils import schema_exists, tenant_context

from crossschema.outbox import emails_send_due
from groups.models import Invitation, Membership, Mission
from society.models import ApplicationEvent, GroupApplication, GroupDomain, PeerGroup
from society.services import (
    application_approve,
    application_reject,
    application_request_changes,
    application_save,
    application_submit,
    group_schema_drop,
)
from tests.conftest import database_url_of_tests, running, wait_for, worker_argv

FIELDS = {
    "name": "Educators Across Borders",
    "mission_draft": "Each of us reaches promotion as a clinician-educator within three years.",
    "focus": "clinician_educator_promotion",
    "meeting_rhythm": "monthly",
    "why_these_peers": "Different institutions, same promotion criteria to decode.",
}


def draft(world, slug=None, founders=None, leads=None, applicant=None):
    applicant = applicant or world.olivia
    return application_save(
        application=GroupApplication(),
        actor=applicant,
        founding_emails=founders or ["pat@lakeside.edu", "quinn@southport.edu", world.bob.email],
        point_person_emails=leads or [applicant.email],
        slug=slug or f"app-{uuid.uuid4().hex[:6]}",
        **FIELDS,
    )


# --- the workflow, as services (rolled back per test) ------------------------------------------


def test_every_transition_is_recorded_and_emailed_to_the_applicant(
    db, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        application = draft(world)
        application_submit(application=application, actor=world.olivia)
        application_request_changes(
            application=application, actor=world.sam, comment="Add a second point-person."
        )
        application_save(
            application=application,
            actor=world.olivia,
            founding_emails=application.founding_emails,
            point_person_emails=[world.olivia.email, "pat@lakeside.edu"],
            **FIELDS,
            slug=application.slug,
        )
        application_submit(application=application, actor=world.olivia)
        application_reject(application=application, actor=world.sam, comment="Overlaps K Club.")
    steps = list(
        ApplicationEvent.objects.filter(application=application).values_list(
            "from_state", "to_state", "actor__email", "comment"
        )
    )
    assert steps == [
        ("", "draft", world.olivia.email, ""),
        ("draft", "submitted", world.olivia.email, ""),
        ("submitted", "changes_requested", world.sam.email, "Add a second point-person."),
        ("changes_requested", "submitted", world.olivia.email, ""),
        ("submitted", "rejected", world.sam.email, "Overlaps K Club."),
    ]
    assert not mail.outbox  # recorded with each transition; the worker sends them
    assert emails_send_due() == 4  # what the worker's task and beat's sweep run
    assert emails_send_due() == 0  # a second run sends nothing twice
    subjects = [m.subject for m in mail.outbox if m.to == [world.olivia.email]]
    assert subjects[-1].endswith(": rejected") and len(subjects) == 4
    assert len({m.extra_headers["Message-ID"] for m in mail.outbox}) == 4
    assert "Overlaps K Club." in mail.outbox[-1].body
    assert not PeerGroup.objects.filter(slug=application.slug).exists()
    assert not schema_exists(PeerGroup.schema_name_for(application.slug))


def test_the_rules_of_each_transition(db, world):
    application = draft(world)
    with pytest.raises(PermissionDenied):  # only society admins review
        application_approve(application=application, actor=world.alice)
    with pytest.raises(ValidationError):  # only submitted applications are reviewed
        application_approve(application=application, actor=world.sam)
    with pytest.raises(PermissionDenied):  # only the applicant submits
        application_submit(application=application, actor=world.bob)
    application_submit(application=application, actor=world.olivia)
    with pytest.raises(ValidationError, match="Say what should change"):
        application_request_changes(application=application, actor=world.sam, comment=" ")
    with pytest.raises(ValidationError, match="reason"):
        application_reject(application=application, actor=world.sam, comment="")
    with pytest.raises(ValidationError):  # no edits while under review
        application_save(
            application=application,
            actor=world.olivia,
            founding_emails=application.founding_emails,
            point_person_emails=application.point_person_emails,
            **FIELDS,
            slug=application.slug,
        )


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"slug": "alpha"}, "slug", "taken"),
        ({"founders": ["only@lakeside.edu"]}, "founding_emails", "between 2 and"),
        ({"leads": ["stranger@x.edu"]}, "point_person_emails", "among the founding members"),
        (
            {"leads": ["a@lakeside.edu", "b@lakeside.edu", "c@lakeside.edu"]},
            "point_person_emails",
            "one or two",
        ),
    ],
)
def test_bad_applications_get_field_errors(db, world, kwargs, field, message):
    with pytest.raises(ValidationError) as info:
        draft(world, **kwargs)
    assert message in " ".join(info.value.message_dict[field])


def test_review_page_warns_about_one_institution_and_busy_members(db, world, client_for):
    application = draft(
        world, founders=["x@northfield.edu", world.alice.email], leads=[world.olivia.email]
    )
    application_submit(application=application, actor=world.olivia)
    page = client_for(world.sam).get(f"/manage/applications/{application.pk}/").text
    assert "All founding members are from one institution." in page
    assert f"{world.alice.email} is already in 2 groups." in page


def test_the_reviewer_sees_founders_by_name_where_an_account_has_one(db, world, client_for):
    from tests.society.factories import UserFactory

    UserFactory(email="nameless@lakeside.edu", full_name="")
    UserFactory(email="gone@lakeside.edu", full_name="Gone Away", is_active=False)
    founders = ["pat@lakeside.edu", world.bob.email, "nameless@lakeside.edu", "gone@lakeside.edu"]
    application = draft(world, founders=founders, leads=[world.olivia.email, world.bob.email])
    application_submit(application=application, actor=world.olivia)

    page = client_for(world.sam).get(f"/manage/applications/{application.pk}/").text
    founding = page.split("<dt>Founding members</dt><dd>")[1].split("</dd>")[0]
    assert founding == (
        "pat@lakeside.edu, Bob Tester (bob@lakeside.edu), nameless@lakeside.edu, gone@lakeside.edu"
    )
    leads = page.split("<dt>Point-persons</dt><dd>")[1].split("</dd>")[0]
    assert leads == "Olivia Tester (olivia@northfield.edu), Bob Tester (bob@lakeside.edu)"
    # The applicant's own page keeps the bare addresses: it does not say who has an account.
    own = client_for(world.olivia).get(f"/applications/{application.pk}/").text
    assert "Bob Tester" not in own and "bob@lakeside.edu" in own


def test_applications_are_seen_by_their_applicant_and_society_admins_only(db, world, client_for):
    application = draft(world)
    url = f"/applications/{application.pk}/"
    assert client_for(world.olivia).get(url).status_code == 200
    assert client_for(world.sam).get(url).status_code == 200
    assert client_for(world.bob).get(url).status_code == 404
    assert client_for(world.bob).post(url, {"name": "Hijack"}).status_code == 404
    assert client_for().get(url).status_code == 302
    review = f"/manage/applications/{application.pk}/"
    assert client_for(world.olivia).post(review, {"decision": "approve"}).status_code == 403


def test_applying_through_the_pages(db, world, client_for):
    client = client_for(world.olivia)
    bad = client.post(
        "/apply/",
        {
            **FIELDS,
            "slug": "Bad Slug",
            "founding_emails_text": "nope",
            "point_person_emails_text": world.olivia.email,
        },
    )
    assert bad.status_code == 400
    assert "Not e-mail addresses: nope" in bad.text and "lower-case letters" in bad.text
    good = client.post(
        "/apply/",
        {
            **FIELDS,
            "slug": "borders",
            "founding_emails_text": "pat@lakeside.edu\nquinn@southport.edu",
            "point_person_emails_text": world.olivia.email,
        },
    )
    assert good.status_code == 302
    application = GroupApplication.objects.get(slug="borders")
    assert client.post(f"/applications/{application.pk}/submit/").status_code == 302
    application.refresh_from_db()
    assert application.state == "submitted"


def test_the_applicant_reads_the_societys_comment_in_words_and_the_reviewer_the_proposal_first(
    db, world, client_for
):
    application = draft(world)
    application_submit(application=application, actor=world.olivia)
    review = client_for(world.sam).get(f"/manage/applications/{application.pk}/").text
    assert review.index("Why these peers") < review.index("Record decision")
    application_request_changes(
        application=application, actor=world.sam, comment="Name a second point-person."
    )
    page = client_for(world.olivia).get(f"/applications/{application.pk}/").text
    comment = page.split('data-testid="society-comment"')[1].split("</div>")[0]
    assert "What the society asks you to change" in comment
    assert "Name a second point-person." in comment
    assert "Submitted → Changes requested by" in page.replace("&rarr;", "→")
    assert "changes_requested" not in page


def sent_mail(folder) -> list[email.message.Message]:
    """Messages written by Django's file-based backend (several may share one file)."""
    separator = b"\n" + b"-" * 79 + b"\n"
    return [
        email.message_from_bytes(chunk)
        for path in folder.iterdir()
        for chunk in path.read_bytes().split(separator)
        if chunk.strip()
    ]


# --- on the real worker ------------------------------------------------------------------------


def _cleanup(application: GroupApplication) -> None:
    application.refresh_from_db()
    group = application.group
    GroupApplication.objects.filter(pk=application.pk).delete()
    if group is not None:
        group_schema_drop(schema_name=group.schema_name)
        GroupDomain.objects.filter(tenant=group).delete()
        group.member_links.all().delete()
        PeerGroup.objects.filter(pk=group.pk).delete()


def test_approval_provisions_the_space_and_invites_the_founders_on_the_worker(
    committed, world, celery_worker_process, worker_outbox, client_for
):
    application = draft(world, leads=[world.olivia.email, "pat@lakeside.edu"])
    try:
        application_submit(application=application, actor=world.olivia)
        application_request_changes(application=application, actor=world.sam, comment="Why?")
        application_submit(application=application, actor=world.olivia)
        application_approve(application=application, actor=world.sam)
        application.refresh_from_db()
        group = application.group
        wait_for(
            lambda: PeerGroup.objects.get(pk=group.pk).status == "ready",
            60,
            "the worker to provision the approved group",
        )
        assert PeerGroup.objects.get(pk=group.pk).mission_public == FIELDS["mission_draft"]
        with tenant_context(group):
            assert Mission.objects.get().text == FIELDS["mission_draft"]
            assert Membership.objects.get(user=world.olivia).role == "point_person"
            invited = dict(Invitation.objects.values_list("email", "role"))
        assert invited == {
            "pat@lakeside.edu": "point_person",
            "quinn@southport.edu": "member",
            world.bob.email: "member",
        }
        founders = {"pat@lakeside.edu", "quinn@southport.edu", world.bob.email}

        def invited() -> set[str]:  # the invitations are e-mailed just after "ready"
            return {
                m["To"]
                for m in sent_mail(worker_outbox)
                if "Invitation to join Educators Across Borders" in m["Subject"]
            }

        wait_for(lambda: founders <= invited(), 30, "the founders' invitations")
        assert client_for(world.olivia, group).get("/").status_code == 200
        page = client_for(world.olivia).get(f"/applications/{application.pk}/").text
        assert "Ready." in page and f"http://{group.slug}.horizontal.localhost:8765/" in page
    finally:
        _cleanup(application)


def test_rejection_leaves_no_schema(committed, world):
    application = draft(world)
    try:
        application_submit(application=application, actor=world.olivia)
        application_reject(application=application, actor=world.sam, comment="Not now.")
        assert not PeerGroup.objects.filter(slug=application.slug).exists()
        assert not schema_exists(PeerGroup.schema_name_for(application.slug))
    finally:
        _cleanup(application)


def test_a_worker_killed_mid_way_shows_as_stalled_and_a_retry_leaves_no_orphan(
    committed, world, celery_worker_process, tmp_path, client_for
):
    """The worker dies after copying the schema; the applicant sees it and retries."""
    from config.celery import app

    application = draft(world)
    application_submit(application=application, actor=world.olivia)
    host = f"{application.slug}.horizontal.localhost"
    queue = f"doomed-{uuid.uuid4().hex[:6]}"
    blocker = psycopg.connect(database_url_of_tests())  # holds the domain the worker will need
    try:
        blocker.execute(
            "INSERT INTO society_groupdomain (domain, tenant_id, is_primary)"
            " VALUES (%s, %s, false)",
            [host, world.beta.pk],
        )
        with running(
            worker_argv(queue),
            tmp_path / "doomed.log",
            lambda: "ready." in (tmp_path / "doomed.log").read_text(),
            "a second worker",
        ) as doomed:
            app.conf.task_default_queue = queue
            try:
                application_approve(application=application, actor=world.sam)
            finally:
                app.conf.task_default_queue = celery_worker_process
            application.refresh_from_db()
            group = application.group
            wait_for(lambda: schema_exists(group.schema_name), 30, "the schema copy")
            wait_for(lambda: _waiting_on_lock(), 30, "the worker to block on the domain")
            os.kill(doomed.pid, signal.SIGKILL)
            doomed.wait(10)
        blocker.rollback()

        group.refresh_from_db()
        assert group.status == "creating"
        page = client_for(world.olivia).get(f"/applications/{application.pk}/").text
        assert "stopped half-way" in page and "Try again" in page

        assert (
            client_for(world.olivia).post(f"/applications/{application.pk}/retry/").status_code
            == 302
        )
        wait_for(lambda: PeerGroup.objects.get(pk=group.pk).status == "ready", 60, "the retry")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", [group.schema_name + "%"]
            )
            assert [row[0] for row in cursor.fetchall()] == [group.schema_name]
        assert GroupDomain.objects.filter(tenant=group).count() == 1
        with tenant_context(group):
            assert Invitation.objects.count() == 3  # once, not twice
    finally:
        blocker.close()
        _cleanup(application)


def _waiting_on_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND datname = current_database()"
        )
        return cursor.fetchone()[0] > 0


def test_two_simultaneous_drafts_cannot_take_one_address(db, world, monkeypatch):
    """The pre-check cannot see a draft another request is saving at the same moment; the
    database's constraint can, and the loser gets the field's message, not a 500."""
    first = draft(world, slug="same-address")
    from society import services

    monkeypatch.setattr(services, "_application_validate", lambda application: None)
    with pytest.raises(ValidationError) as refused:
        draft(world, slug="same-address", applicant=world.bob)
    assert refused.value.message_dict == {"slug": ["This address is taken; choose another."]}
    assert list(GroupApplication.objects.filter(slug="same-address")) == [first]
    first.state = GroupApplication.State.REJECTED
    first.save(update_fields=["state"])
    draft(world, slug="same-address", applicant=world.bob)  # a rejected one frees it
