"""Eligibility, the Resource Allocation System (RAS), personal budgets and their ledger.

Design:
- A `RasScheme` is one version of the council's RAS: questions grouped by eligibility outcome
  (`domain`), answers worth points, percentage modifiers on points, optional marginal price bands,
  a base price per point and a minimum and maximum budget. Its `status` is an FSM
  (draft → published → retired). Only drafts can be edited; a published version is frozen, and
  `content_digest` (a SHA-256 of its canonical export) lets anyone check an assessment was priced
  with exactly that content.
- An `Assessment` records the answers, the two yes/no eligibility conditions and which modifiers
  apply; the decision (eligible, reasons) and the priced breakdown are stored on it, so what the
  client was told never changes even if code does. Completing an eligible one creates the
  `PersonalBudget`.
- The ledger is double-entry (after django-hordak): each `PersonalBudget` has three accounts —
  `available` (allocated, not yet committed), `committed` (promised to an approved plan, not yet
  paid) and `paid` — and the council has `funding` and `reclaimed` accounts. A `LedgerTransaction`
  is a set of `LedgerPosting`s that sum to zero in one currency. Transactions and postings are
  append-only (app and database triggers); corrections are reversing transactions. Each account
  keeps a running `balance`, changed only by the ledger service under a row lock, and checked
  against the sum of its postings by tests.
  The four figures follow: allocated = available + committed + paid balances; committed (the
  figure) = committed + paid balances; paid = paid balance; available = available balance.
- `BudgetPolicy` is the single row of administrator-configurable numbers (contingency, period).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from accounts.models import AppendOnlyModel
from accounts.money import CURRENCIES, money_field

from .exceptions import LedgerImmutable


class Outcome(models.TextChoices):
    """The ten Care Act 2014 eligibility outcomes, and `other` for RAS questions about none."""

    NUTRITION = "nutrition", "Managing and maintaining nutrition"
    PERSONAL_HYGIENE = "personal_hygiene", "Maintaining personal hygiene"
    TOILET_NEEDS = "toilet_needs", "Managing toilet needs"
    CLOTHING = "clothing", "Being appropriately clothed"
    HOME_SAFETY = "home_safety", "Being able to make use of the home safely"
    HABITABLE_HOME = "habitable_home", "Maintaining a habitable home environment"
    RELATIONSHIPS = "relationships", "Developing and maintaining family or other personal relationships"
    WORK_EDUCATION = "work_education", "Accessing and engaging in work, training, education or volunteering"
    COMMUNITY = "community", "Making use of necessary facilities or services in the local community"
    CARING_FOR_CHILD = "caring_for_child", "Carrying out any caring responsibilities for a child"
    OTHER = "other", "Other needs"


ELIGIBILITY_OUTCOMES = [o for o in Outcome.values if o != Outcome.OTHER]


class UnableReason(models.TextChoices):
    """Why a person cannot achieve an outcome (Care and Support (Eligibility Criteria) Regs 2015)."""

    NEEDS_ASSISTANCE = "needs_assistance", "needs assistance"
    PAIN_DISTRESS = "pain_distress", "causes significant pain, distress or anxiety"
    ENDANGERS = "endangers", "endangers their or others' health or safety"
    TAKES_LONGER = "takes_longer", "takes significantly longer than would normally be expected"


class SchemeStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"


class RasScheme(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    name = models.CharField(max_length=200)
    version = models.PositiveIntegerField()
    description = models.TextField(blank=True)
    is_example = models.BooleanField(
        default=False, help_text="The example scheme shipped with Cairn, not any council's real prices."
    )
    status = FSMField(default=SchemeStatus.DRAFT, choices=SchemeStatus.choices, protected=True)
    effective_from = models.DateField()
    price_per_point = money_field()
    min_budget = money_field()
    max_budget = money_field()
    content_digest = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-effective_from", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="ras_scheme_name_version_unique"),
            models.CheckConstraint(name="ras_price_positive", condition=Q(price_per_point__gt=0)),
            models.CheckConstraint(name="ras_min_not_negative", condition=Q(min_budget__gte=0)),
            models.CheckConstraint(name="ras_max_at_least_min", condition=Q(max_budget__gte=models.F("min_budget"))),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.get_status_display()})"

    @property
    def is_editable(self) -> bool:
        return self.status == SchemeStatus.DRAFT

    @transition(field=status, source=SchemeStatus.DRAFT, target=SchemeStatus.PUBLISHED)
    def publish(self) -> None:
        """Freeze this version; from now on prices change only through a new version."""

    @transition(field=status, source=SchemeStatus.PUBLISHED, target=SchemeStatus.RETIRED)
    def retire(self) -> None:
        """Stop using this version for new assessments; budgets priced with it stay as they are."""


class RasQuestion(models.Model):
    scheme = models.ForeignKey(RasScheme, on_delete=models.CASCADE, related_name="questions")
    code = models.SlugField(max_length=60)
    domain = models.CharField(max_length=30, choices=Outcome.choices)
    text = models.CharField(max_length=500)
    help_text = models.CharField(max_length=500, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["scheme", "code"], name="ras_question_code_unique")]

    def __str__(self) -> str:
        return self.code


class RasAnswer(models.Model):
    question = models.ForeignKey(RasQuestion, on_delete=models.CASCADE, related_name="answers")
    code = models.SlugField(max_length=60)
    text = models.CharField(max_length=500)
    points = models.PositiveIntegerField()
    unable = models.BooleanField(default=False, help_text="This answer means the person cannot achieve the outcome.")
    unable_reason = models.CharField(max_length=30, choices=UnableReason.choices, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["question", "code"], name="ras_answer_code_unique"),
            models.CheckConstraint(
                name="ras_unable_reason_only_when_unable",
                condition=Q(unable=True) | Q(unable_reason=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question.code}={self.code}"


class RasModifier(models.Model):
    """A percentage change to the assessed points when a circumstance applies (e.g. an unpaid
    carer gives regular support: −10%)."""

    scheme = models.ForeignKey(RasScheme, on_delete=models.CASCADE, related_name="modifiers")
    code = models.SlugField(max_length=60)
    text = models.CharField(max_length=500)
    percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("-100")), MaxValueValidator(Decimal("100"))],
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "code"], name="ras_modifier_code_unique"),
            models.CheckConstraint(name="ras_modifier_percent_range", condition=Q(percent__gte=-100, percent__lte=100)),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.percent:+}%)"


class RasBand(models.Model):
    """Marginal pricing: points above the previous band's limit, up to `up_to_points`, cost this
    band's price per point (like tax bands, so one more point never lowers a budget). The last band
    may be open-ended; points beyond every band cost the scheme's base price per point."""

    scheme = models.ForeignKey(RasScheme, on_delete=models.CASCADE, related_name="bands")
    up_to_points = models.PositiveIntegerField(null=True, blank=True)
    price_per_point = money_field()

    class Meta:
        ordering = [models.F("up_to_points").asc(nulls_last=True)]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "up_to_points"], name="ras_band_limit_unique"),
            models.CheckConstraint(name="ras_band_price_positive", condition=Q(price_per_point__gt=0)),
        ]

    def __str__(self) -> str:
        return f"up to {self.up_to_points or '∞'} points at {self.price_per_point}"


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    COMPLETED = "completed", "Completed"
    NOT_ELIGIBLE = "not_eligible", "Not eligible"


class Assessment(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assessments")
    assessor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    scheme = models.ForeignKey(RasScheme, on_delete=models.PROTECT, related_name="assessments")
    status = FSMField(default=AssessmentStatus.DRAFT, choices=AssessmentStatus.choices, protected=True)
    answers = models.JSONField(default=dict, blank=True, help_text="{question code: answer code}")
    modifiers = models.JSONField(default=list, blank=True, help_text="Codes of the modifiers that apply.")
    impairment = models.BooleanField(null=True, blank=True)
    wellbeing_impact = models.BooleanField(null=True, blank=True)
    notes = models.TextField(blank=True)
    # The decision and the pricing, as computed when last saved, and frozen when completed.
    eligible = models.BooleanField(default=False)
    reasons = models.JSONField(default=list, blank=True)
    points = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    breakdown = models.JSONField(default=dict, blank=True)
    indicative_budget = money_field(default=Decimal("0"))
    scheme_digest = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["client", "status", "completed_at"])]

    def __str__(self) -> str:
        return f"Assessment {self.pk} of {self.client} ({self.get_status_display()})"

    @transition(field=status, source=AssessmentStatus.DRAFT, target=AssessmentStatus.COMPLETED)
    def complete(self) -> None:
        """Freeze the decision; the budget is created by the service in the same transaction."""

    @transition(field=status, source=AssessmentStatus.DRAFT, target=AssessmentStatus.NOT_ELIGIBLE)
    def record_not_eligible(self) -> None:
        """Close the assessment with its decision and reasons, so the person can be told why."""


class BudgetPolicy(models.Model):
    """The council's configurable budget numbers. One row (pk 1), edited in the admin."""

    contingency_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="How far (as a % of the budget) an approved plan may exceed what is available.",
    )
    period_months = models.PositiveIntegerField(
        default=12, validators=[MinValueValidator(1), MaxValueValidator(36)], help_text="Length of a budget period."
    )
    reclaim_buffer_weeks = models.PositiveIntegerField(
        default=4, help_text="Unspent money above this many weeks of plan cost is reclaimed at period end."
    )

    class Meta:
        verbose_name = "budget policy"
        verbose_name_plural = "budget policy"
        constraints = [models.CheckConstraint(name="budget_policy_singleton", condition=Q(pk=1))]

    def __str__(self) -> str:
        return "Budget policy"


class PersonalBudget(models.Model):
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="budgets")
    assessment = models.OneToOneField(Assessment, on_delete=models.PROTECT, related_name="budget")
    period_start = models.DateField()
    period_end = models.DateField()
    indicative_amount = money_field()
    final_amount = money_field(null=True, blank=True)
    final_reason = models.TextField(blank=True)
    final_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    final_set_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_start", "-id"]
        constraints = [
            models.CheckConstraint(name="budget_period_order", condition=Q(period_end__gte=models.F("period_start"))),
            models.CheckConstraint(
                name="budget_final_has_reason",
                condition=Q(final_amount__isnull=True) | ~Q(final_reason=""),
            ),
        ]
        indexes = [models.Index(fields=["client", "period_start"])]

    def __str__(self) -> str:
        return f"Budget {self.pk} for {self.client} ({self.period_start:%d %b %Y} to {self.period_end:%d %b %Y})"


class AccountKind(models.TextChoices):
    FUNDING = "funding", "Council funding"
    RECLAIMED = "reclaimed", "Reclaimed by the council"
    AVAILABLE = "available", "Available"
    COMMITTED = "committed", "Committed"
    PAID = "paid", "Paid"


BUDGET_ACCOUNT_KINDS = (AccountKind.AVAILABLE, AccountKind.COMMITTED, AccountKind.PAID)


class LedgerAccount(models.Model):
    code = models.CharField(max_length=60, unique=True)
    kind = models.CharField(max_length=20, choices=AccountKind.choices)
    budget = models.ForeignKey(PersonalBudget, on_delete=models.PROTECT, null=True, blank=True, related_name="accounts")
    # Running balance, written only by `services.ledger` under a row lock.
    balance = money_field(default=Decimal("0"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["budget", "kind"], name="one_account_per_budget_kind"),
            models.CheckConstraint(
                name="account_budget_matches_kind",
                condition=(Q(kind__in=BUDGET_ACCOUNT_KINDS) & Q(budget__isnull=False))
                | (~Q(kind__in=BUDGET_ACCOUNT_KINDS) & Q(budget__isnull=True)),
            ),
        ]

    def __str__(self) -> str:
        return self.code


class TransactionKind(models.TextChoices):
    ALLOCATION = "allocation", "Allocation"
    ADJUSTMENT = "adjustment", "Final budget adjustment"
    COMMITMENT = "commitment", "Commitment"
    RELEASE = "release", "Release"
    PAYMENT = "payment", "Payment"
    RECLAIM = "reclaim", "Reclaim"
    REVERSAL = "reversal", "Reversal"


class _LedgerEntry(AppendOnlyModel):
    immutable_error = LedgerImmutable
    immutable_message = "Ledger entries are never changed or deleted; post a reversal instead."

    class Meta:
        abstract = True


class LedgerTransaction(_LedgerEntry):
    kind = models.CharField(max_length=20, choices=TransactionKind.choices)
    budget = models.ForeignKey(PersonalBudget, on_delete=models.PROTECT, related_name="transactions")
    # What makes a retry, a double click or a re-run the same movement rather than a second one.
    idempotency_key = models.CharField(max_length=200, unique=True)
    # kind, budget, signed amount and reversed transaction: what a retry must repeat exactly.
    fingerprint = models.CharField(max_length=200)
    memo = models.CharField(max_length=300, blank=True)
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["budget", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class LedgerPosting(_LedgerEntry):
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="postings")
    amount = money_field()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(name="posting_amount_not_zero", condition=~Q(amount=0)),
            models.CheckConstraint(name="posting_currency_known", condition=Q(amount_currency__in=CURRENCIES)),
        ]

    def __str__(self) -> str:
        return f"{self.account.code} {self.amount}"


class WhatIfStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Running"
    DONE = "done", "Finished"
    FAILED = "failed", "Failed"


class WhatIfRun(models.Model):
    """Re-pricing every client's latest completed assessment under a draft scheme. Changes no
    budget: the result is a summary and a per-client CSV."""

    scheme = models.ForeignKey(RasScheme, on_delete=models.CASCADE, related_name="whatif_runs")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=WhatIfStatus.choices, default=WhatIfStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    csv_file = models.FileField(upload_to="whatif/", blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"What-if {self.pk} under {self.scheme}"

    @property
    def percent_done(self) -> int:
        if self.status == WhatIfStatus.DONE:
            return 100
        return int(self.done * 100 / self.total) if self.total else 0
