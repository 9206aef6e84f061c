"""The service catalogue pages: search and filter, a provider's page, and side-by-side comparison.

They sit in the top app (docs/architecture.md) because ratings, reviews and plan building — all higher-level
concerns — will be added to them; the queries themselves are `providers.selectors`.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.views.generic import ListView, TemplateView

from accounts.exceptions import NotVisible
from accounts.pagination import CappedCountPaginator, beyond_cap_message
from marketplace import selectors as selectors_reviews
from marketplace.permissions import can_review_provider
from marketplace.services import rating_policy
from providers.models import ProviderStatus, RegulatorRating, ServiceCategory
from providers.selectors import ORDERINGS, catalogue_services, provider_get_for, services_compare

SORTS = [
    ("title", "Name (A to Z)"),
    ("price", "Price (lowest first)"),
    ("-price", "Price (highest first)"),
    ("-rating", "Rating (highest first)"),
    ("-review_count", "Number of reviews"),
]


class CatalogueForm(forms.Form):
    q = forms.CharField(
        label="Search", required=False, max_length=100, help_text="For example, respite or a provider's name"
    )
    category = forms.ChoiceField(
        label="Type of support", required=False, choices=[("", "Any"), *ServiceCategory.choices]
    )
    postcode_district = forms.CharField(
        label="Postcode district", required=False, max_length=4, help_text="The first part of a postcode, like NF1"
    )
    max_price = forms.DecimalField(
        label="Highest price per unit, in pounds",
        required=False,
        min_value=Decimal("0"),
        max_digits=10,
        decimal_places=2,
        error_messages={"invalid": "Enter a price, like 25 or 25.50", "min_value": "Enter a price of £0 or more"},
    )
    regulator_rating = forms.ChoiceField(
        label="CQC rating", required=False, choices=[("", "Any"), *RegulatorRating.choices]
    )
    min_rating = forms.DecimalField(
        label="Lowest rating by people who use it",
        help_text="From 1 to 5, for example 4 or 3.5",
        required=False,
        min_value=Decimal("1"),
        max_value=Decimal("5"),
        max_digits=3,
        decimal_places=2,
        error_messages={
            "invalid": "Enter a rating from 1 to 5, like 4 or 3.5",
            "min_value": "Enter a rating from 1 to 5",
            "max_value": "Enter a rating from 1 to 5",
        },
    )
    ordering = forms.ChoiceField(label="Sort by", required=False, choices=SORTS)


class CatalogueView(LoginRequiredMixin, ListView):
    """The catalogue search page. Its count stops at 1,000 ("more than 1,000 services"), and so do
    its pages, as in the API (accounts/pagination.py)."""

    template_name = "marketplace/catalogue.html"
    paginate_by = 20
    paginator_class = CappedCountPaginator

    def get_queryset(self):
        self.form = CatalogueForm(self.request.GET or None)
        if self.request.GET and not self.form.is_valid():
            return catalogue_services().none()
        data = self.form.cleaned_data if self.request.GET else {}
        ordering = data.get("ordering") or "title"
        return catalogue_services(
            q=data.get("q", ""),
            category=data.get("category", ""),
            postcode_district=data.get("postcode_district", ""),
            max_price=data.get("max_price"),
            regulator_rating=data.get("regulator_rating", ""),
            min_rating=data.get("min_rating"),
            ordering=ordering if ordering in ORDERINGS else "title",
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(form=self.form, query=query.urlencode())
        paginator = context["paginator"]
        if paginator is not None and paginator.capped:
            context.update(more_than=f"{paginator.cap:,}", beyond_cap=beyond_cap_message(paginator.cap))
        return context


class ProviderPageView(LoginRequiredMixin, TemplateView):
    """A provider's page: who they are, their regulator rating beside the client rating, the
    areas they serve and their services."""

    template_name = "marketplace/provider.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            provider = provider_get_for(self.request.user, kwargs["pk"])
        except NotVisible as exc:
            raise Http404(exc.message) from exc
        services = (
            catalogue_services(provider=provider)
            if provider.status == ProviderStatus.VERIFIED
            else provider.services.filter(retired_at__isnull=True).select_related("provider").order_by("title")
        )
        user = self.request.user
        reviews = list(selectors_reviews.provider_reviews_for(user, provider)[:10])
        context.update(
            provider=provider,
            services=services,
            summary=selectors_reviews.rating_summary(provider),
            reviews=reviews,
            can_review=can_review_provider(user, provider),
            review_again=selectors_reviews.review_again_from(user, provider, rating_policy()),
            can_answer=user.provider_id == provider.pk,
        )
        return context


class CompareView(LoginRequiredMixin, TemplateView):
    """Up to three services side by side (`?service=1&service=2`)."""

    template_name = "marketplace/compare.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ids = [int(v) for v in self.request.GET.getlist("service") if v.isdigit()]
        context["services"] = services_compare(self.request.user, ids)
        context["too_many"] = len(set(ids)) > 3
        return context
