"""Writes to the public schema: groups' registry rows and schemas, institutions, applications.

Making and seeding a group's space enters its schema, so it lives in crossschema.provisioning.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import time, timedelta

from celery import current_app
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django_tenants.utils import schema_exists

from . import notifications, oidc
from .audit import audit_record
from .models import (
    ApplicationEvent,
    AuditEvent,
    GroupApplication,
    IdentityConfirmation,
    Institution,
    PeerGroup,
    User,
    validate_group_slug,
)
from .outbox import email_enqueue
from .selectors import institution_for_email
from .timezones import zone_is_valid

logger = logging.getLogger(__name__)


def _quote(schema_name: str) -> str:
    return connection.ops.quote_name(schema_name)


def template_schema_migrate(*, verbosity: int = 0) -> None:
    """Create the template schema if missing and bring it to the latest group migrations.

    Side effects: DDL in the template schema. New groups are cloned from it.
    """
    template = settings.TENANT_BASE_SCHEMA
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(template)}")
    call_command(
        "migrate_schemas", tenant=True, schema_name=template, interactive=False, verbosity=verbosity
    )


def schemas_migrate(*, verbosity: int = 0) -> list[str]:
    """Migrate public, the template and every group that has a schema; return the groups migrated.

    Groups still queued or failed have no schema and are skipped (migrating a missing schema
    is refused by django-tenants rather than silently writing to public).
    """
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
    template_schema_migrate(verbosity=verbosity)
    migrated = []
    for schema_name in PeerGroup.objects.exclude(status=PeerGroup.Status.QUEUED).values_list(
        "schema_name", flat=True
    ):
        if schema_exists(schema_name):
            call_command(
                "migrate_schemas",
                tenant=True,
                schema_name=schema_name,
                interactive=False,
                verbosity=verbosity,
            )
            migrated.append(schema_name)
    return migrated


@transaction.atomic
def group_create(*, name: str, slug: str) -> PeerGroup:
    """Register a new group (status queued); its space is made by group_provision.

    Raises ValidationError for a bad or taken slug.
    """
    validate_group_slug(slug)
    schema_name = PeerGroup.schema_name_for(slug)
    if PeerGroup.objects.filter(slug=slug).exists() or schema_exists(schema_name):
        raise ValidationError({"slug": _("A group with this address already exists.")})
    group = PeerGroup(name=name, slug=slug, schema_name=schema_name)
    group.full_clean()
    group.save()
    return group


def group_status_set(group: PeerGroup, status: str, error: str = "") -> None:
    """Record a group's provisioning status (autocommitted, so the applicant's page sees it)."""
    group.status = status
    group.provision_error = error
    fields = ["status", "provision_error"]
    if status == PeerGroup.Status.READY:
        group.ready_at = timezone.now()
        fields.append("ready_at")
    group.save(update_fields=fields)


def group_schema_migrate_fresh(*, schema_name: str) -> None:
    """Create `schema_name` by running every group migration (the slow way, for the benchmark)."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {_quote(schema_name)}")
    call_command(
        "migrate_schemas", tenant=True, schema_name=schema_name, interactive=False, verbosity=0
    )


def group_schema_drop(*, schema_name: str) -> None:
    """Drop a group schema and everything in it. Irreversible."""
    if schema_name in ("public", settings.TENANT_BASE_SCHEMA) or not schema_name.startswith("g_"):
        raise ValueError("Refusing to drop a schema that is not a group's.")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {_quote(schema_name)} CASCADE")


PROVISION_LOCK_CLASS = 7401  # pg advisory lock namespace: (class, group id)


@contextmanager
def group_provision_lock(group: PeerGroup) -> Iterator[bool]:
    """A session-level advisory lock: held while one process provisions `group`.

    PostgreSQL releases it when that process's connection ends, so a worker that dies
    mid-way leaves the group "creating" with the lock free: group_provision_is_stalled.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [PROVISION_LOCK_CLASS, group.pk])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_unlock(%s, %s)", [PROVISION_LOCK_CLASS, group.pk]
                )


def group_provision_is_stalled(*, group: PeerGroup) -> bool:
    """True if the group is mid-provisioning but no process is working on it any more.

    The status is read again while holding the lock: a worker that finished between the
    caller's read and the lock released it after marking the group ready, which is no stall.
    """
    working = (PeerGroup.Status.CREATING, PeerGroup.Status.INVITING)
    if group.status not in working:
        return False
    with group_provision_lock(group) as free:
        return free and PeerGroup.objects.filter(pk=group.pk, status__in=working).exists()


# --- Accounts ------------------------------------------------------------------------------------


@transaction.atomic
def account_deactivate(*, user: User, actor: User) -> User:
    """Close an account instead of deleting it (deleting a User would cascade into group
    tables the public schema cannot reach). Its sessions stop at the next request, since
    Django refuses inactive accounts; its memberships stay on record in each group.

    Side effects: audit event. Raises ValidationError for one's own account.
    """
    if user.pk == actor.pk:
        raise ValidationError(_("You cannot deactivate your own account."))
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
        audit_record(kind=AuditEvent.Kind.ACCOUNT_DEACTIVATED, actor=actor, subject=user)
    return user


@transaction.atomic
def account_settings_save(*, user: User, full_name: str, time_zone: str) -> User:
    """The member's own name and time zone (their account page). The first save also marks
    the account as set up, so sign-in stops asking.

    Raises ValidationError for an empty name or a zone we do not offer.
    """
    full_name = " ".join(full_name.split())
    if not full_name:
        raise ValidationError({"full_name": _("Give the name other members will see.")})
    if not zone_is_valid(time_zone):
        raise ValidationError({"time_zone": _("Choose a time zone from the list.")})
    user = User.objects.select_for_update().get(pk=user.pk)
    user.full_name, user.time_zone = full_name[:200], time_zone
    user.settings_confirmed_at = user.settings_confirmed_at or timezone.now()
    user.save(update_fields=["full_name", "time_zone", "settings_confirmed_at"])
    return account_institution_fill(user=user)


@transaction.atomic
def email_choices_save(
    *, user: User, choices: dict[str, str], quiet_from: time | None, quiet_until: time | None
) -> User:
    """What reminder e-mail the member gets (per choice: now, in a daily digest, or off) and
    their quiet hours in their own zone (both times, or neither).

    Raises ValidationError for an unknown choice or delivery, or half a quiet period.
    """
    if set(choices) - set(notifications.CHOICE_KEYS) or any(
        value not in notifications.DELIVERIES for value in choices.values()
    ):
        raise ValidationError(_("Choose now, daily digest or off for each kind of e-mail."))
    if (quiet_from is None) != (quiet_until is None) or (
        quiet_from is not None and quiet_from == quiet_until
    ):
        raise ValidationError(
            {"quiet_until": _("Give both the start and the end of your quiet hours, or neither.")}
        )
    user = User.objects.select_for_update().get(pk=user.pk)
    user.email_choices = {**(user.email_choices or {}), **choices}
    user.quiet_from, user.quiet_until = quiet_from, quiet_until
    user.save(update_fields=["email_choices", "quiet_from", "quiet_until"])
    return user


@transaction.atomic
def email_choice_unsubscribe(*, choice: str, token: str) -> User | None:
    """One-click unsubscribe from a reminder e-mail (no sign-in): its choice is turned off,
    or, from a digest, every choice taken as a digest. None if the token is not ours."""
    user = notifications.unsubscribe_token_user(choice, token)
    if user is None:
        return None
    user = User.objects.select_for_update().get(pk=user.pk)
    stored = dict(user.email_choices or {})
    if choice == notifications.UNSUBSCRIBE_ALL_DIGESTS:
        for key in notifications.CHOICE_KEYS:
            if notifications.choice_delivery(user, key) == notifications.DIGEST:
                stored[key] = notifications.OFF
    else:
        stored[choice] = notifications.OFF
    user.email_choices = stored
    user.save(update_fields=["email_choices"])
    return user


def account_name_set(*, user: User, full_name: str) -> None:
    """Another place the member names themself (their directory profile) names the account
    too: one name for one person."""
    full_name = " ".join(full_name.split())[:200]
    if full_name:
        User.objects.filter(pk=user.pk).exclude(full_name=full_name).update(full_name=full_name)


def account_institution_fill(*, user: User) -> User:
    """An account with no institution takes the one that registered its e-mail domain (a
    member who signs in by e-mail code belongs to it as much as one who uses its IdP). Never
    changes an institution already set: only a society admin moves a member."""
    if user.institution_id is None:
        institution = institution_for_email(email=user.email)
        if institution is not None:
            User.objects.filter(pk=user.pk, institution__isnull=True).update(
                institution=institution
            )
            user.institution = institution
    return user


# --- Institutions and their sign-in ------------------------------------------------------------


def _saml_idp_from_metadata(xml: str) -> dict[str, str]:
    """Entity ID, SSO URL and signing certificate from IdP metadata; ValidationError if unusable."""
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

    try:
        parsed = OneLogin_Saml2_IdPMetadataParser.parse(xml).get("idp", {})
    except Exception as exc:  # the parser raises bare XML and value errors
        raise ValidationError(
            {
                "saml_metadata_xml": _(
                    "This is not readable SAML metadata. Paste the whole XML document your "
                    "institution's IT gives for its identity provider (it starts with "
                    "<EntityDescriptor or <md:EntityDescriptor)."
                )
            }
        ) from exc
    cert = parsed.get("x509cert") or (parsed.get("x509certMulti", {}).get("signing") or [""])[0]
    sso_url = (parsed.get("singleSignOnService") or {}).get("url")
    if not parsed.get("entityId") or not sso_url or not cert:
        raise ValidationError(
            {
                "saml_metadata_xml": _(
                    "The metadata must name the IdP's entity ID, a single sign-on service "
                    "with the HTTP-Redirect binding, and its signing certificate."
                )
            }
        )
    return {"entity_id": parsed["entityId"], "sso_url": sso_url, "x509cert": cert}


def _oidc_issuer_check(issuer: str) -> None:
    """An OpenID Connect issuer is usable: https:// where required, and its discovery document
    answers with its own name (OIDC Discovery 4.3). ValidationError on oidc_issuer otherwise."""
    if oidc.https_required() and not issuer.startswith("https://"):
        raise ValidationError(
            {
                "oidc_issuer": _(
                    "Enter an https:// issuer URL: this site accepts OpenID Connect providers "
                    "over HTTPS only."
                )
            }
        )
    if "/.well-known/" in issuer:
        raise ValidationError(
            {
                "oidc_issuer": _(
                    "Enter the issuer itself: the address before /.well-known/openid-configuration."
                )
            }
        )
    try:
        oidc.discovery_fetch(issuer)
    except oidc.OIDCIssuerMismatch as exc:
        raise ValidationError(
            {
                "oidc_issuer": _(
                    "The provider at this address calls itself “%(named)s”. Enter the issuer "
                    "exactly as its discovery document names it."
                )
                % {"named": exc.named}
            }
        ) from exc
    except oidc.OIDCUnreachable as exc:
        raise ValidationError(
            {
                "oidc_issuer": _(
                    "The provider's discovery document (%(url)s) did not answer. Check the "
                    "issuer URL, or try again when the provider is reachable."
                )
                % {"url": oidc.discovery_url(issuer)}
            }
        ) from exc
    except oidc.OIDCRefused as exc:
        raise ValidationError(
            {
                "oidc_issuer": _("The provider's discovery document cannot be used: %(why)s.")
                % {"why": exc}
            }
        ) from exc


def _social_app_sync(*, institution: Institution, oidc_client_secret: str | None) -> None:
    """Keep exactly one allauth provider app for an institution with SSO (none otherwise)."""
    from allauth.socialaccount.models import SocialApp

    apps = SocialApp.objects.filter(settings__institution_id=institution.pk)
    if institution.sign_in == Institution.SignIn.SAML:
        idp = _saml_idp_from_metadata(institution.saml_metadata_xml)
        app = apps.filter(provider="saml").first() or SocialApp(provider="saml")
        app.provider_id = idp["entity_id"]  # one app per IdP, keyed by its entity ID
        app.client_id = institution.sign_in_key  # the {key} in /accounts/saml/{key}/acs/
        app.name = institution.name
        app.settings = {
            "institution_id": institution.pk,
            "idp": idp,
            "sp": {"entity_id": settings.SAML_SP_ENTITY_ID},
            "attribute_mapping": institution.saml_attributes,
            "advanced": {
                "strict": True,
                "want_assertion_signed": True,
                "reject_idp_initiated_sso": True,
                "reject_deprecated_algorithm": True,
            },
        }
        app.save()
    elif institution.sign_in == Institution.SignIn.OIDC:
        app = apps.filter(provider="openid_connect").first()
        if app is None:
            if not oidc_client_secret:
                raise ValidationError({"oidc_client_secret": _("Enter the client secret.")})
            app = SocialApp(provider="openid_connect")
        app.provider_id = institution.sign_in_key  # /accounts/oidc/{key}/login/callback/
        app.client_id = institution.oidc_client_id
        if oidc_client_secret:
            app.secret = oidc_client_secret
        app.name = institution.name
        app.settings = {
            "institution_id": institution.pk,
            "server_url": institution.oidc_issuer,
            "oauth_pkce_enabled": True,
            "token_auth_method": "client_secret_post",
        }
        app.save()
    else:
        app = None
    apps.exclude(pk=app.pk if app else None).delete()


def _sign_in_key_new(base: str) -> str:
    """A sign-in key no institution has ever had (keys are never reused, even when freed)."""
    stem = slugify(base)[:60] or "institution"
    key, n = stem, 1
    while Institution.objects.filter(sign_in_key=key).exists():
        n += 1
        key = f"{stem}-{n}"
    return key


def _fingerprint(cert: str) -> str:
    """SHA-256 of a PEM or bare base64 certificate, as colon-separated hex (as IdPs show it)."""
    body = "".join(
        line for line in cert.strip().splitlines() if line and not line.startswith("-----")
    )
    try:
        digest = hashlib.sha256(base64.b64decode(body, validate=False)).hexdigest().upper()
    except (ValueError, binascii.Error):
        digest = hashlib.sha256(body.encode()).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def institution_identity(institution: Institution) -> dict[str, str]:
    """What an institution's sign-in trusts: its method, and the SAML entity ID and signing
    certificate's fingerprint, or the OpenID Connect issuer. Empty for e-mail codes."""
    if institution.sign_in == Institution.SignIn.SAML and institution.saml_metadata_xml:
        try:
            idp = _saml_idp_from_metadata(institution.saml_metadata_xml)
        except ValidationError:
            return {"method": "saml"}
        return {
            "method": "saml",
            "entity_id": idp["entity_id"],
            "certificate": _fingerprint(idp["x509cert"]),
        }
    if institution.sign_in == Institution.SignIn.OIDC:
        return {"method": "oidc", "issuer": institution.oidc_issuer}
    return {}


def _identity_changed(*, institution: Institution, old: dict, new: dict, actor) -> None:
    """Record an identity change, tell every society admin, and put older accounts' next
    sign-in through this institution behind a confirmation from their own mailbox."""
    from allauth.socialaccount.models import SocialAccount

    institution.identity_changed_at = timezone.now()
    changes = [
        f"{key} {old.get(key) or '-'} -> {new.get(key) or '-'}"
        for key in ("method", "entity_id", "certificate", "issuer")
        if old.get(key) != new.get(key)
    ]
    event = audit_record(
        kind=AuditEvent.Kind.INSTITUTION_IDENTITY_CHANGED,
        actor=actor,
        detail=f"{institution.name}: {'; '.join(changes)}"[:500],
    )
    # Subject ids belong to one IdP: links to an old entity ID or issuer are dropped (a member
    # links again by confirming from their mailbox); links to the same IdP stay, held the same way.
    if old.get("entity_id") and old.get("entity_id") != new.get("entity_id"):
        SocialAccount.objects.filter(provider=old["entity_id"]).delete()
    if old.get("issuer") and old.get("issuer") != new.get("issuer") and institution.sign_in_key:
        SocialAccount.objects.filter(provider=institution.sign_in_key).delete()
    # Every society admin is told, through the outbox (the changes are identifiers and
    # certificate fingerprints, no secret).
    for admin in User.objects.filter(is_society_admin=True, is_active=True).order_by("pk"):
        email_enqueue(
            key=f"idp-changed:{event.pk}:{admin.pk}",
            kind="institution_identity_changed",
            to=admin.email,
            context={
                "institution": institution.pk,
                "actor": actor.pk if actor is not None else None,
                "changes": changes,
            },
        )


@transaction.atomic
def institution_save(
    *, institution: Institution, actor: User | None, oidc_client_secret: str | None = None
) -> Institution:
    """Validate and save an institution and its allauth provider app.

    Raises ValidationError (field-keyed) for unusable SAML metadata, a missing OIDC issuer,
    client id or secret, an OIDC issuer that is not https:// where HORIZONTAL_OIDC_REQUIRE_HTTPS
    or whose discovery document does not answer with its own name, or an IdP entity ID another
    institution already uses.
    """
    institution.email_domains = sorted({d.lower() for d in institution.email_domains})
    shared = Institution.objects.filter(email_domains__overlap=institution.email_domains).exclude(
        pk=institution.pk
    )
    if institution.email_domains and shared.exists():
        raise ValidationError(
            {
                "email_domains": _("%(name)s already lists one of these e-mail domains.")
                % {"name": shared.first().name}
            }
        )
    if institution.sign_in == Institution.SignIn.SAML:
        idp = _saml_idp_from_metadata(institution.saml_metadata_xml)
        institution.saml_entity_id = idp["entity_id"]
        clash = Institution.objects.filter(saml_entity_id=idp["entity_id"]).exclude(
            pk=institution.pk
        )
        if clash.exists():
            raise ValidationError(
                {"saml_metadata_xml": _("Another institution already uses this IdP.")}
            )
        mapping = institution.saml_attributes or {}
        if (
            not isinstance(mapping, dict)
            or not all(isinstance(v, str | list) for v in mapping.values())
            or not mapping.get("uid")
            or not mapping.get("email")
        ):
            raise ValidationError(
                {
                    "saml_attributes": _(
                        "SAML sign-in needs the attributes that carry the stable identifier "
                        "and the e-mail address."
                    )
                }
            )
    else:
        institution.saml_entity_id = ""
    if institution.sign_in == Institution.SignIn.OIDC and not (
        institution.oidc_issuer and institution.oidc_client_id
    ):
        raise ValidationError(
            {"oidc_issuer": _("OpenID Connect needs the issuer URL and a client ID.")}
        )
    if institution.sign_in == Institution.SignIn.OIDC:
        _oidc_issuer_check(institution.oidc_issuer)
    if institution.require_sso and not institution.has_sso:
        raise ValidationError(
            {"require_sso": _("Only an institution with SAML or OpenID Connect can require it.")}
        )
    institution.updated_at = timezone.now()
    if institution.has_sso and not institution.sign_in_key:
        institution.sign_in_key = _sign_in_key_new(institution.slug or institution.name)
    if institution.pk:
        stored = Institution.objects.select_for_update().get(pk=institution.pk)
        old, new = institution_identity(stored), institution_identity(institution)
        if old != new:  # from codes to SSO too: older accounts confirm once
            _identity_changed(institution=institution, old=old, new=new, actor=actor)
    institution.full_clean()
    institution.save()
    _social_app_sync(institution=institution, oidc_client_secret=oidc_client_secret)
    audit_record(kind=AuditEvent.Kind.INSTITUTION_SAVED, actor=actor, detail=institution.name)
    return institution


# --- Confirming an institution sign-in after its identity changed ---------------------------

IDENTITY_CONFIRMATION_LIFETIME = timedelta(hours=24)


def identity_confirmation_needed(*, user: User, institution: Institution, provider: str, uid: str):
    """Whether this institution sign-in as `user` must first be confirmed from their mailbox:
    the institution's sign-in changed identity after the account was made, and no
    confirmation for this identity has been given since."""
    changed = institution.identity_changed_at
    if changed is None or user.date_joined >= changed:
        return False
    return not IdentityConfirmation.objects.filter(
        user=user,
        institution=institution,
        provider=provider,
        uid=uid,
        confirmed_at__gte=changed,
    ).exists()


def identity_confirmation_request(
    *, user: User, institution: Institution, provider: str, uid: str
) -> IdentityConfirmation:
    """E-mail `user` a one-time link that confirms this institution sign-in as theirs.

    At most one open link per account and identity for 24 hours: more attempts with the same
    identity send nothing more (whoever holds a changed key cannot flood the member's inbox).
    """
    nonce = secrets.token_urlsafe(32)
    with transaction.atomic():
        open_request = IdentityConfirmation.objects.filter(
            user=user,
            institution=institution,
            provider=provider,
            uid=uid,
            confirmed_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).first()
        if open_request is not None:
            return open_request
        confirmation = IdentityConfirmation.objects.create(
            user=user,
            institution=institution,
            provider=provider,
            uid=uid,
            token_nonce=nonce,
            token_hash=hashlib.sha256(identity_confirmation_token(nonce).encode()).hexdigest(),
            expires_at=timezone.now() + IDENTITY_CONFIRMATION_LIFETIME,
        )
        email_enqueue(
            key=f"identity-confirm:{confirmation.pk}",
            kind="identity_confirm",
            to=user.email,
            context={"confirmation": confirmation.pk},
        )
    return confirmation


def identity_confirmation_token(nonce: str) -> str:
    """The link's token for a confirmation's nonce (needs the secret key; the database keeps
    only the token's hash)."""
    return salted_hmac("horizontal.identity-confirmation", nonce, algorithm="sha256").hexdigest()


def identity_confirmation_get(*, token: str) -> IdentityConfirmation | None:
    """The open, unexpired confirmation this token opens, if any."""
    return (
        IdentityConfirmation.objects.select_related("user", "institution")
        .filter(
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            confirmed_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )


@transaction.atomic
def identity_confirm(*, confirmation: IdentityConfirmation) -> IdentityConfirmation:
    """The account's owner confirms: the institution identity signs in as them from now on.

    Raises ValidationError if the identity belongs to another account meanwhile.
    """
    from allauth.socialaccount.models import SocialAccount

    confirmation = IdentityConfirmation.objects.select_for_update().get(pk=confirmation.pk)
    if confirmation.confirmed_at is not None:
        return confirmation
    account = SocialAccount.objects.filter(
        provider=confirmation.provider, uid=confirmation.uid
    ).first()
    if account is not None and account.user_id != confirmation.user_id:
        raise ValidationError(_("This sign-in belongs to another account. Ask the society."))
    if account is None:
        SocialAccount.objects.create(
            user=confirmation.user, provider=confirmation.provider, uid=confirmation.uid
        )
    confirmation.confirmed_at = timezone.now()
    confirmation.save(update_fields=["confirmed_at"])
    audit_record(
        kind=AuditEvent.Kind.IDENTITY_CONFIRMED,
        actor=confirmation.user,
        subject=confirmation.user,
        detail=confirmation.institution.name[:200],
    )
    return confirmation


# --- Group applications ------------------------------------------------------------------------

APPLICATION_MAX_FOUNDERS = 20

# Provisioning enters the new group's schema, so its task lives in crossschema, above this
# layer: it is asked for by name, and crossschema's sweep finds approved groups still queued.
APPLICATION_PROVISION_TASK = "crossschema.application_provision"


def application_provision_request(application_id: int) -> None:
    """Ask the worker to make an approved application's group (a Celery message by name)."""
    current_app.send_task(APPLICATION_PROVISION_TASK, args=[application_id])


def _normalise_emails(emails: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for email in emails:
        email = email.strip().lower()
        if email:
            seen[email] = None
    return list(seen)


def _application_validate(application: GroupApplication) -> None:
    errors: dict[str, list[str]] = {}
    try:
        validate_group_slug(application.slug)
    except ValidationError as exc:
        errors["slug"] = exc.messages
    else:
        taken = PeerGroup.objects.filter(slug=application.slug).exists() or (
            GroupApplication.objects.filter(slug=application.slug)
            .exclude(pk=application.pk)
            .exclude(state=GroupApplication.State.REJECTED)
            .exists()
        )
        if taken:
            errors["slug"] = [_("This address is taken; choose another.")]
    founders = application.founding_emails
    if not 2 <= len(founders) <= APPLICATION_MAX_FOUNDERS:
        errors["founding_emails"] = [
            _("Name between 2 and %(n)s founding members (you may include yourself).")
            % {"n": APPLICATION_MAX_FOUNDERS}
        ]
    leads = application.point_person_emails
    if not 1 <= len(leads) <= 2:
        errors["point_person_emails"] = [_("Name one or two point-persons.")]
    elif not set(leads) <= set(founders) | {application.applicant.email.lower()}:
        errors["point_person_emails"] = [_("Point-persons must be among the founding members.")]
    if errors:
        raise ValidationError(errors)


def _application_transition(
    application: GroupApplication, *, to_state: str, actor: User, comment: str = ""
) -> None:
    event = ApplicationEvent.objects.create(
        application=application,
        from_state=application.state,
        to_state=to_state,
        actor=actor,
        comment=comment,
    )
    application.state = to_state
    application.updated_at = timezone.now()
    application.save(update_fields=["state", "updated_at"])
    # Recorded with the transition, sent by the worker: a mail server that is down delays the
    # e-mail and fails nobody's submit, approval or rejection.
    email_enqueue(
        key=f"application-event:{event.pk}",
        kind="application_state",
        to=application.applicant.email,
        context={"event": event.pk},
    )


@transaction.atomic
def application_save(
    *,
    application: GroupApplication,
    actor: User,
    founding_emails: list[str],
    point_person_emails: list[str],
    **fields: object,
) -> GroupApplication:
    """Create or change a draft (or an application returned for changes) by its applicant.

    Raises PermissionDenied for anyone else, ValidationError (field-keyed) for bad input.
    """
    if application.pk:
        application = GroupApplication.objects.select_for_update().get(pk=application.pk)
        if application.applicant_id != actor.pk:
            raise PermissionDenied
        if not application.is_editable:
            raise ValidationError(_("This application can no longer be changed."))
    else:
        application.applicant = actor
    for name, value in fields.items():
        setattr(application, name, value)
    application.founding_emails = _normalise_emails(founding_emails)
    application.point_person_emails = _normalise_emails(point_person_emails)
    _application_validate(application)
    application.updated_at = timezone.now()
    application.full_clean(exclude=["slug"])
    is_new = application.pk is None
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:  # the same address taken by a simultaneous request
        raise ValidationError({"slug": [_("This address is taken; choose another.")]}) from None
    if is_new:
        ApplicationEvent.objects.create(
            application=application, to_state=GroupApplication.State.DRAFT, actor=actor
        )
    return application


@transaction.atomic
def application_submit(*, application: GroupApplication, actor: User) -> GroupApplication:
    """The applicant sends a draft (or a revised application) for review."""
    application = GroupApplication.objects.select_for_update().get(pk=application.pk)
    if application.applicant_id != actor.pk:
        raise PermissionDenied
    if not application.is_editable:
        raise ValidationError(_("This application has already been submitted."))
    _application_validate(application)
    _application_transition(application, to_state=GroupApplication.State.SUBMITTED, actor=actor)
    return application


def _reviewable(application: GroupApplication, actor: User) -> GroupApplication:
    if not actor.is_society_admin:
        raise PermissionDenied
    application = GroupApplication.objects.select_for_update().get(pk=application.pk)
    if application.state != GroupApplication.State.SUBMITTED:
        raise ValidationError(_("Only a submitted application can be reviewed."))
    return application


@transaction.atomic
def application_request_changes(
    *, application: GroupApplication, actor: User, comment: str
) -> GroupApplication:
    """A society admin returns an application with what to change (a comment is required)."""
    application = _reviewable(application, actor)
    if not comment.strip():
        raise ValidationError({"comment": _("Say what should change.")})
    _application_transition(
        application,
        to_state=GroupApplication.State.CHANGES_REQUESTED,
        actor=actor,
        comment=comment.strip(),
    )
    return application


@transaction.atomic
def application_reject(
    *, application: GroupApplication, actor: User, comment: str
) -> GroupApplication:
    """A society admin declines an application (a reason is required). No group is made."""
    application = _reviewable(application, actor)
    if not comment.strip():
        raise ValidationError({"comment": _("Give the applicant a reason.")})
    _application_transition(
        application, to_state=GroupApplication.State.REJECTED, actor=actor, comment=comment.strip()
    )
    return application


@transaction.atomic
def application_approve(
    *, application: GroupApplication, actor: User, comment: str = ""
) -> GroupApplication:
    """A society admin approves: the group is registered and its provisioning queued.

    Side effects: e-mail to the applicant; after commit, the provisioning task is asked for
    (crossschema.tasks; its sweep also finds the group queued if that message is lost).
    """
    application = _reviewable(application, actor)
    _application_validate(application)
    group = group_create(name=application.name, slug=application.slug)
    group.focus = application.focus
    group.save(update_fields=["focus"])
    application.group = group
    application.save(update_fields=["group"])
    _application_transition(
        application, to_state=GroupApplication.State.APPROVED, actor=actor, comment=comment.strip()
    )
    transaction.on_commit(lambda: application_provision_request(application.pk), robust=True)
    return application


def application_provision_retry(*, application: GroupApplication, actor: User) -> None:
    """Queue provisioning again after a failure or a stalled attempt (admin or applicant)."""
    if not (actor.is_society_admin or application.applicant_id == actor.pk):
        raise PermissionDenied
    group = application.group
    if group is None or not (
        group.status == PeerGroup.Status.FAILED or group_provision_is_stalled(group=group)
    ):
        raise ValidationError(_("There is nothing to retry."))
    application_provision_request(application.pk)
