"""A removed member stays out: every other way back in (a re-sent invitation, a founder's, an
accepted join request's) ends with the membership; point-persons see and withdraw invitations."""

from __future__ import annotations

import re

from django.core import mail
from django_tenants.utils import tenant_context

from crossschema.outbox import emails_send_due
from crossschema.tasks import application_provision_task
from directory.models import JoinRequest
from groups.models import Invitation, Membership
from groups.services.invitations import invitation_create
from groups.services.membership import membership_end
from society.models import MembershipIndex, PeerGroup, User
from society.services import application_approve, application_submit
from tests.conftest import fresh
from tests.society.factories import UserFactory
from tests.society.test_applications import draft


def _tokens(body_host: str) -> list[str]:
    pattern = rf"http://{re.escape(body_host)}\.horizontal\.localhost:8765/invitations/([\w-]+)/"
    emails_send_due()  # the worker sends what the invitations recorded in the outbox
    return [t for m in mail.outbox for t in re.findall(pattern, m.body)]


def _remove(client_for, world, group, user) -> None:
    with tenant_context(group):
        pk = Membership.objects.get(user=user).pk
    response = client_for(world.alice, group).post(
        f"/members/{pk}/remove/", {"confirm": "on"}, follow=True
    )
    assert "was removed from the group" in response.text


def _is_member(group, user) -> bool:
    with tenant_context(group):
        return Membership.objects.filter(user=user, is_active=True).exists()


def test_a_removed_member_cannot_use_an_earlier_invitation(db, world, client_for):
    alice = client_for(world.alice, world.alpha)
    alice.post("/members/invite/", {"email": "twice@lakeside.edu", "role": "member"})
    (first,) = _tokens("alpha")  # sent before the re-send replaced it
    mail.outbox.clear()
    alice.post("/members/invite/", {"email": "twice@lakeside.edu", "role": "point_person"})
    (second,) = _tokens("alpha")
    invitee = User.objects.get(email="twice@lakeside.edu")
    client = client_for(invitee, world.alpha)
    assert client.post(f"/invitations/{first}/").status_code == 404  # replaced
    assert client.post(f"/invitations/{second}/").status_code == 302
    assert _is_member(world.alpha, invitee)

    _remove(client_for, world, world.alpha, invitee)
    for token in (first, second):
        page = client.get(f"/invitations/{token}/")
        assert page.status_code == 404 and "does not work any more" in page.text
        assert client.post(f"/invitations/{token}/").status_code == 404
    assert not _is_member(world.alpha, invitee)
    assert client.get("/").status_code == 404

    # A new invitation, sent after the removal, lets them back in.
    mail.outbox.clear()
    alice.post("/members/invite/", {"email": "twice@lakeside.edu", "role": "member"})
    (fresh_token,) = _tokens("alpha")
    assert client.post(f"/invitations/{fresh_token}/").status_code == 302
    assert _is_member(world.alpha, invitee)


def test_an_invitation_made_before_the_removal_is_refused_even_if_not_withdrawn(db, world):
    """Belt and braces: an invitation the withdrawal missed (made in a race) still fails."""
    member = UserFactory(email="race@lakeside.edu")
    with tenant_context(world.alpha):
        old, _token = invitation_create(email=member.email, role="member", actor=fresh(world.alice))
        Membership.objects.create(user=member, role="member")
        membership_end(membership=Membership.objects.get(user=member), actor=fresh(world.alice))
        Invitation.objects.filter(pk=old.pk).update(revoked_at=None)  # as if the race won
        from groups.services.invitations import invitation_accept

        try:
            invitation_accept(invitation=Invitation.objects.get(pk=old.pk), user=member)
        except Exception as exc:
            assert "was ended after this invitation was sent" in " ".join(exc.messages)
        else:
            raise AssertionError("an invitation older than the removal was accepted")
        assert not Membership.objects.get(user=member).is_active


def test_a_removed_founder_cannot_come_back_with_the_founding_invitation(db, world, client_for):
    application = draft(world, founders=["founder@lakeside.edu", world.carol.email])
    application_submit(application=application, actor=world.olivia)
    application_approve(application=application, actor=world.sam)
    application_provision_task.apply(args=[application.pk])
    group = PeerGroup.objects.get(pk=fresh(application).group_id)
    emails_send_due()  # the founders' invitations, recorded as the space became ready
    founder_token = next(
        t for m in mail.outbox if m.to == ["founder@lakeside.edu"] for t in _tokens(group.slug)
    )
    founder = User.objects.get(email="founder@lakeside.edu")
    olivia = client_for(world.olivia, group)  # the applicant, its point-person
    olivia.post("/members/invite/", {"email": founder.email, "role": "member"})
    resent = _tokens(group.slug)[-1]
    client = client_for(founder, group)
    assert client.post(f"/invitations/{resent}/").status_code == 302

    with tenant_context(group):
        pk = Membership.objects.get(user=founder).pk
    olivia.post(f"/members/{pk}/remove/", {"confirm": "on"})
    assert client.post(f"/invitations/{founder_token}/").status_code == 404
    assert not _is_member(group, founder)
    assert not MembershipIndex.objects.filter(user=founder, group=group).exists()


def test_a_removed_member_cannot_come_back_through_an_accepted_join_request(
    db, world, client_for, django_capture_on_commit_callbacks
):
    PeerGroup.objects.filter(pk=world.alpha.pk).update(open_seats=1)
    olivia = client_for(world.olivia)
    olivia.post("/directory/groups/alpha/join/", {"message": "Health equity"})
    request = JoinRequest.objects.get(user=world.olivia)
    alice = client_for(world.alice, world.alpha)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        alice.post(f"/join-requests/{request.pk}/decide/", {"decision": "accept"})
    (join_token,) = _tokens("alpha")
    alice.post("/members/invite/", {"email": world.olivia.email, "role": "member"})
    direct = _tokens("alpha")[-1]
    client = client_for(world.olivia, world.alpha)
    assert client.post(f"/invitations/{direct}/").status_code == 302

    _remove(client_for, world, world.alpha, world.olivia)
    assert client.post(f"/invitations/{join_token}/").status_code == 404
    assert not _is_member(world.alpha, world.olivia)


def test_point_persons_see_and_withdraw_pending_invitations(db, world, client_for):
    alice = client_for(world.alice, world.alpha)
    alice.post("/members/invite/", {"email": "pending@lakeside.edu", "role": "member"})
    (token,) = _tokens("alpha")
    page = alice.get("/members/").text
    assert "pending@lakeside.edu" in page and "Withdraw" in page
    with tenant_context(world.alpha):
        invitation = Invitation.objects.get(email="pending@lakeside.edu")
    bob = client_for(world.bob, world.alpha)
    assert bob.post(f"/members/invitations/{invitation.pk}/withdraw/").status_code == 403
    done = alice.post(f"/members/invitations/{invitation.pk}/withdraw/", follow=True)
    assert "The invitation to pending@lakeside.edu was withdrawn." in done.text
    assert "pending@lakeside.edu" not in alice.get("/members/").text
    invitee = User.objects.get(email="pending@lakeside.edu")
    assert client_for(invitee, world.alpha).post(f"/invitations/{token}/").status_code == 404
    again = alice.post(f"/members/invitations/{invitation.pk}/withdraw/", follow=True)
    assert "no longer pending" in again.text
