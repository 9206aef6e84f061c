"""RAS schemes: the Care Act outcomes their questions are grouped by, and one scheme version with
its questions, answers, modifiers and price bands.

A published version is frozen (its `status` FSM has no way back to draft), so an assessment priced
with it can always be re-checked against `content_digest`. The outcome and reason choices live here
because a scheme's questions and answers are what they classify; the pricing engine (`budgets.ras`)
and care plans import them from `budgets.models`.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from accounts.money import money_field


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
