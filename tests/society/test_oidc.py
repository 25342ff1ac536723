"""OpenID Connect sign-in against the npm oidc-provider: acceptance, PKCE, state and nonce."""

from __future__ import annotations

import re
import subprocess
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.core import mail

from crossschema.outbox import emails_send_due
from society.models import AuditEvent, Institution, User
from society.services import institution_save
from tests.conftest import ROOT, port_open, wait_for
from tests.e2e.test_make_run import free_port
from tests.idp.hostile_op import HostileOP
from tests.idp.oidc_driver import sign_in_at_op

CALLBACK = "http://horizontal.localhost:8765/accounts/oidc/mountain/login/callback/"


@pytest.fixture(scope="session")
def oidc_op(tmp_path_factory):
    """oidc-provider on loopback; yields its issuer URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("op") / "op.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            ["node", "tests/idp/oidc_provider.mjs", str(port), "horizontal", "op-secret", CALLBACK],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: proc.poll() is not None or port_open(port), 30, "the OpenID Provider")
        assert proc.poll() is None, log.read_text()
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def mountain(db, world, oidc_op):
    institution = Institution(
        name="Mountain State University",
        slug="mountain",
        email_domains=["mountainstate.edu"],
        sign_in=Institution.SignIn.OIDC,
        oidc_issuer=oidc_op,
        oidc_client_id="horizontal",
    )
    return institution_save(
        institution=institution, actor=world.sam, oidc_client_secret="op-secret"
    )


def start(client) -> str:
    response = client.post("/accounts/oidc/mountain/login/", {"next": "/"})
    assert response.status_code == 302
    return response["Location"]


def finish(client, callback_url: str):
    parts = urlsplit(callback_url)
    return client.get(parts.path, parse_qs(parts.query))


def test_first_sign_in_creates_the_account_with_pkce_and_a_nonce(mountain, client_for):
    client = client_for()
    authorize = start(client)
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["nonce"] and query["state"]
    response = finish(client, sign_in_at_op(authorize, "grace", CALLBACK))
    assert response.status_code == 302, response.content[:500]
    user = User.objects.get(email="grace@mountainstate.edu")
    assert user.full_name == "Grace Hopper" and user.institution == mountain
    account = SocialAccount.objects.get(user=user)
    assert (account.provider, account.uid) == ("mountain", "grace")


def test_callback_with_a_wrong_state_is_refused(mountain, client_for):
    client = client_for()
    callback = sign_in_at_op(start(client), "grace", CALLBACK)
    before = User.objects.count()
    forged = re.sub(r"state=[^&]+", "state=forged-state", callback)
    response = finish(client, forged)
    assert response.status_code == 403 and "Sign-in did not succeed" in response.content.decode()
    assert User.objects.count() == before


def test_an_id_token_with_another_nonce_is_refused(mountain, client_for):
    client = client_for()
    authorize = urlsplit(start(client))
    query = parse_qs(authorize.query)
    query["nonce"] = ["a-nonce-from-another-session"]
    swapped = urlunsplit(authorize._replace(query=urlencode(query, doseq=True)))
    before = User.objects.count()
    response = finish(client, sign_in_at_op(swapped, "grace", CALLBACK))
    assert response.status_code == 403
    assert "not made for this browser session" in response.content.decode()
    assert User.objects.count() == before


def test_an_unreachable_provider_gets_the_refusal_page_not_a_500(db, world, client_for):
    provider = HostileOP().start()  # answers while the institution is saved, then goes away
    institution = Institution(
        name="Offline U",
        slug="offline",
        email_domains=["offline.edu"],
        sign_in=Institution.SignIn.OIDC,
        oidc_issuer=provider.issuer,
        oidc_client_id=provider.client_id,
    )
    institution_save(institution=institution, actor=world.sam, oidc_client_secret="x")
    provider.stop()
    response = client_for().post("/accounts/oidc/offline/login/", {"next": "/"})
    assert response.status_code == 400
    assert "Sign-in did not succeed" in response.content.decode()


def test_renaming_the_slug_moves_no_link_and_reusing_it_inherits_none(
    mountain, client_for, world, op
):
    """Links belong to the institution's sign-in key (set once) and issuer, not to its slug."""
    client = client_for()
    finish(client, sign_in_at_op(start(client), "grace", CALLBACK))
    grace = User.objects.get(email="grace@mountainstate.edu")

    mountain.slug = "mountain-state"  # a society admin renames it
    institution_save(institution=mountain, actor=world.sam)
    assert Institution.objects.get(pk=mountain.pk).sign_in_key == "mountain"
    again = client_for()
    response = finish(again, sign_in_at_op(start(again), "grace", CALLBACK))
    assert response.status_code == 302 and response.wsgi_request.user == grace

    newcomer = institution_save(
        institution=Institution(
            name="Mountain Institute of Mining",
            slug="mountain",  # the freed slug, on another issuer
            email_domains=["mountainmining.edu"],
            sign_in=Institution.SignIn.OIDC,
            oidc_issuer=op.issuer,  # another provider
            oidc_client_id=op.client_id,
        ),
        actor=world.sam,
        oidc_client_secret="op-secret",
    )
    assert newcomer.sign_in_key == "mountain-2"
    app = SocialApp.objects.get(settings__institution_id=newcomer.pk)
    assert app.provider_id == "mountain-2"
    assert SocialAccount.objects.get(user=grace).provider == "mountain"  # still Mountain State's
    assert not SocialAccount.objects.filter(provider="mountain-2").exists()


def test_a_new_issuer_inherits_no_account_and_the_change_is_recorded(
    mountain, client_for, world, op, django_capture_on_commit_callbacks
):
    """Subject ids mean something only to their issuer: moving Mountain State to another
    OpenID Provider drops its links, is recorded and e-mailed, and the new provider signs in
    as an older account only after that account's owner confirms from their mailbox."""
    client = client_for()
    finish(client, sign_in_at_op(start(client), "grace", CALLBACK))
    grace = User.objects.get(email="grace@mountainstate.edu")
    assert SocialAccount.objects.filter(user=grace).exists()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        mountain.oidc_issuer = op.issuer
        mountain.oidc_client_id = op.client_id
        institution_save(institution=mountain, actor=world.sam, oidc_client_secret=op.client_secret)
    assert not SocialAccount.objects.filter(user=grace).exists()
    event = AuditEvent.objects.filter(kind="idp_changed").first()
    assert op.issuer in event.detail and "issuer" in event.detail
    assert emails_send_due() == 1  # the worker's send of what the change recorded
    assert [m.to for m in mail.outbox] == [[world.sam.email]]
    assert Institution.objects.get(pk=mountain.pk).identity_changed_at is not None
