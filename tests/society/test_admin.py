"""The Django admin cannot do what must go through a service: no deleting users, no changing a
group's address or an institution's sign-in and domains; deactivation goes through the service."""

from __future__ import annotations

import pytest

from society.models import AuditEvent, Institution, PeerGroup, User
from tests.society.factories import UserFactory


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True, is_society_admin=True)


def _post(client_for, user, path, data):
    return client_for(user).post(path, data)


def test_the_admin_cannot_change_a_groups_address(db, world, superuser, client_for):
    response = _post(
        client_for,
        superuser,
        f"/admin/society/peergroup/{world.alpha.pk}/change/",
        {"name": "Renamed", "slug": "stolen"},
    )
    assert response.status_code == 403
    group = PeerGroup.objects.get(pk=world.alpha.pk)
    assert (group.slug, group.name) == ("alpha", world.alpha.name)
    assert _post(client_for, superuser, "/admin/society/peergroup/add/", {}).status_code == 403


def test_the_admin_cannot_change_an_institutions_sign_in_or_domains(
    db, world, superuser, client_for
):
    institution = Institution.objects.get(pk=world.bob.institution_id)
    before = (institution.email_domains, institution.sign_in, institution.oidc_issuer)
    response = _post(
        client_for,
        superuser,
        f"/admin/society/institution/{institution.pk}/change/",
        {
            "name": institution.name,
            "email_domains": "attacker.example",
            "sign_in": "oidc",
            "oidc_issuer": "https://idp.attacker.example/",
        },
    )
    assert response.status_code == 403
    institution.refresh_from_db()
    assert (institution.email_domains, institution.sign_in, institution.oidc_issuer) == before
    assert _post(client_for, superuser, "/admin/society/institution/add/", {}).status_code == 403


def test_the_admin_cannot_delete_users_and_deactivates_through_the_service(
    db, world, superuser, client_for
):
    target = UserFactory()
    single = _post(
        client_for, superuser, f"/admin/society/user/{target.pk}/delete/", {"post": "yes"}
    )
    assert single.status_code == 403
    bulk = _post(
        client_for,
        superuser,
        "/admin/society/user/",
        {"action": "delete_selected", "_selected_action": [target.pk], "post": "yes"},
    )
    assert User.objects.filter(pk=target.pk).exists()
    assert bulk.status_code == 302  # back to the list with "No action selected"; nothing deleted

    _post(
        client_for,
        superuser,
        "/admin/society/user/",
        {"action": "deactivate", "_selected_action": [target.pk]},
    )
    target.refresh_from_db()
    assert target.is_active is False
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ACCOUNT_DEACTIVATED, subject=target)
    assert event.actor_id == superuser.pk
    # Django refuses the closed account's session from its next request.
    assert client_for(target).get("/manage/audit/").status_code == 302


def test_the_admin_cannot_set_a_members_institution_time_zone_or_active_flag(
    db, world, superuser, client_for
):
    target = UserFactory(time_zone="America/Chicago")
    _post(
        client_for,
        superuser,
        f"/admin/society/user/{target.pk}/change/",
        {
            "email": target.email,
            "full_name": "Changed Name",
            "institution": "",
            "time_zone": "Asia/Tokyo",
            "is_active": "",
            "is_society_admin": "",
        },
    )
    target.refresh_from_db()
    assert (target.time_zone, target.is_active) == ("America/Chicago", True)
