"""Institutional sign-in: the SAML and OpenID Connect providers, tightened for many institutions.

Registered through SOCIALACCOUNT_PROVIDERS[...]["provider_class"] (allauth's documented hook).
"""

from __future__ import annotations

import logging
import secrets

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.models import SocialAccount, SocialLogin
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from allauth.socialaccount.providers.saml.provider import SAMLProvider
from django.http import HttpRequest
from django.shortcuts import render
from onelogin.saml2.errors import OneLogin_Saml2_ValidationError

from . import oidc

logger = logging.getLogger(__name__)

NONCE_STATE_KEY = "horizontal_nonce"
ANSWER_REFUSED = (
    "Your institution's answer could not be accepted, so you are not signed in and nothing "
    "was changed. Start again from the sign-in page."
)


def sign_in_refused(request: HttpRequest, reason: str) -> ImmediateHttpResponse:
    """The exception that ends a sign-in with our error page (reason is a sentence we wrote)."""
    response = render(
        request, "socialaccount/authentication_error.html", {"reason": reason}, status=403
    )
    return ImmediateHttpResponse(response)


class InstitutionSocialLogin(SocialLogin):
    """allauth's SocialLogin, whose lookup writes nothing.

    allauth's lookup saves the matched SocialAccount with what the identity provider just sent
    (extra_data, and last_login through auto_now) before pre_social_login runs, so a sign-in we
    refuse would still have rewritten the stored account. Here the match is made in memory, and
    the row is written only once the sign-in is accepted (society.adapters.AccountAdapter
    .post_login): a refused sign-in leaves the account, its user and every session as they were.
    (allauth's lookup would also store the tokens; SOCIALACCOUNT_STORE_TOKENS is off here.)
    """

    account_write_pending = False

    def lookup(self) -> None:
        account = (
            SocialAccount.objects.select_related("user")
            .filter(provider=self.account.provider, uid=self.account.uid)
            .first()
        )
        if account is None:
            super().lookup()  # nobody linked: allauth's own (its match by e-mail is off)
            return
        self._did_authenticate_by_email = None
        account.extra_data = self.account.extra_data
        self.account = account
        self.user = account.user
        self.account_write_pending = True

    def account_write(self) -> None:
        """Store what the identity provider sent, now that the sign-in is accepted."""
        if self.account_write_pending and self.account.pk:
            self.account.save(update_fields=["extra_data", "last_login"])
            self.account_write_pending = False


class WritesNothingUntilAccepted:
    """Provider mixin: the sign-ins it builds are InstitutionSocialLogins."""

    def sociallogin_from_response(self, request, response):
        login = super().sociallogin_from_response(request, response)
        login.__class__ = InstitutionSocialLogin
        return login


class InstitutionSAMLProvider(WritesNothingUntilAccepted, SAMLProvider):
    """SAML, matched only by the mapped stable id (eduPersonPrincipalName or subject-id).

    allauth falls back to the NameID when the uid attribute is missing; NameIDs are often
    transient, so a returning member would get a new account (or someone else's).
    """

    package = "allauth.socialaccount.providers.saml"  # its URLs and templates stay allauth's

    def sociallogin_from_response(self, request, response):
        try:
            return super().sociallogin_from_response(request, response)
        except OneLogin_Saml2_ValidationError as exc:
            # Reading a validated response can still fail (e.g. a NameID qualifier mismatch).
            raise sign_in_refused(request, ANSWER_REFUSED) from exc

    def extract_uid(self, data):
        uid = self._extract(data).get("uid")
        if not uid:
            raise sign_in_refused(
                self.request,
                "Your institution did not send the stable identifier this site needs "
                "(eduPersonPrincipalName). Ask its IT to release it to this service.",
            )
        return uid


class InstitutionOIDCAdapter(OpenIDConnectOAuth2Adapter):
    """allauth's OpenID Connect adapter, with the checks of society.oidc.

    Discovery must name the configured issuer; the ID token's signature and claims are checked
    against the provider's JWKS, and userinfo must be about the ID token's subject, all before
    allauth builds the sign-in (so a refused answer reaches no account). The sign-in start
    gets it from the provider (oauth2_adapter_class); the callback from society.views
    .oidc_callback, since allauth's own callback view hard-codes allauth's adapter.
    """

    def _issuer(self) -> str:
        return self.get_provider().app.settings["server_url"]

    def _refuse(self, exc: oidc.OIDCRefused) -> ImmediateHttpResponse:
        logger.warning(
            "OpenID Connect answer refused (%s): %s", self.get_provider().app.provider_id, exc
        )
        return sign_in_refused(self.request, ANSWER_REFUSED)

    @property
    def openid_config(self):
        if not hasattr(self, "_openid_config"):
            try:
                self._openid_config = oidc.discovery_fetch(self._issuer())
            except oidc.OIDCUnreachable:
                raise  # SignInErrorMiddleware's "could not be read" page
            except oidc.OIDCRefused as exc:
                raise self._refuse(exc) from exc
        return self._openid_config

    def complete_login(self, request: HttpRequest, app, token, **kwargs):
        response = kwargs.get("response") or {}
        try:
            claims = oidc.id_token_verify(
                response.get("id_token"),
                config=self.openid_config,
                issuer=self._issuer(),
                client_id=app.client_id,
            )
            userinfo = oidc.userinfo_fetch(self.openid_config, token.token, claims)
        except oidc.OIDCRefused as exc:
            raise self._refuse(exc) from exc
        data = {"id_token": claims}
        if userinfo is not None:
            data["userinfo"] = userinfo
        return self.get_provider().sociallogin_from_response(request, data)


class InstitutionOIDCProvider(WritesNothingUntilAccepted, OpenIDConnectProvider):
    """OpenID Connect with PKCE, a nonce bound to the browser session, and ID tokens checked
    as the specification says (InstitutionOIDCAdapter).

    The nonce is stashed with allauth's state and compared with the ID token's in
    society.adapters.SocialAccountAdapter.pre_social_login.
    """

    package = "allauth.socialaccount.providers.openid_connect"
    pkce_enabled_default = True
    oauth2_adapter_class = InstitutionOIDCAdapter
    # allauth's token authentication (headless apps posting an ID token) skips our views.
    supports_token_authentication = False

    def redirect(self, request: HttpRequest, process, next_url=None, data=None, **kwargs):
        nonce = secrets.token_urlsafe(24)
        auth_params = kwargs.pop("auth_params", None) or self.get_auth_params()
        kwargs["auth_params"] = {**auth_params, "nonce": nonce}
        kwargs[NONCE_STATE_KEY] = nonce
        return super().redirect(request, process, next_url=next_url, data=data, **kwargs)
