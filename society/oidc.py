"""OpenID Connect checked as its specifications say, where allauth checks less.

allauth believes the ID token it gets from the token endpoint without checking its signature
(it never fetches the provider's keys), compares the token's issuer with whatever the discovery
document says, and prefers userinfo's claims without comparing its subject. With one identity
provider per institution, one of them compromised or misconfigured must be able to sign in its
own members and nobody else, so these checks are ours (society.sso calls them):

- discovery (OIDC Discovery 4.3): the document names exactly the configured issuer, and says
  where the provider's keys and endpoints are (https:// ones where HORIZONTAL_OIDC_REQUIRE_HTTPS);
- the ID token (OIDC Core 3.1.3.7): signed with a key of the provider's JWKS (fetched from
  discovery's jwks_uri, cached, fetched again once for a key id it does not hold) by an
  asymmetric algorithm that discovery advertises; never `none`, never HMAC, never a key the
  token names itself (`jku`, `x5u`, `jwk`, `x5c`); `iss`, `aud`, `azp`, `exp`, `iat`, `nbf`;
- userinfo (OIDC Core 5.3.2): its `sub` is the ID token's.

Every refusal is an OIDCRefused whose message says why, for the log and the society admin.
"""

from __future__ import annotations

import hashlib

import jwt
import requests
from allauth.socialaccount.adapter import get_adapter
from django.conf import settings
from django.core.cache import cache

WELL_KNOWN = "/.well-known/openid-configuration"
# Signature algorithms an ID token may use: asymmetric only. HMAC would be keyed with the client
# secret (which the provider knows, and so would anyone who reads our settings) or, in the
# classic confusion, with the provider's public key; `none` is no signature at all.
ASYMMETRIC_ALGORITHMS = frozenset(
    {
        "RS256",
        "RS384",
        "RS512",
        "PS256",
        "PS384",
        "PS512",
        "ES256",
        "ES384",
        "ES512",
        "EdDSA",
    }
)
# Header parameters by which a token would name its own key (or demand extensions): the
# provider's JWKS is the only source of keys we trust, so a token carrying one is refused.
SELF_KEYING_HEADERS = ("jku", "x5u", "jwk", "x5c", "crit")
PRIVATE_KEY_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k")
# Clock skew allowed between us and a provider (exp, iat, nbf).
LEEWAY_SECONDS = 120
JWKS_CACHE_SECONDS = 3600


class OIDCRefused(Exception):
    """An answer the specification says to refuse; the message says why (no personal data)."""


class OIDCUnreachable(OIDCRefused):
    """The provider did not answer, or not with a JSON object."""


class OIDCIssuerMismatch(OIDCRefused):
    """Discovery names another issuer than the configured one (`named`)."""

    def __init__(self, named: object, configured: str) -> None:
        self.named = str(named)[:200]
        super().__init__(
            f"the discovery document names the issuer {self.named!r}, not {configured!r}"
        )


def https_required() -> bool:
    return settings.HORIZONTAL_OIDC_REQUIRE_HTTPS


def discovery_url(issuer: str) -> str:
    """Where `issuer`'s discovery document is (OIDC Discovery 4: any final "/" removed first)."""
    return issuer.rstrip("/") + WELL_KNOWN


def _get_json(url: str, headers: dict[str, str] | None = None) -> dict:
    try:
        with get_adapter().get_requests_session() as session:
            response = session.get(url, headers={"Accept": "application/json", **(headers or {})})
            response.raise_for_status()
            data = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise OIDCUnreachable(f"{url} did not answer with JSON ({type(exc).__name__})") from exc
    if not isinstance(data, dict):
        raise OIDCUnreachable(f"{url} did not answer with a JSON object")
    return data


def _endpoint_ok(url: object) -> bool:
    schemes = ("https://",) if https_required() else ("https://", "http://")
    return isinstance(url, str) and url.startswith(schemes)


def signing_algorithms(config: dict) -> list[str]:
    """What an ID token from this provider may be signed with: what its discovery advertises
    (RS256, the specification's default, when it says nothing), asymmetric algorithms only."""
    advertised = config.get("id_token_signing_alg_values_supported", ["RS256"])
    if not isinstance(advertised, list):
        return []
    return [alg for alg in advertised if isinstance(alg, str) and alg in ASYMMETRIC_ALGORITHMS]


def discovery_fetch(issuer: str) -> dict:
    """`issuer`'s discovery document, checked (raises OIDCRefused, or OIDCUnreachable)."""
    if not _endpoint_ok(issuer):
        raise OIDCRefused("the issuer must be an https:// URL")
    config = _get_json(discovery_url(issuer))
    if config.get("issuer") != issuer:
        raise OIDCIssuerMismatch(config.get("issuer"), issuer)
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not _endpoint_ok(config.get(name)):
            raise OIDCRefused(f"the discovery document has no usable {name}")
    if "userinfo_endpoint" in config and not _endpoint_ok(config["userinfo_endpoint"]):
        raise OIDCRefused("the discovery document has no usable userinfo_endpoint")
    if not signing_algorithms(config):
        raise OIDCRefused(
            f"the provider signs ID tokens with none of {', '.join(sorted(ASYMMETRIC_ALGORITHMS))}"
        )
    return config


def _jwks_cache_key(config: dict) -> str:
    where = f"{config['issuer']} {config['jwks_uri']}".encode()
    return "oidc-jwks:" + hashlib.sha256(where).hexdigest()


def _jwks(config: dict, *, refresh: bool = False) -> tuple[list[dict], bool]:
    """The provider's published keys, and whether they were fetched just now."""
    cache_key = _jwks_cache_key(config)
    keys = None if refresh else cache.get(cache_key)
    if keys is not None:
        return keys, False
    published = _get_json(config["jwks_uri"]).get("keys")
    if not isinstance(published, list):
        raise OIDCRefused("the provider's JWKS holds no list of keys")
    keys = [key for key in published if isinstance(key, dict)]
    cache.set(cache_key, keys, JWKS_CACHE_SECONDS)
    return keys, True


def _key_for(header: dict, keys: list[dict]) -> jwt.PyJWK | None:
    """The published key that verifies a token with this header, bound to its algorithm."""
    alg, kid = header["alg"], header.get("kid")
    candidates = [
        key
        for key in keys
        if key.get("use", "sig") == "sig"
        and key.get("kty") != "oct"  # a symmetric key has no place in a JWKS
        and not any(member in key for member in PRIVATE_KEY_MEMBERS)  # nor a private one
        and key.get("alg", alg) == alg
        and (kid is None or key.get("kid") == kid)
    ]
    if kid is None and len(candidates) != 1:
        return None  # OIDC Core 10.1: with several keys, the token must say which (kid)
    for candidate in candidates:
        try:
            return jwt.PyJWK(candidate, algorithm=alg)  # refuses a key of another type
        except (jwt.PyJWTError, KeyError, TypeError, ValueError):
            continue
    return None


def id_token_verify(id_token: object, *, config: dict, issuer: str, client_id: str) -> dict:
    """The ID token's claims once its signature and claims are checked (raises OIDCRefused)."""
    if not isinstance(id_token, str) or not id_token:
        raise OIDCRefused("the token endpoint sent no ID token")
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.PyJWTError as exc:
        raise OIDCRefused("the ID token is not a readable JWT") from exc
    alg = header.get("alg")
    allowed = signing_algorithms(config)
    if alg not in allowed:
        raise OIDCRefused(f"the ID token is signed with {str(alg)[:20]!r}, not one of {allowed}")
    named = [name for name in SELF_KEYING_HEADERS if name in header]
    if named:
        raise OIDCRefused(f"the ID token's header names a key of its own ({', '.join(named)})")
    if "kid" in header and not isinstance(header["kid"], str):
        raise OIDCRefused("the ID token's kid is not a string")
    keys, fresh = _jwks(config)
    key = _key_for(header, keys)
    if key is None and not fresh:
        key = _key_for(header, _jwks(config, refresh=True)[0])  # the provider rotated its keys
    if key is None:
        raise OIDCRefused("no key in the provider's JWKS matches the ID token's kid and alg")
    try:
        claims = jwt.decode(
            id_token,
            key=key,
            algorithms=[alg],
            audience=client_id,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={
                "require": ["iss", "sub", "aud", "exp", "iat"],
                "verify_signature": True,
                "verify_exp": True,
                "verify_iat": True,
                "verify_nbf": True,
                "verify_iss": True,
                "verify_aud": True,
                "enforce_minimum_key_length": True,
            },
        )
    except jwt.PyJWTError as exc:
        raise OIDCRefused(f"the ID token was refused ({type(exc).__name__}: {exc})") from exc
    audiences = [claims["aud"]] if isinstance(claims["aud"], str) else list(claims["aud"])
    azp = claims.get("azp")
    if len(audiences) > 1 and azp is None:
        raise OIDCRefused("the ID token names several audiences and no authorized party (azp)")
    if azp is not None and azp != client_id:
        raise OIDCRefused("the ID token was issued to another client (azp)")
    sub = claims["sub"]
    if not isinstance(sub, str) or not sub or len(sub) > 255:
        raise OIDCRefused("the ID token's sub is not a string of 1 to 255 characters")
    return claims


def userinfo_fetch(config: dict, access_token: str, claims: dict) -> dict | None:
    """The provider's userinfo for this sign-in (None if it has no endpoint), refused unless
    it is about the ID token's subject (OIDC Core 5.3.2: a substituted answer)."""
    endpoint = config.get("userinfo_endpoint")
    if not endpoint:
        return None
    userinfo = _get_json(endpoint, headers={"Authorization": f"Bearer {access_token}"})
    if userinfo.get("sub") != claims["sub"]:
        raise OIDCRefused("the userinfo's sub is not the ID token's")
    return userinfo
