"""Financial assessments: finance (or the client's social worker) records one through the API or
the page; it is worked out by the policy in force on its date and stored with its working; the
person sees how it was worked out (page and PDF letter) and can ask for a review, which finance
answers."""

import datetime
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from budgets.models import ChargingPolicy, ContributionReview, FinancialAssessment

pytestmark = pytest.mark.django_db


def gbp(value: str) -> dict:
    return {"amount": value, "currency": "GBP"}


BODY = {
    "band": "pension_age",
    "capital": gbp("15000.00"),
    "income": [
        {"kind": "state_pension", "weekly_amount": gbp("221.20")},
        {"kind": "attendance_allowance", "weekly_amount": gbp("72.65")},
        {"kind": "earnings", "weekly_amount": gbp("50.00")},
    ],
    "housing_costs": [{"description": "Council tax", "weekly_amount": gbp("10.00")}],
    "disability_related_expenditure": [
        {"description": "Extra heating", "weekly_amount": gbp("8.00")},
        {"description": "Special diet", "weekly_amount": gbp("5.00")},
    ],
}


def test_finance_records_an_assessment_and_it_is_worked_out_line_by_line(api_as, finance_user, client_user):
    response = api_as(finance_user).post(
        "/api/v1/financial-assessments/", {"client": client_user.pk, **BODY}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    # Counted: 221.20 + 72.65 (earnings disregarded) = 293.85; tariff: 750 above 14,250 = 3 steps = £3;
    # 293.85 + 3 − 10 − 8 − 5 − 228.70 (pension age MIG) = 45.15.
    assert body["weekly_contribution"] == gbp("45.15") and body["full_cost"] is False
    assert body["tariff_income"] == gbp("3.00") and body["minimum_income_guarantee"] == gbp("228.70")
    assert body["policy"] == ChargingPolicy.objects.get(is_example=True).pk
    assert any("Earnings" in line["text"] and "not counted" in line["text"] for line in body["explanation"])
    assert body["explanation"][-1]["amount"] == gbp("45.15")


def test_the_person_reads_it_asks_for_a_review_and_finance_answers(api_as, client, finance_user, client_user):
    aid = (
        api_as(finance_user)
        .post("/api/v1/financial-assessments/", {"client": client_user.pk, **BODY}, format="json")
        .json()["id"]
    )
    client.force_login(client_user)

    page = client.get(f"/financial-assessments/{aid}/").content.decode()
    assert "How your contribution was worked out" in page and "£45.15" in page and "Extra heating" in page
    letter = client.get(f"/financial-assessments/{aid}/letter.pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(letter.content)).pages)
    assert "£45.15 a week" in text and "Extra heating" in text

    empty = client.post(f"/financial-assessments/{aid}/", {"reason": ""})
    assert empty.status_code == 400 and not ContributionReview.objects.exists()
    client.post(f"/financial-assessments/{aid}/", {"reason": "My rent went up"})
    review = ContributionReview.objects.get()
    assert review.due == timezone.localdate() + datetime.timedelta(days=28)
    again = api_as(client_user).post(f"/api/v1/financial-assessments/{aid}/review/", {"reason": "Again"}, format="json")
    assert again.status_code == 409

    answered = api_as(finance_user).post(
        f"/api/v1/contribution-reviews/{review.pk}/complete/", {"outcome": "Checked: correct"}, format="json"
    )
    assert answered.status_code == 200 and answered.json()["status"] == "completed"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"band": "teenager"}, "band"),
        ({"capital": gbp("-1.00")}, "capital"),
        ({"income": [{"kind": "lottery", "weekly_amount": gbp("1.00")}]}, "income"),
        ({"date": str(timezone.localdate() + datetime.timedelta(days=1))}, "date"),
        ({"date": "2019-01-01"}, "date"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(api_as, finance_user, client_user, change, field):
    response = api_as(finance_user).post(
        "/api/v1/financial-assessments/", {"client": client_user.pk, **BODY, **change}, format="json"
    )
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not FinancialAssessment.objects.exists()


def test_who_may_record_and_see(api_as, client_user, social_worker, caseload, provider_user, finance_user):
    from tests import factories

    assert (
        api_as(client_user)
        .post("/api/v1/financial-assessments/", {"client": client_user.pk, **BODY}, format="json")
        .status_code
        == 403
    )
    assert (
        api_as(provider_user)
        .post("/api/v1/financial-assessments/", {"client": client_user.pk, **BODY}, format="json")
        .status_code
        == 404
    )
    stranger = factories.SocialWorkerFactory()
    assert (
        api_as(stranger)
        .post("/api/v1/financial-assessments/", {"client": client_user.pk, **BODY}, format="json")
        .status_code
        == 404
    )
    made = api_as(social_worker).post(
        "/api/v1/financial-assessments/", {"client": client_user.pk, **BODY}, format="json"
    )
    assert made.status_code == 201
    assert api_as(stranger).get(f"/api/v1/financial-assessments/{made.json()['id']}/").status_code == 404
    assert (
        api_as(factories.ClientFactory()).get(f"/api/v1/financial-assessments/{made.json()['id']}/").status_code == 404
    )
    assert (
        api_as(client_user).get(f"/api/v1/financial-assessments/?client={client_user.pk}").json()[0]["id"]
        == made.json()["id"]
    )


def test_an_administrator_adds_next_aprils_policy_and_it_applies_from_its_date(
    api_as, admin_person, finance_user, client_user
):
    april = timezone.localdate().replace(month=4, day=1) + datetime.timedelta(days=366)
    body = {
        "effective_from": str(april),
        "lower_capital_limit": gbp("14250.00"),
        "upper_capital_limit": gbp("23250.00"),
        "tariff_step": gbp("250.00"),
        "taper_percent": "100",
        "minimum_income_guarantee": {
            band: gbp("200.00")
            for band in [
                "18_to_24",
                "18_to_24_couple",
                "25_to_pension_age",
                "25_to_pension_age_couple",
                "pension_age",
                "pension_age_couple",
            ]
        },
        "disregarded_income": ["earnings"],
    }
    assert api_as(finance_user).post("/api/v1/charging-policies/", body, format="json").status_code == 403
    missing = {**body, "minimum_income_guarantee": {"pension_age": gbp("1.00")}}
    assert api_as(admin_person).post("/api/v1/charging-policies/", missing, format="json").status_code == 400
    created = api_as(admin_person).post("/api/v1/charging-policies/", body, format="json")
    assert created.status_code == 201, created.json()
    assert api_as(admin_person).post("/api/v1/charging-policies/", body, format="json").status_code == 400
    today = api_as(finance_user).post(
        "/api/v1/financial-assessments/", {"client": client_user.pk, **BODY}, format="json"
    )
    assert today.json()["policy"] != created.json()["id"]  # next April's does not apply yet
    assert Decimal(today.json()["minimum_income_guarantee"]["amount"]) == Decimal("228.70")


def test_review_times_are_open_data_with_small_months_suppressed(api, api_as, finance_user, client_user):
    from datetime import timedelta

    from budgets.models import ReviewStatus

    aid = (
        api_as(finance_user)
        .post("/api/v1/financial-assessments/", {"client": client_user.pk, **BODY}, format="json")
        .json()["id"]
    )
    assessment = FinancialAssessment.objects.get(pk=aid)
    now = timezone.now()
    for n in range(6):
        review = ContributionReview.objects.create(
            assessment=assessment, reason="x", requested_by=client_user, due=timezone.localdate() + timedelta(days=1)
        )
        ContributionReview.objects.filter(pk=review.pk).update(
            status=ReviewStatus.COMPLETED, completed_at=now, requested_at=now - timedelta(days=n)
        )
    body = api.get("/api/v1/stats/contribution-reviews/").json()
    [row] = body["results"]
    assert row["answered"] == 6 and row["median_days"] == 2.5 and row["on_time_percent"] == 100
    assert row["suppressed"] is False
    ContributionReview.objects.filter(pk__in=list(ContributionReview.objects.values_list("pk", flat=True))[:2]).delete()
    assert api.get("/api/v1/stats/contribution-reviews/").json()["results"][0]["answered"] is None
    assert api.get("/api/v1/stats/contribution-reviews/?format=csv").content.startswith(b"month,answered")
