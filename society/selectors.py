"""Reads from the public schema."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.expressions import RawSQL

from .models import GroupDomain, MembershipIndex, PeerGroup, User


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
