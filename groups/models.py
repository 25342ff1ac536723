"""Group-schema models. Every row here lives in one group's schema; code never filters by group."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user"], name="membership_one_per_user")]
        ordering = ["joined_at", "pk"]

    def __str__(self) -> str:
        return f"{self.user_id} ({self.role})"


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
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"invitation {self.pk} ({self.role})"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


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
    peers_only = models.BooleanField(default=False, help_text=_("Hidden from the facilitator."))
    ciphertext = models.BinaryField()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"confidential entry {self.pk}"
