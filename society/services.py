"""Writes to the public schema, and the only code that creates or drops group schemas."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context, schema_exists

from .audit import audit_record
from .models import AuditEvent, GroupDomain, Institution, PeerGroup, User, validate_group_slug
from .schema_copy import schema_copy
from .urls_helpers import group_host

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


def _set_status(group: PeerGroup, status: str, error: str = "") -> None:
    group.status = status
    group.provision_error = error
    fields = ["status", "provision_error"]
    if status == PeerGroup.Status.READY:
        group.ready_at = timezone.now()
        fields.append("ready_at")
    group.save(update_fields=fields)


def group_schema_clone(*, schema_name: str) -> None:
    """Create `schema_name` as a copy of the template schema (tables, indexes, migration records).

    Runs in one transaction: either the whole schema exists afterwards or none of it.
    """
    with schema_context("public"):
        schema_copy(source=settings.TENANT_BASE_SCHEMA, target=schema_name)


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


def group_provision(*, group: PeerGroup) -> PeerGroup:
    """Make a group's space: clone the template schema, add its primary domain, mark it ready.

    Idempotent: a ready group is returned unchanged; a failed or interrupted attempt is
    cleaned up (its partial schema dropped) before the next one. On error the group is
    marked failed, no schema is left behind, and the error is re-raised.
    """
    group.refresh_from_db()
    if group.status == PeerGroup.Status.READY and schema_exists(group.schema_name):
        return group
    connection.set_schema_to_public()
    _set_status(group, PeerGroup.Status.CREATING)
    try:
        group_schema_drop(schema_name=group.schema_name)
        group_schema_clone(schema_name=group.schema_name)
        with transaction.atomic():
            GroupDomain.objects.get_or_create(
                domain=group_host(group.slug), defaults={"tenant": group, "is_primary": True}
            )
            _set_status(group, PeerGroup.Status.READY)
    except Exception as exc:
        connection.set_schema_to_public()
        group_schema_drop(schema_name=group.schema_name)
        _set_status(group, PeerGroup.Status.FAILED, error=type(exc).__name__)
        logger.exception("Provisioning group %s failed", group.pk)
        raise
    logger.info("Provisioned group %s", group.pk)
    return group


# --- Institutions and their sign-in ------------------------------------------------------------


def _saml_idp_from_metadata(xml: str) -> dict[str, str]:
    """Entity ID, SSO URL and signing certificate from IdP metadata; ValidationError if unusable."""
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

    try:
        parsed = OneLogin_Saml2_IdPMetadataParser.parse(xml).get("idp", {})
    except Exception as exc:  # the parser raises bare XML and value errors
        raise ValidationError(
            {"saml_metadata_xml": _("This is not readable SAML metadata (%(error)s).")},
            params={"error": type(exc).__name__},
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


def _social_app_sync(*, institution: Institution, oidc_client_secret: str | None) -> None:
    """Keep exactly one allauth provider app for an institution with SSO (none otherwise)."""
    from allauth.socialaccount.models import SocialApp

    apps = SocialApp.objects.filter(settings__institution_id=institution.pk)
    if institution.sign_in == Institution.SignIn.SAML:
        idp = _saml_idp_from_metadata(institution.saml_metadata_xml)
        app = apps.filter(provider="saml").first() or SocialApp(provider="saml")
        app.provider_id = idp["entity_id"]  # one app per IdP, keyed by its entity ID
        app.client_id = institution.slug  # the {slug} in /accounts/saml/{slug}/acs/
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
        app.provider_id = institution.slug  # the {slug} in /accounts/oidc/{slug}/login/callback/
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


@transaction.atomic
def institution_save(
    *, institution: Institution, actor: User | None, oidc_client_secret: str | None = None
) -> Institution:
    """Validate and save an institution and its allauth provider app.

    Raises ValidationError (field-keyed) for unusable SAML metadata, a missing OIDC issuer,
    client id or secret, or an IdP entity ID another institution already uses.
    """
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
        if not isinstance(mapping, dict) or not mapping.get("uid") or not mapping.get("email"):
            raise ValidationError(
                {"saml_attributes": _("The attribute mapping needs at least “uid” and “email”.")}
            )
    else:
        institution.saml_entity_id = ""
    if institution.sign_in == Institution.SignIn.OIDC and not (
        institution.oidc_issuer and institution.oidc_client_id
    ):
        raise ValidationError(
            {"oidc_issuer": _("OpenID Connect needs the issuer URL and a client ID.")}
        )
    if institution.require_sso and not institution.has_sso:
        raise ValidationError(
            {"require_sso": _("Only an institution with SAML or OpenID Connect can require it.")}
        )
    institution.full_clean()
    institution.save()
    _social_app_sync(institution=institution, oidc_client_secret=oidc_client_secret)
    audit_record(kind=AuditEvent.Kind.INSTITUTION_SAVED, actor=actor, detail=institution.name)
    return institution
