"""`manage.py group_keys_rewrap` rotates the key-encryption key over every group."""

from __future__ import annotations

import io

from django.core.management import call_command
from django_tenants.utils import tenant_context

from groups.crypto import kek_id_current
from groups.models import GroupKey
from groups.services.confidential import confidential_entry_create, confidential_entry_text

MARKER = "job-offer-9c41"
NEW_KEK = "bmV3LWtleS1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcyE="


def test_the_command_rewraps_every_groups_key_so_the_old_key_can_retire(db, world, settings):
    entries = {}
    for group, author in ((world.alpha, world.bob), (world.beta, world.mallory)):
        with tenant_context(group):
            entries[group.slug] = (confidential_entry_create(author=author, text=MARKER), group)
    settings.HORIZONTAL_KEYS = [NEW_KEK, *settings.HORIZONTAL_KEYS]

    out = io.StringIO()
    call_command("group_keys_rewrap", stdout=out)
    assert "Re-wrapped 2 group key(s); 0 already current." in out.getvalue()

    settings.HORIZONTAL_KEYS = [NEW_KEK]  # the old key retired
    for entry, group in entries.values():
        with tenant_context(group):
            assert confidential_entry_text(entry=entry) == MARKER
            assert GroupKey.objects.get().wrapped.startswith(kek_id_current() + ":")
    out = io.StringIO()
    call_command("group_keys_rewrap", stdout=out)
    assert "Re-wrapped 0 group key(s); 2 already current." in out.getvalue()
