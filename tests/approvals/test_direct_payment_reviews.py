"""Direct payment reviews: due six months after the first load, then every twelve months, listed
with the statutory reviews and recorded with their outcome."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from accounts.exceptions import InvalidInput
from approvals import services as workflow
from approvals.models import StatutoryReview, StatutoryReviewKind
from careplans import services as plan_services
from tests.payments.invoice_fixtures import approve

DAY = datetime.timedelta(days=1)


def pa(start: datetime.date, days: int = 84) -> dict:
    return {
        "description": "Personal assistant",
        "unit": "hour",
        "unit_price": "14.50",
        "units_per_week": "10",
        "start": start,
        "end": start + (days - 1) * DAY,
        "money_management": "direct_payment",
    }


@pytest.fixture
def dp_plan(make_plan, client_user, budget, social_worker, checklist):
    start = budget.period_start + 10 * DAY
    plan = make_plan(client_user, budget, lines=[pa(start)], risks="Falls", contacts="My son")
    return approve(plan, submitter=client_user, reviewer=social_worker, checklist=checklist)


def dp_reviews(plan):
    return list(
        StatutoryReview.objects.filter(plan=plan, kind__startswith="dp").order_by("due").values_list("kind", "due")
    )


def test_a_plan_with_a_direct_payment_gets_its_first_review_six_months_after_the_first_load(dp_plan):
    first_load = dp_plan.lines.get().start  # later than the approval: the first period starts there
    assert dp_reviews(dp_plan) == [(StatutoryReviewKind.DP_FIRST, first_load + relativedelta(months=6))]


def test_a_council_managed_plan_gets_no_direct_payment_review(
    make_plan, client_user, budget, visits, social_worker, checklist
):
    start = budget.period_start
    line = {"service": visits.pk, "units_per_week": "2", "start": start, "end": start + 27 * DAY}
    plan = make_plan(client_user, budget, lines=[line], risks="Falls", contacts="My son")
    plan = approve(plan, submitter=client_user, reviewer=social_worker, checklist=checklist)
    assert dp_reviews(plan) == []
    assert StatutoryReview.objects.filter(plan=plan).count() == 2


def test_completing_it_needs_the_outcome_then_schedules_the_next_a_year_on(dp_plan, social_worker):
    review = StatutoryReview.objects.get(plan=dp_plan, kind=StatutoryReviewKind.DP_FIRST)

    with pytest.raises(InvalidInput) as refused:
        workflow.statutory_review_complete(actor=social_worker, review=review, outcome="  ")
    assert "outcome" in refused.value.as_dict()
    review.refresh_from_db()
    assert review.completed_at is None

    workflow.statutory_review_complete(actor=social_worker, review=review, outcome="Spending as planned; keep it.")

    review.refresh_from_db()
    assert review.outcome == "Spending as planned; keep it." and review.completed_at is not None
    assert (StatutoryReviewKind.DP_ANNUAL, timezone.localdate() + relativedelta(months=12)) in dp_reviews(dp_plan)


def test_a_statutory_review_still_schedules_its_own_next_one_while_a_dp_review_is_pending(dp_plan, social_worker):
    # The annual review fell due early (say it was moved): completing it must schedule the next.
    StatutoryReview.objects.filter(plan=dp_plan, kind="annual").update(due=timezone.localdate() - DAY)
    for review in StatutoryReview.objects.filter(plan=dp_plan, kind__in=["first", "annual"]).order_by("due"):
        workflow.statutory_review_complete(actor=social_worker, review=review)
    pending = StatutoryReview.objects.filter(plan=dp_plan, completed_at__isnull=True)
    assert set(pending.values_list("kind", flat=True)) == {StatutoryReviewKind.ANNUAL, StatutoryReviewKind.DP_FIRST}


def test_a_new_version_carries_the_pending_dp_review_on(dp_plan, client_user, social_worker, checklist):
    due = StatutoryReview.objects.get(plan=dp_plan, kind=StatutoryReviewKind.DP_FIRST).due
    new = plan_services.plan_new_version(actor=client_user, plan=dp_plan)
    new = approve(new, submitter=client_user, reviewer=social_worker, checklist=checklist)
    assert dp_reviews(new) == [(StatutoryReviewKind.DP_FIRST, due)]


def test_the_reviews_page_lists_it_and_records_the_outcome(web_as, dp_plan, social_worker):
    browser = web_as(social_worker)
    html = browser.get("/reviews/statutory/").content.decode()
    assert "First direct payment review" in html

    review = StatutoryReview.objects.get(plan=dp_plan, kind=StatutoryReviewKind.DP_FIRST)
    empty = browser.post(f"/reviews/statutory/{review.pk}/done/", {"outcome": ""}, follow=True)
    assert "Say what the review of the direct payment found and decided." in empty.content.decode()
    browser.post(f"/reviews/statutory/{review.pk}/done/", {"outcome": "All receipts in order."})
    review.refresh_from_db()
    assert review.outcome == "All receipts in order."
