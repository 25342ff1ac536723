"""allauth adapters: where sign-in meets our rules (no open sign-up, no takeover by e-mail)."""

from __future__ import annotations

import secrets

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.account.utils import get_login_redirect_url
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from .audit import audit_record
from .models import AuditEvent, Institution, User
from .services import (
    account_institution_fill,
    identity_confirmation_needed,
    identity_confirmation_request,
)
from .sso import NONCE_STATE_KEY, InstitutionSocialLogin, sign_in_refused
from .urls_helpers import is_safe_redirect


def _sign_in_method(request: HttpRequest) -> str:
    records = request.session.get("account_authentication_methods") or [{}]
    last = records[-1]
    method = last.get("method", "unknown")
    if method == "socialaccount":
        return f"{last.get('provider', 'institution')}"
    return method


class AccountAdapter(DefaultAccountAdapter):
    """Accounts come from institutional sign-in and invitations, not from an open sign-up form."""

    # allauth's rate limits live in the cache; with Redis down they cannot be counted, and
    # sign-in is refused (never let through uncounted) with a message that says both reasons.
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": _(
            "Too many failed sign-in attempts, or signing in is briefly unavailable. "
            "Try again in a few minutes."
        ),
    }

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def is_safe_url(self, url: str) -> bool:
        # Sign-in lives on the base host and sends people back to the group host they came
        # from. allauth's own check compares ALLOWED_HOSTS patterns against host:port, which
        # never matches a subdomain pattern when the site runs on a port (development), and
        # its parsing raises on a malformed `next` (a 500): one helper decides, never raising.
        return is_safe_redirect(url)

    def post_login(self, request: HttpRequest, user: User, **kwargs):
        sociallogin = (kwargs.get("signal_kwargs") or {}).get("sociallogin")
        if isinstance(sociallogin, InstitutionSocialLogin):
            sociallogin.account_write()  # accepted: only now is the stored account updated
        audit_record(
            kind=AuditEvent.Kind.SIGN_IN, actor=user, subject=user, detail=_sign_in_method(request)
        )
        account_institution_fill(user=user)
        if user.settings_confirmed_at is None:
            # First sign-in (or never saved): ask for name and time zone, then go on to where
            # the member was going.
            target = get_login_redirect_url(
                request, kwargs.get("redirect_url"), signup=kwargs.get("signup", False)
            )
            kwargs["redirect_url"] = f"{reverse('account')}?{urlencode({'next': target})}"
        return super().post_login(request, user, **kwargs)

    def logout(self, request: HttpRequest) -> None:
        if request.user.is_authenticated:
            audit_record(kind=AuditEvent.Kind.SIGN_OUT, actor=request.user, subject=request.user)
        super().logout(request)

    def authentication_failed(self, request: HttpRequest, **credentials) -> None:
        email = (credentials.get("email") or credentials.get("login") or "").strip()
        subject = User.objects.filter(email__iexact=email).first() if email else None
        audit_record(kind=AuditEvent.Kind.SIGN_IN_FAILED, subject=subject, detail="password")
        super().authentication_failed(request, **credentials)


def institution_of(sociallogin: SocialLogin) -> Institution | None:
    institution_id = sociallogin.provider.app.settings.get("institution_id")
    return Institution.objects.filter(pk=institution_id).first()


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Institutional sign-in: creates accounts, matches by stable id, never by a claimed address."""

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return True

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ):
        raise sign_in_refused(
            request,
            "Your institution's answer could not be accepted, so you are not signed in and "
            "nothing was changed. Start again from the sign-in page.",
        )

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        provider = sociallogin.provider
        if (sociallogin.state or {}).get("process") == "connect":
            # Members never attach an identity themselves: a signed-in victim pressing
            # "Continue" would hand their account to whoever runs that identity provider.
            raise sign_in_refused(
                request,
                "Institution sign-ins cannot be added to an account here. If you moved to "
                "another institution, ask the society's administrators.",
            )
        if provider.id == "openid_connect":
            expected = (sociallogin.state or {}).get(NONCE_STATE_KEY) or ""
            got = (sociallogin.account.extra_data.get("id_token") or {}).get("nonce") or ""
            if not expected or not secrets.compare_digest(str(expected), str(got)):
                raise sign_in_refused(
                    request, "This sign-in answer was not made for this browser session."
                )
        institution = institution_of(sociallogin)
        if institution is None:
            raise sign_in_refused(request, "This sign-in method is not set up for any institution.")
        email = (sociallogin.user.email or "").lower()
        if not email:
            raise sign_in_refused(
                request,
                "Your institution did not send your e-mail address. Ask its IT to release "
                "the mail attribute to this service.",
            )
        for address in sociallogin.email_addresses:
            # Only an institution's own domains count as verified by its sign-in.
            address.verified = institution.owns_email(address.email)
        if sociallogin.is_existing:
            # matched by (identity provider, stable id)
            self._confirmation_check(request, sociallogin, institution, sociallogin.user)
            return
        if not institution.owns_email(email):
            raise sign_in_refused(
                request,
                "Your institution sent an e-mail address outside its own domains, so this site "
                "cannot tell it is yours. Ask the society's administrators.",
            )
        existing = User.objects.filter(email__iexact=email).first()
        if existing is None:
            if EmailAddress.objects.filter(email__iexact=email).exists():
                raise sign_in_refused(request, "This e-mail address belongs to another account.")
            return  # a new account is made from the institution's attributes
        if self._may_link(existing, sociallogin):
            self._confirmation_check(request, sociallogin, institution, existing)
            # An invited account that has never had a password or another sign-in: the
            # institution vouches for its own domain, so its identity becomes this account's
            # way in. Fill in what the account does not know yet.
            fresh = sociallogin.user
            changed = [
                field
                for field in ("full_name", "institution_id", "affiliation")
                if not getattr(existing, field) and getattr(fresh, field)
            ]
            for field in changed:
                setattr(existing, field, getattr(fresh, field))
            if changed:
                existing.save(update_fields=changed)
            sociallogin.connect(request, existing)
            return
        raise sign_in_refused(
            request,
            "An account with this e-mail address already exists and is not linked to this "
            "sign-in. Sign in the way you did before, or ask the society's administrators.",
        )

    @staticmethod
    def _confirmation_check(
        request: HttpRequest, sociallogin: SocialLogin, institution: Institution, user: User
    ) -> None:
        """After the institution's sign-in changed identity, an older account's owner confirms
        from their mailbox before that sign-in works for them (a new key alone is not enough)."""
        identity = {
            "user": user,
            "institution": institution,
            "provider": sociallogin.account.provider,
            "uid": sociallogin.account.uid,
        }
        if not identity_confirmation_needed(**identity):
            return
        identity_confirmation_request(**identity)
        raise sign_in_refused(
            request,
            f"{institution.name}'s sign-in has changed since you last used it. To protect your "
            "account, we have e-mailed a confirmation link to the address on your account: open "
            "it, then sign in again. Nothing else was changed.",
        )

    @staticmethod
    def _may_link(user: User, sociallogin: SocialLogin) -> bool:
        if sociallogin.provider.id == "openid_connect":
            # The signed ID token must itself say that this address is verified: userinfo is
            # unsigned, and allauth would read it first.
            claims = sociallogin.account.extra_data.get("id_token") or {}
            if claims.get("email_verified") is not True or (
                str(claims.get("email") or "").lower() != user.email.lower()
            ):
                return False
        return (
            user.is_active
            and not user.has_usable_password()
            and not (user.is_staff or user.is_superuser or user.is_society_admin)
            and not SocialAccount.objects.filter(user=user).exists()
        )

    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data: dict) -> User:
        user = super().populate_user(request, sociallogin, data)
        user.email = (user.email or "").lower()
        display = data.get("display_name") or data.get("name")
        given_family = " ".join(p for p in (data.get("first_name"), data.get("last_name")) if p)
        user.full_name = (display or given_family or "").strip()[:200]
        user.affiliation = (data.get("affiliation") or "")[:200]
        user.institution = institution_of(sociallogin)
        return user
