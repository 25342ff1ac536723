"""A hostile OpenID Provider for the tests: every claim, header, key and answer is the test's.

http.server in a thread on 127.0.0.1 serves discovery, the JWKS, an authorization endpoint that
answers at once (no sign-in page: it signs in whoever `login` names), the token endpoint (client
secret and PKCE checked, as a real OP would) and userinfo. Left alone it behaves: RS256 ID tokens
signed with the key it publishes, carrying the nonce it was given. A test makes it hostile by
changing `discovery`, `id_token_header`, `id_token_claims`, `userinfo_claims` (DROP removes a
claim), `signer` (how the token is signed), `published_keys`, `omit_id_token` or `offline`.

Tokens are assembled by hand (jws()), so that it can produce what no JOSE library would: `none`,
HMAC keyed with a public key, keys named in the header.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

DROP = object()  # a claim or header parameter to leave out
Signer = Callable[[bytes], bytes]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _uint(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def jws(header: dict, claims: dict, signer: Signer) -> str:
    """A compact JWS of `claims` with exactly this header, signed by `signer`."""
    signing_input = ".".join(
        b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    return f"{signing_input}.{b64url(signer(signing_input.encode()))}"


def rsa_signer(key: rsa.RSAPrivateKey, digest=hashes.SHA256) -> Signer:
    return lambda data: key.sign(data, padding.PKCS1v15(), digest())


def hmac_signer(secret: bytes) -> Signer:
    return lambda data: hmac.new(secret, data, hashlib.sha256).digest()


def no_signature(data: bytes) -> bytes:
    return b""


def public_jwk(key: rsa.RSAPrivateKey, kid: str, alg: str | None = "RS256") -> dict:
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "kid": kid, "use": "sig", "n": _uint(numbers.n), "e": _uint(numbers.e)}
    if alg:
        jwk["alg"] = alg
    return jwk


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def self_signed_der(key: rsa.RSAPrivateKey, name: str) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


PEOPLE = {
    "grace": {
        "email": "grace@hostile.edu",
        "email_verified": True,
        "name": "Grace Hopper",
        "given_name": "Grace",
        "family_name": "Hopper",
    },
}


def _person(login: str) -> dict:
    return PEOPLE.get(login, {"email": f"{login}@hostile.edu", "email_verified": True})


def _apply(base: dict, overrides: dict) -> dict:
    merged = {**base, **overrides}
    return {k: v for k, v in merged.items() if v is not DROP}


@dataclass
class Grant:
    login: str
    redirect_uri: str
    nonce: str | None
    code_challenge: str | None


class HostileOP:
    """See the module docstring. `issuer` is its URL; `served` counts the paths it answered."""

    def __init__(self, client_id: str = "horizontal", client_secret: str = "hostile-secret"):
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.evil_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._lock = threading.Lock()
        self.reset()

    # --- what a test may change -------------------------------------------------------------

    def reset(self) -> None:
        """Back to a well-behaved provider (keys stay)."""
        self.login = "grace"
        self.discovery: dict = {}
        self.id_token_header: dict = {}
        self.id_token_claims: dict = {}
        self.userinfo_claims: dict = {}
        self.signer: Signer = rsa_signer(self.key)
        self.published_keys: list[dict] = [public_jwk(self.key, "good")]
        self.omit_id_token = False
        self.offline = False
        self.served: Counter[str] = Counter()
        self._grants: dict[str, Grant] = {}
        self._access: dict[str, tuple[Grant, dict]] = {}

    def discovery_document(self) -> dict:
        base = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            # A hostile provider advertises whatever suits it: we pin to the asymmetric ones.
            "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
        }
        return _apply(base, self.discovery)

    def evil_jwk(self, kid: str = "evil") -> dict:
        return public_jwk(self.evil_key, kid)

    # --- the protocol -----------------------------------------------------------------------

    def _id_token(self, grant: Grant) -> str:
        now = int(time.time())
        person = _person(grant.login)
        claims = {
            "iss": self.issuer,
            "sub": grant.login,
            "aud": self.client_id,
            "exp": now + 300,
            "iat": now,
            "auth_time": now,
            **({"nonce": grant.nonce} if grant.nonce else {}),
            **person,
        }
        header = _apply({"alg": "RS256", "typ": "JWT", "kid": "good"}, self.id_token_header)
        return jws(header, _apply(claims, self.id_token_claims), self.signer)

    def _userinfo(self, grant: Grant) -> dict:
        return _apply({"sub": grant.login, **_person(grant.login)}, self.userinfo_claims)

    def _authorize(self, query: dict[str, str]) -> tuple[int, dict, bytes]:
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return 400, {}, b"unknown client or response type"
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._grants[code] = Grant(
                login=self.login,
                redirect_uri=query["redirect_uri"],
                nonce=query.get("nonce"),
                code_challenge=query.get("code_challenge"),
            )
        location = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        return 302, {"Location": location}, b""

    def _token(self, form: dict[str, str]) -> tuple[int, dict, bytes]:
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)
        if (
            grant is None
            or form.get("client_id") != self.client_id
            or not hmac.compare_digest(form.get("client_secret", ""), self.client_secret)
            or form.get("redirect_uri") != grant.redirect_uri
        ):
            return _json(400, {"error": "invalid_grant"})
        verifier = form.get("code_verifier", "")
        challenge = b64url(hashlib.sha256(verifier.encode()).digest())
        if not grant.code_challenge or challenge != grant.code_challenge:
            return _json(400, {"error": "invalid_grant", "error_description": "PKCE"})
        access_token = secrets.token_urlsafe(24)
        with self._lock:
            self._access[access_token] = (grant, self._userinfo(grant))
        answer = {"access_token": access_token, "token_type": "Bearer", "expires_in": 300}
        if not self.omit_id_token:
            answer["id_token"] = self._id_token(grant)
        return _json(200, answer)

    def _answer(self, method: str, path: str, query: dict, form: dict, headers) -> tuple:
        if path == "/.well-known/openid-configuration":
            return _json(200, self.discovery_document())
        if path == "/jwks":
            return _json(200, {"keys": self.published_keys})
        if path == "/evil-jwks":  # what a `jku` header points at: never to be fetched
            return _json(200, {"keys": [self.evil_jwk()]})
        if path == "/evil.pem":  # what an `x5u` header points at: never to be fetched
            return 200, {"Content-Type": "application/x-pem-file"}, public_pem(self.evil_key)
        if path == "/authorize" and method == "GET":
            return self._authorize(query)
        if path == "/token" and method == "POST":
            return self._token(form)
        if path == "/userinfo":
            bearer = (headers.get("Authorization") or "").removeprefix("Bearer ")
            with self._lock:
                found = self._access.get(bearer)
            return _json(200, found[1]) if found else _json(401, {"error": "invalid_token"})
        return 404, {}, b"not found"

    def _handler(self):
        op = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                form = {}
                if method == "POST":
                    length = int(self.headers.get("Content-Length") or 0)
                    body = self.rfile.read(length).decode()
                    form = {k: v[0] for k, v in parse_qs(body).items()}
                with op._lock:
                    op.served[parts.path] += 1
                    offline = op.offline
                if offline:
                    status, headers, body = 503, {}, b"down"
                else:
                    status, headers, body = op._answer(
                        method, parts.path, query, form, self.headers
                    )
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def log_message(self, format, *args):
                pass

        return Handler

    def start(self) -> HostileOP:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _json(status: int, data: dict) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(data).encode()
