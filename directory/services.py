"""Writes for the society directory: profiles, the listserv, delivery, moderation, join requests."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, TextField, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from society.inputs import single_line
from society.models import MembershipIndex, PeerGroup, User
from society.outbox import email_enqueue, emails_enqueue_many
from society.reminders import reminder_clear, reminder_set
from society.services import account_name_set
from society.tokens import token_mac, token_valid

from .models import (
    JOIN_REQUEST_NUDGE_AFTER,
    PROFILE_FIELDS,
    GoalSought,
    JoinRequest,
    Method,
    ModerationEvent,
    Post,
    PostingBan,
    Profile,
    Subscription,
    open_to_requests,
)

logger = logging.getLogger(__name__)

# A declined member may ask the same group again after this long.
JOIN_AGAIN_AFTER = timedelta(days=30)
DIGEST_PERIODS = {
    Subscription.Delivery.DAILY: timedelta(days=1),
    Subscription.Delivery.WEEKLY: timedelta(days=7),
}


# --- Profiles ----------------------------------------------------------------------------------


def profile_get(*, user: User) -> Profile | None:
    return Profile.objects.filter(user=user).first()


def profile_draft(*, user: User) -> Profile:
    """The member's profile, or an unsaved one filled from their account: opening a page never
    puts anyone in the directory; only saving the profile form does."""
    return profile_get(user=user) or Profile(user=user, name=user.display_name)


def _searchable_text(profile: Profile) -> tuple[str, str, str]:
    """(words, prose, codes) a member may find this profile by: only what members may see.
    The name is not here: names are matched by trigram similarity on `Profile.name` (typos),
    and keeping them out keeps every full-text match unrelated to alphabetical order, which
    is what lets the search walk the name index (directory.selectors.profile_search)."""
    institution = profile.user.institution.name if profile.user.institution_id else ""
    methods = [f"{m} {Method(m).label}" for m in profile.methods if m in Method.values]
    goals = [f"{g} {GoalSought(g).label}" for g in profile.goals_sought if g in GoalSought.values]
    shown = [value for _label, value in profile.identity_shown()]
    words = " ".join([profile.pronouns, *shown])
    prose = " ".join(
        [profile.department, profile.specialty, profile.interests, institution, *methods, *goals]
    )
    codes = " ".join([profile.career_stage, profile.user.time_zone])
    return words, prose, codes


def profile_search_vector(words: str, prose: str, codes: str) -> SearchVector:
    """The tsvector expression for a profile: pronouns, shown identity answers and codes as
    written ('simple'), prose stemmed ('english') and as written."""

    def text(value: str) -> Value:
        return Value(value, output_field=TextField())

    return (
        SearchVector(text(words), config="simple", weight="A")
        + SearchVector(text(prose), config="english", weight="B")
        + SearchVector(text(prose), config="simple", weight="C")
        + SearchVector(text(codes), config="simple", weight="D")
    )


@transaction.atomic
def profile_save(*, user: User, **fields: object) -> Profile:
    """Create or change `user`'s profile and rebuild what search may match.

    Raises ValidationError for an unknown choice or an empty name.
    """
    user = User.objects.select_related("institution").get(pk=user.pk)  # as stored now
    profile = Profile.objects.select_for_update().filter(user=user).first() or Profile(user=user)
    profile.user = user
    for name, value in fields.items():
        if name not in PROFILE_FIELDS:
            raise ValueError(f"not a profile field: {name}")
        setattr(profile, name, value)
    if "name" not in fields and user.full_name:
        profile.name = user.full_name  # the account's name, changed on the account page
    profile.name = single_line(profile.name, _("The name"))
    profile.institution_id, profile.time_zone = user.institution_id, user.time_zone
    profile.methods = sorted(set(profile.methods))
    profile.goals_sought = sorted(set(profile.goals_sought))
    profile.updated_at = timezone.now()
    profile.full_clean(exclude=["user", "search", "institution"])
    created = profile.pk is None
    profile.save()
    Profile.objects.filter(pk=profile.pk).update(
        search=profile_search_vector(*_searchable_text(profile))
    )
    if created:
        Subscription.objects.get_or_create(user=user)
    if "name" in fields:
        account_name_set(user=user, full_name=profile.name)  # one name for one person
    return profile


def profiles_stale() -> QuerySet[Profile]:
    """Directory entries out of step with their account: another name (the account has one),
    institution or time zone, or
    an institution saved (perhaps renamed) since the entry's search text was built."""
    other_institution = (
        Q(institution__isnull=True, user__institution__isnull=False)
        | Q(institution__isnull=False, user__institution__isnull=True)
        | ~Q(institution_id=F("user__institution_id"))
    )
    other_name = ~Q(user__full_name="") & ~Q(name=F("user__full_name"))
    return Profile.objects.filter(
        other_institution
        | other_name
        | ~Q(time_zone=F("user__time_zone"))
        | Q(user__institution__updated_at__gt=F("updated_at"))
    )


def profiles_follow_accounts() -> int:
    """Copy each stale entry's name, institution and time zone from its account and rebuild what
    search may match; returns how many. Beat runs it every minute, so whatever changed an
    account or an institution (the sign-in adapter, a society admin, the shell), the directory
    follows from database state, without signals."""
    # A thousand a run keeps each run short; a large renamed institution takes a few minutes.
    user_ids = list(profiles_stale().values_list("user_id", flat=True)[:1000])
    for user in User.objects.filter(pk__in=user_ids):
        profile_save(user=user)
    return len(user_ids)


# --- Delivery and the listserv ------------------------------------------------------------------


def subscription_get(*, user: User) -> Subscription:
    """The member's delivery setting as stored, or the default (unsaved: reading writes
    nothing, so opening the settings page signs nobody up)."""
    return Subscription.objects.filter(user=user).first() or Subscription(user=user)


def subscription_set(*, user: User, delivery: str) -> Subscription:
    """Change how `user` receives posts. Raises ValidationError for an unknown choice."""
    if delivery not in Subscription.Delivery.values:
        raise ValidationError(_("Choose how you want the posts."))
    subscription, _created = Subscription.objects.get_or_create(user=user)
    subscription.delivery = delivery
    subscription.changed_at = timezone.now()
    if delivery in DIGEST_PERIODS:
        subscription.digest_covered_until = timezone.now()
    subscription.save()
    return subscription


def unsubscribe_token(*, user: User) -> str:
    """A token for the one-click unsubscribe link in `user`'s e-mails (no sign-in needed)."""
    return f"{user.pk}-{token_mac('unsubscribe', user.pk)}"


TOKEN = re.compile(r"([0-9]{1,18})-([0-9a-f]{24})")


def unsubscribe_token_user(*, token: str) -> User | None:
    """The member an unsubscribe token names, or None if the token is not ours."""
    match = TOKEN.fullmatch(token)
    if match is None or not token_valid(match[2], "unsubscribe", match[1]):
        return None
    user_id = match[1]
    return User.objects.filter(pk=int(user_id)).first()


def unsubscribe_by_token(*, token: str) -> User | None:
    """Stop all directory e-mail for the token's member; None if the token is not ours."""
    user = unsubscribe_token_user(token=token)
    if user is not None:
        subscription_set(user=user, delivery=Subscription.Delivery.NONE)
    return user


def reply_address(*, post: Post, user: User) -> str:
    """The Reply-To of `post`'s e-mail to `user`: it names both and is signed, so a reply is
    posted only from that member's address to that thread. Lower case: some servers fold it."""
    local = f"p{post.thread.pk}u{user.pk}.{token_mac('reply', post.thread.pk, user.pk)}"
    return f"{settings.DIRECTORY_REPLY_PREFIX}+{local}@{settings.DIRECTORY_REPLY_DOMAIN}"


REPLY_ADDRESS = re.compile(r"\+p(\d+)u(\d+)\.([0-9a-f]{24})@", re.IGNORECASE)


def reply_target(address: str) -> tuple[int, int] | None:
    """(thread id, user id) named by a reply address we issued, or None."""
    match = REPLY_ADDRESS.search(address)
    if match is None:
        return None
    thread_id, user_id, mac = match.groups()
    if not token_valid(mac, "reply", thread_id, user_id):
        return None
    return int(thread_id), int(user_id)


def posting_banned(*, user: User) -> bool:
    return PostingBan.objects.filter(user=user, lifted_at__isnull=True).exists()


POST_EMAIL = "directory_post"
DIGEST_EMAIL = "directory_digest"
REFUSAL_EMAIL = "directory_refusal"


def post_email_key(post_id: int, user_id: int) -> str:
    """The outbox key of one post's e-mail to one member: recorded once, sent once."""
    return f"post:{post_id}:{user_id}"


def post_enqueue(*, post: Post) -> int:
    """Record `post`'s e-mail to each member who wants every post (but its author), in the
    caller's transaction (society.outbox): the worker sends them once it commits, and checks
    again then that the post is shown and the member still wants it. Returns how many.

    Queries: one for the members, a bulk insert per thousand of them and one to read back the
    new rows' ids (society.outbox.emails_enqueue_many), not one per member.
    """
    members = (
        User.objects.filter(
            is_active=True, directory_subscription__delivery=Subscription.Delivery.EACH
        )
        .exclude(pk=post.author_id)
        .order_by("pk")
        .values_list("pk", "email")
    )
    return emails_enqueue_many(
        kind=POST_EMAIL,
        emails=(
            (post_email_key(post.pk, user_id), address, {"post": post.pk, "user": user_id})
            for user_id, address in members.iterator(chunk_size=2000)
        ),
    )


@transaction.atomic
def post_create(*, author: User, kind: str, title: str, body: str) -> Post:
    """A new post to the directory, e-mailed to members who want every post (post_enqueue).

    Raises PermissionDenied for a banned member, ValidationError for an empty post.
    """
    if posting_banned(user=author):
        raise PermissionDenied(_("You may not post to the directory at the moment."))
    if kind not in Post.Kind.values or kind == Post.Kind.REPLY:
        raise ValidationError(_("Choose what kind of post this is."))
    post = Post(author=author, kind=kind, title=single_line(title, _("A title")), body=body.strip())
    if not post.title or not post.body:
        raise ValidationError(_("A post needs a title and some text."))
    post.full_clean()
    post.save()
    post_enqueue(post=post)
    return post


@transaction.atomic
def reply_create(*, thread: Post, author: User, body: str, source: str = Post.Source.WEB) -> Post:
    """A reply in `thread`, e-mailed like a post (post_enqueue).

    Raises PermissionDenied for a banned member or a hidden thread, ValidationError for a
    locked thread or an empty reply.
    """
    thread = Post.objects.select_for_update().get(pk=thread.thread.pk)
    if not author.is_active or posting_banned(user=author) or thread.hidden_at is not None:
        raise PermissionDenied(_("You may not reply to this post."))
    if thread.locked_at is not None:
        raise ValidationError(_("This thread is locked: it takes no more replies."))
    body = body.strip()
    if not body:
        raise ValidationError(_("Write a reply first."))
    reply = Post.objects.create(
        author=author, parent=thread, kind=Post.Kind.REPLY, body=body, source=source
    )
    post_enqueue(post=reply)
    return reply


def author_name(user: User) -> str:
    """The name a member gives in the directory, or their account's."""
    try:
        return user.profile.name
    except Profile.DoesNotExist:
        return user.display_name


def _digest_queryset(*, since, until) -> QuerySet[Post]:
    return Post.objects.filter(
        created_at__gt=since, created_at__lte=until, hidden_at__isnull=True
    ).exclude(parent__hidden_at__isnull=False)


def digest_posts(*, since, until) -> list[Post]:
    """Visible posts and replies made in (since, until], oldest first."""
    return list(
        _digest_queryset(since=since, until=until)
        .select_related("author__profile", "parent")
        .order_by("created_at", "pk")
    )


def digest_posts_exist(*, since, until) -> bool:
    """Whether a digest of (since, until] would hold anything."""
    return _digest_queryset(since=since, until=until).exists()


# A post is stamped when its transaction starts and seen when it commits: beat's digests cover
# nothing younger than this, so every post they cover has committed.
DIGEST_SETTLE = timedelta(minutes=5)


def digests_enqueue(*, now=None) -> int:
    """Record each daily or weekly digest that is due in the outbox; returns how many.

    Due is computed from the database (`digest_covered_until`), so a missed run records late
    rather than never, and a rerun records nothing twice: each subscription is locked, its
    digest recorded and its cover moved in one transaction. A digest covers the period
    (cover, now]; the next one starts where it ends, so no post is in two digests. Beat's run
    (no `now`) closes periods DIGEST_SETTLE ago, so a post stamped just before a period ends
    but committed just after is in the next digest rather than in none.
    """
    now = now or timezone.now() - DIGEST_SETTLE
    recorded = 0
    for delivery, period in DIGEST_PERIODS.items():
        due = Subscription.objects.filter(
            delivery=delivery, digest_covered_until__lte=now - period, user__is_active=True
        ).values_list("pk", flat=True)
        for pk in list(due):
            try:
                recorded += _digest_enqueue_one(pk=pk, period=period, now=now)
            except SoftTimeLimitExceeded:
                raise
            except Exception as exc:  # one failing digest must not stop the others
                logger.error("directory: digest %s failed (%s)", pk, type(exc).__name__)
    return recorded


@transaction.atomic
def _digest_enqueue_one(*, pk: int, period: timedelta, now) -> int:
    """Record subscription `pk`'s digest if still due and not empty, and move its cover to
    `now`; 1 if a digest was recorded. (The worker renders it from the posts of its period
    still shown when it sends it: directory.emails.directory_digest.)"""
    subscription = (
        Subscription.objects.select_for_update(skip_locked=True)
        .select_related("user")
        .filter(pk=pk, digest_covered_until__lte=now - period)
        .first()
    )
    if subscription is None:
        return 0
    since = subscription.digest_covered_until
    found = digest_posts_exist(since=since, until=now)
    if found:
        email_enqueue(
            key=f"{DIGEST_EMAIL}:{subscription.pk}:{now.isoformat()}",
            kind=DIGEST_EMAIL,
            to=subscription.user.email,
            context={
                "subscription": subscription.pk,
                "delivery": subscription.delivery,
                "since": since.isoformat(),
                "until": now.isoformat(),
            },
        )
    subscription.digest_covered_until = now
    subscription.save(update_fields=["digest_covered_until"])
    return 1 if found else 0


# --- Moderation (society admins) ----------------------------------------------------------------


def _moderate(*, by: User, reason: str, action: str, post=None, member=None) -> None:
    if not by.is_society_admin:
        raise PermissionDenied
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Give a reason: it is recorded."))
    ModerationEvent.objects.create(action=action, post=post, member=member, reason=reason, by=by)


@transaction.atomic
def post_moderate(*, post: Post, by: User, action: str, reason: str) -> Post:
    """Hide or show a post, lock or unlock a thread, with the reason recorded."""
    fields = {
        ModerationEvent.Action.HIDE: ("hidden_at", timezone.now()),
        ModerationEvent.Action.UNHIDE: ("hidden_at", None),
        ModerationEvent.Action.LOCK: ("locked_at", timezone.now()),
        ModerationEvent.Action.UNLOCK: ("locked_at", None),
    }
    if action not in fields:
        raise ValidationError(_("Unknown moderation action."))
    if post.parent_id and action in (ModerationEvent.Action.LOCK, ModerationEvent.Action.UNLOCK):
        raise ValidationError(_("Lock the thread, not one reply."))
    _moderate(by=by, reason=reason, action=action, post=post)
    name, value = fields[action]
    setattr(post, name, value)
    post.save(update_fields=[name])
    return post


@transaction.atomic
def member_ban_set(*, member: User, by: User, banned: bool, reason: str) -> None:
    """Stop `member` posting (or let them again), with the reason recorded."""
    action = ModerationEvent.Action.BAN if banned else ModerationEvent.Action.UNBAN
    _moderate(by=by, reason=reason, action=action, member=member)
    if banned:
        if not posting_banned(user=member):
            PostingBan.objects.create(user=member, by=by, reason=reason.strip())
    else:
        PostingBan.objects.filter(user=member, lifted_at__isnull=True).update(
            lifted_at=timezone.now()
        )


# --- Join requests ------------------------------------------------------------------------------


def group_point_persons(*, group: PeerGroup) -> list[User]:
    """The point-persons of `group`, from the public membership index."""
    return list(
        User.objects.filter(
            group_links__group=group, group_links__is_point_person=True, is_active=True
        )
    )


def group_is_open(group: PeerGroup) -> bool:
    """Whether members may ask to join `group` now (as stored)."""
    return PeerGroup.objects.filter(open_to_requests(), pk=group.pk).exists()


@transaction.atomic
def join_request_create(*, user: User, group: PeerGroup, message: str) -> JoinRequest:
    """Ask to join `group`; its point-persons are told by e-mail (the message, not the profile),
    and nudged if it is still unanswered three days later (the reminders' index).

    Raises ValidationError if the group has no open seat, the member is in it already, or a
    request is already waiting.
    """
    message = message.strip()
    if not group_is_open(group):
        raise ValidationError(_("This group has no open seat at the moment."))
    if MembershipIndex.objects.filter(user=user, group=group).exists():
        raise ValidationError(_("You are already in this group."))
    if not message:
        raise ValidationError(_("Say a few words about yourself and what you hope for."))
    if JoinRequest.objects.filter(user=user, group=group, status="pending").exists():
        raise ValidationError(_("Your request is already with the group."))
    if JoinRequest.objects.filter(
        user=user,
        group=group,
        status=JoinRequest.Status.DECLINED,
        decided_at__gte=timezone.now() - JOIN_AGAIN_AFTER,
    ).exists():
        raise ValidationError(_("The group answered your request recently."))
    try:
        with transaction.atomic():
            request = JoinRequest.objects.create(user=user, group=group, message=message[:2000])
    except IntegrityError:  # a pending one from a simultaneous double submit
        raise ValidationError(_("Your request is already with the group.")) from None
    # Still unanswered in three days: its point-persons are nudged (the reminders' index).
    reminder_set(
        group=group,
        kind="pp_join_request",
        object_id=request.pk,
        due_at=request.created_at + JOIN_REQUEST_NUDGE_AFTER,
    )
    for point_person in group_point_persons(group=group):  # each told through the outbox
        email_enqueue(
            key=f"join-request:{request.pk}:{point_person.pk}",
            kind="join_request",
            to=point_person.email,
            context={"request": request.pk, "user": point_person.pk},
        )
    return request


def join_request_reminders_keep() -> int:
    """Index the three-day nudge of every pending join request (for requests made before the
    index existed; idempotent). Returns how many it looked at."""
    pending = JoinRequest.objects.filter(status=JoinRequest.Status.PENDING).select_related("group")
    for request in pending:
        reminder_set(
            group=request.group,
            kind="pp_join_request",
            object_id=request.pk,
            due_at=request.created_at + JOIN_REQUEST_NUDGE_AFTER,
        )
    return len(pending)


@transaction.atomic
def join_request_decide(*, request: JoinRequest, by: User, accept: bool) -> JoinRequest:
    """Record the point-person's answer. Accepting takes a seat (the group's service,
    groups.services.join_requests.join_request_answer, then invites the member); declining
    tells them kindly. The caller checks the role. The point-persons' three-day nudge about
    it is withdrawn.

    Raises ValidationError if the request was already answered or no seat is left.
    """
    request = JoinRequest.objects.select_for_update().get(pk=request.pk)
    group = PeerGroup.objects.select_for_update().get(pk=request.group_id)
    if request.status != JoinRequest.Status.PENDING:
        raise ValidationError(_("This request was already answered."))
    request.decided_at, request.decided_by = timezone.now(), by
    if accept:
        if not group_is_open(group):
            raise ValidationError(_("The group has no open seat left: open one first."))
        if not request.user.is_active:
            raise ValidationError(_("This member's account is closed."))
        group.open_seats -= 1
        group.save(update_fields=["open_seats"])
        request.status = JoinRequest.Status.ACCEPTED
    else:
        request.status = JoinRequest.Status.DECLINED
        email_enqueue(
            key=f"join-declined:{request.pk}",
            kind="join_declined",
            to=request.user.email,
            context={"request": request.pk},
        )
    request.save(update_fields=["status", "decided_at", "decided_by"])
    reminder_clear(group=group, kind="pp_join_request", object_id=request.pk)
    return request
