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


# eduPerson / SAML2 attribute names (the OIDs IdPs in research and education federations send).
EPPN = "urn:oid:1.3.6.1.4.1.5923.1.1.1.6"
SUBJECT_ID = "urn:oasis:names:tc:SAML:attribute:subject-id"
DEFAULT_SAML_ATTRIBUTES = {
    "uid": [EPPN, SUBJECT_ID],
    "email": ["urn:oid:0.9.2342.19200300.100.1.3"],
    "first_name": ["urn:oid:2.5.4.42"],
    "last_name": ["urn:oid:2.5.4.4"],
    "display_name": ["urn:oid:2.16.840.1.113730.3.1.241"],
    "affiliation": ["urn:oid:1.3.6.1.4.1.5923.1.1.1.9"],
}


def default_saml_attributes() -> dict[str, list[str]]:
    return {key: list(value) for key, value in DEFAULT_SAML_ATTRIBUTES.items()}


class Institution(models.Model):
    """A member's home institution and how its people sign in."""

    class SignIn(models.TextChoices):
        CODE = "code", _("E-mail code (no institutional sign-in)")
        SAML = "saml", _("SAML")
        OIDC = "oidc", _("OpenID Connect")

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True, null=True, blank=True)
    # Set once, from the slug, when the institution first gets a sign-in, and never changed:
    # allauth's provider app and every linked account are keyed by it (and the IdP's entity ID
    # or issuer), so renaming the slug moves no link, and a new institution that takes the old
    # slug inherits none. It is the {key} in the sign-in URLs given to the institution's IT.
    sign_in_key = models.SlugField(
        max_length=70, unique=True, null=True, blank=True, editable=False
    )
    email_domains = ArrayField(models.CharField(max_length=253), default=list, blank=True)
    sign_in = models.CharField(max_length=8, choices=SignIn.choices, default=SignIn.CODE)
    require_sso = models.BooleanField(
        default=False,
        help_text=_("Refuse e-mail codes and passwords for this institution's e-mail domains."),
    )
    saml_entity_id = models.CharField(_("IdP entity ID"), max_length=500, blank=True)
    saml_metadata_xml = models.TextField(_("IdP metadata XML"), blank=True)
    saml_attributes = models.JSONField(default=default_saml_attributes, blank=True)
    oidc_issuer = models.URLField(_("OpenID Connect issuer"), blank=True)
    oidc_client_id = models.CharField(max_length=255, blank=True)
    # Set by society.services.institution_save; the directory's sweep rebuilds the search text
    # of members' entries older than this (directory.services.profiles_follow_accounts).
    updated_at = models.DateTimeField(default=timezone.now)
    # When its sign-in last changed identity (signing certificate, entity ID, issuer, method):
    # accounts older than this sign in through it again only once their mailbox confirms.
    identity_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["saml_entity_id"],
                condition=~models.Q(saml_entity_id=""),
                name="institution_saml_entity_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_sso(self) -> bool:
        return self.sign_in in (self.SignIn.SAML, self.SignIn.OIDC)

    def owns_email(self, email: str) -> bool:
        domain = email.rsplit("@", 1)[-1].lower()
        return domain in {d.lower() for d in self.email_domains}


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
    # When the member first saved their account page (name and time zone); until then they
    # are asked for both right after signing in (society.adapters.AccountAdapter.post_login).
    settings_confirmed_at = models.DateTimeField(null=True, blank=True)
    # Reminder e-mail, per choice of society.notifications.CHOICES: "now", "digest" or "off"
    # (a choice not stored has its default). Quiet hours are local times in `time_zone`;
    # a reminder due inside them waits until they end (society.notifications).
    email_choices = models.JSONField(default=dict, blank=True)
    quiet_from = models.TimeField(null=True, blank=True)
    quiet_until = models.TimeField(null=True, blank=True)
    # From the institution's sign-in (eduPersonScopedAffiliation), e.g. "faculty@northfield.edu".
    affiliation = models.CharField(max_length=200, blank=True)
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
        indexes = [
            # The directory leaves out the few closed accounts (directory.selectors).
            models.Index(fields=["id"], name="user_inactive", condition=models.Q(is_active=False)),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.email.split("@")[0]

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.display_name


class GroupFocus(models.TextChoices):
    """What a group works towards: proposed in its application, shown in the directory."""

    CDA = "career_development_award", _("Career development award")
    EDUCATOR_PROMOTION = "clinician_educator_promotion", _("Clinician-educator promotion")
    MEDICAL_EDUCATION = "medical_education", _("Medical education")
    RESEARCH = "research", _("Research careers")
    OTHER = "other", _("Other")


class PeerGroup(TenantMixin):
    """A peer mentorship group: a row here, and its own PostgreSQL schema for what it writes."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        CREATING = "creating", _("Creating the space")
        INVITING = "inviting", _("Inviting the founding members")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    class Stage(models.TextChoices):
        """Kram's phases of a mentoring relationship."""

        INITIATION = "initiation", _("Initiation")
        CULTIVATION = "cultivation", _("Cultivation")
        SEPARATION = "separation", _("Separation")
        REDEFINITION = "redefinition", _("Redefinition")

    class Lifecycle(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        CONCLUDED = "concluded", _("Concluded (archived, read-only)")

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=40, unique=True, validators=[validate_group_slug])
    focus = models.CharField(max_length=40, choices=GroupFocus.choices, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    # The class of the last provisioning error, never its message (it may quote data).
    provision_error = models.CharField(max_length=200, blank=True)
    provision_started_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)
    stage = models.CharField(max_length=14, choices=Stage.choices, default=Stage.INITIATION)
    lifecycle = models.CharField(max_length=10, choices=Lifecycle.choices, default=Lifecycle.ACTIVE)
    concluded_at = models.DateTimeField(null=True, blank=True)
    # Seats the group offers newcomers (shown in the directory); 0 = closed.
    open_seats = models.PositiveSmallIntegerField(default=0)
    # When its latest held meeting started (groups.services.meetings.attendance_record keeps
    # it): the society's overview shows it without entering the group's schema. A date, no more.
    last_meeting_at = models.DateTimeField(null=True, blank=True)
    # The text of the mission in force, copied from the group's schema whenever a version is
    # adopted (groups.services.mission.mission_adopt), so that the directory can show it next
    # to the group's open seats without entering the schema. Shown nowhere else.
    mission_public = models.TextField(blank=True)
    # When the concluded group's confidential data was destroyed (its key and entries).
    shredded_at = models.DateTimeField(null=True, blank=True)

    # Provisioning is an explicit service (crossschema.provisioning.group_provision), not save().
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

    @property
    def is_read_only(self) -> bool:
        return self.lifecycle == self.Lifecycle.CONCLUDED

    @property
    def is_paused(self) -> bool:
        """Paused: the space is readable and writable, but new meetings and polls wait."""
        return self.lifecycle == self.Lifecycle.PAUSED


class GroupDomain(DomainMixin):
    """A host name that routes to a group (its primary one is <slug>.<base host>)."""


class MembershipIndex(models.Model):
    """Which groups a user belongs to, so the society site links to them without entering schemas.

    Written only by groups.services.membership together with the group's own Membership row.
    Beyond the link it holds only whether the member is a point-person, so the society site can
    reach a group's point-persons (join requests) without entering its schema; nothing about
    what happens in the group.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="group_links")
    group = models.ForeignKey(PeerGroup, on_delete=models.CASCADE, related_name="member_links")
    is_point_person = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "group"], name="membership_index_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id}"


class AuditEvent(models.Model):
    """Who signed in, and whose role changed: for society admins. Never group content."""

    class Kind(models.TextChoices):
        SIGN_IN = "sign_in", _("Signed in")
        SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
        SIGN_OUT = "sign_out", _("Signed out")
        ROLE_CHANGED = "role_changed", _("Role changed")
        MEMBER_ADDED = "member_added", _("Member added")
        MEMBER_REMOVED = "member_removed", _("Member removed")
        INVITATION_SENT = "invitation_sent", _("Invitation sent")
        INVITATION_ACCEPTED = "invitation_accepted", _("Invitation accepted")
        INSTITUTION_SAVED = "institution_saved", _("Institution saved")
        ACCOUNT_DEACTIVATED = "account_deactivated", _("Account deactivated")
        INSTITUTION_IDENTITY_CHANGED = "idp_changed", _("Institution sign-in changed")
        IDENTITY_CONFIRMED = "identity_confirmed", _("Institution sign-in confirmed")
        GROUP_CONCLUDED = "group_concluded", _("Group concluded")
        GROUP_REOPENED = "group_reopened", _("Group reopened")

    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    group = models.ForeignKey(
        PeerGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A short, non-confidential note: a sign-in method, an institution, "member -> point_person".
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M}"


class GroupApplication(models.Model):
    """A member's proposal for a new group, reviewed by a society admin."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    Focus = GroupFocus

    class Rhythm(models.TextChoices):
        WEEKLY = "weekly", _("Weekly")
        FORTNIGHTLY = "fortnightly", _("Every two weeks")
        MONTHLY = "monthly", _("Monthly")

    applicant = models.ForeignKey(User, on_delete=models.PROTECT, related_name="applications")
    name = models.CharField(_("group name"), max_length=120)
    slug = models.SlugField(_("address"), max_length=40, validators=[validate_group_slug])
    mission_draft = models.TextField(_("mission (draft)"))
    focus = models.CharField(max_length=40, choices=Focus.choices)
    founding_emails = ArrayField(models.EmailField(), default=list)
    point_person_emails = ArrayField(models.EmailField(), default=list)
    meeting_rhythm = models.CharField(max_length=12, choices=Rhythm.choices)
    why_these_peers = models.TextField(_("why these peers"))
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    group = models.OneToOneField(
        PeerGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="application"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        constraints = [
            # One live application per address, even for two simultaneous submits.
            models.UniqueConstraint(
                fields=["slug"],
                condition=~models.Q(state="rejected"),
                name="application_slug_unique_unless_rejected",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_editable(self) -> bool:
        return self.state in (self.State.DRAFT, self.State.CHANGES_REQUESTED)

    @property
    def society_comment(self) -> str:
        """What the society wrote with the decision that led to the current state, if any."""
        event = self.events.filter(to_state=self.state).exclude(comment="").last()
        return event.comment if event else ""


class ApplicationEvent(models.Model):
    """One transition of an application: who, when, from what to what, and why."""

    application = models.ForeignKey(
        GroupApplication, on_delete=models.CASCADE, related_name="events"
    )
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_state or 'new'} -> {self.to_state}"

    @property
    def from_label(self) -> str:
        return GroupApplication.State(self.from_state).label if self.from_state else _("New")

    @property
    def to_label(self) -> str:
        return GroupApplication.State(self.to_state).label


class IdentityConfirmation(models.Model):
    """An institution sign-in waiting for (or given) the account owner's confirmation by mail.

    Made when an institution whose sign-in changed identity (society.services.institution_save)
    signs in as an account older than the change; only the account's own mailbox can confirm.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=500)
    uid = models.CharField(max_length=500)
    token_hash = models.CharField(max_length=64, unique=True)
    # The link's token is an HMAC of this nonce under the secret key, so the worker can write
    # the e-mail when it sends it while the database holds no usable token (only its hash).
    token_nonce = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"identity confirmation {self.pk}"


class OutboundEmail(models.Model):
    """One e-mail the platform means to send (society.outbox).

    Written in the same transaction as the change that causes it, under a unique key, so a
    retried request, a rerun or a redelivered task records it once; sent by the worker
    (crossschema.outbox), never by a request; found again by beat's sweep while unsent. It
    holds the address, ids and a few plain values, never content: the worker renders the
    message when it sends it (inside the group's schema when it is about a group), so
    nothing written inside a group is stored in the public schema.
    """

    MAX_ATTEMPTS = 12

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=40)
    to = models.EmailField(max_length=254)
    group = models.ForeignKey(
        PeerGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    context = models.JSONField(default=dict, blank=True)
    # Stable across every attempt: a message sent twice (a worker killed between the SMTP
    # server's "250" and our commit) is recognisably the same message.
    message_id = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    send_after = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=100, blank=True)  # an error's class, no message
    # Not sent because it no longer applies when its time came (a reader removed from the
    # group, a meeting moved or cancelled, a link expired): never tried again.
    skipped_at = models.DateTimeField(null=True, blank=True)
    # A reminder its reader takes in a daily digest: sent (and marked sent) with that digest.
    digest = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="parts"
    )

    class Meta:
        indexes = [
            models.Index(
                fields=["send_after"],
                name="outbound_email_due",
                condition=models.Q(sent_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} e-mail {self.pk}"


class ReminderDue(models.Model):
    """When something inside a group is due a reminder (society.reminders): the group, a kind,
    the object's id in the group's schema and a time, never content.

    Kept by the group's services as they schedule, move or cancel what the reminder is about,
    so beat finds everything due across all groups with one indexed query and enters only the
    schemas that have something due (crossschema.reminders)."""

    group = models.ForeignKey(PeerGroup, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    due_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["group", "kind", "object_id"], name="reminder_due_one_per_object"
            )
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="reminder_due_pending",
                condition=models.Q(done_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} due {self.due_at:%Y-%m-%d %H:%M}"
