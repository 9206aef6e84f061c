"""The public "Open data" page: every dataset and API Cairn publishes with no login, and its licence.

It sits with the Open Referral UK directory because it is the catalogue of everything published
openly, and `marketplace/` is the one app that may link every other app's statistics
(docs/open-data.md)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.generic import TemplateView

from accounts.throttles import throttle_public_page
from payments.transparency import last_full_quarter

LICENCE_NAME = "Open Government Licence v3.0"
LICENCE_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    page_url: str | None
    api_url: str
    formats: str


def datasets() -> list[Dataset]:
    return [
        Dataset(
            "Service directory (Open Referral UK)",
            "Verified providers and the support they offer: prices, postcode districts served, kind of support, "
            "CQC rating and client rating, in the Open Referral UK standard that council directories use.",
            None,
            reverse("oruk-root"),
            "JSON (Open Referral UK 3.0)",
        ),
        Dataset(
            "Payments over £500 to organisations",
            "Each payment of more than £500 to a provider or other organisation, by quarter, as the Local "
            "Government Transparency Code asks. Payments to people are never listed.",
            reverse("stats-transparency-spend"),
            f"{reverse('api-stats-transparency-spend')}?quarter={last_full_quarter()}",
            "JSON, CSV",
        ),
        Dataset(
            "Where the money goes",
            "Money paid to providers from personal budgets, by kind of support and month.",
            reverse("stats-spend"),
            reverse("api-stats-spend"),
            "JSON, CSV",
        ),
        Dataset(
            "How long care plan approval takes",
            "How long each stage of approving a care plan takes, by month.",
            reverse("stats-approval-times"),
            reverse("api-stats-approval-times"),
            "JSON, CSV",
        ),
        Dataset(
            "How long contribution reviews take",
            "How long the council takes to answer a request to review what someone pays towards their care, by month.",
            None,
            reverse("api-stats-contribution-reviews"),
            "JSON, CSV",
        ),
    ]


@method_decorator(throttle_public_page, name="dispatch")
class OpenDataPageView(TemplateView):
    """Public: the list of open datasets, each with its page, its API address and the licence."""

    template_name = "marketplace/open_data.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            datasets=datasets(),
            licence_name=LICENCE_NAME,
            licence_url=LICENCE_URL,
            site=self.request.build_absolute_uri("/").rstrip("/"),
        )
        return context
