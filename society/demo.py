"""Demo data for `make run`: two groups, members from several institutions. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django_tenants.utils import tenant_context

from groups.models import Membership
from groups.services import membership_add

from .models import Institution, PeerGroup, User
from .services import group_create, group_provision

DEMO_PASSWORD = "horizontal-demo"
DEMO_SIGN_IN = "ada@northfield.edu"

INSTITUTIONS = {
    "University of Northfield": ["northfield.edu"],
    "Lakeside Medical College": ["lakeside.edu"],
    "Southport Health Sciences University": ["southport.edu"],
    "Mountain State University": ["mountainstate.edu"],
}


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    institution: str
    time_zone: str


PEOPLE = [
    Person("ada@northfield.edu", "Dr. Ada Okafor", "University of Northfield", "America/New_York"),
    Person("ben@lakeside.edu", "Dr. Ben Hartley", "Lakeside Medical College", "America/Chicago"),
    Person(
        "chloe@southport.edu",
        "Dr. Chloe Nguyen",
        "Southport Health Sciences University",
        "America/Los_Angeles",
    ),
    Person(
        "diego@mountainstate.edu",
        "Dr. Diego Ramírez",
        "Mountain State University",
        "America/Denver",
    ),
    Person("emma@lakeside.edu", "Dr. Emma Larsen", "Lakeside Medical College", "America/Chicago"),
    Person(
        "farah@southport.edu",
        "Dr. Farah Haddad",
        "Southport Health Sciences University",
        "America/Los_Angeles",
    ),
]

R = Membership.Role
GROUPS = [
    (
        "k-club",
        "K Club: early-career physician-scientists",
        [
            ("ada@northfield.edu", R.POINT_PERSON),
            ("ben@lakeside.edu", R.MEMBER),
            ("chloe@southport.edu", R.MEMBER),
            ("diego@mountainstate.edu", R.MEMBER),
        ],
    ),
    (
        "educators",
        "Clinician-Educators Circle",
        [
            ("diego@mountainstate.edu", R.POINT_PERSON),
            ("ada@northfield.edu", R.MEMBER),
            ("emma@lakeside.edu", R.MEMBER),
            ("farah@southport.edu", R.FACILITATOR),
        ],
    ),
]

SOCIETY_ADMIN = "admin@horizontal.localhost"


def demo_load() -> dict[str, int]:
    """Create or update the demo rows; returns how many of each exist afterwards."""
    with transaction.atomic():
        institutions = {
            name: Institution.objects.update_or_create(
                name=name, defaults={"email_domains": domains}
            )[0]
            for name, domains in INSTITUTIONS.items()
        }
        users = {}
        for p in PEOPLE:
            user = User.objects.filter(email__iexact=p.email).first()
            if user is None:
                user = User.objects.create_user(p.email, DEMO_PASSWORD)
            user.full_name, user.institution, user.time_zone = (
                p.name,
                institutions[p.institution],
                p.time_zone,
            )
            user.save(update_fields=["full_name", "institution", "time_zone"])
            users[p.email] = user
        if not User.objects.filter(email__iexact=SOCIETY_ADMIN).exists():
            User.objects.create_superuser(
                SOCIETY_ADMIN,
                DEMO_PASSWORD,
                full_name="Society Administrator",
                is_society_admin=True,
            )
    for slug, name, members in GROUPS:
        group = PeerGroup.objects.filter(slug=slug).first() or group_create(name=name, slug=slug)
        group = group_provision(group=group)
        with tenant_context(group):
            for email, role in members:
                membership_add(user=users[email], role=role)
    return {
        "institutions": Institution.objects.count(),
        "users": User.objects.count(),
        "groups": PeerGroup.objects.count(),
    }
