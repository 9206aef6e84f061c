"""Care plans: what matters to the person, the support they buy, and what it costs.

Design:
- A `CarePlan` belongs to one personal budget. Its `status` is the approval workflow's FSM field;
  the transitions are declared here (pure: they change the state only) and driven by one service
  per edge in `approvals.services`, which locks, checks permission, saves, audits and moves money.
  django-fsm-log records each transition (who, when, the comment) as the plan's history. Plans are
  created in `draft` and may be edited only in `draft` or `changes_requested`.
- Each line says how its money is managed (`money_management`): paid by the council to the provider
  against invoices, a direct payment to the person, or an individual service fund held by the
  provider. The plan's own `money_management` is only the default for new lines; a plan whose
  lines differ is "mixed". An own-arrangement line (no catalogue service: a typed description,
  unit and price) is always a direct payment.
- A `PlanLine` buys one service offering (or an own arrangement), either weekly (units per week between two dates,
  inclusive) or once (a quantity on a date). The unit price, the service's title and unit are
  **copied** when the line is added, so later price changes never alter an agreed plan. The
  line's cost is computed by `careplans.costing`, never typed, and stored with the line.
- Amending an approved plan creates a new draft version pointing at it (`previous`); the old one
  stays in force until the new one is approved.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description

from accounts.money import money_field
from budgets.models import Outcome

from . import permissions


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    AWAITING_SENIOR_APPROVAL = "awaiting_senior_approval", "Awaiting senior approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    SUPERSEDED = "superseded", "Superseded"


EDITABLE_STATUSES = (PlanStatus.DRAFT, PlanStatus.CHANGES_REQUESTED)
# A plan waiting for, or in, review: the review clock is running.
UNDER_REVIEW_STATUSES = (PlanStatus.SUBMITTED, PlanStatus.IN_REVIEW, PlanStatus.AWAITING_SENIOR_APPROVAL)
DECIDING_STATUSES = (PlanStatus.IN_REVIEW, PlanStatus.AWAITING_SENIOR_APPROVAL)


class MoneyManagement(models.TextChoices):
    """How one line's money is managed (docs/direct-payments.md)."""

    COUNCIL_MANAGED = "council_managed", "Council-managed account"
    DIRECT_PAYMENT = "direct_payment", "Direct payment to me"
    INDIVIDUAL_SERVICE_FUND = "individual_service_fund", "Individual service fund held by a provider"


MIXED = "mixed"  # a plan whose lines are managed in more than one way

# How big a plan may be (docs/api.md, "Limits"): far more than any real plan needs, small enough
# that its pages and PDF always render in well under a second. Checked by the API and the pages.
PLAN_MAX_OUTCOMES = 30
OUTCOME_MAX_LENGTH = 1000
PLAN_MAX_LINES = 50
LINE_DESCRIPTION_MAX_LENGTH = 200
PLAN_TEXT_MAX_LENGTH = 5000  # risks, contacts, contingency note: each


def _may_submit(plan: CarePlan, user) -> bool:
    return permissions.can_submit_plan(user, plan)


def _may_review(plan: CarePlan, user) -> bool:
    return permissions.can_review_plan(user, plan)


def _may_withdraw(plan: CarePlan, user) -> bool:
    return permissions.can_withdraw_plan(user, plan)


class CarePlan(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    budget = models.ForeignKey("budgets.PersonalBudget", on_delete=models.PROTECT, related_name="plans")
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_plans")
    version = models.PositiveIntegerField(default=1)
    previous = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_version"
    )
    status = FSMField(default=PlanStatus.DRAFT, choices=PlanStatus.choices, protected=True, db_index=True)
    money_management = models.CharField(
        max_length=30, choices=MoneyManagement.choices, default=MoneyManagement.COUNCIL_MANAGED
    )
    risks = models.TextField(blank=True, max_length=PLAN_TEXT_MAX_LENGTH, help_text="Risks, and how they are handled.")
    contacts = models.TextField(blank=True, max_length=PLAN_TEXT_MAX_LENGTH, help_text="Who to contact, and when.")
    contingency_note = models.TextField(blank=True, max_length=PLAN_TEXT_MAX_LENGTH)
    total_cost = money_field(default=Decimal("0"))
    # Set by the workflow when the plan is approved: the commitment it made in the ledger.
    approved_at = models.DateTimeField(null=True, blank=True)
    committed_amount = money_field(null=True, blank=True)
    # What has been paid against this plan's lines so far, kept by the payments app through
    # `careplans.services.plan_paid_record`: the commitment less this is what the plan still has
    # set aside, without this app reading payments' tables.
    paid_amount = money_field(default=Decimal("0"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["client", "status"]), models.Index(fields=["budget", "status"])]

    def __str__(self) -> str:
        return f"Care plan {self.pk} v{self.version} for {self.client}"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    # The workflow's edges. Each is called as `plan.<edge>(by=user, description=comment)` by its
    # service in `approvals.services`; `by` and `description` go to django-fsm-log's history.
    @fsm_log_by
    @fsm_log_description
    @transition(
        field=status,
        source=[PlanStatus.DRAFT, PlanStatus.CHANGES_REQUESTED],
        target=PlanStatus.SUBMITTED,
        permission=_may_submit,
    )
    def submit(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=PlanStatus.SUBMITTED, target=PlanStatus.IN_REVIEW, permission=_may_review)
    def start_review(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(
        field=status, source=list(DECIDING_STATUSES), target=PlanStatus.CHANGES_REQUESTED, permission=_may_review
    )
    def request_changes(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(
        field=status, source=PlanStatus.IN_REVIEW, target=PlanStatus.AWAITING_SENIOR_APPROVAL, permission=_may_review
    )
    def refer_to_senior(self, by=None, description=None):
        """An approval above the reviewer's delegated authority."""

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=list(DECIDING_STATUSES), target=PlanStatus.APPROVED, permission=_may_review)
    def approve(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=list(DECIDING_STATUSES), target=PlanStatus.REJECTED, permission=_may_review)
    def reject(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(
        field=status,
        source=[PlanStatus.DRAFT, PlanStatus.SUBMITTED, PlanStatus.CHANGES_REQUESTED],
        target=PlanStatus.WITHDRAWN,
        permission=_may_withdraw,
    )
    def withdraw(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=PlanStatus.APPROVED, target=PlanStatus.SUPERSEDED, permission=_may_review)
    def supersede(self, by=None, description=None):
        """The next version was approved: it is now the plan in force."""


class PlanOutcome(models.Model):
    plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="outcomes")
    text = models.CharField(max_length=OUTCOME_MAX_LENGTH)
    domain = models.CharField(max_length=30, choices=Outcome.choices, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text[:60]


class LineKind(models.TextChoices):
    WEEKLY = "weekly", "Every week"
    ONE_OFF = "one_off", "Once"


class PlanLine(models.Model):
    plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="lines")
    # Blank for an own arrangement (a personal assistant, a class, a taxi firm): the person typed its
    # description, unit and price, and it is bought with a direct payment.
    service = models.ForeignKey(
        "providers.ServiceOffering", on_delete=models.PROTECT, null=True, blank=True, related_name="plan_lines"
    )
    provider = models.ForeignKey(
        "providers.Provider", on_delete=models.PROTECT, null=True, blank=True, related_name="plan_lines"
    )
    money_management = models.CharField(
        max_length=30, choices=MoneyManagement.choices, default=MoneyManagement.COUNCIL_MANAGED
    )
    # Copied from the offering when the line is added (or typed, for an own arrangement): the
    # agreed terms never move.
    title = models.CharField(max_length=200)
    unit = models.CharField(max_length=10)
    unit_price = money_field()
    kind = models.CharField(max_length=10, choices=LineKind.choices)
    units_per_week = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    quantity = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    start = models.DateField()
    end = models.DateField()
    cost = money_field()
    position = models.PositiveIntegerField(default=0)
    # The line of the previous version this one was copied from: invoices against either count
    # against both, so a week is never billed once per version.
    copied_from = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="copies")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(name="line_end_not_before_start", condition=Q(end__gte=models.F("start"))),
            models.CheckConstraint(
                name="line_weekly_or_one_off",
                condition=(Q(kind=LineKind.WEEKLY) & Q(units_per_week__gt=0) & Q(quantity__isnull=True))
                | (Q(kind=LineKind.ONE_OFF) & Q(quantity__gt=0) & Q(units_per_week__isnull=True)),
            ),
            models.CheckConstraint(name="line_price_positive", condition=Q(unit_price__gt=0)),
            models.CheckConstraint(
                name="line_service_and_provider_together",
                condition=Q(service__isnull=True, provider__isnull=True)
                | Q(service__isnull=False, provider__isnull=False),
            ),
            models.CheckConstraint(
                name="line_own_arrangement_is_direct_payment",
                condition=Q(service__isnull=False) | Q(money_management=MoneyManagement.DIRECT_PAYMENT),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.cost})"

    @property
    def is_own_arrangement(self) -> bool:
        return self.service_id is None
