"""Browser: open an invitation, pick your institution, sign in at its IdP, land in the group."""

import json
import re
import subprocess
import sys
import urllib.request

import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from groups.models import Invitation, Membership
from groups.services.invitations import invitation_create
from society.models import Institution, MembershipIndex, User
from society.services import institution_save
from society.urls_helpers import group_url
from tests.conftest import ROOT, port_open, wait_for
from tests.e2e.test_browser import serious_accessibility_violations
from tests.e2e.test_make_run import free_port
from tests.idp.saml_idp import idp_config, make_keypair, metadata_xml

pytestmark = pytest.mark.e2e

ENTITY_ID = "https://idp.harbor.test/idp"
SP_ENTITY_ID = "http://horizontal.localhost:8765/accounts/saml/sp/"
INVITEE = "ines@harbor.edu"


@pytest.fixture
def harbor_idp(committed, world, web_server, tmp_path):
    """Harbor University, whose sign-in is pysaml2's IdP running as an HTTP server."""
    port = free_port()
    key, cert = make_keypair(tmp_path)
    conf = idp_config(entity_id=ENTITY_ID, base_url=f"http://127.0.0.1:{port}", key=key, cert=cert)
    institution = institution_save(
        institution=Institution(
            name="Harbor University",
            slug="harbor",
            email_domains=["harbor.edu"],
            sign_in=Institution.SignIn.SAML,
            saml_metadata_xml=metadata_xml(conf),
        ),
        actor=world.sam,
    )
    request = urllib.request.Request(
        "http://127.0.0.1:8765/accounts/saml/harbor/metadata/",
        headers={"Host": "horizontal.localhost:8765"},
    )
    (tmp_path / "sp.xml").write_bytes(urllib.request.urlopen(request, timeout=10).read())
    (tmp_path / "users.json").write_text(
        json.dumps(
            {
                "ines": {
                    "eppn": "ines@harbor.edu",
                    "mail": INVITEE,
                    "given": "Inès",
                    "sn": "Moreau",
                    "display": "Dr. Inès Moreau",
                }
            }
        )
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.idp.saml_idp",
            "--port",
            str(port),
            "--entity-id",
            ENTITY_ID,
            "--key",
            str(key),
            "--cert",
            str(cert),
            "--sp-metadata",
            str(tmp_path / "sp.xml"),
            "--sp-entity-id",
            SP_ENTITY_ID,
            "--users",
            str(tmp_path / "users.json"),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: port_open(port), 30, "the SAML IdP")
        yield institution
    finally:
        proc.terminate()
        proc.wait(10)
        with tenant_context(world.alpha):
            Membership.objects.filter(user__email=INVITEE).delete()
            Invitation.objects.filter(email=INVITEE).delete()
        MembershipIndex.objects.filter(user__email=INVITEE).delete()
        SocialAccount.objects.filter(user__email=INVITEE).delete()
        SocialApp.objects.filter(settings__institution_id=institution.pk).delete()
        # Users are never deleted (group schemas point at them): retire this one.
        User.objects.filter(email=INVITEE).update(
            email="retired-ines@invalid.example", is_active=False, institution=None
        )
        institution.delete()


def test_invitee_picks_their_institution_signs_in_at_its_idp_and_joins_the_group(
    harbor_idp, world, page: Page
):
    with tenant_context(world.alpha):
        _invitation, token = invitation_create(email=INVITEE, role="member", actor=world.alice)
    invitation_url = group_url("alpha", f"/invitations/{token}/")

    page.goto(invitation_url)
    expect(page).to_have_url(re.compile(r"^http://horizontal\.localhost:8765/accounts/login/"))
    page.get_by_label("Or find your institution").fill("Harbor")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Harbor University").click()
    expect(page.get_by_role("heading", name="Sign in with Harbor University")).to_be_visible()
    assert serious_accessibility_violations(page) == []
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Northfield University sign-in")).to_be_visible()
    page.get_by_role("button", name="Sign in at Northfield").click()  # pysaml2's IdP page
    page.get_by_role("button", name="Continue to Horizontal").click()  # its POST to our ACS

    # A new account: asked for name (the IdP's, filled in) and zone, then on to the invitation.
    expect(page.get_by_test_id("first-visit")).to_be_visible()
    expect(page.get_by_label("Your name")).to_have_value("Dr. Inès Moreau")
    expect(page.get_by_test_id("account-institution")).to_have_text("Harbor University")
    assert serious_accessibility_violations(page) == []
    page.get_by_label("Your time zone").select_option("Europe/Paris")
    page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_url(invitation_url)
    expect(page.get_by_role("heading", name="Join Alpha Peer Group")).to_be_visible()
    page.get_by_role("button", name="Join the group").click()
    expect(page).to_have_url(group_url("alpha"))
    expect(page.get_by_test_id("group-marker")).to_contain_text(
        "You are in Alpha Peer Group as a member"
    )
    expect(page.locator("main")).to_contain_text("Dr. Inès Moreau")
    user = User.objects.get(email=INVITEE)
    assert user.full_name == "Dr. Inès Moreau" and user.institution == harbor_idp
    assert user.time_zone == "Europe/Paris"
