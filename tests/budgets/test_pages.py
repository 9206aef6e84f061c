"""Budget pages: caseload statuses, the assessment wizard and decision, a budget, the statement
PDF, the final budget and what-if runs."""

import io

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone
from djmoney.money import Money
from pypdf import PdfReader

from accounts.models import AuditAction, AuditEvent, CaseloadAssignment
from budgets.models import Assessment, AssessmentStatus, PersonalBudget, WhatIfRun, WhatIfStatus
from budgets.selectors import budget_figures
from budgets.services.schemes import scheme_export, scheme_import
from tests import factories
from tests.budgets.conftest import answers_with

pytestmark = pytest.mark.django_db


def _walk_wizard(web, assessment, answers, *, impairment="yes", wellbeing="yes", modifiers=()):
    """Answer every page of the wizard with 'Save and continue', as a person would."""
    page = 1
    while True:
        response = web.get(f"/assessments/{assessment.pk}/step/{page}/")
        assert response.status_code == 200, page
        form = response.context["form"]
        if "impairment" in form.fields:
            data = {
                "impairment": impairment,
                "wellbeing_impact": wellbeing,
                "modifiers": list(modifiers),
                "continue": "1",
            }
        else:
            data = {name: answers[name] for name in form.fields} | {"continue": "1"}
        response = web.post(f"/assessments/{assessment.pk}/step/{page}/", data)
        assert response.status_code == 302, response.content.decode()[:3000]
        if response.headers["Location"].endswith(f"/assessments/{assessment.pk}/"):
            return
        page += 1


def test_social_worker_assesses_completes_and_the_client_sees_the_budget(
    web_as, caseload, social_worker, client_user, scheme, client
):
    web = web_as(social_worker)
    response = web.post(f"/clients/{client_user.pk}/assess/")
    assessment = Assessment.objects.get(client=client_user)
    assert response.headers["Location"] == f"/assessments/{assessment.pk}/step/1/"

    _walk_wizard(
        web, assessment, answers_with({"nutrition": "lots_of_help", "hygiene": "some_help", "community": "some_help"})
    )
    detail = web.get(f"/assessments/{assessment.pk}/").content.decode()
    assert "Eligible for support" in detail and "Complete assessment" in detail
    assert "£4,000.00" in detail  # 16 points at £250

    response = web.post(
        f"/assessments/{assessment.pk}/complete/",
        {"period_start-day": "", "period_start-month": "", "period_start-year": ""},
    )
    budget = PersonalBudget.objects.get(client=client_user)
    assert response.headers["Location"] == f"/budgets/{budget.pk}/"
    assert budget_figures(budget).allocated == Money("4000.00", "GBP")

    client.force_login(client_user)
    assert client.get("/my-budget/").headers["Location"] == f"/budgets/{budget.pk}/"
    page = client.get(f"/budgets/{budget.pk}/").content.decode()
    assert "My budget" in page and "Your answers scored 16 points." in page and "£4,000.00" in page


def test_save_and_continue_needs_every_question_on_the_page_and_changes_nothing(
    web_as, caseload, social_worker, client_user, scheme
):
    web = web_as(social_worker)
    web.post(f"/clients/{client_user.pk}/assess/")
    assessment = Assessment.objects.get(client=client_user)
    response = web.post(f"/assessments/{assessment.pk}/step/1/", {"continue": "1"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html and 'href="#id_nutrition_0"' in html
    assessment.refresh_from_db()
    assert assessment.answers == {}


def test_save_as_draft_keeps_partial_answers_and_returns_to_the_summary(
    web_as, caseload, social_worker, client_user, scheme
):
    web = web_as(social_worker)
    web.post(f"/clients/{client_user.pk}/assess/")
    assessment = Assessment.objects.get(client=client_user)
    response = web.post(f"/assessments/{assessment.pk}/step/1/", {"nutrition": "some_help", "draft": "1"})
    assert response.headers["Location"] == f"/assessments/{assessment.pk}/"
    assessment.refresh_from_db()
    assert assessment.answers == {"nutrition": "some_help"} and assessment.status == AssessmentStatus.DRAFT
    summary = web.get(f"/assessments/{assessment.pk}/").content.decode()
    assert "Some questions are not answered yet." in summary


def test_ineligible_assessment_cannot_be_completed_and_its_decision_is_recorded(
    web_as, caseload, social_worker, client_user, scheme
):
    web = web_as(social_worker)
    web.post(f"/clients/{client_user.pk}/assess/")
    assessment = Assessment.objects.get(client=client_user)
    _walk_wizard(web, assessment, answers_with({"nutrition": "full_help"}))  # only one outcome
    detail = web.get(f"/assessments/{assessment.pk}/").content.decode()
    assert "Not eligible" in detail and "At least two are needed." in detail
    assert "Complete assessment" not in detail

    web.post(f"/assessments/{assessment.pk}/complete/", {})
    assert not PersonalBudget.objects.exists()
    web.post(f"/assessments/{assessment.pk}/not-eligible/")
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.NOT_ELIGIBLE


def test_complete_with_an_impossible_start_date_shows_an_error_and_creates_nothing(
    web_as, caseload, social_worker, client_user, scheme
):
    web = web_as(social_worker)
    web.post(f"/clients/{client_user.pk}/assess/")
    assessment = Assessment.objects.get(client=client_user)
    _walk_wizard(web, assessment, answers_with({"nutrition": "some_help", "hygiene": "some_help"}))
    response = web.post(
        f"/assessments/{assessment.pk}/complete/",
        {"period_start-day": "31", "period_start-month": "2", "period_start-year": "2027"},
    )
    assert response.status_code == 400
    assert "The start date must be a real date" in response.content.decode()
    assert not PersonalBudget.objects.exists()


def test_backdated_period_start_is_kept(web_as, caseload, social_worker, client_user, scheme):
    web = web_as(social_worker)
    web.post(f"/clients/{client_user.pk}/assess/")
    assessment = Assessment.objects.get(client=client_user)
    _walk_wizard(web, assessment, answers_with({"nutrition": "some_help", "hygiene": "some_help"}))
    start = timezone.localdate() - relativedelta(months=2)
    web.post(
        f"/assessments/{assessment.pk}/complete/",
        {"period_start-day": start.day, "period_start-month": start.month, "period_start-year": start.year},
    )
    budget = PersonalBudget.objects.get(client=client_user)
    assert (budget.period_start, budget.period_end) == (start, start + relativedelta(months=12) - relativedelta(days=1))


def test_social_worker_taking_an_unallocated_client_by_assessing_them(web_as, social_worker, scheme):
    newcomer = factories.ClientFactory()
    caseload_page = web_as(social_worker).get("/caseload/").content.decode()
    assert newcomer.full_name in caseload_page
    web_as(social_worker).post(f"/clients/{newcomer.pk}/assess/")
    assert CaseloadAssignment.objects.get(client=newcomer, end_date__isnull=True).social_worker == social_worker


def test_social_worker_cannot_assess_another_workers_client(web_as, social_worker, scheme):
    other = factories.CaseloadAssignmentFactory().client
    assert web_as(social_worker).post(f"/clients/{other.pk}/assess/").status_code == 404
    assert not Assessment.objects.exists()


def test_caseload_shows_each_clients_status_in_constant_queries(
    web_as, social_worker, make_budget, django_assert_max_num_queries
):
    web = web_as(social_worker)
    first = factories.CaseloadAssignmentFactory(social_worker=social_worker)
    make_budget(first.client)
    with django_assert_max_num_queries(12) as few:
        web.get("/caseload/")
    for _ in range(15):
        make_budget(factories.CaseloadAssignmentFactory(social_worker=social_worker).client)
    factories.CaseloadAssignmentFactory.create_batch(5, social_worker=social_worker)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = web.get("/caseload/").content.decode()
    assert html.count("Budget set") == 16 and html.count("Not assessed") == 5


@pytest.mark.parametrize("role_fixture", ["case_manager", "provider_user"])
def test_roles_without_a_relationship_get_404_for_a_budget(role_fixture, request, web_as, caseload, make_budget):
    budget = make_budget(caseload.client)
    web = web_as(request.getfixturevalue(role_fixture))
    assert web.get(f"/budgets/{budget.pk}/").status_code == 404
    assert web.get(f"/budgets/{budget.pk}/statement.pdf").status_code == 404


def test_another_client_gets_404_for_a_budget(web_as, caseload, make_budget):
    budget = make_budget(caseload.client)
    assert web_as(factories.ClientFactory()).get(f"/budgets/{budget.pk}/").status_code == 404


def test_finance_sees_any_budget(web_as, caseload, make_budget, finance_user):
    budget = make_budget(caseload.client)
    assert web_as(finance_user).get(f"/budgets/{budget.pk}/").status_code == 200


def test_budget_page_query_count_does_not_grow_with_the_ledger(
    web_as, caseload, make_budget, client_user, django_assert_max_num_queries
):
    from budgets.services import ledger

    budget = make_budget(client_user, "20000.00")
    web = web_as(client_user)
    with django_assert_max_num_queries(30) as few:
        web.get(f"/budgets/{budget.pk}/")
    for i in range(10):
        ledger.commit(budget=budget, amount=Money("100.00", "GBP"), key=f"t:{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert web.get(f"/budgets/{budget.pk}/").status_code == 200


def test_statement_pdf_has_the_figures_and_page_numbers(web_as, caseload, make_budget, client_user):
    budget = make_budget(client_user, "12345.67")
    response = web_as(client_user).get(f"/budgets/{budget.pk}/statement.pdf")
    assert response["Content-Type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Personal budget statement" in text and client_user.full_name in text
    assert "£12,345.67" in text and "Available to plan" in text and "Page 1 of" in text


def test_team_manager_sets_the_final_budget_with_a_reason(web_as, caseload, make_budget, team_manager):
    budget = make_budget(caseload.client, "10000.00")
    web = web_as(team_manager)
    assert web.get(f"/budgets/{budget.pk}/final/").status_code == 200
    response = web.post(
        f"/budgets/{budget.pk}/final/", {"amount": "11250.50", "reason": "Extra respite agreed at panel"}
    )
    assert response.status_code == 302
    budget.refresh_from_db()
    assert budget.final_amount == Money("11250.50", "GBP")
    assert budget_figures(budget).allocated == Money("11250.50", "GBP")
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE, subject=caseload.client, actor=team_manager).exists()
    page = web.get(f"/budgets/{budget.pk}/").content.decode()
    assert "Extra respite agreed at panel" in page


def test_final_budget_form_errors_change_nothing(web_as, caseload, make_budget, team_manager):
    budget = make_budget(caseload.client, "10000.00")
    response = web_as(team_manager).post(f"/budgets/{budget.pk}/final/", {"amount": "12.345", "reason": ""})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Enter the amount in pounds and pence" in html and "Give the reason for the final budget" in html
    assert budget_figures(budget).allocated == Money("10000.00", "GBP")


@pytest.mark.parametrize("role_fixture", ["social_worker", "client_user", "finance_user"])
def test_only_the_approver_may_set_the_final_budget(role_fixture, request, web_as, caseload, make_budget):
    budget = make_budget(caseload.client)
    assert web_as(request.getfixturevalue(role_fixture)).get(f"/budgets/{budget.pk}/final/").status_code == 403


def test_admin_runs_a_what_if_and_downloads_the_csv(
    web_as, admin_person, make_budget, scheme, django_capture_on_commit_callbacks
):
    for _ in range(3):
        make_budget(factories.ClientFactory(), "2000.00")  # 8 points at £250, as the fixture's answers price
    data = scheme_export(scheme=scheme)
    data["version"] = 2
    data["bands"][0]["price_per_point"] = "300.00"
    import yaml

    draft = scheme_import(actor=admin_person, text=yaml.safe_dump(data))
    web = web_as(admin_person)
    assert draft.name in web.get("/ras/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(f"/ras/{draft.pk}/what-if/")
    run = WhatIfRun.objects.get()
    assert response.headers["Location"] == f"/ras/what-if/{run.pk}/"
    assert run.status == WhatIfStatus.DONE  # the job was queued on commit and ran (eager Celery)
    report = web.get(f"/ras/what-if/{run.pk}/").content.decode()
    assert "Would go up" in report and "£1,200.00" in report  # 3 clients × 8 points × £50 more
    progress = web.get(f"/ras/what-if/{run.pk}/progress.json").json()
    assert progress == {"status": "done", "done": 3, "total": 3, "percent": 100}
    csv_text = b"".join(web.get(f"/ras/what-if/{run.pk}/clients.csv").streaming_content).decode()
    assert csv_text.splitlines()[0] == "client_id,username,name,current,proposed,change"
    assert len(csv_text.splitlines()) == 4
    # Existing budgets are not changed.
    assert all(budget_figures(b).allocated == Money("2000.00", "GBP") for b in PersonalBudget.objects.all())


@pytest.mark.parametrize("role_fixture", ["social_worker", "team_manager", "finance_user", "client_user"])
def test_only_administrators_see_schemes_and_what_if(role_fixture, request, web_as):
    assert web_as(request.getfixturevalue(role_fixture)).get("/ras/").status_code == 403


def test_finance_lists_every_budget_with_figures_in_constant_queries(
    web_as, finance_user, make_budget, django_assert_max_num_queries
):
    make_budget(factories.ClientFactory(), "3000.00")
    web = web_as(finance_user)
    with django_assert_max_num_queries(12) as few:
        web.get("/budgets/")
    for _ in range(10):
        make_budget(factories.ClientFactory(), "3000.00")
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = web.get("/budgets/").content.decode()
    assert html.count("£3,000.00") == 2 * 11  # allocated and available for each


@pytest.mark.parametrize("role_fixture", ["social_worker", "client_user", "team_manager"])
def test_budget_list_is_for_finance_and_administrators(role_fixture, request, web_as):
    assert web_as(request.getfixturevalue(role_fixture)).get("/budgets/").status_code == 403
