"""Reads from the public schema."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.expressions import RawSQL

from .models import AuditEvent, GroupDomain, Institution, MembershipIndex, PeerGroup, User


def group_get_for_host(*, hostname: str) -> PeerGroup | None:
    """The ready group served at `hostname`, or None.

    One query. A group whose schema is missing is treated as absent: PostgreSQL would
    otherwise skip the missing schema in search_path and fall through to public.
    """
    domain = (
        GroupDomain.objects.select_related("tenant")
        .filter(domain=hostname, tenant__status=PeerGroup.Status.READY)
        .annotate(
            schema_present=RawSQL(
                "EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n "
                "WHERE n.nspname = society_peergroup.schema_name)",
                [],
            )
        )
        .first()
    )
    if domain is None or not domain.schema_present:
        return None
    return domain.tenant


def group_list_for_user(*, user: User) -> QuerySet[PeerGroup]:
    """The ready groups `user` belongs to, by name."""
    links = MembershipIndex.objects.filter(user_id=user.pk, group_id=OuterRef("pk"))
    return PeerGroup.objects.filter(Exists(links), status=PeerGroup.Status.READY).order_by("name")


def group_list_ready() -> QuerySet[PeerGroup]:
    """Every group whose space is ready."""
    return PeerGroup.objects.filter(status=PeerGroup.Status.READY).order_by("name")


def institution_for_email(*, email: str) -> Institution | None:
    """The institution that owns `email`'s domain, if any (home-realm discovery)."""
    domain = email.rsplit("@", 1)[-1].strip().lower()
    if not domain:
        return None
    return Institution.objects.filter(email_domains__contains=[domain]).first()


def institution_requiring_sso_for(*, email: str) -> Institution | None:
    """The institution that forbids codes and passwords for `email`, if any."""
    institution = institution_for_email(email=email)
    if institution is not None and institution.require_sso and institution.has_sso:
        return institution
    return None


def institution_search(*, query: str, limit: int = 20) -> list[Institution]:
    """Institutions with institutional sign-in whose name contains `query`."""
    qs = Institution.objects.exclude(sign_in=Institution.SignIn.CODE)
    if query:
        qs = qs.filter(name__icontains=query.strip())
    return list(qs.order_by("name")[:limit])


def audit_list(*, limit: int = 200) -> list[AuditEvent]:
    """The latest audit events with their people and groups (one query)."""
    return list(AuditEvent.objects.select_related("actor", "subject", "group")[:limit])
