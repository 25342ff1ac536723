"""Invitations: a point-person invites by e-mail; the link works once, for the invited address."""

import re
from datetime import timedelta

from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from crossschema.outbox import emails_send_due
from groups.models import Invitation, Membership
from groups.services.invitations import invitation_create
from society.models import AuditEvent, MembershipIndex, User
from tests.society.factories import UserFactory


def _invite(client, email, role="member"):
    response = client.post("/members/invite/", {"email": email, "role": role})
    emails_send_due()  # the worker sends what the invitation recorded in the outbox
    return response


def _token_from_mail() -> str:
    match = re.search(
        r"http://alpha\.horizontal\.localhost:8765/invitations/([\w-]+)/", mail.outbox[-1].body
    )
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_point_person_invites_and_the_invitee_joins_with_the_invited_role(db, world, client_for):
    response = _invite(client_for(world.alice, world.alpha), "newcomer@lakeside.edu", "facilitator")
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["newcomer@lakeside.edu"]
    assert "Alice Tester invites you to join Alpha Peer Group" in mail.outbox[-1].body
    token = _token_from_mail()
    invitee = User.objects.get(email="newcomer@lakeside.edu")  # can now sign in by e-mail code
    assert not invitee.has_usable_password()

    client = client_for(invitee, world.alpha)
    page = client.get(f"/invitations/{token}/")
    assert page.status_code == 200 and "Join Alpha Peer Group" in page.text
    assert client.get("/").status_code == 404  # not a member until accepted
    joined = client.post(f"/invitations/{token}/")
    assert joined.status_code == 302 and joined["Location"] == "/"
    assert client.get("/").status_code == 200
    reopened = client.get(f"/invitations/{token}/")  # her own link, used: to the group
    assert reopened.status_code == 302 and reopened["Location"] == "/"
    assert "as a facilitator" in page.text and "as a facilitator" in mail.outbox[-1].body
    with tenant_context(world.alpha):
        assert Membership.objects.get(user=invitee).role == Membership.Role.FACILITATOR
    assert MembershipIndex.objects.filter(user=invitee, group=world.alpha).exists()
    assert AuditEvent.objects.filter(kind="invitation_accepted", subject=invitee).exists()


def test_an_invitation_works_only_once(db, world, client_for):
    _invite(client_for(world.alice, world.alpha), "once@lakeside.edu")
    token = _token_from_mail()
    invitee = User.objects.get(email="once@lakeside.edu")
    client = client_for(invitee, world.alpha)
    assert client.post(f"/invitations/{token}/").status_code == 302
    with tenant_context(world.alpha):
        Membership.objects.filter(user=invitee).update(is_active=False)  # removed since
    again = client.post(f"/invitations/{token}/")
    assert again.status_code == 404 and "does not work any more" in again.text


def test_an_expired_invitation_is_refused(db, world, client_for):
    _invite(client_for(world.alice, world.alpha), "late@lakeside.edu")
    token = _token_from_mail()
    with tenant_context(world.alpha):
        Invitation.objects.filter(email="late@lakeside.edu").update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    client = client_for(User.objects.get(email="late@lakeside.edu"), world.alpha)
    response = client.post(f"/invitations/{token}/")
    assert response.status_code == 404 and "Ask the group's point-person" in response.text
    with tenant_context(world.alpha):
        assert not Membership.objects.filter(user__email="late@lakeside.edu").exists()


def test_someone_else_holding_the_link_cannot_use_it(db, world, client_for):
    _invite(client_for(world.alice, world.alpha), "rightful@lakeside.edu")
    token = _token_from_mail()
    response = client_for(world.mallory, world.alpha).post(f"/invitations/{token}/")
    assert response.status_code == 403 and "sent to another address" in response.text
    with tenant_context(world.alpha):
        assert not Membership.objects.filter(user=world.mallory).exists()


def test_signed_out_invitee_is_sent_to_sign_in_and_back_to_the_invitation(db, world, client_for):
    response = client_for(None, world.alpha).get("/invitations/some-token/")
    assert response.status_code == 302
    assert (
        "next=http%3A//alpha.horizontal.localhost%3A8765/invitations/some-token/"
        in response["Location"]
    )


def test_inviting_a_current_member_or_a_bad_address_gets_a_form_error(db, world, client_for):
    client = client_for(world.alice, world.alpha)
    taken = _invite(client, world.bob.email)
    assert taken.status_code == 400 and "already in this group" in taken.text
    bad = _invite(client, "not-an-address")
    assert bad.status_code == 400 and "valid email" in bad.text.lower()


def test_only_a_hash_of_the_token_is_stored(db, world):
    with tenant_context(world.alpha):
        invitation, token = invitation_create(
            email="hash@lakeside.edu", role="member", actor=world.alice
        )
        assert token not in invitation.token_hash and len(invitation.token_hash) == 64


def test_point_person_changes_a_role_and_removes_a_member_who_is_then_shut_out(
    db, world, client_for
):
    extra = UserFactory(email="temp@lakeside.edu", full_name="Temp Member")
    from groups.services.membership import membership_add

    with tenant_context(world.alpha):
        membership = membership_add(user=extra, role="member")
    lead = client_for(world.alice, world.alpha)
    member_client = client_for(extra, world.alpha)
    assert member_client.get("/").status_code == 200

    assert lead.post(f"/members/{membership.pk}/role/", {"role": "evaluator"}).status_code == 302
    with tenant_context(world.alpha):
        assert Membership.objects.get(pk=membership.pk).role == "evaluator"
    assert AuditEvent.objects.filter(
        kind="role_changed", subject=extra, detail="member -> evaluator"
    ).exists()

    assert lead.post(f"/members/{membership.pk}/remove/", {"confirm": "on"}).status_code == 302
    assert member_client.get("/").status_code == 404  # the same session, shut out at once
    assert not MembershipIndex.objects.filter(user=extra, group=world.alpha).exists()


def test_the_last_point_person_cannot_step_down(db, world, client_for):
    lead = client_for(world.alice, world.alpha)
    with tenant_context(world.alpha):
        own = Membership.objects.get(user=world.alice)
    response = lead.post(f"/members/{own.pk}/role/", {"role": "member"}, follow=True)
    assert "at least one point-person" in response.text
    with tenant_context(world.alpha):
        assert Membership.objects.get(pk=own.pk).role == "point_person"


def test_an_address_too_long_to_store_is_a_form_error_not_a_500(db, world, client_for):
    long = "a" * 300 + "@example.edu"
    response = _invite(client_for(world.alice, world.alpha), long)
    assert response.status_code == 400
    assert "Ensure this value has at most 254 characters" in response.text
    assert not User.objects.filter(email=long).exists()


def test_inviting_an_address_again_replaces_the_invitation_still_pending(db, world, client_for):
    point_person = client_for(world.alice, world.alpha)
    _invite(point_person, "twice@lakeside.edu", "member")
    first = _token_from_mail()
    _invite(point_person, "twice@lakeside.edu", "facilitator")  # she meant facilitator
    second = _token_from_mail()
    assert first != second
    invitee = User.objects.get(email="twice@lakeside.edu")
    client = client_for(invitee, world.alpha)
    old = client.get(f"/invitations/{first}/")
    assert "Join Alpha Peer Group" not in old.text  # the first link no longer works
    assert client.post(f"/invitations/{first}/").status_code != 302
    assert client.post(f"/invitations/{second}/").status_code == 302
    with tenant_context(world.alpha):
        assert Membership.objects.get(user=invitee).role == "facilitator"
        pending = Invitation.objects.filter(email="twice@lakeside.edu", revoked_at__isnull=True)
        assert pending.count() == 1


def test_an_evaluator_is_invited_as_an_evaluator(db, world, client_for):
    _invite(client_for(world.alice, world.alpha), "eval@lakeside.edu", "evaluator")
    assert "as an evaluator." in mail.outbox[-1].body
    assert mail.outbox[-1].subject == "[Horizontal Society] Invitation to join Alpha Peer Group"
    invitee = User.objects.get(email="eval@lakeside.edu")
    page = client_for(invitee, world.alpha).get(f"/invitations/{_token_from_mail()}/")
    assert "invites you to join as an evaluator." in page.text
