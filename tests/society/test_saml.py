"""SAML sign-in against pysaml2's IdP: what is accepted, and everything that must be refused."""

from __future__ import annotations

import base64
import copy
from urllib.parse import parse_qs, urlencode, urlsplit

from allauth.socialaccount.models import SocialAccount
from lxml import etree

from society.models import AuditEvent, User
from tests.idp.saml_idp import IdP, idp_config

ENTITY_ID = "https://idp.northfield.test/idp"
IDP_BASE = "http://127.0.0.1:9"  # never contacted: the test client carries every message
ACS = "http://horizontal.localhost:8765/accounts/saml/northfield/acs/"
SP_ENTITY_ID = "http://horizontal.localhost:8765/accounts/saml/sp/"
NEXT = "http://alpha.horizontal.localhost:8765/"
ADA = {
    "eppn": "ada@northfield.edu",
    "mail": "ada.lovelace@northfield.edu",
    "given": "Ada",
    "sn": "Lovelace",
    "display": "Ada Lovelace",
}


def make_idp(keys, sp_metadata, which="good", lifetime_minutes=5) -> IdP:
    key, cert = keys[which]
    return IdP(
        idp_config(
            entity_id=ENTITY_ID,
            base_url=IDP_BASE,
            key=key,
            cert=cert,
            sp_metadata=sp_metadata,
            lifetime_minutes=lifetime_minutes,
        )
    )


def start(client, idp: IdP):
    """Begin sign-in at our site; returns the AuthnRequest the IdP received, and RelayState."""
    response = client.post("/accounts/saml/northfield/login/", {"next": NEXT})
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{IDP_BASE}/sso/redirect"
    query = parse_qs(location.query)
    request = idp.read_request(query["SAMLRequest"][0])
    assert request.assertion_consumer_service_url == ACS
    return request, query.get("RelayState", [""])[0]


def finish(client, saml_response: str, relay: str = ""):
    posted = client.post(
        "/accounts/saml/northfield/acs/", {"SAMLResponse": saml_response, "RelayState": relay}
    )
    assert posted.status_code == 302
    return client.get(posted["Location"])


def sign_in(client, idp, user=ADA, **response_kwargs):
    request, relay = start(client, idp)
    saml_response = idp.response(
        in_response_to=request.id,
        destination=ACS,
        sp_entity_id=SP_ENTITY_ID,
        user=user,
        **response_kwargs,
    )
    return finish(client, saml_response, relay), saml_response, relay


def assert_refused(response, users_before: int):
    assert response.status_code == 403, response.status_code
    assert "Sign-in did not succeed" in response.content.decode()
    assert User.objects.count() == users_before, "no account may be created"
    assert "_auth_user_id" not in response.wsgi_request.session


# --- accepted ------------------------------------------------------------------------------------


def test_first_sign_in_creates_the_account_and_profile_from_the_attributes(
    keys, sp_metadata, client_for
):
    client = client_for()
    response, _, _ = sign_in(client, make_idp(keys, sp_metadata))
    # A new account: first asked for name and zone (the name from the IdP already filled in),
    # then on to where the member was going.
    assert response.status_code == 302
    assert response["Location"] == f"/account/?{urlencode({'next': NEXT})}"
    assert 'value="Ada Lovelace"' in client.get(response["Location"]).text
    user = User.objects.get(email="ada.lovelace@northfield.edu")
    assert user.full_name == "Ada Lovelace" and user.settings_confirmed_at is None
    assert user.institution.name == "Northfield University"
    assert user.affiliation == "faculty@northfield.edu"
    account = SocialAccount.objects.get(user=user)
    assert (account.provider, account.uid) == (ENTITY_ID, "ada@northfield.edu")
    assert AuditEvent.objects.filter(kind="sign_in", subject=user).exists()


def test_a_returning_member_is_matched_by_the_stable_id_not_the_address(
    keys, sp_metadata, client_for
):
    idp = make_idp(keys, sp_metadata)
    sign_in(client_for(), idp)
    renamed = {**ADA, "mail": "a.lovelace@northfield.edu", "display": "Ada King"}
    response, _, _ = sign_in(client_for(), idp, user=renamed)
    assert response.status_code == 302
    assert (
        User.objects.filter(email__endswith="@northfield.edu", full_name__startswith="Ada").count()
        == 1
    )
    assert response.wsgi_request.user.email == "ada.lovelace@northfield.edu"


def test_an_invited_account_in_the_institutions_domain_is_linked(keys, sp_metadata, client_for):
    invited = User.objects.create_user("ada.lovelace@northfield.edu")
    response, _, _ = sign_in(client_for(), make_idp(keys, sp_metadata))
    assert response.status_code == 302
    assert SocialAccount.objects.get(uid="ada@northfield.edu").user == invited
    invited.refresh_from_db()
    assert (
        invited.full_name == "Ada Lovelace" and invited.institution.name == "Northfield University"
    )


# --- refused -------------------------------------------------------------------------------------


def test_unsigned_assertion_is_refused(keys, sp_metadata, client_for):
    before = User.objects.count()
    response, _, _ = sign_in(client_for(), make_idp(keys, sp_metadata), sign_assertion=False)
    assert_refused(response, before)


def test_assertion_signed_by_another_key_is_refused(keys, sp_metadata, client_for):
    before = User.objects.count()
    response, _, _ = sign_in(client_for(), make_idp(keys, sp_metadata, which="evil"))
    assert_refused(response, before)


def test_assertion_for_another_audience_is_refused(keys, sp_metadata, client_for):
    client, idp = client_for(), make_idp(keys, sp_metadata)
    before = User.objects.count()
    request, relay = start(client, idp)
    other = idp.response(
        in_response_to=request.id,
        destination=ACS,
        sp_entity_id="https://another-sp.example/",
        user=ADA,
    )
    assert_refused(finish(client, other, relay), before)


def test_a_response_for_another_destination_is_refused(keys, sp_metadata, client_for):
    client, idp = client_for(), make_idp(keys, sp_metadata)
    before = User.objects.count()
    request, relay = start(client, idp)
    elsewhere = idp.response(
        in_response_to=request.id,
        destination="https://another-sp.example/acs/",
        sp_entity_id=SP_ENTITY_ID,
        user=ADA,
    )
    assert_refused(finish(client, elsewhere, relay), before)
    # the same response for our ACS signs in: it was the destination that was refused
    request, relay = start(client, idp)
    ours = idp.response(
        in_response_to=request.id, destination=ACS, sp_entity_id=SP_ENTITY_ID, user=ADA
    )
    assert finish(client, ours, relay).status_code == 302


def test_expired_assertion_is_refused(keys, sp_metadata, client_for):
    before = User.objects.count()
    response, _, _ = sign_in(client_for(), make_idp(keys, sp_metadata, lifetime_minutes=-10))
    assert_refused(response, before)


def test_replayed_response_is_refused(keys, sp_metadata, client_for):
    client = client_for()
    first, saml_response, relay = sign_in(client, make_idp(keys, sp_metadata))
    assert first.status_code == 302
    client.post("/accounts/logout/")
    before = User.objects.count()
    assert_refused(finish(client, saml_response, relay), before)
    # and from a fresh browser that never asked for it
    assert_refused(finish(client_for(), saml_response, relay), before)


def test_signature_wrapping_is_refused(keys, sp_metadata, client_for):
    """A forged assertion next to the genuine signed one must not be believed."""
    client, idp = client_for(), make_idp(keys, sp_metadata)
    before = User.objects.count()
    request, relay = start(client, idp)
    genuine = idp.response(
        in_response_to=request.id, destination=ACS, sp_entity_id=SP_ENTITY_ID, user=ADA
    )
    root = etree.fromstring(base64.b64decode(genuine))
    ns = {
        "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
        "ds": "http://www.w3.org/2000/09/xmldsig#",
    }
    signed = root.find("saml:Assertion", ns)
    forged = copy.deepcopy(signed)
    forged.set("ID", "_forged" + signed.get("ID"))
    forged.remove(forged.find("ds:Signature", ns))
    for value in forged.iter("{urn:oasis:names:tc:SAML:2.0:assertion}AttributeValue"):
        if value.text == "ada@northfield.edu":
            value.text = "mallory@northfield.edu"
    root.insert(list(root).index(signed), forged)
    wrapped = base64.b64encode(etree.tostring(root)).decode()
    assert_refused(finish(client, wrapped, relay), before)
    assert not SocialAccount.objects.filter(uid="mallory@northfield.edu").exists()


def test_unsolicited_idp_initiated_response_is_refused(keys, sp_metadata, client_for):
    idp = make_idp(keys, sp_metadata)
    before = User.objects.count()
    unsolicited = idp.response(
        in_response_to=None, destination=ACS, sp_entity_id=SP_ENTITY_ID, user=ADA
    )
    assert_refused(finish(client_for(), unsolicited, NEXT), before)


def test_a_response_without_the_stable_id_is_refused(keys, sp_metadata, client_for):
    before = User.objects.count()
    response, _, _ = sign_in(client_for(), make_idp(keys, sp_metadata), user={**ADA, "eppn": ""})
    assert_refused(response, before)
    assert "eduPersonPrincipalName" in response.content.decode()


def test_an_idp_cannot_take_over_an_account_outside_its_domains(
    world, keys, sp_metadata, client_for
):
    """Northfield's IdP asserts Bob's Lakeside address: Bob's account must stay Bob's."""
    before = User.objects.count()
    response, _, _ = sign_in(
        client_for(), make_idp(keys, sp_metadata), user={**ADA, "mail": world.bob.email}
    )
    assert_refused(response, before)
    assert "outside its own domains" in response.content.decode()
    assert not SocialAccount.objects.filter(user=world.bob).exists()


def test_a_malformed_response_gets_the_refusal_page_not_a_500(sp_metadata, client_for):
    client = client_for()
    for junk, status in (
        # XML that does not parse: the parser raises inside allauth; our middleware answers
        (base64.b64encode(b"<not xml").decode(), 400),
        # not base64 at all: allauth finds no response in it and refuses
        ("%%%not-base64%%%", 403),
    ):
        response = finish(client, junk)
        assert response.status_code == status, junk
        assert "Sign-in did not succeed" in response.content.decode()


def test_an_account_with_a_password_is_never_linked_by_an_idp(keys, sp_metadata, client_for):
    User.objects.create_user("ada.lovelace@northfield.edu", password="her own password")
    before = User.objects.count()
    response, _, _ = sign_in(client_for(), make_idp(keys, sp_metadata))
    assert_refused(response, before)
    assert not SocialAccount.objects.filter(uid="ada@northfield.edu").exists()
