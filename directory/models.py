"""The society directory (public schema): profiles, the listserv, delivery choices and requests
to join groups with open seats. Nothing here comes from inside a group's schema."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from society.models import PeerGroup


class CareerStage(models.TextChoices):
    POSTDOC = "postdoc", _("Postdoctoral fellow")
    INSTRUCTOR = "instructor", _("Instructor")
    ASSISTANT = "assistant", _("Assistant professor")
    ASSOCIATE = "associate", _("Associate professor")
    OTHER = "other", _("Other")


class Method(models.TextChoices):
    QUANTITATIVE = "quantitative", _("Quantitative")
    QUALITATIVE = "qualitative", _("Qualitative")
    MIXED = "mixed", _("Mixed methods")
    QI = "qi", _("Quality improvement")
    EDUCATION = "education", _("Education research")
    BASIC = "basic", _("Basic science")
    CLINICAL_TRIALS = "trials", _("Clinical trials")


class GoalSought(models.TextChoices):
    K_AWARD = "k_award", _("Career development (K) award")
    FIRST_R01 = "first_r01", _("First R01")
    PROMOTION = "promotion", _("Promotion")
    LEADERSHIP = "leadership", _("Leadership")
    PUBLICATIONS = "publications", _("Publications")
    BALANCE = "balance", _("Work-life balance")


class Visibility(models.TextChoices):
    """Who may see or use one self-described identity field."""

    ONLY_ME = "only_me", _("Only me")
    SUGGESTIONS = "suggestions", _("Used for peer suggestions only, never shown")
    MEMBERS = "members", _("Shown to members")


# The optional self-described identity fields, each with its own visibility.
IDENTITY_FIELDS = {
    "gender": _("Gender"),
    "race_ethnicity": _("Race and ethnicity"),
    "first_generation": _("First-generation academic"),
    "family_structure": _("Family structure"),
}


# What a member edits on their profile, in the form's order (the rest is copied or derived).
PROFILE_FIELDS = (
    "name",
    "pronouns",
    "department",
    "career_stage",
    "specialty",
    "methods",
    "interests",
    "goals_sought",
    "looking_for_group",
    "hidden",
    *(field for name in IDENTITY_FIELDS for field in (name, f"{name}_visibility")),
)


class Profile(models.Model):
    """A member's directory entry. Fields other than the identity ones are shown to signed-in
    members unless the whole profile is hidden; each identity field follows its visibility."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    name = models.CharField(_("name"), max_length=200)
    # Copied from the account by directory.services.profile_save (and again whenever the
    # account changes), so that search filters them without joining every account.
    institution = models.ForeignKey(
        "society.Institution", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    time_zone = models.CharField(max_length=64, blank=True)
    pronouns = models.CharField(max_length=40, blank=True)
    department = models.CharField(max_length=200, blank=True)
    career_stage = models.CharField(max_length=12, choices=CareerStage.choices, blank=True)
    specialty = models.CharField(max_length=200, blank=True)
    methods = ArrayField(
        models.CharField(max_length=16, choices=Method.choices), default=list, blank=True
    )
    interests = models.TextField(blank=True)
    goals_sought = ArrayField(
        models.CharField(max_length=16, choices=GoalSought.choices), default=list, blank=True
    )
    looking_for_group = models.BooleanField(_("looking for a group"), default=False)
    hidden = models.BooleanField(_("hide my profile from the directory"), default=False)

    gender = models.CharField(max_length=100, blank=True)
    gender_visibility = models.CharField(
        max_length=12, choices=Visibility.choices, default=Visibility.ONLY_ME
    )
    race_ethnicity = models.CharField(max_length=100, blank=True)
    race_ethnicity_visibility = models.CharField(
        max_length=12, choices=Visibility.choices, default=Visibility.ONLY_ME
    )
    first_generation = models.CharField(max_length=100, blank=True)
    first_generation_visibility = models.CharField(
        max_length=12, choices=Visibility.choices, default=Visibility.ONLY_ME
    )
    family_structure = models.CharField(max_length=100, blank=True)
    family_structure_visibility = models.CharField(
        max_length=12, choices=Visibility.choices, default=Visibility.ONLY_ME
    )

    # Written by directory.services.profile_save from the fields members may see, and only
    # those: a field its owner keeps to themselves can never be found by searching.
    search = SearchVectorField(null=True, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            GinIndex(fields=["search"], name="profile_search_gin"),
            GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="profile_name_trgm"),
            GinIndex(fields=["methods"], name="profile_methods_gin"),
            GinIndex(fields=["goals_sought"], name="profile_goals_gin"),
            models.Index(fields=["career_stage"], name="profile_stage"),
            models.Index(fields=["time_zone"], name="profile_time_zone"),
            # The directory lists visible profiles by name (directory.selectors.profile_search).
            models.Index(
                fields=["name", "id"], name="profile_name_order", condition=models.Q(hidden=False)
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def method_labels(self) -> list[str]:
        return [str(Method(m).label) for m in self.methods if m in Method.values]

    def goal_labels(self) -> list[str]:
        return [str(GoalSought(g).label) for g in self.goals_sought if g in GoalSought.values]

    def identity_shown(self) -> list[tuple[str, str]]:
        """(label, value) of the identity fields their owner shows to members."""
        return [
            (str(label), getattr(self, name))
            for name, label in IDENTITY_FIELDS.items()
            if getattr(self, name) and getattr(self, f"{name}_visibility") == Visibility.MEMBERS
        ]

    def identity_for_suggestions(self) -> dict[str, str]:
        """The identity fields their owner allows peer suggestions to use."""
        allowed = {Visibility.SUGGESTIONS, Visibility.MEMBERS}
        return {
            name: getattr(self, name).strip().lower()
            for name in IDENTITY_FIELDS
            if getattr(self, name) and getattr(self, f"{name}_visibility") in allowed
        }


class Subscription(models.Model):
    """How a member wants the directory's posts: each by e-mail, a digest, or none."""

    class Delivery(models.TextChoices):
        EACH = "each", _("Every post, as it is posted")
        DAILY = "daily", _("A daily digest")
        WEEKLY = "weekly", _("A weekly digest")
        NONE = "none", _("No e-mail")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="directory_subscription"
    )
    delivery = models.CharField(max_length=8, choices=Delivery.choices, default=Delivery.WEEKLY)
    # Digests cover posts made since this moment; set when a digest is sent.
    digest_covered_until = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.delivery}"


class Post(models.Model):
    """A listserv post or, with a parent, a reply to one."""

    class Kind(models.TextChoices):
        SEEKING_PEERS = "seeking", _("Seeking peers")
        OPEN_SEAT = "open_seat", _("Open seat")
        ANNOUNCEMENT = "announce", _("Announcement")
        QUESTION = "question", _("Question")
        REPLY = "reply", _("Reply")

    class Source(models.TextChoices):
        WEB = "web", _("Web")
        EMAIL = "email", _("E-mail")

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    source = models.CharField(max_length=5, choices=Source.choices, default=Source.WEB)
    created_at = models.DateTimeField(default=timezone.now)
    hidden_at = models.DateTimeField(null=True, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["parent", "created_at"], name="post_parent_created")]

    def __str__(self) -> str:
        return self.title or f"Reply {self.pk}"

    @property
    def thread(self) -> Post:
        return self.parent or self


class PostingBan(models.Model):
    """A member may not post or reply while a ban without `lifted_at` stands."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=300)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"ban of {self.user_id}"


class ModerationEvent(models.Model):
    """What a society admin did to a post or a member, and why."""

    class Action(models.TextChoices):
        HIDE = "hide", _("Hid a post")
        UNHIDE = "unhide", _("Showed a post again")
        LOCK = "lock", _("Locked a thread")
        UNLOCK = "unlock", _("Unlocked a thread")
        BAN = "ban", _("Banned from posting")
        UNBAN = "unban", _("Lifted a posting ban")

    action = models.CharField(max_length=8, choices=Action.choices)
    post = models.ForeignKey(
        Post, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(max_length=300)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} by {self.by_id}"


# A join request still unanswered after this long is a nudge to the group's point-persons
# (groups.rules.join_requests_waiting; the reminder is indexed by directory.services).
JOIN_REQUEST_NUDGE_AFTER = timedelta(days=3)


def open_to_requests() -> models.Q:
    """Which groups members may ask to join: ready, active, with a seat open."""
    return models.Q(
        status=PeerGroup.Status.READY, lifecycle=PeerGroup.Lifecycle.ACTIVE, open_seats__gt=0
    )


class JoinRequest(models.Model):
    """A member asks a group with open seats to take them in; its point-person decides."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the group")
        ACCEPTED = "accepted", _("Accepted: an invitation was sent")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    group = models.ForeignKey("society.PeerGroup", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    message = models.TextField(max_length=2000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "user"],
                condition=models.Q(status="pending"),
                name="one_pending_join_request",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} asks {self.group_id}"
