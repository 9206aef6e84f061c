"""Overdue reviews escalated to the team manager (once), the scheduled job that does it, and the
statutory reviews an approval schedules."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from accounts.models import AuditAction, AuditEvent, Notification
from approvals import services
from approvals.models import PlanReview, StatutoryReview, StatutoryReviewKind, WorkflowPolicy
from approvals.tasks import escalate_overdue_reviews
from careplans.models import CarePlan, PlanStatus
from marketplace.schedule import BEAT_SCHEDULE
from tests import factories

pytestmark = pytest.mark.django_db

ESCALATION_TASK = "approvals.escalate_overdue_reviews"


def _open_review(plan) -> PlanReview:
    return PlanReview.objects.get(plan=plan, decided_at__isnull=True)


def _escalation_audits(plan):
    return AuditEvent.objects.filter(action=AuditAction.UPDATE, target_id=str(plan.pk), actor_username="escalation job")


@pytest.fixture
def submitted_plan(client_user, draft_plan):
    return services.plan_submit(actor=client_user, plan=draft_plan)


@pytest.fixture
def in_review_plan(social_worker, submitted_plan):
    return services.plan_start_review(actor=social_worker, plan=submitted_plan)


@pytest.fixture
def approved_plan(social_worker, in_review_plan, checklist):
    return services.plan_approve(actor=social_worker, plan=in_review_plan, checklist=checklist)


# --- escalation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("plan_fixture", ["submitted_plan", "in_review_plan"])
def test_an_overdue_open_review_is_escalated_to_the_team_manager_once(request, plan_fixture, team_manager):
    plan = request.getfixturevalue(plan_fixture)
    review = _open_review(plan)
    day_after_due = review.due + datetime.timedelta(days=1)
    taylor_before = Notification.objects.filter(recipient=team_manager).count()

    first = services.reviews_escalate_overdue(today=day_after_due)
    review.refresh_from_db()
    escalated_at = review.escalated_at
    second = services.reviews_escalate_overdue(today=day_after_due + datetime.timedelta(days=5))

    assert (first, second) == (1, 0)
    review.refresh_from_db()
    assert review.escalated_at is not None and review.escalated_at == escalated_at
    assert review.escalated_to == team_manager
    assert review.decided_at is None  # escalation does not decide anything
    notes = Notification.objects.filter(recipient=team_manager)
    assert notes.count() == taylor_before + 1
    note = notes.first()
    assert note.target == plan
    assert "overdue" in note.message and "Ruth Ellis" in note.message
    assert f"{review.due:%-d %B %Y}" in note.message
    audits = _escalation_audits(plan)
    assert audits.count() == 1
    assert audits.get().changes["review_due"] == review.due.isoformat()
    assert audits.get().actor is None


def test_escalation_notifies_only_the_team_manager(submitted_plan, client_user, social_worker):
    review = _open_review(submitted_plan)
    others_before = Notification.objects.filter(recipient__in=[client_user, social_worker]).count()

    services.reviews_escalate_overdue(today=review.due + datetime.timedelta(days=1))

    assert Notification.objects.filter(recipient__in=[client_user, social_worker]).count() == others_before


def test_a_review_due_today_is_not_overdue_and_not_escalated(submitted_plan, team_manager):
    review = _open_review(submitted_plan)

    assert services.reviews_escalate_overdue(today=review.due) == 0
    assert services.reviews_escalate_overdue(today=review.due - datetime.timedelta(days=3)) == 0

    review.refresh_from_db()
    assert review.escalated_at is None and review.escalated_to is None
    assert not Notification.objects.filter(recipient=team_manager).exists()
    assert not _escalation_audits(submitted_plan).exists()


def _approve(plan, actor, checklist):
    return services.plan_approve(actor=actor, plan=plan, checklist=checklist)


def _reject(plan, actor, checklist):
    return services.plan_reject(actor=actor, plan=plan, comment="Not the right support.")


def _request_changes(plan, actor, checklist):
    return services.plan_request_changes(actor=actor, plan=plan, comment="Add a second visit.")


@pytest.mark.parametrize("decide", [_approve, _reject, _request_changes], ids=["approved", "rejected", "changes"])
def test_a_decided_review_is_never_escalated(decide, in_review_plan, social_worker, team_manager, checklist):
    review = _open_review(in_review_plan)
    decide(in_review_plan, social_worker, checklist)

    assert services.reviews_escalate_overdue(today=review.due + datetime.timedelta(days=30)) == 0

    review.refresh_from_db()
    assert review.decided_at is not None
    assert review.escalated_at is None
    assert not Notification.objects.filter(recipient=team_manager, message__contains="overdue").exists()
    assert not _escalation_audits(in_review_plan).exists()


def test_a_withdrawn_plans_review_is_never_escalated(submitted_plan, client_user, team_manager):
    review = _open_review(submitted_plan)
    services.plan_withdraw(actor=client_user, plan=submitted_plan)

    assert services.reviews_escalate_overdue(today=review.due + datetime.timedelta(days=30)) == 0

    review.refresh_from_db()
    assert review.outcome == "withdrawn" and review.escalated_at is None


def test_only_the_overdue_reviews_among_several_are_escalated(
    make_plan_alongside, client_user, budget, visits, team_manager
):
    start = budget.period_start
    line = {"service": visits.pk, "units_per_week": "1", "start": start, "end": start + datetime.timedelta(6)}
    plans = [make_plan_alongside(client_user, budget, lines=[line]) for _ in range(3)]
    for plan in plans:
        services.plan_submit(actor=client_user, plan=plan)
    today = datetime.date(2030, 6, 12)
    dues = [today - datetime.timedelta(days=2), today - datetime.timedelta(days=1), today]
    for plan, due in zip(plans, dues, strict=True):
        PlanReview.objects.filter(plan=plan).update(due=due)

    assert services.reviews_escalate_overdue(today=today) == 2

    escalated = set(PlanReview.objects.filter(escalated_at__isnull=False).values_list("plan_id", flat=True))
    assert escalated == {plans[0].pk, plans[1].pk}
    assert Notification.objects.filter(recipient=team_manager, message__contains="overdue").count() == 2


def test_the_celery_task_escalates_overdue_reviews(submitted_plan, team_manager):
    PlanReview.objects.filter(plan=submitted_plan).update(due=timezone.localdate() - datetime.timedelta(days=1))

    assert escalate_overdue_reviews.delay().get() == 1
    assert escalate_overdue_reviews.delay().get() == 0

    review = PlanReview.objects.get(plan=submitted_plan)
    assert review.escalated_to == team_manager


def test_the_beat_schedule_runs_the_escalation_task_on_working_days(settings):
    from marketplace.celery import app

    assert escalate_overdue_reviews.name == ESCALATION_TASK
    entries = [entry for entry in BEAT_SCHEDULE.values() if entry["task"] == ESCALATION_TASK]
    assert len(entries) == 1
    assert entries[0]["schedule"].day_of_week == {1, 2, 3, 4, 5}
    assert settings.CELERY_BEAT_SCHEDULE["escalate-overdue-reviews"]["task"] == ESCALATION_TASK
    assert ESCALATION_TASK in app.tasks


# --- statutory reviews --------------------------------------------------------------------------


def test_approval_schedules_a_first_review_after_8_weeks_and_an_annual_review_after_12_months(approved_plan):
    approved_on = timezone.localdate(approved_plan.approved_at)

    reviews = {r.kind: r for r in StatutoryReview.objects.filter(plan=approved_plan)}

    assert set(reviews) == {StatutoryReviewKind.FIRST, StatutoryReviewKind.ANNUAL}
    assert reviews[StatutoryReviewKind.FIRST].due == approved_on + datetime.timedelta(days=56)
    assert reviews[StatutoryReviewKind.ANNUAL].due == approved_on + relativedelta(years=1)
    assert all(r.completed_at is None for r in reviews.values())


def test_the_statutory_review_schedule_follows_the_workflow_policy(social_worker, in_review_plan, checklist):
    WorkflowPolicy.objects.update_or_create(pk=1, defaults={"first_review_weeks": 6, "review_interval_months": 6})

    plan = services.plan_approve(actor=social_worker, plan=in_review_plan, checklist=checklist)

    approved_on = timezone.localdate(plan.approved_at)
    reviews = {r.kind: r.due for r in StatutoryReview.objects.filter(plan=plan)}
    assert reviews == {
        StatutoryReviewKind.FIRST: approved_on + datetime.timedelta(weeks=6),
        StatutoryReviewKind.ANNUAL: approved_on + relativedelta(months=6),
    }


@pytest.mark.parametrize("decide", [_reject, _request_changes], ids=["rejected", "changes"])
def test_no_statutory_reviews_without_an_approval(decide, in_review_plan, social_worker, checklist):
    decide(in_review_plan, social_worker, checklist)

    assert not StatutoryReview.objects.filter(plan=in_review_plan).exists()


@pytest.mark.parametrize("who", ["social_worker", "team_manager"])
def test_the_statutory_reviews_page_lists_the_plans_reviews_for_sam_and_taylor(request, who, web_as, approved_plan):
    user = request.getfixturevalue(who)

    response = web_as(user).get("/reviews/statutory/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Ruth Ellis" in html
    assert "First review" in html and "Annual review" in html
    for review in StatutoryReview.objects.filter(plan=approved_plan):
        assert f"/reviews/statutory/{review.pk}/done/" in html


def test_another_social_worker_neither_sees_nor_can_mark_ruths_statutory_reviews(web_as, approved_plan):
    other = factories.SocialWorkerFactory(full_name="Jo Other")
    first = StatutoryReview.objects.get(plan=approved_plan, kind=StatutoryReviewKind.FIRST)
    web = web_as(other)

    page = web.get("/reviews/statutory/")
    response = web.post(f"/reviews/statutory/{first.pk}/done/")

    assert page.status_code == 200
    assert "Ruth Ellis" not in page.content.decode()
    assert "No statutory reviews are due." in page.content.decode()
    assert response.status_code == 404
    first.refresh_from_db()
    assert first.completed_at is None
    assert StatutoryReview.objects.filter(plan=approved_plan).count() == 2


def test_another_team_manager_does_not_see_ruths_statutory_reviews(web_as, approved_plan):
    other = factories.TeamManagerFactory(full_name="Morgan Elsewhere")
    factories.TeamFactory(manager=other, members=[factories.SocialWorkerFactory()])

    page = web_as(other).get("/reviews/statutory/")

    assert page.status_code == 200 and "Ruth Ellis" not in page.content.decode()


@pytest.mark.parametrize("who", ["client_user", "provider_user", "finance_user", "case_manager"])
def test_people_who_do_not_review_get_403_on_the_statutory_reviews_pages(request, who, web_as, approved_plan):
    user = request.getfixturevalue(who)
    first = StatutoryReview.objects.get(plan=approved_plan, kind=StatutoryReviewKind.FIRST)
    web = web_as(user)

    assert web.get("/reviews/statutory/").status_code == 403
    assert web.post(f"/reviews/statutory/{first.pk}/done/").status_code == 403
    first.refresh_from_db()
    assert first.completed_at is None


def test_statutory_reviews_need_a_login(client, approved_plan):
    response = client.get("/reviews/statutory/")

    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in/?next=/reviews/statutory/"


def _a_year_on(plan):
    """As if the plan was approved a year ago and its first review was done: the annual review is
    due today."""
    today = timezone.localdate()
    StatutoryReview.objects.filter(plan=plan, kind=StatutoryReviewKind.FIRST).update(
        due=today - relativedelta(years=1) + datetime.timedelta(weeks=8),
        completed_at=timezone.now() - relativedelta(years=1) + datetime.timedelta(weeks=8),
    )
    StatutoryReview.objects.filter(plan=plan, kind=StatutoryReviewKind.ANNUAL).update(due=today)
    return StatutoryReview.objects.get(plan=plan, kind=StatutoryReviewKind.ANNUAL)


@pytest.mark.parametrize("who", ["social_worker", "team_manager"])
def test_marking_a_statutory_review_done_records_it_and_schedules_the_next_annual_review(
    request, who, web_as, approved_plan
):
    user = request.getfixturevalue(who)
    annual = _a_year_on(approved_plan)
    audits_before = AuditEvent.objects.filter(target_id=str(approved_plan.pk), action=AuditAction.UPDATE).count()

    response = web_as(user).post(f"/reviews/statutory/{annual.pk}/done/", follow=True)

    assert response.redirect_chain == [("/reviews/statutory/", 302)]
    assert "The review with Ruth Ellis is recorded as done." in response.content.decode()
    annual.refresh_from_db()
    assert annual.completed_at is not None
    done_on = timezone.localdate(annual.completed_at)
    upcoming = StatutoryReview.objects.filter(plan=approved_plan, completed_at__isnull=True)
    assert list(upcoming.values_list("kind", "due")) == [(StatutoryReviewKind.ANNUAL, done_on + relativedelta(years=1))]
    audits = AuditEvent.objects.filter(target_id=str(approved_plan.pk), action=AuditAction.UPDATE)
    assert audits.count() == audits_before + 1
    assert audits.first().changes == {"statutory_review": "annual", "due": annual.due.isoformat(), "done": True}
    assert audits.first().actor == user
    # The done review leaves the list; the next one is in it.
    html = response.content.decode()
    assert f"/reviews/statutory/{annual.pk}/done/" not in html
    assert f"/reviews/statutory/{upcoming.get().pk}/done/" in html


def test_the_next_annual_review_follows_the_policy_interval(social_worker, approved_plan):
    WorkflowPolicy.objects.update_or_create(pk=1, defaults={"review_interval_months": 6})
    annual = _a_year_on(approved_plan)

    services.statutory_review_complete(actor=social_worker, review=annual)

    annual.refresh_from_db()
    upcoming = StatutoryReview.objects.get(plan=approved_plan, completed_at__isnull=True)
    assert upcoming.kind == StatutoryReviewKind.ANNUAL
    assert upcoming.due == timezone.localdate(annual.completed_at) + relativedelta(months=6)


def test_marking_a_statutory_review_done_twice_shows_an_error_and_creates_nothing(web_as, social_worker, approved_plan):
    annual = _a_year_on(approved_plan)
    web = web_as(social_worker)
    web.post(f"/reviews/statutory/{annual.pk}/done/", follow=True)  # shows (and uses up) the success message
    annual.refresh_from_db()
    completed_at = annual.completed_at
    rows_before = StatutoryReview.objects.count()
    audits_before = AuditEvent.objects.count()

    response = web.post(f"/reviews/statutory/{annual.pk}/done/", follow=True)

    assert response.status_code == 200
    assert "This review is already recorded as done." in response.content.decode()
    assert "is recorded as done" not in response.content.decode()
    annual.refresh_from_db()
    assert annual.completed_at == completed_at
    assert StatutoryReview.objects.count() == rows_before
    assert AuditEvent.objects.count() == audits_before


def test_completing_a_statutory_review_twice_through_the_service_is_a_state_conflict(social_worker, approved_plan):
    from accounts.exceptions import StateConflict

    first = StatutoryReview.objects.get(plan=approved_plan, kind=StatutoryReviewKind.FIRST)
    services.statutory_review_complete(actor=social_worker, review=first)
    rows_before = StatutoryReview.objects.count()

    with pytest.raises(StateConflict):
        services.statutory_review_complete(actor=social_worker, review=first)

    assert StatutoryReview.objects.count() == rows_before


def test_statutory_reviews_of_a_plan_no_longer_approved_are_not_listed(web_as, social_worker, approved_plan):
    CarePlan.objects.filter(pk=approved_plan.pk).update(status=PlanStatus.SUPERSEDED)

    html = web_as(social_worker).get("/reviews/statutory/").content.decode()

    assert "Ruth Ellis" not in html


def test_after_the_first_review_is_done_only_one_annual_review_is_outstanding(web_as, social_worker, approved_plan):
    # As if the plan was approved 8 weeks ago and the first review happens today, when it is due.
    today = timezone.localdate()
    approved_on = today - datetime.timedelta(weeks=8)
    StatutoryReview.objects.filter(plan=approved_plan, kind=StatutoryReviewKind.FIRST).update(due=today)
    StatutoryReview.objects.filter(plan=approved_plan, kind=StatutoryReviewKind.ANNUAL).update(
        due=approved_on + relativedelta(years=1)
    )
    first = StatutoryReview.objects.get(plan=approved_plan, kind=StatutoryReviewKind.FIRST)

    web_as(social_worker).post(f"/reviews/statutory/{first.pk}/done/")

    first.refresh_from_db()
    assert first.completed_at is not None
    outstanding = StatutoryReview.objects.filter(plan=approved_plan, completed_at__isnull=True)
    assert list(outstanding.values_list("kind", "due")) == [
        (StatutoryReviewKind.ANNUAL, approved_on + relativedelta(years=1))
    ]
