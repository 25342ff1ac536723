"""Reads for the society directory. Every read that shows a profile to someone else goes through
`profiles_visible`, so a hidden profile or a private field cannot slip into a page."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from society.models import PeerGroup, User

from .models import (
    IDENTITY_FIELDS,
    CareerStage,
    GoalSought,
    JoinRequest,
    Method,
    Post,
    Profile,
    Visibility,
    open_to_requests,
)

PAGE_SIZE = 20
# How alike a typed name must be to a word of a member's name (pg_trgm word similarity).
NAME_SIMILARITY = 0.4
NAME_SIMILARITY_WORDS = 0.6  # for a query of several words


def profiles_visible(*, viewer: User) -> QuerySet[Profile]:
    """Profiles `viewer` may see in the directory: not hidden, active accounts (and their own)."""
    return (
        Profile.objects.filter(Q(hidden=False, user__is_active=True) | Q(user=viewer))
        .select_related("user__institution")
        .defer("search")
    )


@dataclass
class SearchResult:
    profiles: list[Profile]
    page: int
    has_next: bool
    query: dict[str, object] = field(default_factory=dict)


def profile_search(*, viewer: User, q: str = "", page: int = 1, **filters: object) -> SearchResult:
    """One page of the directory, in alphabetical order: people whose name is like `q`
    (trigram word similarity, so typos still find them) and people whose other shown fields
    match `q` (full-text search over pronouns, department, specialty, interests,
    institution, methods, goals, shown identity answers), with filters. Fields their owner
    did not show are never matched.

    Filters: institution (id), career_stage, methods (list: all of them), goals (list: all),
    time_zone, looking (bool), and one per identity field (matched only where shown).

    Alphabetical order, not ranking, keeps every search fast at any size (bench/directory.py):
    ranking would score every match, 0.5 s for a word in 40 % of 100,000 profiles. The two
    kinds of match are fetched apart because they behave apart: name matches sit together in
    the alphabet, so they are collected and sorted (they are few); full-text matches are
    spread through it, so PostgreSQL may walk the name index and stop at the page's end.
    """
    inactive = User.objects.filter(pk=OuterRef("user_id"), is_active=False)
    profiles = Profile.objects.filter(hidden=False).exclude(Exists(inactive))
    if filters.get("institution"):
        profiles = profiles.filter(institution_id=filters["institution"])
    if filters.get("career_stage"):
        profiles = profiles.filter(career_stage=filters["career_stage"])
    if filters.get("methods"):
        profiles = profiles.filter(methods__contains=list(filters["methods"]))
    if filters.get("goals"):
        profiles = profiles.filter(goals_sought__contains=list(filters["goals"]))
    if filters.get("time_zone"):
        profiles = profiles.filter(time_zone=filters["time_zone"])
    if filters.get("looking"):
        profiles = profiles.filter(looking_for_group=True)
    for name in IDENTITY_FIELDS:
        value = str(filters.get(name) or "").strip()
        if value:
            profiles = profiles.filter(
                **{f"{name}__iexact": value, f"{name}_visibility": Visibility.MEMBERS}
            )
    page = max(page, 1)
    end = page * PAGE_SIZE + 1  # one more than the page, to know whether another follows
    q = q.strip()[:200]
    start = (page - 1) * PAGE_SIZE
    shown = Profile.objects.select_related("user__institution").defer("search")
    if not q:
        rows = list(
            profiles.select_related("user__institution")
            .defer("search")
            .order_by("name", "pk")[start:end]
        )
        return SearchResult(profiles=rows[:PAGE_SIZE], page=page, has_next=len(rows) > PAGE_SIZE)
    threshold = NAME_SIMILARITY if len(q.split()) == 1 else NAME_SIMILARITY_WORDS
    english = SearchQuery(q, search_type="websearch", config="english")
    simple = SearchQuery(q, search_type="websearch", config="simple")
    with transaction.atomic():
        # how alike a typed name must be, and: collect name matches, do not walk for them
        _set_local(
            ("pg_trgm.word_similarity_threshold", str(threshold)), ("enable_indexscan", "off")
        )
        candidates = list(
            profiles.filter(name__trigram_word_similar=q)
            .order_by("name", "pk")
            .values_list("pk", flat=True)[:end]
        )
        _set_local(("enable_indexscan", "on"))
        candidates += (
            profiles.filter(Q(search=english) | Q(search=simple))
            .order_by("name", "pk")
            .values_list("pk", flat=True)[:end]
        )
    # The page's rows are among the first `end` of either kind of match; sorting those few
    # in the database keeps its collation, so pages neither repeat nor skip anyone.
    rows = list(shown.filter(pk__in=set(candidates)).order_by("name", "pk")[start:end])
    return SearchResult(profiles=rows[:PAGE_SIZE], page=page, has_next=len(rows) > PAGE_SIZE)


def _set_local(*settings: tuple[str, str]) -> None:
    """Planner or pg_trgm settings for the current transaction only, in one round trip."""
    calls = ", ".join("set_config(%s, %s, true)" for _ in settings)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {calls}", [v for pair in settings for v in pair])


def profile_get_visible(*, viewer: User, pk: int) -> Profile | None:
    return profiles_visible(viewer=viewer).filter(pk=pk).first()


# --- Peer suggestions ---------------------------------------------------------------------------


@dataclass
class Suggestion:
    profile: Profile
    reasons: list[str]
    score: float


def _labels(values: list[str], choices) -> list[str]:
    names = dict(choices.choices)
    return [str(names.get(v, v)) for v in values]


def _gain(
    s: Suggestion, institutions: set[int | None], methods: set[str], backgrounds: set
) -> float:
    """A candidate's worth to the set chosen so far: less from an institution already in it,
    more for methods and (where its owner allows suggestions to use them) self-described
    backgrounds the set does not have yet. The viewer's own identity answers play no part:
    changing them must not move anyone, or the order would reveal others' answers."""
    value = s.score - (2 if s.profile.user.institution_id in institutions else 0)
    value += 0.5 * len(set(s.profile.methods) - methods)
    return value + 0.25 * len(set(s.profile.identity_for_suggestions().items()) - backgrounds)


def peer_suggestions(*, profile: Profile, limit: int = 6) -> list[Suggestion]:
    """Peers for a member looking for a group: sharing goals and career stage, differing in
    institution and methods. Chosen one by one so the set itself is varied (institutions and
    methods not yet in it count for more). A candidate's identity fields count only where its
    owner allows suggestions to use them, only to vary the set, and are never named; the
    viewer's own answers are not used at all."""
    if not profile.goals_sought and not profile.career_stage:
        return []
    pool = (
        Profile.objects.filter(hidden=False, user__is_active=True, looking_for_group=True)
        .exclude(pk=profile.pk)
        .filter(
            Q(goals_sought__overlap=profile.goals_sought) | Q(career_stage=profile.career_stage)
        )
        .select_related("user__institution")
        .defer("search")
        .order_by("-updated_at")[:400]
    )
    my_institution = profile.user.institution_id
    scored = []
    for other in pool:
        shared = sorted(set(profile.goals_sought) & set(other.goals_sought))
        score = 3.0 * len(shared)
        reasons = []
        if shared:
            reasons.append("also seeks " + " and ".join(_labels(shared, GoalSought)).lower())
        if profile.career_stage and other.career_stage == profile.career_stage:
            score += 2
            reasons.append(f"{CareerStage(other.career_stage).label.lower()}, like you")
        if other.user.institution_id and other.user.institution_id != my_institution:
            score += 2
            reasons.append(f"at another institution ({other.user.institution.name})")
        elif other.user.institution_id == my_institution and my_institution:
            score -= 3
        new_methods = sorted(set(other.methods) - set(profile.methods))
        if new_methods:
            score += min(len(new_methods), 2)
            reasons.append("brings " + ", ".join(_labels(new_methods, Method)).lower())
        scored.append(Suggestion(other, reasons or ["also looking for a group"], score))
    chosen: list[Suggestion] = []
    institutions: set[int | None] = {my_institution}
    methods: set[str] = set(profile.methods)
    backgrounds: set[tuple[str, str]] = set()
    while scored and len(chosen) < limit:
        best = max(
            scored, key=lambda s: (_gain(s, institutions, methods, backgrounds), -s.profile.pk)
        )
        scored.remove(best)
        chosen.append(best)
        institutions.add(best.profile.user.institution_id)
        methods |= set(best.profile.methods)
        backgrounds |= set(best.profile.identity_for_suggestions().items())
    return chosen


# --- Posts, open groups, join requests ----------------------------------------------------------


def post_list(*, viewer: User, kind: str = "", page: int = 1) -> tuple[list[Post], bool]:
    """Threads, newest first; society admins also see hidden ones (marked)."""
    posts = Post.objects.filter(parent__isnull=True).select_related("author__profile")
    if not viewer.is_society_admin:
        posts = posts.filter(hidden_at__isnull=True)
    if kind:
        posts = posts.filter(kind=kind)
    start = (max(page, 1) - 1) * PAGE_SIZE
    rows = list(posts.order_by("-created_at", "-pk")[start : start + PAGE_SIZE + 1])
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def thread_get(*, viewer: User, pk: int) -> tuple[Post, list[Post]] | None:
    """A thread and its replies as `viewer` may see them; None if it does not exist for them."""
    thread = Post.objects.select_related("author__profile").filter(pk=pk, parent=None).first()
    if thread is None or (thread.hidden_at and not viewer.is_society_admin):
        return None
    replies = thread.replies.select_related("author__profile").order_by("created_at", "pk")
    if not viewer.is_society_admin:
        replies = replies.filter(hidden_at__isnull=True)
    return thread, list(replies)


def groups_with_open_seats() -> list[PeerGroup]:
    """Groups members may ask to join, by name, with their focus and the mission they publish
    (PeerGroup.mission_public, kept by the group). One query."""
    return list(PeerGroup.objects.filter(open_to_requests()).order_by("name"))


def join_requests_for(*, user: User) -> dict[int, JoinRequest]:
    """`user`'s latest request to each group, by group id."""
    latest: dict[int, JoinRequest] = {}
    for request in JoinRequest.objects.filter(user=user).order_by("created_at", "pk"):
        latest[request.group_id] = request
    return latest


def join_requests_pending(*, group: PeerGroup) -> list[JoinRequest]:
    return list(
        JoinRequest.objects.filter(group=group, status=JoinRequest.Status.PENDING)
        .select_related("user__profile", "user__institution")
        .order_by("created_at", "pk")
    )
