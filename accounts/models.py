"""People and the audit trail: the bottom layer every other app stands on.

Design:
- `User` carries exactly one `role`. What a role may do is decided in `permissions.py`, never by
  Django's group/permission tables, so the rules live in code next to their tests.
- A `Team` is led by one team manager and has social workers as members; a social worker is in at
  most one team (a database constraint on the membership table).
- A `CaseloadAssignment` puts a client on a social worker's caseload for a span of dates. A client
  has at most one open assignment (a partial unique constraint); transfers end the old one.
- A `Representation` links a user with role `representative` (a family member, an advocate, or a
  direct payments "authorised person" when the client lacks capacity) to a client they act for:
  one row per pair. Such a user sees and does what that client may, for linked clients only
  (`permissions.acts_for`); `services.representation_add`/`_remove` check the roles and who may
  change the links.
- Provider staff point at a `providers.Provider` organisation. `providers` is not imported here:
  the foreign key is by label, and the rule that provider staff must have one is a check constraint.
- `Notification`: an in-app message to one person, optionally about one record (`target`, by content
  type and id, so this bottom layer never names the apps above it); its email copy is sent after
  the transaction that wrote it commits, and marked so a retried task sends it once.
- `AuditEvent` is append-only: the app refuses UPDATE and DELETE on it (queryset and instance), and
  on PostgreSQL and SQLite database triggers refuse UPDATE (and DELETE on PostgreSQL) as well.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from .exceptions import AuditImmutable
from .text import normalize_username


class Role(models.TextChoices):
    CLIENT = "client", "Client"
    REPRESENTATIVE = "representative", "Representative"
    SOCIAL_WORKER = "social_worker", "Social worker"
    TEAM_MANAGER = "team_manager", "Team manager"
    CASE_MANAGER = "case_manager", "Case manager"
    PROVIDER = "provider", "Provider staff"
    FINANCE = "finance", "Finance officer"
    ADMIN = "admin", "Administrator"


class CairnUserManager(UserManager):
    def get_by_natural_key(self, username):
        """Sign-in's lookup: the name typed, NFKC-normalised, matched without regard to case
        (accounts/text.py). The exact name first (the username's own index finds it); the
        database holds no two names differing only by case (`user_username_unique_ignoring_case`),
        and should a lookup without regard to case still find two, it signs in as neither."""
        username = normalize_username(username)
        try:
            return self.get(username=username)
        except self.model.DoesNotExist:
            pass
        try:
            return self.get(username__iexact=username)
        except self.model.MultipleObjectsReturned:
            raise self.model.DoesNotExist from None

    def create_superuser(self, username, email=None, password=None, **extra_fields):
        # `createsuperuser` makes the council's first administrator, not a client.
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CLIENT, db_index=True)
    full_name = models.CharField(max_length=200)
    postcode = models.CharField(max_length=10, blank=True)
    provider = models.ForeignKey(
        "providers.Provider",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        help_text="The organisation this member of provider staff works for.",
    )

    objects = CairnUserManager()

    REQUIRED_FIELDS = ["email", "full_name"]

    class Meta:
        constraints = [
            # Creation compares usernames case-insensitively after NFKC (accounts/text.py); the
            # database refuses `Ruth` beside `ruth` from any other path. (SQLite's LOWER() folds
            # ASCII letters only; PostgreSQL's folds every letter.)
            models.UniqueConstraint(
                Lower("username"),
                name="user_username_unique_ignoring_case",
                violation_error_message="That username is already taken.",
            ),
            models.CheckConstraint(
                name="user_role_valid",
                condition=Q(role__in=Role.values),
            ),
            models.CheckConstraint(
                name="user_provider_iff_provider_role",
                condition=(Q(role=Role.PROVIDER) & Q(provider__isnull=False))
                | (~Q(role=Role.PROVIDER) & Q(provider__isnull=True)),
                violation_error_message="Provider staff must belong to a provider; no one else may.",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_full_name(self) -> str:
        return self.full_name or self.username

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.username


class Team(models.Model):
    name = models.CharField(max_length=200, unique=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="managed_teams",
        limit_choices_to={"role": Role.TEAM_MANAGER},
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="TeamMembership",
        related_name="teams",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    social_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="team_memberships",
        limit_choices_to={"role": Role.SOCIAL_WORKER},
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # One team per social worker keeps "whose team manager decides" unambiguous.
            models.UniqueConstraint(fields=["social_worker"], name="one_team_per_social_worker"),
        ]

    def __str__(self) -> str:
        return f"{self.social_worker} in {self.team}"


class CaseloadAssignment(models.Model):
    social_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="caseload_assignments",
        limit_choices_to={"role": Role.SOCIAL_WORKER},
    )
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="social_worker_assignments",
        limit_choices_to={"role": Role.CLIENT},
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(end_date__isnull=True),
                name="one_open_caseload_per_client",
            ),
            models.CheckConstraint(
                name="caseload_end_not_before_start",
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
            ),
        ]
        indexes = [models.Index(fields=["social_worker", "end_date"])]

    def __str__(self) -> str:
        return f"{self.client} with {self.social_worker} from {self.start_date}"

    @property
    def is_open(self) -> bool:
        return self.end_date is None


class RepresentationKind(models.TextChoices):
    FAMILY_MEMBER = "family_member", "Family member"
    ADVOCATE = "advocate", "Advocate"
    AUTHORISED_PERSON = "authorised_person", "Authorised person (direct payments, when the client lacks capacity)"


class Representation(models.Model):
    """A representative acts for a client. Written only by `services.representation_add` and
    removed only by `services.representation_remove`, both audited."""

    representative = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="representations",
        limit_choices_to={"role": Role.REPRESENTATIVE},
    )
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="represented_by",
        limit_choices_to={"role": Role.CLIENT},
    )
    kind = models.CharField(max_length=20, choices=RepresentationKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        ordering = ["client__full_name", "representative__full_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["representative", "client"],
                name="one_representation_per_pair",
                violation_error_message="This person already acts for this client.",
            ),
            models.CheckConstraint(
                name="representation_kind_valid",
                condition=Q(kind__in=RepresentationKind.values),
            ),
            models.CheckConstraint(
                name="representation_not_self",
                condition=~Q(representative=models.F("client")),
                violation_error_message="A person cannot act for themselves.",
            ),
        ]
        indexes = [models.Index(fields=["client", "representative"])]

    def __str__(self) -> str:
        return f"{self.representative} acts for {self.client}"


class AuditAction(models.TextChoices):
    LOGIN = "login", "Logged in"
    LOGIN_FAILED = "login_failed", "Failed login"
    LOGOUT = "logout", "Logged out"
    TOKEN_ISSUED = "token_issued", "API token issued"
    TOKEN_REVOKED = "token_revoked", "API token revoked"
    PASSWORD_CHANGED = "password_changed", "Password changed"
    PASSWORD_RESET_REQUESTED = "password_reset_requested", "Password reset requested"
    VIEW = "view", "Viewed"
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"
    TRANSITION = "transition", "Changed state"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise self.model.immutable_error(self.model.immutable_message)

    def delete(self):
        raise self.model.immutable_error(self.model.immutable_message)


class AppendOnlyModel(models.Model):
    """A record that is written once and never changed or deleted by the app (the audit trail,
    the ledger). Database triggers back this up; see each app's migrations."""

    immutable_error: type[Exception] = AuditImmutable
    immutable_message = "This record is append-only: it cannot be changed or deleted."

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise self.immutable_error(self.immutable_message)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise self.immutable_error(self.immutable_message)


class AuditEvent(AppendOnlyModel):
    """Who did what to which record, when. Written only by `accounts.services.audit_record`."""

    immutable_message = "Audit events cannot be changed or deleted."

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A snapshot, so the row still says who it was if the account is later renamed.
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=30, choices=AuditAction.choices, db_index=True)
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    # The client whose personal data this touched, so "who looked at my record" is one query.
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["subject", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username or 'anonymous'} {self.action} {self.target_repr}"


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    # What the message is about (a care plan, an invoice, a payment...), if anything.
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    message = models.CharField(max_length=500)
    link = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="accounts_notification_unread"),
            models.Index(fields=["target_type", "target_id"], name="accounts_notification_target"),
        ]

    def __str__(self) -> str:
        return self.message[:60]
