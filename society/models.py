"""Public-schema models: people, institutions and the registry of groups (never group content)."""

from __future__ import annotations

import re

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin

RESERVED_SLUGS = frozenset(
    {"www", "admin", "api", "mail", "static", "media", "manage", "accounts", "help", "status"}
)
_SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")


def validate_group_slug(value: str) -> None:
    """A slug becomes a host name label and part of a schema name."""
    if not _SLUG_RE.match(value) or "--" in value:
        raise ValidationError(
            _(
                "Use 3 to 40 lower-case letters, digits and single hyphens, "
                "starting with a letter (for example “k-club”)."
            )
        )
    if value in RESERVED_SLUGS:
        raise ValidationError(_("“%(slug)s” is reserved; choose another."), params={"slug": value})


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str) -> User:
        return self.get(email__iexact=username)


class Institution(models.Model):
    """A member's home institution; its SSO settings (SAML / OIDC) come with the identity work."""

    name = models.CharField(max_length=200, unique=True)
    email_domains = ArrayField(models.CharField(max_length=253), default=list, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in, identified by e-mail.

    Deactivate rather than delete: rows in group schemas point here.
    """

    email = models.EmailField(_("e-mail address"), max_length=254, unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    institution = models.ForeignKey(
        Institution, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text=_("May open the Django admin."))
    is_society_admin = models.BooleanField(
        default=False,
        help_text=_("Manages the society site. Gives no access inside any group."),
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.email.split("@")[0]

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.display_name


class PeerGroup(TenantMixin):
    """A peer mentorship group: a row here, and its own PostgreSQL schema for what it writes."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        CREATING = "creating", _("Creating")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=40, unique=True, validators=[validate_group_slug])
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    # The class of the last provisioning error, never its message (it may quote data).
    provision_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)

    # Provisioning is an explicit service (society.services.group_provision), not save().
    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def schema_name_for(slug: str) -> str:
        return "g_" + slug.replace("-", "_")

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY


class GroupDomain(DomainMixin):
    """A host name that routes to a group (its primary one is <slug>.<base host>)."""


class MembershipIndex(models.Model):
    """Which groups a user belongs to, so the society site links to them without entering schemas.

    Written only by groups.services together with the group's own Membership row. Holds no role
    and nothing about what happens in the group.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="group_links")
    group = models.ForeignKey(PeerGroup, on_delete=models.CASCADE, related_name="member_links")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "group"], name="membership_index_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id}"
