"""The society management pages: for society admins only, and never inside a group."""

import html
import re

import pytest
from allauth.socialaccount.models import SocialApp
from django.conf import settings

from society.forms import InstitutionForm
from society.models import DEFAULT_SAML_ATTRIBUTES, EPPN, Institution
from tests.e2e.test_make_run import free_port
from tests.idp.saml_idp import idp_config, make_keypair, metadata_xml

BASE = settings.HORIZONTAL_BASE_URL  # the suite's own (HORIZONTAL_TEST_BASE_URL)
PAGES = ["/manage/", "/manage/institutions/", "/manage/institutions/new/", "/manage/audit/"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_answer_by_role(db, world, client_for, path):
    assert client_for(world.sam).get(path).status_code == 200  # society admin
    refused = client_for(world.alice).get(path)  # a point-person, not a society admin
    assert refused.status_code == 403 and "for the society's administrators" in refused.text
    assert client_for(world.mallory).get(path).status_code == 403
    assert client_for().get(path).status_code == 302  # signed out: sign in first
    assert client_for(world.sam, world.alpha).get(path).status_code == 404  # not on group hosts


def test_admin_adds_a_saml_institution_and_sees_what_to_give_its_it(
    db, world, client_for, tmp_path
):
    key, cert = make_keypair(tmp_path)
    conf = idp_config(
        entity_id="https://idp.southport.test/idp",
        base_url="http://127.0.0.1:9",
        key=key,
        cert=cert,
    )
    client = client_for(world.sam)
    response = client.post(
        "/manage/institutions/new/",
        {
            "name": "Southport University",
            "slug": "southport",
            "sign_in": "saml",
            "email_domains_text": "southport.edu, med.southport.edu",
            "saml_metadata_xml": metadata_xml(conf),
            "saml_uid": EPPN,
            "saml_email": "urn:oid:0.9.2342.19200300.100.1.3",
            "saml_display_name": "urn:oid:2.16.840.1.113730.3.1.241, displayName",
        },
    )
    assert response.status_code == 302
    institution = Institution.objects.get(slug="southport")
    assert institution.email_domains == ["med.southport.edu", "southport.edu"]
    assert institution.saml_entity_id == "https://idp.southport.test/idp"
    mapping = {
        "uid": [EPPN],
        "email": ["urn:oid:0.9.2342.19200300.100.1.3"],
        "display_name": ["urn:oid:2.16.840.1.113730.3.1.241", "displayName"],
    }
    assert institution.saml_attributes == mapping
    assert SocialApp.objects.get(provider="saml").settings["attribute_mapping"] == mapping
    page = client.get(response["Location"]).text
    assert f"{BASE}/accounts/saml/southport/acs/" in page
    assert f"{BASE}/accounts/saml/sp/" in page
    assert f"{BASE}/accounts/saml/southport/metadata/" in page
    metadata = client_for().get("/accounts/saml/southport/metadata/")
    assert metadata.status_code == 200 and b"AssertionConsumerService" in metadata.content


def test_unreadable_metadata_gets_a_form_error_and_saves_nothing(db, world, client_for):
    response = client_for(world.sam).post(
        "/manage/institutions/new/",
        {
            "name": "Broken U",
            "slug": "broken",
            "sign_in": "saml",
            "email_domains_text": "broken.edu",
            "saml_metadata_xml": "<not-metadata/>",
            "saml_uid": "x",
            "saml_email": "y",
        },
    )
    assert response.status_code == 400
    assert "The metadata must name the IdP" in response.text
    assert not Institution.objects.filter(slug="broken").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("saml_metadata_xml", "not < xml at all", "This is not readable SAML metadata."),
        ("email_domains_text", "not a domain!!", "Not e-mail domains: a, domain!!, not."),
        ("email_domains_text", "https://x.edu/ bob@x.edu", "Not e-mail domains: bob@x.edu,"),
    ],
)
def test_careless_institution_input_gets_a_sentence_and_saves_nothing(
    db, world, client_for, field, value, message
):
    form = {
        "name": "Careless U",
        "slug": "careless",
        "sign_in": "saml",
        "email_domains_text": "careless.edu",
        "saml_metadata_xml": "<not-metadata/>",
        "saml_uid": "x",
        "saml_email": "y",
        field: value,
    }
    response = client_for(world.sam).post("/manage/institutions/new/", form)
    assert response.status_code == 400
    assert message in response.text
    assert "%(" not in response.text
    assert not Institution.objects.filter(slug="careless").exists()


def _input_value(page: str, name: str) -> str:
    return html.unescape(re.search(rf'name="{name}" value="([^"]*)"', page).group(1))


def test_the_institution_form_speaks_plainly_and_starts_from_the_default_attributes(
    db, world, client_for
):
    page = client_for(world.sam).get("/manage/institutions/new/").text
    for label in (
        "Short name",
        "How its members sign in",
        "Require the institution&#x27;s sign-in",
        "SAML identity provider&#x27;s metadata (XML)",
        "OpenID Connect client ID",
        "Stable identifier attribute",
        "E-mail address attribute",
        "Affiliation attribute",
    ):
        assert f">{label}</label>" in page, label
    for derived in ("Slug", "Sign in<", "Require sso", "Saml", "Oidc client id"):
        assert derived not in page, derived
    assert "saml_attributes" not in page  # no JSON to write
    shown = {key: _input_value(page, f"saml_{key}") for key in DEFAULT_SAML_ATTRIBUTES}
    assert shown == {key: " ".join(names) for key, names in DEFAULT_SAML_ATTRIBUTES.items()}


def _saml_form(metadata: str, **fields) -> dict:
    return {
        "name": "Careless U",
        "slug": "careless",
        "sign_in": "saml",
        "email_domains_text": "careless.edu",
        "saml_metadata_xml": metadata,
        **{f"saml_{key}": " ".join(names) for key, names in DEFAULT_SAML_ATTRIBUTES.items()},
        **fields,
    }


@pytest.fixture
def careless_metadata(keys) -> str:
    key, cert = keys["good"]
    return metadata_xml(
        idp_config(
            entity_id="https://idp.c.test/idp", base_url="http://127.0.0.1:9", key=key, cert=cert
        )
    )


def test_the_default_attributes_as_shown_save_the_default_mapping(
    db, world, client_for, careless_metadata
):
    client = client_for(world.sam)
    assert (
        client.post("/manage/institutions/new/", _saml_form(careless_metadata)).status_code == 302
    )
    institution = Institution.objects.get(slug="careless")
    assert institution.saml_attributes == DEFAULT_SAML_ATTRIBUTES
    # Saved again from its own page (an old key the form does not show is kept), it stays so.
    Institution.objects.filter(pk=institution.pk).update(
        saml_attributes={**DEFAULT_SAML_ATTRIBUTES, "email_verified": ["urn:example:verified"]}
    )
    page = client.get(f"/manage/institutions/{institution.pk}/").text
    assert _input_value(page, "saml_uid") == f"{EPPN} urn:oasis:names:tc:SAML:attribute:subject-id"
    again = _saml_form(careless_metadata, saml_affiliation="")
    assert client.post(f"/manage/institutions/{institution.pk}/", again).status_code == 302
    institution.refresh_from_db()
    expected = {**DEFAULT_SAML_ATTRIBUTES, "email_verified": ["urn:example:verified"]}
    del expected["affiliation"]
    assert institution.saml_attributes == expected


@pytest.mark.parametrize("key", ["uid", "email"])
def test_saml_without_the_identifier_or_e_mail_attribute_is_refused(
    db, world, client_for, careless_metadata, key
):
    form = _saml_form(careless_metadata, **{f"saml_{key}": "  "})
    response = client_for(world.sam).post("/manage/institutions/new/", form)
    assert response.status_code == 400
    what = {"uid": "stable identifier", "email": "e-mail address"}[key]
    assert f"SAML sign-in needs the attribute that carries the {what}." in response.text
    assert not Institution.objects.filter(slug="careless").exists()


@pytest.mark.parametrize("key", list(DEFAULT_SAML_ATTRIBUTES))
@pytest.mark.parametrize("value", ["mail\nurn:oid:2.5.4.4", "mail\u2028sn", "mail\tsn"])
def test_a_saml_attribute_that_is_not_one_line_gets_a_message_and_saves_nothing(
    db, world, client_for, careless_metadata, key, value
):
    response = client_for(world.sam).post(
        "/manage/institutions/new/", _saml_form(careless_metadata, **{f"saml_{key}": value})
    )
    assert response.status_code == 400
    label = InstitutionForm().fields[f"saml_{key}"].label
    own = re.search(rf'name="saml_{key}".*?</p>', response.text, re.S).group(0)
    assert f"{label} must fit on one line, without control characters." in own  # under it
    assert not Institution.objects.filter(slug="careless").exists()


def test_admin_adds_an_oidc_institution_whose_secret_is_never_shown(db, world, client_for, op):
    client = client_for(world.sam)
    missing = client.post(
        "/manage/institutions/new/",
        {
            "name": "Mountain State",
            "slug": "mountain",
            "sign_in": "oidc",
            "email_domains_text": "mountainstate.edu",
            "oidc_issuer": op.issuer,
            "oidc_client_id": "horizontal",
        },
    )
    assert missing.status_code == 400 and "Enter the client secret." in missing.text
    saved = client.post(
        "/manage/institutions/new/",
        {
            "name": "Mountain State",
            "slug": "mountain",
            "sign_in": "oidc",
            "email_domains_text": "mountainstate.edu",
            "oidc_issuer": op.issuer,
            "oidc_client_id": "horizontal",
            "oidc_client_secret": "s3cret-value",
        },
    )
    assert saved.status_code == 302
    app = SocialApp.objects.get(provider="openid_connect", provider_id="mountain")
    assert app.secret == "s3cret-value" and app.settings["oauth_pkce_enabled"] is True
    page = client.get(saved["Location"]).text
    assert "s3cret-value" not in page
    assert f"{BASE}/accounts/oidc/mountain/login/callback/" in page


def _oidc_form(issuer: str) -> dict:
    return {
        "name": "Mountain State",
        "slug": "mountain",
        "sign_in": "oidc",
        "email_domains_text": "mountainstate.edu",
        "oidc_issuer": issuer,
        "oidc_client_id": "horizontal",
        "oidc_client_secret": "s3cret-value",
    }


def test_an_oidc_issuer_whose_discovery_does_not_answer_is_not_saved(db, world, client_for):
    closed = f"http://127.0.0.1:{free_port()}"
    response = client_for(world.sam).post("/manage/institutions/new/", _oidc_form(closed))
    assert response.status_code == 400
    assert "discovery document" in response.text and "did not answer" in response.text
    assert f"{closed}/.well-known/openid-configuration" in response.text
    assert not Institution.objects.filter(slug="mountain").exists()
    assert not SocialApp.objects.filter(provider="openid_connect").exists()


def test_an_oidc_issuer_that_discovery_names_otherwise_is_not_saved(db, world, client_for, op):
    slash = client_for(world.sam).post("/manage/institutions/new/", _oidc_form(op.issuer + "/"))
    assert slash.status_code == 400 and f"calls itself “{op.issuer}”" in slash.text
    well_known = op.issuer + "/.well-known/openid-configuration"
    document = client_for(world.sam).post("/manage/institutions/new/", _oidc_form(well_known))
    assert document.status_code == 400 and "Enter the issuer itself" in document.text
    op.discovery.update(issuer="https://idp.another-institution.example")
    response = client_for(world.sam).post("/manage/institutions/new/", _oidc_form(op.issuer))
    assert "calls itself “https://idp.another-institution.example”" in response.text
    assert not Institution.objects.filter(slug="mountain").exists()


def test_oidc_needs_https_where_required_and_only_there(db, world, client_for, op, settings):
    """Production requires https:// (config/settings/production.py); the tests' providers run
    on loopback over http, so both sides of the rule are shown here with the setting."""
    settings.HORIZONTAL_OIDC_REQUIRE_HTTPS = True
    plain = client_for(world.sam).post("/manage/institutions/new/", _oidc_form(op.issuer))
    assert plain.status_code == 400 and "Enter an https:// issuer URL" in plain.text
    assert not op.served  # refused before asking the provider anything
    closed = f"https://127.0.0.1:{free_port()}"
    secure = client_for(world.sam).post("/manage/institutions/new/", _oidc_form(closed))
    assert "https:// issuer URL" not in secure.text and "did not answer" in secure.text

    settings.HORIZONTAL_OIDC_REQUIRE_HTTPS = False
    saved = client_for(world.sam).post("/manage/institutions/new/", _oidc_form(op.issuer))
    assert saved.status_code == 302
    assert Institution.objects.get(slug="mountain").oidc_issuer == op.issuer

    # An http:// provider saved before the rule is refused at sign-in once it applies.
    settings.HORIZONTAL_OIDC_REQUIRE_HTTPS = True
    refused = client_for().post("/accounts/oidc/mountain/login/", {"next": "/"})
    assert refused.status_code == 403 and "Sign-in did not succeed" in refused.text


def test_audit_log_lists_role_changes_for_admins(db, world, client_for):
    from django_tenants.utils import tenant_context

    from groups.models import Membership
    from groups.services.membership import membership_role_set

    with tenant_context(world.alpha):
        membership_role_set(
            membership=Membership.objects.get(user=world.erin), role="member", actor=world.alice
        )
    page = client_for(world.sam).get("/manage/audit/").text
    assert "Role changed" in page and "evaluator -&gt; member" in page and world.erin.email in page
