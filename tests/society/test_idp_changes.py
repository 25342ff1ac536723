"""A change of an institution's SAML certificate, entity ID or sign-in method is recorded with
old and new fingerprints, e-mailed to every society admin, and the new key alone cannot sign in
as an existing member: the member confirms from their own mailbox first. Members never attach
an identity themselves (no connect process)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from allauth.socialaccount.models import SocialAccount
from django.core import mail

from crossschema.outbox import emails_send_due
from society.models import AuditEvent, Institution, User
from society.services import _fingerprint, institution_save
from tests.conftest import fresh
from tests.idp.saml_idp import idp_config, metadata_xml
from tests.society.test_saml import (
    ACS,
    ADA,
    ENTITY_ID,
    IDP_BASE,
    NEXT,
    SP_ENTITY_ID,
    finish,
    make_idp,
    sign_in,
    start,
)
from tests.society.unchanged import sign_in_rows

ADA_EMAIL = "ada.lovelace@northfield.edu"


def _resave_with(keys, which: str, world, entity_id: str = ENTITY_ID) -> Institution:
    key, cert = keys[which]
    institution = Institution.objects.get(slug="northfield")
    institution.saml_metadata_xml = metadata_xml(
        idp_config(entity_id=entity_id, base_url=IDP_BASE, key=key, cert=cert)
    )
    return institution_save(institution=institution, actor=fresh(world.sam))


def _cert_fingerprint(keys, which: str) -> str:
    return _fingerprint(keys[which][1].read_text())


def _signed_in_as(response) -> str | None:
    user = response.wsgi_request.user
    return user.email if user.is_authenticated else None


def _confirm_link() -> str:
    emails_send_due()  # the worker's send of the confirmation the refusal recorded
    (message,) = [m for m in mail.outbox if m.to == [ADA_EMAIL]]
    (link,) = re.findall(
        r"http://horizontal\.localhost:8765(/accounts/confirm-institution/\S+/)", message.body
    )
    return link


def test_a_certificate_swap_cannot_sign_in_as_an_existing_member_without_her_mailbox(
    keys, sp_metadata, client_for, world, django_capture_on_commit_callbacks
):
    response, _, _ = sign_in(client_for(), make_idp(keys, sp_metadata))
    assert _signed_in_as(response) == ADA_EMAIL
    account = SocialAccount.objects.get(uid=ADA["eppn"])
    stored = (account.user_id, account.provider, account.extra_data)

    emails_send_due()  # what setting the institution up e-mailed
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _resave_with(keys, "evil", world)  # a society admin pastes metadata with a new key
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.INSTITUTION_IDENTITY_CHANGED).first()
    old, new = _cert_fingerprint(keys, "good"), _cert_fingerprint(keys, "evil")
    assert old != new and old in event.detail and new in event.detail
    assert not mail.outbox  # recorded; the worker sends it
    assert emails_send_due() == 1 and emails_send_due() == 0
    (notice,) = mail.outbox
    assert notice.to == [world.sam.email]
    assert old in notice.body and new in notice.body and "Northfield" in notice.subject

    # Whoever holds the new key signs in as Ada: refused, and only Ada's mailbox can confirm.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        refused, _, _ = sign_in(client_for(), make_idp(keys, sp_metadata, which="evil"))
    assert refused.status_code == 403
    assert "e-mailed a confirmation link" in refused.content.decode()
    assert _signed_in_as(refused) is None
    account = SocialAccount.objects.get(uid=ADA["eppn"])
    assert (account.user_id, account.provider) == stored[:2]
    link = _confirm_link()

    anyone = client_for()
    assert "Yes, it was me" in anyone.get(link).text  # a GET (a link scanner) changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        again, _, _ = sign_in(client_for(), make_idp(keys, sp_metadata, which="evil"))
    assert _signed_in_as(again) is None
    assert emails_send_due() == 0  # no second e-mail recorded
    assert len([m for m in mail.outbox if m.to == [ADA_EMAIL]]) == 1

    assert "a•••@northfield.edu" in anyone.get(link).text  # names the account, masked
    confirmed = anyone.post(link, follow=True)
    assert confirmed.redirect_chain[-1][0] == "/accounts/login/"  # a reload posts nothing
    assert "Confirmed. Sign in with Northfield University again" in confirmed.text
    assert anyone.post(link).status_code == 404  # once
    welcome, _, _ = sign_in(client_for(), make_idp(keys, sp_metadata, which="evil"))
    assert _signed_in_as(welcome) == ADA_EMAIL
    assert AuditEvent.objects.filter(kind="identity_confirmed", subject__email=ADA_EMAIL).exists()


def test_switching_to_codes_and_back_does_not_hand_over_the_accounts(
    keys, sp_metadata, client_for, world, django_capture_on_commit_callbacks
):
    sign_in(client_for(), make_idp(keys, sp_metadata))
    institution = Institution.objects.get(slug="northfield")
    institution.sign_in = Institution.SignIn.CODE
    institution_save(institution=institution, actor=fresh(world.sam))
    assert AuditEvent.objects.filter(kind="idp_changed", detail__contains="method saml -> -")
    institution = Institution.objects.get(slug="northfield")
    institution.sign_in = Institution.SignIn.SAML
    institution_save(institution=institution, actor=fresh(world.sam))
    _resave_with(keys, "evil", world)
    with django_capture_on_commit_callbacks(execute=True):
        refused, _, _ = sign_in(client_for(), make_idp(keys, sp_metadata, which="evil"))
    assert _signed_in_as(refused) is None
    assert "e-mailed a confirmation link" in refused.content.decode()


def test_a_new_entity_id_inherits_no_link(
    keys, sp_metadata, client_for, world, django_capture_on_commit_callbacks
):
    sign_in(client_for(), make_idp(keys, sp_metadata))
    other = "https://idp.elsewhere.test/idp"
    _resave_with(keys, "evil", world, entity_id=other)
    assert not SocialAccount.objects.filter(provider=ENTITY_ID).exists()
    assert User.objects.filter(email=ADA_EMAIL).exists()


def test_a_signed_in_member_cannot_attach_an_institution_identity(
    keys, sp_metadata, client_for, world
):
    victim = client_for(world.alice)
    assert victim.get("/accounts/3rdparty/").status_code == 404
    idp = make_idp(keys, sp_metadata, which="good")
    started = victim.post("/accounts/saml/northfield/login/", {"next": NEXT, "process": "connect"})
    assert started.status_code == 302
    query = parse_qs(urlsplit(started["Location"]).query)
    request = idp.read_request(query["SAMLRequest"][0])
    saml_response = idp.response(
        in_response_to=request.id, destination=ACS, sp_entity_id=SP_ENTITY_ID, user=ADA
    )
    posted = victim.post(
        "/accounts/saml/northfield/acs/",
        {"SAMLResponse": saml_response, "RelayState": query.get("RelayState", [""])[0]},
    )
    refused = victim.get(posted["Location"])
    assert refused.status_code == 403
    assert "cannot be added to an account here" in refused.content.decode()
    assert not SocialAccount.objects.filter(user=world.alice).exists()
    assert not SocialAccount.objects.filter(uid=ADA["eppn"]).exists()


def test_moving_from_codes_to_an_idp_is_recorded_and_older_accounts_confirm_once(
    keys, sp_metadata, client_for, world, django_capture_on_commit_callbacks
):
    """Northfield signed in by e-mail codes until the northfield fixture gave it SAML: the
    change was recorded, and a member whose account is older confirms before the IdP may
    claim it (an account made by an e-mail code sign-in, before the change)."""
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.INSTITUTION_IDENTITY_CHANGED)
    assert "method - -> saml" in event.detail and _cert_fingerprint(keys, "good") in event.detail
    changed = Institution.objects.get(slug="northfield").identity_changed_at
    older = User.objects.create_user(ADA_EMAIL)  # no password: what a code sign-in makes
    User.objects.filter(pk=older.pk).update(date_joined=changed - timedelta(days=30))
    emails_send_due()  # the admins' notice of the change itself
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        refused, _, _ = sign_in(client_for(), make_idp(keys, sp_metadata))
    assert _signed_in_as(refused) is None
    emails_send_due()
    assert [m.to for m in mail.outbox] == [[ADA_EMAIL]]
    assert not SocialAccount.objects.filter(user=older).exists()
    client_for().post(_confirm_link())
    welcome, _, _ = sign_in(client_for(), make_idp(keys, sp_metadata))
    assert _signed_in_as(welcome) == ADA_EMAIL


def test_a_refused_sign_in_leaves_the_stored_account_user_and_sessions_as_they_were(
    keys, sp_metadata, client_for, world, django_capture_on_commit_callbacks
):
    """allauth saves what the IdP sent on the matched account before our checks run; a sign-in
    we refuse must not (the new key's attributes would otherwise overwrite Ada's)."""
    ada_browser = client_for()
    sign_in(ada_browser, make_idp(keys, sp_metadata))
    _resave_with(keys, "evil", world)
    intruder = client_for()
    request, relay = start(intruder, make_idp(keys, sp_metadata, which="evil"))
    before = sign_in_rows(refused_session=intruder.session.session_key)
    forged = make_idp(keys, sp_metadata, which="evil").response(
        in_response_to=request.id,
        destination=ACS,
        sp_entity_id=SP_ENTITY_ID,
        user={**ADA, "display": "Not Ada", "given": "Mallory"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        refused = finish(intruder, forged, relay)
    assert refused.status_code == 403
    assert "e-mailed a confirmation link" in refused.content.decode()
    assert sign_in_rows(refused_session=intruder.session.session_key) == before
    assert "_auth_user_id" not in intruder.session
    assert ada_browser.session["_auth_user_id"] == str(User.objects.get(email=ADA_EMAIL).pk)


def test_an_accepted_sign_in_stores_what_the_idp_sent(keys, sp_metadata, client_for):
    """The write that a refusal skips happens once the sign-in is accepted."""
    idp = make_idp(keys, sp_metadata)
    sign_in(client_for(), idp)
    first = SocialAccount.objects.get(uid=ADA["eppn"])
    renamed, _, _ = sign_in(client_for(), idp, user={**ADA, "display": "Ada King"})
    assert _signed_in_as(renamed) == ADA_EMAIL
    stored = SocialAccount.objects.get(pk=first.pk)
    assert "Ada King" in str(stored.extra_data) and "Ada King" not in str(first.extra_data)
    assert stored.last_login > first.last_login


def test_renaming_a_saml_institutions_slug_moves_no_link_and_reusing_it_inherits_none(
    keys, sp_metadata, client_for, world
):
    sign_in(client_for(), make_idp(keys, sp_metadata))
    institution = Institution.objects.get(slug="northfield")
    institution.slug = "northfield-university"
    institution_save(institution=institution, actor=fresh(world.sam))
    assert Institution.objects.get(pk=institution.pk).sign_in_key == "northfield"
    again, _, _ = sign_in(client_for(), make_idp(keys, sp_metadata))  # same ACS URL, same link
    assert _signed_in_as(again) == ADA_EMAIL

    key, cert = keys["evil"]
    taker = institution_save(
        institution=Institution(
            name="Northfield Institute",
            slug="northfield",  # the freed slug, another IdP
            email_domains=["northfield-institute.edu"],
            sign_in=Institution.SignIn.SAML,
            saml_metadata_xml=metadata_xml(
                idp_config(
                    entity_id="https://idp.northfield-institute.test/idp",
                    base_url=IDP_BASE,
                    key=key,
                    cert=cert,
                )
            ),
        ),
        actor=fresh(world.sam),
    )
    assert taker.sign_in_key == "northfield-2"
    assert client_for().get("/accounts/saml/northfield-2/metadata/").status_code == 200
    account = SocialAccount.objects.get(uid=ADA["eppn"])
    assert account.provider == ENTITY_ID and account.user.email == ADA_EMAIL
