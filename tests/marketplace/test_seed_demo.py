"""`manage.py seed_demo`: every role present, every login works, re-running changes nothing."""

import pytest
from django.core.management import call_command

from accounts.models import AuditEvent, CaseloadAssignment, Representation, Role, Team, User
from marketplace.management.commands.seed_demo import DEMO_PASSWORD
from providers.models import Provider

pytestmark = pytest.mark.django_db


def _counts():
    return (
        User.objects.count(),
        Provider.objects.count(),
        Team.objects.count(),
        CaseloadAssignment.objects.count(),
        AuditEvent.objects.count(),
    )


def test_seed_demo_creates_every_role_with_working_logins_and_is_idempotent(client):
    call_command("seed_demo", clients=5)
    assert {u.role for u in User.objects.all()} == set(Role.values)
    assert User.objects.filter(role=Role.CLIENT).count() == 5
    assert User.objects.filter(role=Role.PROVIDER, provider__isnull=True).count() == 0
    # Two clients are left unallocated for the team manager to allocate.
    assert CaseloadAssignment.objects.filter(end_date__isnull=True).count() == 3
    for user in User.objects.all():
        assert user.check_password(DEMO_PASSWORD), user.username
    first = _counts()
    call_command("seed_demo", clients=5)
    assert _counts() == first


def test_seed_demo_makes_ruths_daughter_her_representative_once(client):
    call_command("seed_demo", clients=2)
    pat = User.objects.get(username="pat.ellis")
    assert pat.role == Role.REPRESENTATIVE and pat.full_name == "Pat Ellis"
    assert [(link.client.username, link.kind) for link in pat.representations.all()] == [
        ("ruth.ellis", "family_member")
    ]
    call_command("seed_demo", clients=2)
    assert Representation.objects.count() == 1


def test_seed_demo_without_clients_has_no_representative(client):
    call_command("seed_demo", clients=0)
    assert not User.objects.filter(role=Role.REPRESENTATIVE).exists()


def test_seed_demo_can_grow_the_number_of_clients(client):
    call_command("seed_demo", clients=2)
    call_command("seed_demo", clients=25)
    assert User.objects.filter(role=Role.CLIENT).count() == 25
    assert User.objects.filter(username="ruth.ellis2").exists()


def test_seed_demo_refuses_a_negative_count():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("seed_demo", clients=-1)


@pytest.mark.django_db(transaction=True)  # the seed commits, then records spending once the loads are paid
def test_the_demo_has_a_mixed_plan_with_a_direct_payment_an_isf_and_a_representative_spending(example_scheme):
    from django.core.management import call_command

    from accounts.models import Role, User
    from payments import selectors
    from payments.models import FundAccount, FundKind, Spending

    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)  # safe to re-run: nothing twice

    grace = User.objects.get(username="grace.adeyemi")
    kwame = User.objects.get(username="kwame.adeyemi", role=Role.REPRESENTATIVE)
    dp = FundAccount.objects.get(budget__client=grace, kind=FundKind.DIRECT_PAYMENT)
    isf = FundAccount.objects.get(budget__client=grace, kind=FundKind.INDIVIDUAL_SERVICE_FUND)
    # The plan has been in force for six weeks: two four-weekly loads paid into each fund.
    assert dp.loads.filter(status="paid").count() == 2 and isf.loads.filter(status="paid").count() == 2
    # Six weeks of the PA's wages, each once, the last with its payslip.
    assert list(Spending.objects.values_list("recorded_by", flat=True)) == [kwame.pk] * 6
    figures = selectors.fund_figures(dp)
    assert figures.spent.amount == 6 * 29 and figures.balance.amount > 0
    last = dp.spending.order_by("-date").first()
    assert last.receipt and last.receipt_type == "application/pdf"
    assert dp.spending.exclude(pk=last.pk).filter(receipt="").count() == 5
    assert dp.loads.first().plan.lines.filter(service__isnull=True, money_management="direct_payment").exists()
