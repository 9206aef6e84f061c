"""Reassessing everyone under a new charging policy: a background run works out each person's latest
financial assessment again with the same declared figures, with progress, and reports who would pay
more, less or the same; nothing changes until finance or an administrator confirms it, once, which
records a new assessment (from the day the policy starts) for each person whose contribution changes."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from accounts.exceptions import ActionNotAllowed, StateConflict
from accounts.models import AuditAction, AuditEvent
from budgets import charging
from budgets.models import (
    ChargingPolicy,
    FinancialAssessment,
    ReassessmentOutcome,
    ReassessmentRow,
    ReassessmentRun,
    ReassessmentStatus,
)
from budgets.services import reassessment as service
from budgets.services.charging import charging_policy_create, financial_assessment_record
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
ASSESSED_ON = TODAY - datetime.timedelta(days=30)
EXAMPLE_MIG = {
    "18_to_24": "136.00",
    "18_to_24_couple": "106.00",
    "25_to_pension_age": "164.00",
    "25_to_pension_age_couple": "128.00",
    "pension_age": "228.70",
    "pension_age_couple": "174.60",
}
# The new policy: the pension-age MIG up £10, the working-age one down £14, a lower upper capital limit.
NEW_MIG = EXAMPLE_MIG | {"pension_age": "238.70", "25_to_pension_age": "150.00"}


def weekly(kind, amount):
    return {"kind": kind, "weekly_amount": amount}


def cost(description, amount):
    return {"description": description, "weekly_amount": amount}


def new_policy(admin, effective_from, *, mig=None, upper="18000"):
    return charging_policy_create(
        actor=admin,
        name=f"Policy from {effective_from}",
        effective_from=effective_from,
        lower_capital_limit="14250",
        upper_capital_limit=upper,
        tariff_step="250",
        taper_percent="100",
        minimum_income_guarantee=mig or NEW_MIG,
        disregarded_income=["earnings", "pip_mobility", "dla_mobility"],
    )


def assess(finance, client, *, date=ASSESSED_ON, band="pension_age", capital="0", **figures):
    return financial_assessment_record(actor=finance, client=client, date=date, band=band, capital=capital, **figures)


@pytest.fixture
def people(finance_user):
    """Six clients assessed under the example policy (and one since the new policy started), and an
    inactive one."""
    ann = factories.ClientFactory(full_name="Ann Avery")
    # 221.20 + 72.65 (earnings disregarded) + £3 tariff − 10 − 13 − MIG: 45.15 now, 35.15 with £10 more MIG.
    assess(
        finance_user,
        ann,
        capital="15000.00",
        income=[weekly("state_pension", "221.20"), weekly("attendance_allowance", "72.65"), weekly("earnings", "50")],
        housing_costs=[cost("Council tax", "10.00")],
        disability_related_expenditure=[cost("Extra heating", "8.00"), cost("Special diet", "5.00")],
    )
    bob = factories.ClientFactory(full_name="Bob Brown")  # 200 − 164 = 36.00 now; 200 − 150 = 50.00
    assess(finance_user, bob, band="25_to_pension_age", income=[weekly("esa", "200.00")])
    cat = factories.ClientFactory(full_name="Cat Cole")  # declined: the full cost either way
    assess(finance_user, cat, declined=True)
    dan = factories.ClientFactory(full_name="Dan Dale")  # 300 + 23 tariff − 228.70 = 94.30; above £18,000: full cost
    assess(finance_user, dan, capital="20000.00", income=[weekly("state_pension", "300.00")])
    eve = factories.ClientFactory(full_name="Eve Ellis")  # nothing left above the MIG either way
    assess(finance_user, eve, income=[weekly("state_pension", "100.00")])
    # Fay was assessed twice; her latest (36.00 → 50.00 like Bob) is the one that counts.
    fay = factories.ClientFactory(full_name="Fay Ford")
    assess(finance_user, fay, date=ASSESSED_ON - datetime.timedelta(days=100), income=[weekly("state_pension", "999")])
    assess(finance_user, fay, band="25_to_pension_age", income=[weekly("esa", "200.00")])
    gone = factories.ClientFactory(full_name="Gil Gone")
    assess(finance_user, gone, income=[weekly("state_pension", "999")])
    gone.is_active = False
    gone.save()
    return {"ann": ann, "bob": bob, "cat": cat, "dan": dan, "eve": eve, "fay": fay, "gone": gone}


@pytest.fixture
def policy(admin_person):
    """The new policy started ten days ago."""
    return new_policy(admin_person, TODAY - datetime.timedelta(days=10))


def run_for(actor, policy, capture):
    with capture(execute=True):
        run = service.reassessment_start(actor=actor, policy=policy)
    run.refresh_from_db()
    return run


def rows_by_name(run):
    return {row.client.full_name: row for row in run.rows.select_related("client")}


def test_the_run_works_out_old_and_new_per_client_and_changes_nothing(
    people, policy, finance_user, admin_person, django_capture_on_commit_callbacks
):
    hal = factories.ClientFactory(full_name="Hal Hope")  # already assessed under the new policy: left alone
    assess(finance_user, hal, date=TODAY - datetime.timedelta(days=5), income=[weekly("state_pension", "300.00")])
    assessments_before = FinancialAssessment.objects.count()

    run = run_for(finance_user, policy, django_capture_on_commit_callbacks)

    assert run.status == ReassessmentStatus.DONE
    assert (run.done, run.total, run.percent_done) == (7, 7, 100)  # Gil is inactive
    assert run.summary == {
        "assessed": 6,
        "already": 1,
        "more": 3,  # Bob, Fay (+14.00 each) and Dan (now the full cost)
        "less": 1,  # Ann
        "same": 2,  # Cat (full cost both) and Eve (nothing either way)
        "full_cost_now": 2,
        "total_weekly_change": "18.00",  # −10.00 + 14.00 + 14.00
    }
    rows = rows_by_name(run)
    ann = rows["Ann Avery"]
    # By hand: 221.20 + 72.65 + 3.00 − 10.00 − 8.00 − 5.00 − 238.70 = 35.15, down from 45.15.
    assert (ann.old_weekly, ann.new_weekly, ann.change) == (
        Money("45.15", "GBP"),
        Money("35.15", "GBP"),
        Money("-10.00", "GBP"),
    )
    assert ann.outcome == ReassessmentOutcome.LESS and not ann.new_full_cost
    bob = rows["Bob Brown"]
    assert (bob.old_weekly, bob.new_weekly) == (Money("36.00", "GBP"), Money("50.00", "GBP"))
    assert rows["Fay Ford"].assessment == people["fay"].financial_assessments.order_by("-date").first()
    dan = rows["Dan Dale"]
    assert dan.old_weekly == Money("94.30", "GBP") and dan.new_full_cost and dan.new_weekly is None
    assert dan.change is None and dan.outcome == ReassessmentOutcome.MORE
    assert rows["Cat Cole"].outcome == ReassessmentOutcome.SAME and rows["Cat Cole"].old_full_cost
    assert rows["Eve Ellis"].outcome == ReassessmentOutcome.SAME
    assert "Hal Hope" not in rows and "Gil Gone" not in rows
    # The same figures through the pure rules give the same answer.
    rules = service.rules_of(policy)
    assert charging.assess(
        rules, band="25_to_pension_age", capital=Decimal(0), income=[charging.Item("esa", Decimal("200"))],
        housing_costs=[], disability_related_expenditure=[],
    ).weekly_contribution == Decimal("50.00")  # fmt: skip
    # Nothing changed.
    assert FinancialAssessment.objects.count() == assessments_before
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, target_id=str(run.pk)).exists()


def test_progress_is_written_as_the_run_goes(people, policy, finance_user, monkeypatch):
    monkeypatch.setattr(service, "PROGRESS_EVERY", 2)
    run = ReassessmentRun.objects.create(policy=policy, requested_by=finance_user)
    seen = []
    real_assess = charging.assess

    def watching(*args, **kwargs):
        current = ReassessmentRun.objects.get(pk=run.pk)
        seen.append((current.status, current.done, current.total))
        return real_assess(*args, **kwargs)

    monkeypatch.setattr(charging, "assess", watching)
    service.reassessment_run(run_id=run.pk)

    assert seen[0] == (ReassessmentStatus.RUNNING, 0, 6)
    assert [done for _, done, _ in seen] == sorted(done for _, done, _ in seen) and seen[-1][1] >= 4
    run.refresh_from_db()
    assert (run.status, run.done, run.total) == (ReassessmentStatus.DONE, 6, 6)
    assert run.rows.count() == 6


def test_running_again_leaves_a_finished_run_as_it_is(people, policy, finance_user, django_capture_on_commit_callbacks):
    run = run_for(finance_user, policy, django_capture_on_commit_callbacks)
    ids = set(run.rows.values_list("pk", flat=True))
    service.reassessment_run(run_id=run.pk)
    assert set(run.rows.values_list("pk", flat=True)) == ids


def test_confirm_records_new_assessments_for_the_changed_only_and_only_once(
    people, policy, finance_user, admin_person, django_capture_on_commit_callbacks
):
    run = run_for(finance_user, policy, django_capture_on_commit_callbacks)
    before = FinancialAssessment.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        run = service.reassessment_confirm(actor=admin_person, run=run)

    assert run.status == ReassessmentStatus.CONFIRMED and run.confirmed_by == admin_person
    assert run.summary["recorded"] == 4 and run.summary["skipped"] == 0
    assert FinancialAssessment.objects.count() == before + 4
    new = FinancialAssessment.objects.filter(recorded_by=admin_person)
    assert {a.client.full_name for a in new} == {"Ann Avery", "Bob Brown", "Dan Dale", "Fay Ford"}
    assert all(a.date == policy.effective_from and a.policy == policy for a in new)
    ann = new.get(client=people["ann"])
    assert ann.weekly_contribution == Money("35.15", "GBP") and ann.capital == Money("15000.00", "GBP")
    assert ann.housing_costs == [{"description": "Council tax", "weekly_amount": "10.00"}]
    assert new.get(client=people["dan"]).full_cost
    assert rows_by_name(run)["Ann Avery"].new_assessment == ann
    assert people["ann"].notifications.filter(message__contains="£35.15 a week").exists()
    assert AuditEvent.objects.filter(
        action=AuditAction.TRANSITION, target_id=str(run.pk), changes__recorded=4, actor=admin_person
    ).exists()

    with pytest.raises(StateConflict, match="already been confirmed"):
        service.reassessment_confirm(actor=finance_user, run=run)
    assert FinancialAssessment.objects.count() == before + 4


def test_someone_assessed_again_since_the_run_is_left_alone(
    people, policy, finance_user, django_capture_on_commit_callbacks
):
    run = run_for(finance_user, policy, django_capture_on_commit_callbacks)
    newer = assess(finance_user, people["bob"], date=TODAY, band="25_to_pension_age", income=[weekly("esa", "300")])

    run = service.reassessment_confirm(actor=finance_user, run=run)

    assert run.summary["recorded"] == 3 and run.summary["skipped"] == 1
    bob = rows_by_name(run)["Bob Brown"]
    assert bob.new_assessment is None and "Assessed again since this run" in bob.skipped_reason
    assert people["bob"].financial_assessments.order_by("-date", "-pk").first() == newer


def test_a_future_policy_is_confirmed_only_once_it_starts(
    people, admin_person, finance_user, django_capture_on_commit_callbacks
):
    future = new_policy(admin_person, TODAY + datetime.timedelta(days=30))
    run = run_for(finance_user, future, django_capture_on_commit_callbacks)
    assert run.status == ReassessmentStatus.DONE and run.summary["more"] == 3
    before = FinancialAssessment.objects.count()

    with pytest.raises(StateConflict, match="Confirm on or after that day"):
        service.reassessment_confirm(actor=finance_user, run=run)

    run.refresh_from_db()
    assert run.status == ReassessmentStatus.DONE and FinancialAssessment.objects.count() == before


def test_only_a_finished_run_whose_policy_is_unchanged_is_confirmed(
    people, policy, finance_user, django_capture_on_commit_callbacks
):
    queued = ReassessmentRun.objects.create(policy=policy, requested_by=finance_user)
    with pytest.raises(StateConflict, match="Only a finished reassessment"):
        service.reassessment_confirm(actor=finance_user, run=queued)

    run = run_for(finance_user, policy, django_capture_on_commit_callbacks)
    ChargingPolicy.objects.filter(pk=policy.pk).update(minimum_income_guarantee=NEW_MIG | {"pension_age": "300.00"})
    with pytest.raises(StateConflict, match="figures have changed"):
        service.reassessment_confirm(actor=finance_user, run=run)
    run.refresh_from_db()
    assert run.status == ReassessmentStatus.DONE and not run.rows.exclude(new_assessment=None).exists()


@pytest.mark.parametrize("role_fixture", ["client_user", "social_worker", "team_manager", "representative"])
def test_only_finance_and_administrators_reassess(role_fixture, request, policy, web_as, finance_user):
    person = request.getfixturevalue(role_fixture)
    with pytest.raises(ActionNotAllowed):
        service.reassessment_start(actor=person, policy=policy)
    run = ReassessmentRun.objects.create(policy=policy, requested_by=finance_user, status=ReassessmentStatus.DONE)
    with pytest.raises(ActionNotAllowed):
        service.reassessment_confirm(actor=person, run=run)

    web = web_as(person)
    assert web.get("/charging/reassessments/").status_code == 403
    assert web.post("/charging/reassessments/", {"policy": policy.pk}).status_code == 403
    for path in ("", "progress.json", "clients.csv"):
        assert web.get(f"/charging/reassessments/{run.pk}/{path}").status_code == 403
    assert web.post(f"/charging/reassessments/{run.pk}/confirm/").status_code == 403
    assert ReassessmentRun.objects.count() == 1 and not FinancialAssessment.objects.exists()


def test_an_anonymous_visitor_is_asked_to_sign_in(client, policy, finance_user):
    run = ReassessmentRun.objects.create(policy=policy, requested_by=finance_user, status=ReassessmentStatus.DONE)
    login = reverse("login")
    for path in ("/charging/reassessments/", f"/charging/reassessments/{run.pk}/"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith(login)
    response = client.post(f"/charging/reassessments/{run.pk}/confirm/")
    assert response.status_code == 302 and response.headers["Location"].startswith(login)
    assert client.get(f"/charging/reassessments/{run.pk}/progress.json").status_code == 302
    assert ReassessmentRun.objects.get().status == ReassessmentStatus.DONE


def test_finance_starts_reads_and_confirms_on_the_pages(
    people, policy, web_as, finance_user, django_capture_on_commit_callbacks
):
    web = web_as(finance_user)
    listing = web.get("/charging/reassessments/").content.decode()
    assert policy.name in listing and "Reassess everyone" in listing and "Nothing changes until you confirm" in listing

    with django_capture_on_commit_callbacks(execute=True):
        response = web.post("/charging/reassessments/", {"policy": policy.pk})
    run = ReassessmentRun.objects.get()
    assert response.status_code == 302 and response.headers["Location"] == f"/charging/reassessments/{run.pk}/"
    assert web.get(f"/charging/reassessments/{run.pk}/progress.json").json() == {
        "status": "done",
        "done": 6,
        "total": 6,
        "percent": 100,
    }
    page = web.get(f"/charging/reassessments/{run.pk}/").content.decode()
    assert "Would pay more" in page and "£18.00" in page
    assert "Ann Avery" in page and "£45.15" in page and "£35.15" in page and "−£10.00" in page
    assert "Dan Dale" in page and "Full cost" in page and "Now the full cost" in page
    assert "Eve Ellis" not in page  # no change: only in the CSV
    assert "Confirm: record the new assessments" in page

    csv_lines = b"".join(web.get(f"/charging/reassessments/{run.pk}/clients.csv").streaming_content).decode()
    csv_lines = csv_lines.splitlines()
    assert csv_lines[0].startswith("client_id,username,name,current_weekly") and len(csv_lines) == 7
    assert any(",Ann Avery,45.15,no,35.15,no,-10.00,less," in line for line in csv_lines)

    before = FinancialAssessment.objects.count()
    response = web.post(f"/charging/reassessments/{run.pk}/confirm/")
    assert response.status_code == 302
    page = web.get(f"/charging/reassessments/{run.pk}/").content.decode()
    assert "4 new financial assessments recorded" in page and "Confirmed" in page
    assert "Confirm: record the new assessments" not in page
    again = web.post(f"/charging/reassessments/{run.pk}/confirm/")
    assert again.status_code == 409 and "already been confirmed" in again.content.decode()
    assert FinancialAssessment.objects.count() == before + 4


def test_a_running_run_shows_its_progress_and_refreshes_without_javascript(policy, web_as, admin_person):
    run = ReassessmentRun.objects.create(
        policy=policy, requested_by=admin_person, status=ReassessmentStatus.RUNNING, total=40, done=10
    )
    web = web_as(admin_person)
    page = web.get(f"/charging/reassessments/{run.pk}/").content.decode()
    assert "10 of 40 people reassessed" in page and '<meta http-equiv="refresh"' in page
    assert f'data-progress-url="/charging/reassessments/{run.pk}/progress.json"' in page
    assert "cairn-progress.js" in page and "Confirm:" not in page
    assert web.get(f"/charging/reassessments/{run.pk}/progress.json").json() == {
        "status": "running",
        "done": 10,
        "total": 40,
        "percent": 25,
    }
    confirm = web.post(f"/charging/reassessments/{run.pk}/confirm/")
    assert confirm.status_code == 409 and "Only a finished reassessment" in confirm.content.decode()


def test_a_future_policy_page_says_when_it_can_be_confirmed(
    people, admin_person, web_as, django_capture_on_commit_callbacks
):
    future = new_policy(admin_person, TODAY + datetime.timedelta(days=30))
    run = run_for(admin_person, future, django_capture_on_commit_callbacks)
    web = web_as(admin_person)
    page = web.get(f"/charging/reassessments/{run.pk}/").content.decode()
    assert "You can confirm from that day" in page and "Confirm: record the new assessments" not in page
    response = web.post(f"/charging/reassessments/{run.pk}/confirm/")
    assert response.status_code == 409 and "Confirm on or after that day" in response.content.decode()


def test_the_detail_page_queries_do_not_grow_with_the_rows(
    policy, finance_user, admin_person, web_as, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    def add_people(count):
        for _ in range(count):
            assess(finance_user, factories.ClientFactory(), band="25_to_pension_age", income=[weekly("esa", "200")])

    web = web_as(finance_user)
    add_people(3)
    few = run_for(finance_user, policy, django_capture_on_commit_callbacks)
    add_people(30)
    many = run_for(finance_user, policy, django_capture_on_commit_callbacks)
    assert many.summary["more"] == 33

    with django_assert_max_num_queries(10) as small:
        assert web.get(f"/charging/reassessments/{few.pk}/").status_code == 200
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert web.get(f"/charging/reassessments/{many.pk}/").status_code == 200


def test_the_table_shows_the_biggest_changes_up_to_its_cap(
    policy, finance_user, web_as, django_capture_on_commit_callbacks, monkeypatch
):
    from budgets.views import reassessment as views

    monkeypatch.setattr(views, "TABLE_ROWS", 2)
    for name, esa in (("Small Change", "155.00"), ("Big Change", "400.00"), ("Middle Change", "200.00")):
        person = factories.ClientFactory(full_name=name)
        assess(finance_user, person, band="25_to_pension_age", income=[weekly("esa", esa)])
    run = run_for(finance_user, policy, django_capture_on_commit_callbacks)
    assert run.summary["more"] == 3

    page = web_as(finance_user).get(f"/charging/reassessments/{run.pk}/").content.decode()
    assert "Big Change" in page and "Middle Change" in page and "Small Change" not in page
    assert "Showing the 2 biggest changes of 3" in page
    assert ReassessmentRow.objects.filter(run=run).count() == 3
