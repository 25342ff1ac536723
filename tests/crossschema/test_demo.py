"""The demo society's admin is a society admin, not a Django superuser."""

from __future__ import annotations

from crossschema.demo import DEMO_PASSWORD, SOCIETY_ADMIN, demo_load
from society.models import User


def test_the_demo_admin_is_no_superuser_and_runs_the_society(db, world, client_for):
    User.objects.create_superuser(SOCIETY_ADMIN, DEMO_PASSWORD)  # as older demo data made it
    demo_load()
    admin = User.objects.get(email=SOCIETY_ADMIN)
    assert (admin.is_society_admin, admin.is_staff, admin.is_superuser) == (True, False, False)
    assert not User.objects.filter(is_superuser=True).exists()
    client = client_for(admin)
    assert client.get("/manage/applications/").status_code == 200
    assert client.get("/admin/society/user/").status_code == 200
