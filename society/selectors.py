"""Reads from the public schema."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower

from .models import (
    AuditEvent,
    GroupApplication,
    GroupDomain,
    Institution,
    MembershipIndex,
    PeerGroup,
    User,
)


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


def application_list_for_user(*, user: User) -> list[GroupApplication]:
    """The user's own applications, newest first."""
    return list(GroupApplication.objects.filter(applicant=user).select_related("group"))


def application_get_for_user(*, user: User, pk: int) -> GroupApplication | None:
    """An application its applicant or a society admin may see, with its history; else None."""
    qs = GroupApplication.objects.select_related("applicant", "group").prefetch_related(
        "events__actor"
    )
    if not user.is_society_admin:
        qs = qs.filter(applicant=user)
    return qs.filter(pk=pk).first()


def application_queue() -> list[GroupApplication]:
    """Applications waiting for a society admin, oldest first."""
    return list(
        GroupApplication.objects.filter(state=GroupApplication.State.SUBMITTED)
        .select_related("applicant")
        .order_by("updated_at")
    )


def application_counts() -> dict[str, int]:
    """How many applications are in each state (every state listed, zeros included)."""
    counts = dict(GroupApplication.objects.values_list("state").annotate(n=Count("pk")).order_by())
    return {label: counts.get(value, 0) for value, label in GroupApplication.State.choices}


def application_warnings(*, application: GroupApplication) -> list[str]:
    """What a reviewer should look at twice: one institution only, busy members, a taken slug."""
    warnings = []
    people = [application.applicant.email.lower(), *application.founding_emails]
    domains = {email.rsplit("@", 1)[-1] for email in people}
    institutions = {
        (institution_for_email(email=email) or email.rsplit("@", 1)[-1]) for email in people
    }
    if len(domains) == 1 or len(institutions) == 1:
        warnings.append("All founding members are from one institution.")
    busy = (
        User.objects.filter(email__in=people)
        .annotate(group_count=Count("group_links"))
        .filter(group_count__gte=2)
        .order_by("email")
    )
    for user in busy:
        warnings.append(f"{user.email} is already in {user.group_count} groups.")
    if PeerGroup.objects.filter(slug=application.slug).exists() and application.group_id is None:
        warnings.append(f"The address “{application.slug}” is taken.")
    return warnings


def application_people(*, application: GroupApplication) -> dict[str, list[str]]:
    """The founding members and point-persons, for the reviewer: "Name (address)" for an address
    whose active account has a name, the bare address otherwise. One query.

    Only for society admins: it tells whether an address has an account, and its name."""
    emails = {e.lower() for e in (*application.founding_emails, *application.point_person_emails)}
    names = dict(
        User.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails, is_active=True)
        .exclude(full_name="")
        .values_list("email_lower", "full_name")
    )

    def label(email: str) -> str:
        name = names.get(email.lower())
        return f"{name} ({email})" if name else email

    return {
        "founding": [label(e) for e in application.founding_emails],
        "point_persons": [label(e) for e in application.point_person_emails],
    }


def group_overview() -> list[dict[str, object]]:
    """Society view of every group: stage, size, institutions. No group content."""
    groups = PeerGroup.objects.order_by("name").annotate(member_count=Count("member_links"))
    institutions: dict[int, set[str]] = {}
    for group_id, name in MembershipIndex.objects.filter(
        user__institution__isnull=False
    ).values_list("group_id", "user__institution__name"):
        institutions.setdefault(group_id, set()).add(name)
    return [
        {
            "group": g,
            "member_count": g.member_count,
            "institutions": sorted(institutions.get(g.pk, ())),
            "last_meeting": g.last_meeting_at,
        }
        for g in groups
    ]


def group_ids_for_user(*, user: User) -> set[int]:
    """The ids of the groups `user` is an active member of (from the public index)."""
    return set(MembershipIndex.objects.filter(user=user).values_list("group_id", flat=True))
