"""Workflow pages: the review queue, the review page and its full-page forms, the plan page's
actions and history, notifications, and the public statistics page."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_fsm_log.models import StateLog
from djmoney.money import Money

from accounts.models import Notification, Role
from approvals import services
from approvals.models import ApprovalAuthority, PlanReview, ReviewOutcome, WorkflowPolicy
from budgets.models import LedgerTransaction, TransactionKind
from budgets.services import ledger
from careplans.models import CarePlan, PlanStatus
from tests import factories

pytestmark = pytest.mark.django_db

CHECKBOXES = ["outcomes", "costs", "risks", "management", "contacts"]
NOT_REVIEWERS = ["client_user", "provider_user", "finance_user", "case_manager"]


def _status(plan) -> str:
    return CarePlan.objects.get(pk=plan.pk).status


def _logs(plan) -> int:
    return StateLog.objects.for_(plan).count()


def _html(response) -> str:
    return response.content.decode()


@pytest.fixture
def submitted_plan(client_user, draft_plan):
    return services.plan_submit(actor=client_user, plan=draft_plan)


@pytest.fixture
def in_review_plan(social_worker, submitted_plan):
    return services.plan_start_review(actor=social_worker, plan=submitted_plan)


@pytest.fixture
def client_on_caseload(make_budget, make_plan, visits, social_worker, team):
    """`client_on_caseload(name)`: a new client on Sam's caseload with a submitted plan."""

    def make(name):
        person = factories.ClientFactory(full_name=name)
        factories.CaseloadAssignmentFactory(social_worker=social_worker, client=person)
        budget = make_budget(person, "5000.00")
        start = budget.period_start
        plan = make_plan(
            person,
            budget,
            lines=[{"service": visits.pk, "units_per_week": "1", "start": start, "end": start + datetime.timedelta(6)}],
        )
        return services.plan_submit(actor=person, plan=plan)

    return make


# --- the review queue ---------------------------------------------------------------------------


def _queue_rows(html: str) -> list[str]:
    body = html.split('<tbody class="govuk-table__body">', 1)[1].split("</tbody>", 1)[0]
    return [row for row in body.split('<tr class="govuk-table__row">')[1:]]


@pytest.fixture
def three_waiting(client_on_caseload, social_worker):
    """Three plans waiting, created in an order that is neither due order nor name order."""
    today = timezone.localdate()
    later = client_on_caseload("Cat Later")
    early = client_on_caseload("Ann Early")
    middle = client_on_caseload("Ben Middle")
    services.plan_start_review(actor=social_worker, plan=middle)
    for plan, due in [(later, today + datetime.timedelta(5)), (early, today - datetime.timedelta(2)), (middle, today)]:
        PlanReview.objects.filter(plan=plan).update(due=due)
    return early, middle, later


def test_the_queue_lists_sams_open_reviews_soonest_due_first_with_overdue_tagged(
    web_as, social_worker, three_waiting, client_on_caseload, checklist, make_budget, make_plan, visits
):
    early, middle, later = three_waiting
    decided = client_on_caseload("Dan Decided")
    services.plan_start_review(actor=social_worker, plan=decided)
    services.plan_approve(actor=social_worker, plan=decided, checklist=checklist)
    stranger = factories.ClientFactory(full_name="Eve Elsewhere")
    factories.CaseloadAssignmentFactory(client=stranger)  # another social worker's client
    budget = make_budget(stranger, "5000.00")
    line = {"service": visits.pk, "units_per_week": "1", "start": budget.period_start, "end": budget.period_start}
    services.plan_submit(actor=stranger, plan=make_plan(stranger, budget, lines=[line]))

    response = web_as(social_worker).get("/reviews/")

    assert response.status_code == 200
    html = _html(response)
    assert [r.plan_id for r in response.context["reviews"]] == [early.pk, middle.pk, later.pk]
    rows = _queue_rows(html)
    assert len(rows) == 3
    assert ["Ann Early" in rows[0], "Ben Middle" in rows[1], "Cat Later" in rows[2]] == [True, True, True]
    assert ["Overdue" in row for row in rows] == [True, False, False]
    assert f'href="/plans/{early.pk}/review/"' in rows[0]
    assert "In review" in rows[1] and "Sam Patel" in rows[1]
    assert "3 plans waiting, soonest due first." in html and "1 overdue." in html
    assert "Dan Decided" not in html and "Eve Elsewhere" not in html


def test_the_team_manager_sees_the_teams_queue(web_as, team_manager, three_waiting):
    response = web_as(team_manager).get("/reviews/")

    assert response.status_code == 200
    assert [r.plan.client.full_name for r in response.context["reviews"]] == ["Ann Early", "Ben Middle", "Cat Later"]


def test_an_escalated_review_is_tagged_in_the_queue(web_as, social_worker, three_waiting):
    early = three_waiting[0]
    services.reviews_escalate_overdue()

    rows = _queue_rows(_html(web_as(social_worker).get("/reviews/")))

    assert "Escalated" in rows[0]
    assert PlanReview.objects.get(plan=early).escalated_at is not None
    assert not any("Escalated" in row for row in rows[1:])


def test_another_social_worker_has_an_empty_queue(web_as, three_waiting):
    other = factories.SocialWorkerFactory()

    response = web_as(other).get("/reviews/")

    assert response.status_code == 200
    assert "No plans are waiting for review." in _html(response)


@pytest.mark.parametrize("who", NOT_REVIEWERS)
def test_the_queue_is_forbidden_to_people_who_do_not_review(request, who, web_as, submitted_plan):
    assert web_as(request.getfixturevalue(who)).get("/reviews/").status_code == 403


def test_the_queue_needs_a_login(client):
    response = client.get("/reviews/")

    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in/")


def test_the_queue_uses_as_many_queries_for_20_plans_as_for_1(web_as, social_worker, client_on_caseload):
    web = web_as(social_worker)
    client_on_caseload("First Person")
    web.get("/reviews/")  # warm the session and content-type caches
    with CaptureQueriesContext(connection) as one:
        assert len(web.get("/reviews/").context["reviews"]) == 1
    for i in range(19):
        plan = client_on_caseload(f"Person {i}")
        if i % 2:
            services.plan_start_review(actor=social_worker, plan=plan)

    with CaptureQueriesContext(connection) as twenty:
        assert len(web.get("/reviews/").context["reviews"]) == 20

    assert len(twenty.captured_queries) == len(one.captured_queries), [q["sql"] for q in twenty.captured_queries]


# --- the review page ----------------------------------------------------------------------------


def test_a_submitted_plan_offers_only_start_the_review(web_as, social_worker, submitted_plan):
    response = web_as(social_worker).get(f"/plans/{submitted_plan.pk}/review/")

    html = _html(response)
    assert response.status_code == 200
    assert 'value="start_review"' in html and "Start the review" in html
    for absent in ['value="approve"', 'value="request_changes"', 'value="reject"', "Your decision"]:
        assert absent not in html


@pytest.mark.parametrize("who", ["social_worker", "team_manager"])
def test_a_plan_in_review_offers_approve_ask_for_changes_and_reject(request, who, web_as, in_review_plan):
    response = web_as(request.getfixturevalue(who)).get(f"/plans/{in_review_plan.pk}/review/")

    html = _html(response)
    assert response.status_code == 200
    assert "Approve the plan" in html and "Ask for changes" in html and "Reject the plan" in html
    assert 'value="start_review"' not in html
    assert "refer to a senior" not in html
    for box in CHECKBOXES:
        assert f'name="checklist" type="checkbox" value="{box}"' in html


def test_the_plans_submitter_is_not_offered_approve_four_eyes(web_as, social_worker, team_manager, draft_plan):
    services.plan_submit(actor=social_worker, plan=draft_plan)  # Sam submits Ruth's plan
    services.plan_start_review(actor=team_manager, plan=draft_plan)

    sams = _html(web_as(social_worker).get(f"/plans/{draft_plan.pk}/review/"))
    taylors = _html(web_as(team_manager).get(f"/plans/{draft_plan.pk}/review/"))

    assert 'value="approve"' not in sams
    assert "You drafted or submitted this plan, so someone else must approve it." in sams
    assert "Ask for changes" in sams and "Reject the plan" in sams
    assert "Approve the plan" in taylors and "You drafted or submitted" not in taylors


def test_the_plans_drafter_is_not_offered_approve_four_eyes(
    web_as, social_worker, team_manager, make_plan, budget, visits
):
    start = budget.period_start
    plan = make_plan(
        social_worker,
        budget,
        lines=[{"service": visits.pk, "units_per_week": "1", "start": start, "end": start + datetime.timedelta(6)}],
    )
    services.plan_submit(actor=team_manager, plan=plan)
    services.plan_start_review(actor=team_manager, plan=plan)

    sams = _html(web_as(social_worker).get(f"/plans/{plan.pk}/review/"))

    assert 'value="approve"' not in sams and "someone else must approve it" in sams


def test_the_submitter_posting_approve_anyway_gets_403_and_nothing_changes(
    web_as, social_worker, team_manager, draft_plan
):
    services.plan_submit(actor=social_worker, plan=draft_plan)
    services.plan_start_review(actor=team_manager, plan=draft_plan)
    logs = _logs(draft_plan)

    response = web_as(social_worker).post(
        f"/plans/{draft_plan.pk}/review/", {"action": "approve", "checklist": CHECKBOXES}
    )

    assert response.status_code == 403
    assert "someone else must approve it" in _html(response)
    assert _status(draft_plan) == PlanStatus.IN_REVIEW
    assert _logs(draft_plan) == logs


@pytest.fixture
def sam_limited_to_100(db):
    ApprovalAuthority.objects.update_or_create(
        role=Role.SOCIAL_WORKER, defaults={"annual_limit": Money("100.00", "GBP")}
    )


def test_above_the_reviewers_authority_approve_says_it_refers_to_a_senior(
    web_as, social_worker, team_manager, in_review_plan, sam_limited_to_100
):
    sams = _html(web_as(social_worker).get(f"/plans/{in_review_plan.pk}/review/"))
    taylors = _html(web_as(team_manager).get(f"/plans/{in_review_plan.pk}/review/"))

    assert "Approve and refer to a senior" in sams
    assert "This plan costs more than your delegated authority" in sams
    assert "Up to £100.00 a year" in sams
    assert "Approve the plan" not in sams
    assert "Approve the plan" in taylors and "refer to a senior" not in taylors
    assert "No limit" in taylors


def test_approving_above_authority_refers_and_only_the_senior_may_then_decide(
    web_as, social_worker, team_manager, in_review_plan, sam_limited_to_100
):
    response = web_as(social_worker).post(
        f"/plans/{in_review_plan.pk}/review/", {"action": "approve", "checklist": CHECKBOXES}, follow=True
    )

    assert response.redirect_chain == [("/reviews/", 302)]
    assert "waiting for a senior approver" in _html(response)
    assert _status(in_review_plan) == PlanStatus.AWAITING_SENIOR_APPROVAL
    sams = _html(web_as(social_worker).get(f"/plans/{in_review_plan.pk}/review/"))
    assert "This plan is waiting for a senior approver" in sams
    assert 'value="approve"' not in sams and 'value="reject"' not in sams
    taylors = _html(web_as(team_manager).get(f"/plans/{in_review_plan.pk}/review/"))
    assert "Approve the plan" in taylors


def test_starting_the_review_from_the_page(web_as, social_worker, submitted_plan):
    response = web_as(social_worker).post(f"/plans/{submitted_plan.pk}/review/", {"action": "start_review"})

    assert response.status_code == 302
    assert response.headers["Location"] == f"/plans/{submitted_plan.pk}/review/"
    assert _status(submitted_plan) == PlanStatus.IN_REVIEW
    review = PlanReview.objects.get(plan=submitted_plan)
    assert review.reviewer == social_worker and review.started_at is not None
    page = _html(web_as(social_worker).get(f"/plans/{submitted_plan.pk}/review/"))
    assert "You are reviewing the plan." in page and "Approve the plan" in page


def test_asking_for_changes_from_the_page_with_a_comment(web_as, social_worker, in_review_plan):
    response = web_as(social_worker).post(
        f"/plans/{in_review_plan.pk}/review/", {"action": "request_changes", "comment": "Add a second visit."}
    )

    assert response.status_code == 302 and response.headers["Location"] == "/reviews/"
    assert _status(in_review_plan) == PlanStatus.CHANGES_REQUESTED
    assert StateLog.objects.for_(in_review_plan).order_by("-id").first().description == "Add a second visit."
    review = PlanReview.objects.get(plan=in_review_plan)
    assert review.outcome == ReviewOutcome.CHANGES_REQUESTED and review.comment == "Add a second visit."


def test_approving_from_the_page_with_the_five_checklist_boxes(web_as, social_worker, in_review_plan):
    response = web_as(social_worker).post(
        f"/plans/{in_review_plan.pk}/review/",
        {"action": "approve", "checklist": CHECKBOXES, "comment": "Looks right."},
        follow=True,
    )

    assert response.redirect_chain == [("/reviews/", 302)]
    assert "The plan is approved and the money is set aside." in _html(response)
    assert _status(in_review_plan) == PlanStatus.APPROVED
    review = PlanReview.objects.get(plan=in_review_plan)
    assert review.outcome == ReviewOutcome.APPROVED
    assert review.checklist == dict.fromkeys(CHECKBOXES, True)
    assert LedgerTransaction.objects.filter(budget=in_review_plan.budget, kind=TransactionKind.COMMITMENT).count() == 1


def test_rejecting_from_the_page_with_a_comment(web_as, team_manager, in_review_plan):
    response = web_as(team_manager).post(
        f"/plans/{in_review_plan.pk}/review/", {"action": "reject", "comment": "Not eligible support."}
    )

    assert response.status_code == 302
    assert _status(in_review_plan) == PlanStatus.REJECTED


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("request_changes", "Write a comment saying what needs to change."),
        ("reject", "Write a comment saying why the plan is rejected."),
    ],
)
def test_asking_for_changes_or_rejecting_without_a_comment_is_400_on_the_comment_field(
    action, message, web_as, social_worker, in_review_plan
):
    logs = _logs(in_review_plan)

    response = web_as(social_worker).post(f"/plans/{in_review_plan.pk}/review/", {"action": action, "comment": "  "})

    assert response.status_code == 400
    assert response.context["form"].errors["comment"] == [message]
    html = _html(response)
    assert "There is a problem" in html and 'href="#id_comment"' in html
    assert re.search(r'id="id_comment-error" class="govuk-error-message">.*' + re.escape(message), html)
    assert "Error: Review the care plan" in html
    assert _status(in_review_plan) == PlanStatus.IN_REVIEW
    assert _logs(in_review_plan) == logs
    assert PlanReview.objects.get(plan=in_review_plan).decided_at is None


def test_approving_without_the_checklist_is_400_and_changes_nothing(web_as, social_worker, in_review_plan):
    logs = _logs(in_review_plan)

    response = web_as(social_worker).post(f"/plans/{in_review_plan.pk}/review/", {"action": "approve"})

    assert response.status_code == 400
    errors = response.context["form"].errors["checklist"]
    assert len(errors) == 5 and "Confirm: the outcomes are stated." in errors
    assert 'id="id_checklist-error"' in _html(response)
    assert _status(in_review_plan) == PlanStatus.IN_REVIEW
    assert _logs(in_review_plan) == logs
    assert not LedgerTransaction.objects.filter(budget=in_review_plan.budget, kind=TransactionKind.COMMITMENT).exists()


def test_approving_with_four_of_the_five_boxes_names_the_missing_one(web_as, social_worker, in_review_plan):
    response = web_as(social_worker).post(
        f"/plans/{in_review_plan.pk}/review/", {"action": "approve", "checklist": CHECKBOXES[:4]}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["checklist"] == ["Confirm: who to contact is recorded."]
    assert 'value="outcomes" checked' in _html(response)  # the ticked boxes stay ticked
    assert _status(in_review_plan) == PlanStatus.IN_REVIEW


def test_posting_without_an_action_is_400(web_as, social_worker, in_review_plan):
    response = web_as(social_worker).post(f"/plans/{in_review_plan.pk}/review/", {"comment": "Hello"})

    assert response.status_code == 400
    assert "Choose what to do with the plan." in _html(response)
    assert _status(in_review_plan) == PlanStatus.IN_REVIEW


def test_starting_a_review_already_started_is_a_409(web_as, team_manager, in_review_plan):
    logs = _logs(in_review_plan)

    response = web_as(team_manager).post(f"/plans/{in_review_plan.pk}/review/", {"action": "start_review"})

    assert response.status_code == 409
    assert "This plan is in review, so it cannot be reviewed." in _html(response)
    assert _logs(in_review_plan) == logs


def test_a_social_worker_without_the_client_gets_404_on_the_review_page(web_as, in_review_plan):
    web = web_as(factories.SocialWorkerFactory())

    assert web.get(f"/plans/{in_review_plan.pk}/review/").status_code == 404
    response = web.post(f"/plans/{in_review_plan.pk}/review/", {"action": "approve", "checklist": CHECKBOXES})
    assert response.status_code == 404
    assert _status(in_review_plan) == PlanStatus.IN_REVIEW


def test_the_client_gets_403_on_the_review_page(web_as, client_user, in_review_plan):
    web = web_as(client_user)

    assert web.get(f"/plans/{in_review_plan.pk}/review/").status_code == 403
    assert web.post(f"/plans/{in_review_plan.pk}/review/", {"action": "reject", "comment": "x"}).status_code == 403
    assert _status(in_review_plan) == PlanStatus.IN_REVIEW


@pytest.mark.parametrize("who", ["provider_user", "finance_user", "case_manager"])
def test_people_who_cannot_see_the_plan_get_404_on_the_review_page(request, who, web_as, in_review_plan):
    assert web_as(request.getfixturevalue(who)).get(f"/plans/{in_review_plan.pk}/review/").status_code == 404


def test_a_missing_plan_is_404_on_the_review_page(web_as, social_worker):
    assert web_as(social_worker).get("/plans/999999/review/").status_code == 404


# --- the plan page ------------------------------------------------------------------------------


def test_the_client_sees_submit_and_withdraw_on_a_draft(web_as, client_user, draft_plan):
    html = _html(web_as(client_user).get(f"/plans/{draft_plan.pk}/"))

    assert "Submit for review" in html and f'action="/plans/{draft_plan.pk}/submit/"' in html
    assert "Withdraw the plan" in html
    assert "Review this plan" not in html


def test_the_submit_text_states_the_default_review_deadline(web_as, client_user, draft_plan):
    html = _html(web_as(client_user).get(f"/plans/{draft_plan.pk}/"))

    assert "Your social worker reviews it within 10 working days" in html


def test_the_submit_text_states_the_configured_review_deadline(web_as, client_user, draft_plan):
    WorkflowPolicy.objects.update_or_create(pk=1, defaults={"review_working_days": 3})

    html = _html(web_as(client_user).get(f"/plans/{draft_plan.pk}/"))

    assert "Your social worker reviews it within 3 working days" in html


def test_the_client_submits_from_the_plan_page(web_as, client_user, draft_plan):
    response = web_as(client_user).post(
        f"/plans/{draft_plan.pk}/submit/", {"comment": "Please look at the Tuesday visits."}, follow=True
    )

    assert response.redirect_chain == [(f"/plans/{draft_plan.pk}/", 302)]
    html = _html(response)
    assert "The plan is submitted." in html
    review = PlanReview.objects.get(plan=draft_plan)
    assert f"Review due by <strong>{review.due:%-d %B %Y}</strong>" in html
    assert "Submit for review" not in html
    assert _status(draft_plan) == PlanStatus.SUBMITTED


def test_a_refused_submit_over_budget_shows_the_page_with_409_and_the_message(web_as, client_user, draft_plan, budget):
    ledger.commit(budget=budget, amount=Money("9900.00", "GBP"), key="test:another-plan")
    logs = _logs(draft_plan)

    response = web_as(client_user).post(f"/plans/{draft_plan.pk}/submit/")

    assert response.status_code == 409
    html = _html(response)
    assert "There is a problem" in html
    assert "This plan costs £196.00, which is more than the £100.00 available." in html
    assert "Submit for review" in html  # still a draft: the button is still there
    assert _status(draft_plan) == PlanStatus.DRAFT
    assert _logs(draft_plan) == logs
    assert not PlanReview.objects.filter(plan=draft_plan).exists()


def test_the_client_withdraws_a_submitted_plan_from_the_plan_page(web_as, client_user, social_worker, submitted_plan):
    page = _html(web_as(client_user).get(f"/plans/{submitted_plan.pk}/"))
    assert "Withdraw the plan" in page

    response = web_as(client_user).post(f"/plans/{submitted_plan.pk}/withdraw/", {"comment": "Changed my mind."})

    assert response.status_code == 302
    assert _status(submitted_plan) == PlanStatus.WITHDRAWN
    assert PlanReview.objects.get(plan=submitted_plan).outcome == ReviewOutcome.WITHDRAWN


def test_the_social_worker_is_not_offered_withdraw_and_is_refused_it(web_as, social_worker, submitted_plan):
    web = web_as(social_worker)
    assert "Withdraw the plan" not in _html(web.get(f"/plans/{submitted_plan.pk}/"))

    response = web.post(f"/plans/{submitted_plan.pk}/withdraw/")

    assert response.status_code == 403
    assert "Only the client can withdraw their plan." in _html(response)
    assert _status(submitted_plan) == PlanStatus.SUBMITTED


def test_review_this_plan_is_shown_to_sam_when_submitted_and_not_to_the_client(
    web_as, client_user, social_worker, draft_plan
):
    assert "Review this plan" not in _html(web_as(social_worker).get(f"/plans/{draft_plan.pk}/"))
    services.plan_submit(actor=client_user, plan=draft_plan)

    sams = _html(web_as(social_worker).get(f"/plans/{draft_plan.pk}/"))
    ruths = _html(web_as(client_user).get(f"/plans/{draft_plan.pk}/"))

    assert "Review this plan" in sams and f'href="/plans/{draft_plan.pk}/review/"' in sams
    assert "Review this plan" not in ruths


def test_an_overdue_review_is_tagged_on_the_plan_page(web_as, social_worker, submitted_plan):
    PlanReview.objects.filter(plan=submitted_plan).update(due=timezone.localdate() - datetime.timedelta(days=1))

    html = _html(web_as(social_worker).get(f"/plans/{submitted_plan.pk}/"))

    assert "Overdue" in html


def test_the_history_timeline_shows_each_step_with_its_comment(web_as, client_user, social_worker, draft_plan):
    services.plan_submit(actor=client_user, plan=draft_plan, comment="Please look at the Tuesday visits.")
    services.plan_start_review(actor=social_worker, plan=draft_plan)
    services.plan_request_changes(actor=social_worker, plan=draft_plan, comment="Add a second weekly visit.")

    html = _html(web_as(client_user).get(f"/plans/{draft_plan.pk}/"))

    timeline = html.split('id="history"', 1)[1]
    assert "“Please look at the Tuesday visits.”" in timeline
    assert "“Add a second weekly visit.”" in timeline
    steps = re.findall(r"<li class=\"govuk-!-margin-bottom-3\"><strong>([^<]+)</strong>", timeline)
    assert steps == ["Submitted", "In review", "Changes requested"]
    assert "by Sam Patel" in timeline and "by Ruth Ellis" in timeline
    assert "Changes asked for:</strong> “Add a second weekly visit.”" in html
    assert "Submit for review" in html  # changes requested: the client may submit again


# --- notifications ------------------------------------------------------------------------------


def test_the_notifications_page_lists_only_the_users_own(web_as, client_user, social_worker, in_review_plan):
    Notification.objects.create(recipient=social_worker, message="Only for Sam: a private note.")

    html = _html(web_as(client_user).get("/notifications/"))

    assert "Sam Patel has started reviewing care plan version 1." in html
    assert "Only for Sam" not in html
    assert "was submitted for review" not in html  # Ruth submitted it: she is not told of her own act
    assert "Mark all as read" in html
    assert html.count("govuk-tag--blue") == Notification.objects.filter(recipient=client_user).count()


def test_mark_all_as_read_marks_only_the_users_own(web_as, client_user, social_worker, in_review_plan):
    sams_unread = Notification.objects.filter(recipient=social_worker, read_at__isnull=True).count()
    assert sams_unread > 0
    ruths = Notification.objects.filter(recipient=client_user).count()

    response = web_as(client_user).post("/notifications/", follow=True)

    assert response.redirect_chain == [("/notifications/", 302)]
    html = _html(response)
    assert f"{ruths} notification{'s' if ruths != 1 else ''} marked as read." in html
    assert "govuk-tag--blue" not in html
    assert not Notification.objects.filter(recipient=client_user, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=social_worker, read_at__isnull=True).count() == sams_unread


def test_the_notifications_page_with_none(web_as, finance_user):
    assert "You have no notifications." in _html(web_as(finance_user).get("/notifications/"))


def test_the_notifications_page_needs_a_login(client):
    assert client.get("/notifications/").status_code == 302


# --- the public statistics page -----------------------------------------------------------------


def test_the_public_statistics_page_needs_no_login(client):
    response = client.get("/statistics/approval-times/")

    assert response.status_code == 200
    assert "How long care plan approval takes" in _html(response)
