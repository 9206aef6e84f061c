"""Admin for the budget configuration: RAS schemes (editable only while draft), the budget policy,
charging policies (editable until an assessment uses one), and read-only views of assessments,
financial assessments, budgets and the ledger."""

from decimal import Decimal

from django import forms
from django.contrib import admin

from accounts.admin import AuditedAdmin
from accounts.admin_base import ReadOnlyAdmin
from accounts.admin_widgets import LabelledWidgetsMixin

from .models import (
    Assessment,
    Band,
    BudgetPolicy,
    ChargingPolicy,
    ContributionReview,
    FinancialAssessment,
    IncomeKind,
    LedgerAccount,
    LedgerPosting,
    LedgerTransaction,
    PersonalBudget,
    RasAnswer,
    RasBand,
    RasModifier,
    RasQuestion,
    RasScheme,
    ReassessmentRun,
    SchemeStatus,
    WhatIfRun,
)


class _DraftOnly:
    """Inlines and pages that may change a scheme only while it is a draft."""

    def _editable(self, obj) -> bool:
        scheme = obj if isinstance(obj, RasScheme) else getattr(obj, "scheme", None)
        return scheme is None or scheme.status == SchemeStatus.DRAFT

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._editable(obj)

    def has_add_permission(self, request, obj=None):
        # ModelAdmin asks without an object; inlines ask with the parent.
        allowed = (
            super().has_add_permission(request, obj)
            if isinstance(self, admin.options.InlineModelAdmin)
            else (super().has_add_permission(request))
        )
        return allowed and self._editable(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._editable(obj)


class BandInline(_DraftOnly, LabelledWidgetsMixin, admin.TabularInline):
    model = RasBand
    extra = 0


class ModifierInline(_DraftOnly, LabelledWidgetsMixin, admin.TabularInline):
    model = RasModifier
    extra = 0


class QuestionInline(_DraftOnly, LabelledWidgetsMixin, admin.TabularInline):
    model = RasQuestion
    extra = 0
    fields = ["position", "code", "domain", "text"]
    show_change_link = True


@admin.register(RasScheme)
class RasSchemeAdmin(_DraftOnly, LabelledWidgetsMixin, AuditedAdmin):
    list_display = ["name", "version", "status", "effective_from", "is_example"]
    list_filter = ["status"]
    readonly_fields = ["status", "content_digest", "published_at", "created_by"]
    inlines = [BandInline, ModifierInline, QuestionInline]
    actions = ["publish_selected"]

    @admin.action(description="Publish the selected draft schemes (they can then never change)")
    def publish_selected(self, request, queryset):
        from .services.schemes import scheme_publish

        for scheme in queryset.filter(status=SchemeStatus.DRAFT):
            scheme_publish(actor=request.user, scheme=scheme)


class AnswerInline(_DraftOnly, LabelledWidgetsMixin, admin.TabularInline):
    model = RasAnswer
    extra = 0

    def _editable(self, obj):
        return obj is None or obj.scheme.status == SchemeStatus.DRAFT


@admin.register(RasQuestion)
class RasQuestionAdmin(_DraftOnly, LabelledWidgetsMixin, AuditedAdmin):
    list_display = ["code", "scheme", "domain", "text"]
    list_filter = ["scheme", "domain"]
    inlines = [AnswerInline]


@admin.register(BudgetPolicy)
class BudgetPolicyAdmin(LabelledWidgetsMixin, AuditedAdmin):
    list_display = ["__str__", "contingency_percent", "period_months", "reclaim_buffer_weeks"]

    def has_add_permission(self, request):
        return not BudgetPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdmin):
    list_display = ["id", "client", "assessor", "status", "eligible", "indicative_budget", "created_at"]
    list_filter = ["status", "eligible"]
    search_fields = ["client__full_name", "client__username"]


@admin.register(PersonalBudget)
class PersonalBudgetAdmin(ReadOnlyAdmin):
    list_display = ["id", "client", "period_start", "period_end", "indicative_amount", "final_amount"]
    search_fields = ["client__full_name", "client__username"]


class PostingInline(admin.TabularInline):
    model = LedgerPosting
    extra = 0
    can_delete = False
    readonly_fields = ["account", "amount"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "budget", "memo", "created_at"]
    list_filter = ["kind"]
    inlines = [PostingInline]


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "kind", "balance"]
    search_fields = ["code"]


@admin.register(WhatIfRun)
class WhatIfRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "scheme", "status", "done", "total", "created_at"]
    # The CSV is private (no media URL serves it): link to the page that checks who asks.
    exclude = ["csv_file"]
    readonly_fields = ["csv_download"]

    @admin.display(description="Every client's figures (CSV)")
    def csv_download(self, obj):
        from django.urls import reverse
        from django.utils.html import format_html

        if obj is None or not obj.csv_file:
            return "None yet"
        return format_html('<a href="{}">Download the CSV</a>', reverse("whatif-csv", args=[obj.pk]))


class ChargingPolicyForm(forms.ModelForm):
    """The same checks as the API: every band has a Minimum Income Guarantee, every disregarded kind
    is known."""

    class Meta:
        model = ChargingPolicy
        fields = [
            "name",
            "effective_from",
            "lower_capital_limit",
            "upper_capital_limit",
            "tariff_step",
            "taper_percent",
            "minimum_income_guarantee",
            "disregarded_income",
            "review_days",
        ]

    def clean_minimum_income_guarantee(self):
        value = self.cleaned_data["minimum_income_guarantee"]
        if not isinstance(value, dict) or set(value) != set(Band.values):
            raise forms.ValidationError(f"Give an amount for exactly these bands: {', '.join(Band.values)}.")
        try:
            amounts = {band: Decimal(str(amount)) for band, amount in value.items()}
        except ArithmeticError as exc:
            raise forms.ValidationError('Each amount must be pounds and pence, like "228.70".') from exc
        if any(not a.is_finite() or a < 0 or a != a.quantize(Decimal("0.01")) for a in amounts.values()):
            raise forms.ValidationError("Each amount must be pounds and pence, £0 or more.")
        return {band: f"{amount:.2f}" for band, amount in amounts.items()}

    def clean_disregarded_income(self):
        value = self.cleaned_data["disregarded_income"] or []
        if not isinstance(value, list) or not set(value) <= set(IncomeKind.values):
            raise forms.ValidationError(f"Use only these income kinds: {', '.join(IncomeKind.values)}.")
        return sorted(set(value))


@admin.register(ChargingPolicy)
class ChargingPolicyAdmin(LabelledWidgetsMixin, AuditedAdmin):
    """Add next April's policy ahead of time; a policy already used by an assessment is shown only
    (what people were told must stay explainable)."""

    form = ChargingPolicyForm
    list_display = ["name", "effective_from", "is_example"]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.assessments.exists():
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.assessments.exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(FinancialAssessment)
class FinancialAssessmentAdmin(ReadOnlyAdmin):
    list_display = ["client", "date", "full_cost", "weekly_contribution", "policy"]
    list_select_related = ["client", "policy"]


@admin.register(ContributionReview)
class ContributionReviewAdmin(ReadOnlyAdmin):
    list_display = ["assessment", "status", "due", "requested_at"]


@admin.register(ReassessmentRun)
class ReassessmentRunAdmin(ReadOnlyAdmin):
    """Runs are started and confirmed on the reassessments page (finance, administrators)."""

    list_display = ["id", "policy", "status", "done", "total", "created_at", "confirmed_at"]
    list_filter = ["status"]
    list_select_related = ["policy"]
