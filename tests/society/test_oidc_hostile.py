"""A hostile OpenID Provider (tests/idp/hostile_op.py) tries every bad ID token and answer that
the OpenID Connect specification says to refuse. Each ends on the refusal page with no account
made or changed, and a well-made token from the same provider still signs in."""

from __future__ import annotations

import base64
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core import mail
from django.urls import resolve

from crossschema.outbox import emails_send_due
from society import views
from society.models import Institution, User
from society.services import institution_save
from tests.idp.hostile_op import (
    DROP,
    hmac_signer,
    no_signature,
    public_jwk,
    public_pem,
    rsa_signer,
    self_signed_der,
)
from tests.society.unchanged import sign_in_rows

CALLBACK = "http://horizontal.localhost:8765/accounts/oidc/hostile/login/callback/"
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def hostile_u(db, world, op):
    institution = Institution(
        name="Hostile University",
        slug="hostile",
        email_domains=["hostile.edu"],
        sign_in=Institution.SignIn.OIDC,
        oidc_issuer=op.issuer,
        oidc_client_id=op.client_id,
    )
    return institution_save(
        institution=institution, actor=world.sam, oidc_client_secret=op.client_secret
    )


def start(client) -> str:
    response = client.post("/accounts/oidc/hostile/login/", {"next": "/"})
    assert response.status_code == 302, response.content[:300]
    return response["Location"]


def at_op(authorize_url: str) -> str:
    """The OP's answer to our authorization request: our callback URL with its code."""
    answer = requests.get(authorize_url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    assert answer.headers["Location"].startswith(CALLBACK)
    return answer.headers["Location"]


def finish(client, callback_url: str):
    parts = urlsplit(callback_url)
    return client.get(parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()})


def sign_in(client):
    return finish(client, at_op(start(client)))


def signed_in_as(client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id).email if user_id else None


@pytest.fixture
def grace(hostile_u, op, client_for):
    """Grace has signed in with Hostile University before, and is signed in in her browser."""
    browser = client_for()
    assert sign_in(browser).status_code == 302
    assert signed_in_as(browser) == "grace@hostile.edu"
    return browser


def now() -> int:
    return int(time.time())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# Each makes the OP hostile in one way, after the browser was sent to it (so discovery was
# fine when the sign-in started).
BAD_ANSWERS = {
    "signed with a key not in the JWKS": lambda op: setattr(op, "signer", rsa_signer(op.evil_key)),
    "signed with a key not in the JWKS, under its own kid": lambda op: (
        setattr(op, "signer", rsa_signer(op.evil_key)),
        op.id_token_header.update(kid="evil"),
    ),
    "alg none": lambda op: (
        op.id_token_header.update(alg="none"),
        setattr(op, "signer", no_signature),
    ),
    "alg None, kid dropped": lambda op: (
        op.id_token_header.update(alg="None", kid=DROP),
        setattr(op, "signer", no_signature),
    ),
    "HS256 keyed with the client secret": lambda op: (
        op.id_token_header.update(alg="HS256"),
        setattr(op, "signer", hmac_signer(op.client_secret.encode())),
    ),
    "HS256 keyed with the RSA public key": lambda op: (
        op.id_token_header.update(alg="HS256"),
        setattr(op, "signer", hmac_signer(public_pem(op.key))),
    ),
    "RS384, which discovery does not advertise": lambda op: (
        op.id_token_header.update(alg="RS384"),
        op.published_keys.__setitem__(0, public_jwk(op.key, "good", alg=None)),
        setattr(op, "signer", rsa_signer(op.key, hashes.SHA384)),
    ),
    "jku header pointing at the attacker's keys": lambda op: (
        op.id_token_header.update(kid="evil", jku=f"{op.issuer}/evil-jwks"),
        setattr(op, "signer", rsa_signer(op.evil_key)),
    ),
    "x5u header pointing at the attacker's key": lambda op: (
        op.id_token_header.update(kid="evil", x5u=f"{op.issuer}/evil.pem"),
        setattr(op, "signer", rsa_signer(op.evil_key)),
    ),
    "jwk header holding the attacker's key": lambda op: (
        op.id_token_header.update(kid="evil", jwk=op.evil_jwk()),
        setattr(op, "signer", rsa_signer(op.evil_key)),
    ),
    "jwk header holding the attacker's key under the published kid": lambda op: (
        op.id_token_header.update(jwk=op.evil_jwk("good")),
        setattr(op, "signer", rsa_signer(op.evil_key)),
    ),
    "x5c header holding the attacker's certificate": lambda op: (
        op.id_token_header.update(kid="evil", x5c=[_b64(self_signed_der(op.evil_key, "evil"))]),
        setattr(op, "signer", rsa_signer(op.evil_key)),
    ),
    "aud lists another client, without azp": lambda op: op.id_token_claims.update(
        aud=[op.client_id, "another-client"]
    ),
    "azp names another client": lambda op: op.id_token_claims.update(azp="another-client"),
    "aud is another client": lambda op: op.id_token_claims.update(aud="another-client"),
    "another issuer in the token": lambda op: op.id_token_claims.update(
        iss="https://idp.another-institution.example"
    ),
    "no exp": lambda op: op.id_token_claims.update(exp=DROP),
    "expired": lambda op: op.id_token_claims.update(exp=now() - 600, iat=now() - 900),
    "no iat": lambda op: op.id_token_claims.update(iat=DROP),
    "iat a year ahead": lambda op: op.id_token_claims.update(
        iat=now() + 365 * 86400, exp=now() + 365 * 86400 + 300
    ),
    "nbf in the future": lambda op: op.id_token_claims.update(nbf=now() + 3600),
    "no sub": lambda op: op.id_token_claims.update(sub=DROP),
    "userinfo about someone else": lambda op: op.userinfo_claims.update(sub="mallory"),
    "discovery names another issuer": lambda op: op.discovery.update(
        issuer="https://idp.another-institution.example"
    ),
    "a nonce from another session": lambda op: op.id_token_claims.update(nonce="another"),
    "no ID token at all": lambda op: setattr(op, "omit_id_token", True),
}


def assert_refused_and_nothing_changed(client, op, make_hostile) -> None:
    callback = at_op(start(client))
    make_hostile(op)
    before = sign_in_rows(refused_session=client.session.session_key)
    response = finish(client, callback)
    assert response.status_code == 403, (response.status_code, response.content[:300])
    assert "Sign-in did not succeed" in response.content.decode()
    assert sign_in_rows(refused_session=client.session.session_key) == before
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("how", BAD_ANSWERS)
def test_a_bad_answer_about_an_existing_member_is_refused_and_changes_nothing(
    grace, op, client_for, how
):
    """The hostile answer is about Grace, who has an account: it must neither sign anyone in
    nor touch her account, its stored institution data, or her open session."""
    assert_refused_and_nothing_changed(client_for(), op, BAD_ANSWERS[how])
    assert signed_in_as(grace) == "grace@hostile.edu"
    assert not op.served["/evil-jwks"] and not op.served["/evil.pem"]  # header keys: never


@pytest.mark.parametrize("how", BAD_ANSWERS)
def test_a_bad_answer_about_a_newcomer_makes_no_account(hostile_u, op, client_for, how):
    op.login = "newcomer"
    users = User.objects.count()
    assert_refused_and_nothing_changed(client_for(), op, BAD_ANSWERS[how])
    assert User.objects.count() == users
    assert not User.objects.filter(email="newcomer@hostile.edu").exists()


def test_a_good_token_from_the_same_provider_signs_in(hostile_u, op, client_for):
    client = client_for()
    response = sign_in(client)
    assert response.status_code == 302, response.content[:300]
    assert signed_in_as(client) == "grace@hostile.edu"
    account = SocialAccount.objects.get(user__email="grace@hostile.edu")
    assert (account.provider, account.uid) == ("hostile", "grace")
    assert account.extra_data["id_token"]["iss"] == op.issuer
    assert User.objects.get(email="grace@hostile.edu").full_name == "Grace Hopper"


def test_clock_skew_within_the_leeway_is_accepted(hostile_u, op, client_for):
    op.id_token_claims.update(iat=now() + 60, nbf=now() + 60, exp=now() - 60)
    assert signed_in_as(client := client_for()) is None
    assert sign_in(client).status_code == 302 and signed_in_as(client) == "grace@hostile.edu"


def test_several_audiences_with_our_azp_are_accepted(hostile_u, op, client_for):
    op.id_token_claims.update(aud=[op.client_id, "another-client"], azp=op.client_id)
    client = client_for()
    assert sign_in(client).status_code == 302 and signed_in_as(client) == "grace@hostile.edu"


def test_discovery_naming_another_issuer_is_refused_before_the_browser_leaves(
    hostile_u, op, client_for
):
    op.discovery.update(issuer="https://idp.another-institution.example")
    response = client_for().post("/accounts/oidc/hostile/login/", {"next": "/"})
    assert response.status_code == 403 and "Sign-in did not succeed" in response.text
    assert not op.served["/authorize"]


def test_email_verified_only_in_userinfo_links_no_invited_account(hostile_u, op, client_for):
    """Ivy was invited (no password, no sign-in yet). The ID token does not say her address is
    verified, only the unsigned userinfo does: her account is not handed to this sign-in."""
    ivy = User.objects.create_user("ivy@hostile.edu")
    op.login = "ivy"
    client = client_for()
    callback = at_op(start(client))
    op.id_token_claims.update(email_verified=False)
    op.userinfo_claims.update(email_verified=True)
    before = sign_in_rows(refused_session=client.session.session_key)
    response = finish(client, callback)
    assert response.status_code == 403 and "Sign-in did not succeed" in response.text
    assert "already exists and is not linked" in response.text
    assert sign_in_rows(refused_session=client.session.session_key) == before
    assert not SocialAccount.objects.filter(user=ivy).exists()

    op.reset()  # the ID token itself vouches for the address: linked
    op.login = "ivy"
    again = client_for()
    assert sign_in(again).status_code == 302 and signed_in_as(again) == "ivy@hostile.edu"
    assert SocialAccount.objects.get(user=ivy).uid == "ivy"


def test_the_jwks_is_cached_and_fetched_again_once_for_a_new_key(
    hostile_u, op, client_for, settings
):
    settings.CACHES = LOCMEM  # the suite's Redis may be emptied by another test run meanwhile
    assert sign_in(client_for()).status_code == 302
    assert sign_in(client_for()).status_code == 302
    assert op.served["/jwks"] == 1  # cached

    # The provider rotates its key: one fetch more, and the new key is believed.
    rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    op.published_keys = [public_jwk(rotated, "rotated")]
    op.signer = rsa_signer(rotated)
    op.id_token_header.update(kid="rotated")
    assert sign_in(client := client_for()).status_code == 302
    assert signed_in_as(client) == "grace@hostile.edu"
    assert op.served["/jwks"] == 2

    # An unknown kid costs one fetch, then the refusal.
    op.id_token_header.update(kid="unheard-of")
    assert_refused_and_nothing_changed(client_for(), op, lambda op: None)
    assert op.served["/jwks"] == 3


def test_a_private_or_symmetric_key_in_the_jwks_is_never_used(hostile_u, op, client_for):
    """A JWKS that publishes a shared secret (kty oct) would let HMAC in through the key set."""
    secret = op.client_secret.encode()
    oct_key = {"kty": "oct", "kid": "good", "k": base64.urlsafe_b64encode(secret).decode()}

    def hostile(op):
        op.discovery.update(id_token_signing_alg_values_supported=["RS256", "HS256"])
        op.published_keys = [oct_key]
        op.id_token_header.update(alg="HS256")
        op.signer = hmac_signer(secret)

    assert_refused_and_nothing_changed(client_for(), op, hostile)


def test_the_callback_is_ours_not_allauths():
    callback = resolve("/accounts/oidc/hostile/login/callback/", urlconf="config.urls_public")
    assert callback.func is views.oidc_callback


# --- paths shared with SAML: the connect process, a switch of sign-in method ----------------


def test_a_signed_in_member_cannot_attach_the_providers_identity(hostile_u, op, client_for, world):
    victim = client_for(world.alice)
    started = victim.post("/accounts/oidc/hostile/login/", {"next": "/", "process": "connect"})
    assert started.status_code == 302
    refused = finish(victim, at_op(started["Location"]))
    assert refused.status_code == 403
    assert "cannot be added to an account here" in refused.content.decode()
    assert not SocialAccount.objects.filter(user=world.alice).exists()
    assert signed_in_as(victim) == world.alice.email  # still herself, nothing attached


def test_switching_to_codes_and_back_makes_older_accounts_confirm(
    grace, hostile_u, op, client_for, world, django_capture_on_commit_callbacks
):
    for method in (Institution.SignIn.CODE, Institution.SignIn.OIDC):
        institution = Institution.objects.get(pk=hostile_u.pk)
        institution.sign_in = method
        institution_save(
            institution=institution, actor=world.sam, oidc_client_secret=op.client_secret
        )
    emails_send_due()  # the admins' notices of the switches themselves
    mail.outbox.clear()
    again = client_for()
    with django_capture_on_commit_callbacks(execute=True):
        refused = sign_in(again)
    assert refused.status_code == 403
    assert "e-mailed a confirmation link" in refused.content.decode()
    assert signed_in_as(again) is None
    emails_send_due()  # the worker's send of the confirmation the refusal recorded
    assert [m.to for m in mail.outbox] == [["grace@hostile.edu"]]
