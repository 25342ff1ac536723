"""Demo data for `make run`: two groups, members from several institutions. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from directory.models import Post
from directory.services import post_create, profile_save
from groups.models import Membership
from groups.services.membership import membership_add
from society.models import Institution, PeerGroup, User
from society.services import group_create

from .fanout import inside
from .provisioning import group_provision

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

# Directory profiles: career stage, specialty, methods, goals sought, looking for a group.
PROFILES = {
    "ada@northfield.edu": ("assistant", "cardiology", ["quantitative"], ["k_award"], False),
    "ben@lakeside.edu": ("assistant", "hospital medicine", ["qi", "mixed"], ["k_award"], False),
    "chloe@southport.edu": ("instructor", "pediatrics", ["qualitative"], ["first_r01"], False),
    "diego@mountainstate.edu": (
        "associate",
        "medical education",
        ["education"],
        ["leadership"],
        False,
    ),
    "emma@lakeside.edu": (
        "assistant",
        "health services research",
        ["qualitative"],
        ["k_award", "promotion"],
        True,
    ),
    "farah@southport.edu": (
        "assistant",
        "emergency medicine",
        ["quantitative", "qi"],
        ["k_award"],
        True,
    ),
}
SEEKING_POST = "Seeking peers: K award applicants in health services research"


def demo_load() -> dict[str, int]:
    """Create or update the demo rows; returns how many of each exist afterwards."""
    with transaction.atomic():
        institutions = {
            name: Institution.objects.update_or_create(
                name=name, defaults={"email_domains": domains, "slug": domains[0].split(".")[0]}
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
            # The demo people have named themselves and chosen their zones already.
            user.settings_confirmed_at = user.settings_confirmed_at or timezone.now()
            user.save(
                update_fields=["full_name", "institution", "time_zone", "settings_confirmed_at"]
            )
            users[p.email] = user
        # A society admin, not a Django superuser: the society's work needs no more (and an
        # older demo database's superuser flags are taken back).
        admin = User.objects.filter(email__iexact=SOCIETY_ADMIN).first()
        if admin is None:
            User.objects.create_user(
                SOCIETY_ADMIN,
                DEMO_PASSWORD,
                full_name="Society Administrator",
                is_society_admin=True,
                settings_confirmed_at=timezone.now(),
            )
        else:
            User.objects.filter(pk=admin.pk).update(
                is_staff=False, is_superuser=False, is_society_admin=True
            )
    for slug, name, members in GROUPS:
        existing = PeerGroup.objects.filter(slug=slug).first()
        group = group_provision(group=existing or group_create(name=name, slug=slug))
        if existing is None and slug == "educators":  # a seat to ask for in the directory
            PeerGroup.objects.filter(pk=group.pk).update(open_seats=1)
        with inside(group):
            for email, role in members:
                membership_add(user=users[email], role=role)
    _demo_directory(users)
    return {
        "institutions": Institution.objects.count(),
        "users": User.objects.count(),
        "groups": PeerGroup.objects.count(),
    }


def _demo_directory(users: dict[str, User]) -> None:
    """Profiles for everyone and one "seeking peers" post (made once)."""
    for email, (stage, specialty, methods, goals, looking) in PROFILES.items():
        profile_save(
            user=users[email],
            name=users[email].full_name,
            career_stage=stage,
            specialty=specialty,
            methods=methods,
            goals_sought=goals,
            looking_for_group=looking,
        )
    if not Post.objects.filter(title=SEEKING_POST).exists():
        post_create(
            author=users["emma@lakeside.edu"],
            kind="seeking",
            title=SEEKING_POST,
            body="Two or three assistant professors at other institutions, meeting monthly online.",
        )
