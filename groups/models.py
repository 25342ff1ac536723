"""Group-schema models. Every row here lives in one group's schema; code never filters by group."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# A mission comes up for review six months after its adoption or its last review.
MISSION_REVIEW_EVERY = timedelta(days=182)


class Membership(models.Model):
    """A person's place in this group, with their role."""

    class Role(models.TextChoices):
        POINT_PERSON = "point_person", _("Point-person")
        MEMBER = "member", _("Member")
        FACILITATOR = "facilitator", _("Facilitator")
        EVALUATOR = "evaluator", _("Evaluator")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_constraint=True
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    is_active = models.BooleanField(default=True)
    joined_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    pledge_accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user"], name="membership_one_per_user")]
        ordering = ["joined_at", "pk"]

    def __str__(self) -> str:
        return f"{self.user_id} ({self.role})"


# Roles that take part in meetings and see the group's working space (not the evaluator,
# who sees survey results and attendance figures only).
PARTICIPANT_ROLES = (
    Membership.Role.POINT_PERSON,
    Membership.Role.MEMBER,
    Membership.Role.FACILITATOR,
)


class WorkerCheck(models.Model):
    """A point-person's check that background work runs for this group, and where it ran."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    ran_at = models.DateTimeField(null=True, blank=True)
    ran_in_schema = models.CharField(max_length=63, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        get_latest_by = "requested_at"

    def __str__(self) -> str:
        return f"worker check {self.pk}"


class Invitation(models.Model):
    """An e-mailed invitation to join this group with a role. Only a hash of its token is kept."""

    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Membership.Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    # The link's token is an HMAC of this nonce under the secret key (see
    # groups.services.invitations.invitation_token): the worker writes the e-mail when it
    # sends it, while the database keeps no usable token, only its hash.
    token_nonce = models.CharField(max_length=64, blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Revoked by a point-person, or because the invitee's membership was ended.
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"invitation {self.pk} ({self.role})"

    @property
    def is_pending(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


class Mission(models.Model):
    """One version of the group's written mission; the newest is in force."""

    version = models.PositiveIntegerField(unique=True)
    text = models.TextField()
    adopted_at = models.DateTimeField(default=timezone.now)
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"mission v{self.version}"


class GroupKey(models.Model):
    """This group's data key, wrapped (encrypted) by a key from the environment. One row.

    Destroying this row makes every ConfidentialEntry unreadable for good (crypto-shredding).
    """

    singleton = models.BooleanField(default=True, unique=True)
    wrapped = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return "group key"


class ConfidentialEntry(models.Model):
    """A note in the confidential space. Only ciphertext is stored."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # A thread starts with an entry without parent; replies point at it and share its audience.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    peers_only = models.BooleanField(default=False, help_text=_("Hidden from the facilitator."))
    ciphertext = models.BinaryField()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"confidential entry {self.pk}"


# --- Norms, reviews, goals ------------------------------------------------------------------


class Charter(models.Model):
    """The group's agreed norms: the seed's expectation questions. One row, edited over time."""

    class Style(models.TextChoices):
        TASK = "task", _("Task meetings with an agenda")
        CHECK_IN = "check_in", _("Free-form check-ins")
        MIXED = "mixed", _("Both, alternating")

    class ReviewEvery(models.IntegerChoices):
        QUARTER = 3, _("Every three months")
        HALF_YEAR = 6, _("Every six months")
        YEAR = 12, _("Every year")
        NEVER = 0, _("Never (no reminder)")

    singleton = models.BooleanField(default=True, unique=True)
    agenda_setter = models.CharField(
        _("who sets the agenda"), max_length=200, default="The point-person, with input from all"
    )
    meeting_style = models.CharField(max_length=10, choices=Style.choices, default=Style.MIXED)
    work_between_meetings = models.TextField(
        _("work between meetings"),
        blank=True,
        default="We review each other's drafts (specific aims, papers, promotion packets).",
    )
    email_any_time = models.BooleanField(_("members may e-mail the group any time"), default=True)
    pledge = models.TextField(
        _("confidentiality pledge"),
        default="What is shared in this group stays in this group. Minutes leave out anything "
        "marked confidential.",
    )
    review_every_months = models.PositiveSmallIntegerField(
        _("look at the norms again"),
        choices=ReviewEvery.choices,
        default=ReviewEvery.YEAR,
        help_text=_("Every member is reminded when the norms are due for a look."),
    )
    # Saving the norms, changed or not, counts as reviewing them.
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return "charter"


class MissionReview(models.Model):
    """A six-monthly review of the mission: kept as is, or revised (a new version)."""

    class Outcome(models.TextChoices):
        KEPT = "kept", _("Kept")
        REVISED = "revised", _("Revised")

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="reviews")
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    reviewed_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"review of v{self.mission_id}: {self.outcome}"


class Goal(models.Model):
    """What one member wants from the group, and how it aligns with the mission."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        ACHIEVED = "achieved", _("Achieved")
        DROPPED = "dropped", _("Dropped")

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(max_length=300)
    alignment = models.TextField(_("how it aligns with the mission"), blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    target_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["owner_id", "created_at", "pk"]

    def __str__(self) -> str:
        return f"goal {self.pk}"


# --- Scheduling and meetings -------------------------------------------------------------------


class SchedulingPoll(models.Model):
    """A point-person proposes times; members mark when they can come."""

    title = models.CharField(max_length=200)
    duration_minutes = models.PositiveIntegerField(default=60)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class PollSlot(models.Model):
    poll = models.ForeignKey(SchedulingPoll, on_delete=models.CASCADE, related_name="slots")
    starts_at = models.DateTimeField()  # UTC

    class Meta:
        ordering = ["starts_at", "pk"]

    def __str__(self) -> str:
        return f"slot {self.pk}"


class PollVote(models.Model):
    slot = models.ForeignKey(PollSlot, on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    available = models.BooleanField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["slot", "voter"], name="one_vote_per_slot")]

    def __str__(self) -> str:
        return f"vote {self.pk}"


class Meeting(models.Model):
    """A meeting online (a link) or in person (a place, e.g. a social at a national conference)."""

    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField()  # UTC
    duration_minutes = models.PositiveIntegerField(default=60)
    link = models.URLField(blank=True)
    place = models.CharField(max_length=200, blank=True)
    note_taker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    poll = models.OneToOneField(
        SchedulingPoll, null=True, blank=True, on_delete=models.SET_NULL, related_name="meeting"
    )
    held_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # iCalendar SEQUENCE: raised by every change calendars must follow (a move, a new title,
    # place or link, a cancellation), so the same UID replaces the event people already have.
    sequence = models.PositiveIntegerField(default=0)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        indexes = [models.Index(fields=["starts_at"])]

    def __str__(self) -> str:
        return self.title


class AgendaItem(models.Model):
    class Kind(models.TextChoices):
        PERSONAL = "personal", _("Personal check-in")
        CAREER = "career", _("Career check-in")
        UNPLANNED = "unplanned", _("Intentional unplanned time")
        TOPIC = "topic", _("Topic")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=200)
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    minutes = models.PositiveIntegerField(default=10)
    notes = models.TextField(blank=True)  # never holds confidential text: see notes_sealed
    confidential = models.BooleanField(default=False)
    notes_sealed = models.BinaryField(null=True, blank=True)  # confidential notes, encrypted

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title


class Attendance(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    present = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "member"], name="one_attendance_per_member")
        ]

    def __str__(self) -> str:
        return f"attendance {self.pk}"


class Commitment(models.Model):
    """A member's action plan before the next meeting, reviewed there."""

    class Outcome(models.TextChoices):
        OPEN = "open", _("Open")
        KEPT = "kept", _("Kept")
        PARTLY = "partly", _("Partly kept")
        DROPPED = "dropped", _("Dropped")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="commitments")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(max_length=300)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.OPEN)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["owner", "reviewed_at"])]

    def __str__(self) -> str:
        return f"commitment {self.pk}"


class Minutes(models.Model):
    """The minutes of a meeting as published: confidential items already left out."""

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="minutes_doc")
    body = models.TextField()  # Markdown
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"minutes of meeting {self.meeting_id}"


class CalendarFeed(models.Model):
    """A member's secret calendar-feed address (only its hash is kept); revocable."""

    member = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"calendar feed {self.pk}"


class Achievement(models.Model):
    class Kind(models.TextChoices):
        GRANT_SUBMITTED = "grant_submitted", _("Grant submitted")
        GRANT_AWARDED = "grant_awarded", _("Grant or career development award awarded")
        AWARD = "award", _("Award")
        PAPER = "paper", _("Paper")
        PRESENTATION = "presentation", _("Presentation")
        PROMOTION = "promotion", _("Promotion")
        NEW_POSITION = "new_position", _("New position")
        PERSONAL = "personal", _("Personal (exercise, family time...)")

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    text = models.CharField(max_length=300)
    achieved_on = models.DateField(default=timezone.localdate)
    shareable = models.BooleanField(_("count it in the society's outcome figures"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-achieved_on", "-pk"]

    def __str__(self) -> str:
        return f"achievement {self.pk}"


class Celebration(models.Model):
    achievement = models.ForeignKey(
        Achievement, on_delete=models.CASCADE, related_name="celebrations"
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["achievement", "by"], name="celebrate_once")]

    def __str__(self) -> str:
        return f"celebration {self.pk}"
