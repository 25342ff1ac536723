"""The Django admin cannot do what must go through a service: no deleting users, no changing a
group's address or an institution's sign-in and domains; deactivation goes through the service."""

from __future__ import annotations

import pytest

from society.models import AuditEvent, Institution, PeerGroup, User
from tests.society.factories import UserFactory


@pytest.fixture
def superuser(db):
    """A society admin (the flag the admin opens for) who is also a Django superuser: neither
    flag lets the admin change what must go through a service."""
    return UserFactory(is_staff=True, is_superuser=True, is_society_admin=True)


def test_every_admin_page_answers_for_a_society_admin(db, world, client_for):
    """The admin's index, and each registered model's list, add and change pages: 200 where
    the admin offers the page, 403 where it does not (nothing can be added here)."""
    from django.contrib import admin

    society_admin = client_for(world.sam)
    assert society_admin.get("/admin/").status_code == 200
    objects = {User: world.alice, Institution: Institution.objects.first(), PeerGroup: world.alpha}
    assert set(admin.site._registry) == set(objects)  # nothing of allauth's or beat's
    for model, obj in objects.items():
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert society_admin.get(base).status_code == 200, base
        assert society_admin.get(f"{base}?q=a").status_code == 200, base
        assert society_admin.get(f"{base}{obj.pk}/change/").status_code == 200, base
        assert society_admin.get(f"{base}{obj.pk}/history/").status_code == 200, base
        assert society_admin.get(f"{base}add/").status_code == 403, base
        assert society_admin.get(f"{base}{obj.pk}/delete/").status_code == 403, base
    page = society_admin.get(f"/admin/society/user/{world.alice.pk}/change/").text
    assert world.alice.email in page
    assert 'name="password' not in page and "../password/" not in page  # no field, no link
    for path in ("password/", "password/change/"):
        final = society_admin.get(f"/admin/society/user/{world.alice.pk}/{path}", follow=True)
        assert 'name="password1"' not in final.text, path  # no way to set a member's password


def test_staff_flags_alone_do_not_open_the_admin(db, world, client_for):
    staff = UserFactory(is_staff=True, is_superuser=True)
    for user in (staff, world.bob):
        response = client_for(user).get("/admin/society/user/", follow=True)
        assert response.status_code == 403
        assert world.alice.email not in response.text
    signed_out = client_for().get("/admin/society/user/", follow=True)
    assert signed_out.redirect_chain[-1][0].endswith(
        "/accounts/login/?next=%2Fadmin%2Fsociety%2Fuser%2F"
    )


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


def test_deactivating_says_only_what_happened(db, world, superuser, client_for):
    client = client_for(superuser)
    done = client.post(
        "/admin/society/user/",
        {"action": "deactivate", "_selected_action": [superuser.pk]},
        follow=True,
    ).text
    assert "You cannot deactivate your own account." in done
    assert "account(s) deactivated" not in done
    closed = UserFactory(is_active=False)
    again = client.post(
        "/admin/society/user/",
        {"action": "deactivate", "_selected_action": [closed.pk]},
        follow=True,
    ).text
    assert "account(s) deactivated" not in again
