"""Fixtures shared by the sign-in tests: pysaml2's IdP keys and Northfield set up for SAML, and
the hostile OpenID Provider (tests/idp/hostile_op.py)."""

from __future__ import annotations

import pytest

from society.models import Institution
from society.services import institution_save
from tests.idp.hostile_op import HostileOP
from tests.idp.saml_idp import idp_config, make_keypair, metadata_xml

ENTITY_ID = "https://idp.northfield.test/idp"
IDP_BASE = "http://127.0.0.1:9"  # never contacted: the test client carries every message


@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("saml-keys")
    return {"good": make_keypair(folder, "idp"), "evil": make_keypair(folder, "evil")}


@pytest.fixture
def northfield(db, world, keys):
    """Northfield University signs in with SAML through pysaml2's IdP."""
    key, cert = keys["good"]
    conf = idp_config(entity_id=ENTITY_ID, base_url=IDP_BASE, key=key, cert=cert)
    institution = Institution.objects.get(name="Northfield University")
    institution.slug = "northfield"
    institution.sign_in = Institution.SignIn.SAML
    institution.saml_metadata_xml = metadata_xml(conf)
    return institution_save(institution=institution, actor=world.sam)


@pytest.fixture
def sp_metadata(northfield, client_for) -> str:
    response = client_for().get("/accounts/saml/northfield/metadata/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture(scope="session")
def hostile_op():
    op = HostileOP().start()
    yield op
    op.stop()


@pytest.fixture
def op(hostile_op):
    """The session's hostile OpenID Provider, well-behaved at the start of each test."""
    hostile_op.reset()
    yield hostile_op
    hostile_op.reset()
