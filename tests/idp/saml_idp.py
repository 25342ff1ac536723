"""A real SAML identity provider for the tests: pysaml2's IdP (saml2.server.Server).

Used in-process by the rejection tests (to mint good and bad responses) and as a small HTTP
server for the browser test (`python -m tests.idp.saml_idp ...`). We only wire pysaml2 to
HTTP; the SAML itself (requests, responses, XML signatures via xmlsec1) is pysaml2's.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import html
import json
import sys
from pathlib import Path
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, make_server

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_TRANSIENT
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

EPPN_SCOPE = "northfield.edu"


def make_keypair(folder: Path, name: str = "idp") -> tuple[Path, Path]:
    """A fresh RSA key and self-signed certificate (PEM files) for signing assertions."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name}.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = folder / f"{name}.key", folder / f"{name}.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def idp_config(
    *,
    entity_id: str,
    base_url: str,
    key: Path,
    cert: Path,
    sp_metadata: str | None = None,
    lifetime_minutes: int = 5,
) -> IdPConfig:
    config = {
        "entityid": entity_id,
        "service": {
            "idp": {
                "endpoints": {
                    "single_sign_on_service": [(f"{base_url}/sso/redirect", BINDING_HTTP_REDIRECT)],
                },
                "policy": {
                    "default": {
                        "lifetime": {"minutes": lifetime_minutes},
                        "attribute_restrictions": None,
                        "name_form": NAME_FORMAT_URI,
                    }
                },
                "name_id_format": [NAMEID_FORMAT_TRANSIENT],
            }
        },
        "key_file": str(key),
        "cert_file": str(cert),
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "metadata": {"inline": [sp_metadata]} if sp_metadata else {},
        "accepted_time_diff": 0,
    }
    conf = IdPConfig()
    conf.load(config)
    return conf


def metadata_xml(conf: IdPConfig) -> str:
    return str(entity_descriptor(conf))


def identity_for(user: dict) -> dict[str, list[str]]:
    attrs = {
        "eduPersonPrincipalName": [user["eppn"]],
        "mail": [user["mail"]],
        "givenName": [user["given"]],
        "sn": [user["sn"]],
        "displayName": [user["display"]],
        "eduPersonScopedAffiliation": [f"faculty@{EPPN_SCOPE}"],
    }
    return {k: v for k, v in attrs.items() if v and v[0]}


class IdP:
    """pysaml2's Server, with the few calls the tests need."""

    def __init__(self, conf: IdPConfig) -> None:
        self.server = Server(config=conf)

    def read_request(self, saml_request: str, binding: str = BINDING_HTTP_REDIRECT):
        return self.server.parse_authn_request(saml_request, binding).message

    def response(
        self,
        *,
        in_response_to: str | None,
        destination: str,
        sp_entity_id: str,
        user: dict,
        sign_assertion: bool = True,
        sign_response: bool = False,
    ) -> str:
        """A base64 SAMLResponse for `user` (pysaml2 builds and signs it)."""
        name_id = self.server.ident.transient_nameid(
            user["eppn"] or user["mail"], sp_name_qualifier=sp_entity_id
        )
        xml = self.server.create_authn_response(
            identity=identity_for(user),
            in_response_to=in_response_to,
            destination=destination,
            sp_entity_id=sp_entity_id,
            name_id=name_id,
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"},
            sign_assertion=sign_assertion,
            sign_response=sign_response,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
        )
        return base64.b64encode(str(xml).encode()).decode()


# --- a tiny HTTP front for the browser test ------------------------------------------------------


def wsgi_app(idp: IdP, users: dict[str, dict], sp_entity_id: str):
    def app(environ, start_response):
        path = environ["PATH_INFO"]
        if path == "/sso/redirect":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            saml_request = query["SAMLRequest"][0]
            relay = query.get("RelayState", [""])[0]
            request = idp.read_request(saml_request)
            options = "".join(
                f'<p><label><input type="radio" name="user" value="{html.escape(k)}"'
                f"{' checked' if i == 0 else ''}> {html.escape(u['display'])}</label></p>"
                for i, (k, u) in enumerate(users.items())
            )
            body = f"""<!DOCTYPE html><html lang="en"><head><title>IdP sign-in</title></head>
<body><h1>Northfield University sign-in</h1><form method="post" action="/sso/login">
<input type="hidden" name="id" value="{html.escape(request.id)}">
<input type="hidden" name="acs" value="{html.escape(request.assertion_consumer_service_url)}">
<input type="hidden" name="relay" value="{html.escape(relay)}">{options}
<p><label>Password <input type="password" name="password"></label></p>
<button type="submit">Sign in at Northfield</button></form></body></html>"""
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [body.encode()]
        if path == "/sso/login" and environ["REQUEST_METHOD"] == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            form = {k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(size).decode()).items()}
            saml_response = idp.response(
                in_response_to=form["id"],
                destination=form["acs"],
                sp_entity_id=sp_entity_id,
                user=users[form["user"]],
            )
            body = f"""<!DOCTYPE html><html lang="en"><head><title>Continue</title></head><body>
<form method="post" action="{html.escape(form["acs"])}">
<input type="hidden" name="SAMLResponse" value="{saml_response}">
<input type="hidden" name="RelayState" value="{html.escape(form.get("relay", ""))}">
<button type="submit">Continue to Horizontal</button></form></body></html>"""
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [body.encode()]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    return app


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--entity-id", required=True)
    parser.add_argument("--key", type=Path, required=True)
    parser.add_argument("--cert", type=Path, required=True)
    parser.add_argument("--sp-metadata", type=Path, required=True)
    parser.add_argument("--sp-entity-id", required=True)
    parser.add_argument("--users", type=Path, required=True, help="JSON: {key: user}")
    args = parser.parse_args()
    conf = idp_config(
        entity_id=args.entity_id,
        base_url=f"http://127.0.0.1:{args.port}",
        key=args.key,
        cert=args.cert,
        sp_metadata=args.sp_metadata.read_text(),
    )
    app = wsgi_app(IdP(conf), json.loads(args.users.read_text()), args.sp_entity_id)
    with make_server("127.0.0.1", args.port, app, handler_class=QuietHandler) as server:
        print("IdP ready", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            sys.exit(0)


if __name__ == "__main__":
    main()
