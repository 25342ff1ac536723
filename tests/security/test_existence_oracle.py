"""To anyone outside it, a group that exists looks exactly like one that does not, or is not
ready yet: the same status, the same page, the same redirect."""

from __future__ import annotations

import re

import pytest

from society.models import GroupDomain, PeerGroup

PATHS = ["/", "/mission/", "/meetings/1/", "/invitations/not-a-token/", "/calendar/feed/x.ics"]


def _normalised(response, host: str) -> tuple[int, str, str, str]:
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", body)
    body = re.sub(r'nonce="[^"]+"', "NONCE", body)
    location = response.get("Location", "").replace(host, "HOST")
    cache = response.get("Cache-Control", "")
    return response.status_code, location, cache, body.replace(host, "HOST")


@pytest.fixture
def hosts(db, world):
    queued = PeerGroup.objects.create(name="Queued", slug="queued", schema_name="g_queued")
    GroupDomain.objects.create(domain="queued.horizontal.localhost", tenant=queued, is_primary=True)
    return {
        "exists": "beta.horizontal.localhost",  # Bob is not in it
        "not ready": "queued.horizontal.localhost",
        "unknown": "nosuch.horizontal.localhost",
    }


@pytest.mark.parametrize("signed_in", [True, False], ids=["bob", "signed-out"])
def test_unknown_not_ready_and_not_yours_look_the_same(hosts, world, client_for, signed_in):
    client = client_for(world.bob if signed_in else None)
    for path in PATHS:
        seen = {
            kind: _normalised(client.get(path, HTTP_HOST=f"{host}:8765"), host)
            for kind, host in hosts.items()
        }
        assert seen["exists"] == seen["not ready"] == seen["unknown"], path
        status = seen["exists"][0]
        if signed_in or path.startswith("/calendar/feed/"):
            assert status == 404, path
        else:
            assert status == 302 and "/accounts/login/" in seen["exists"][1], path
