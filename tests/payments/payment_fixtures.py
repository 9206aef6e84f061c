"""Shared set-up for the payment tests (PRODUCT.md §8): an approved plan with invoices to pay.

Import the fixtures a test module needs explicitly (they build on `make_budget`, `make_service`
and `make_provider` from tests/approvals/conftest.py):

    from tests.payments.payment_fixtures import pay_world, run_payments  # noqa: F401
    from tests.payments.payment_fixtures import stripe_payments, worker_retries  # noqa: F401

(`stripe_payments` uses `worker_retries`, so import both.) Test modules that then request them by
name silence ruff's F811 for the file.

- `pay_world`: Ruth's approved plan (period started 60 days ago) with a weekly line from each of
  two verified providers — "Brightside Care" (personal care, £24.50 an hour) and "Riverside
  Centre" (respite, £31.00 a session) — each with a member of staff. `pay_world.invoice(...)`
  sends and confirms an invoice for one unit on a day not yet invoiced (so each is distinct).
- `run_payments()`: finance starts a payment run and the queued sending runs (eager Celery).
- `worker_retries`: eager Celery retries a task as a worker would (instantly).
- `stripe_payments`: the Stripe fake with the gateway switched to it, short timeouts, instant
  retries; `onboard(world, fake)` gives each provider an onboarded connected account.
"""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from djmoney.money import Money

from approvals import services as workflow
from budgets.selectors import budget_figures, budget_figures_from_postings
from careplans import services as plan_services
from careplans.models import CarePlan, PlanLine
from payments import services
from payments import services as payment_services
from payments.models import Invoice, PayeeAccount, Payment, PaymentRun, PaymentStatus
from payments.services import provider_payee_account_set
from providers.models import Provider, ServiceOffering
from tests import factories

CHECKLIST = {"outcomes": True, "costs": True, "risks": True, "management": True, "contacts": True}
PERIOD_DAYS_AGO = 60
# Short enough to keep the fault tests fast, long enough for a loaded machine to answer in time.
STRIPE_TIMEOUT = 0.5
FAULT_HOLD = 1.0


def gbp(amount) -> Money:
    return Money(Decimal(str(amount)), "GBP")


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


def assert_ledger_balances(budget) -> None:
    """The running balances agree with the postings."""
    assert budget_figures(budget) == budget_figures_from_postings(budget)


@dataclasses.dataclass
class PayWorld:
    client: object
    social_worker: object
    finance: object
    budget: object
    plan: CarePlan
    providers: list[Provider]
    lines: dict[int, PlanLine]  # provider pk → its plan line
    staff: dict[int, object]  # provider pk → a member of its staff
    gateway: str = "ledger"  # for tests that build runs themselves
    _next_day: dict[int, int] = dataclasses.field(default_factory=dict)

    @property
    def brightside(self) -> Provider:
        return self.providers[0]

    @property
    def riverside(self) -> Provider:
        return self.providers[1]

    def invoice(self, provider: Provider | None = None, *, confirm: bool = True, reference: str = "") -> Invoice:
        """One unit of the provider's line on the next day not yet invoiced, submitted by its staff
        and (unless `confirm=False`) confirmed by Ruth."""
        provider = provider or self.brightside
        line = self.lines[provider.pk]
        n = self._next_day.get(provider.pk, 0)
        self._next_day[provider.pk] = n + 1
        day = line.start + datetime.timedelta(days=n)
        assert day <= timezone.localdate(), "no more days left to invoice on this line"
        invoice = payment_services.invoice_submit(
            actor=self.staff[provider.pk],
            line=line,
            period_start=day,
            period_end=day,
            units=Decimal(1),
            reference=reference or f"INV-{provider.pk}-{n + 1:03d}",
        )
        if confirm:
            invoice = services.invoice_confirm(actor=self.client, invoice=invoice)
        return Invoice.objects.get(pk=invoice.pk)

    def invoices(self, count: int, provider: Provider | None = None, **kwargs) -> list[Invoice]:
        return [self.invoice(provider, **kwargs) for _ in range(count)]


@pytest.fixture
def pay_world(make_budget, make_provider, make_service, client_user, social_worker, caseload, finance_user):
    today = timezone.localdate()
    start = today - datetime.timedelta(days=PERIOD_DAYS_AGO)
    budget = make_budget(client_user, "10000.00", period_start=start)
    brightside = make_provider(name="Brightside Care")
    riverside = make_provider(name="Riverside Centre")
    visits = make_service("Home care visits", "24.50", provider=brightside)
    respite = make_service("Respite sessions", "31.00", provider=riverside, unit="session")
    ServiceOffering.objects.filter(pk=respite.pk).update(category="respite")
    end = today + datetime.timedelta(days=9)
    plan = plan_services.plan_create(
        actor=client_user,
        budget=budget,
        outcomes=["Get out to the allotment every week"],
        lines=[
            {"service": visits.pk, "units_per_week": "7", "start": start, "end": end},
            {"service": respite.pk, "units_per_week": "7", "start": start, "end": end},
        ],
        risks="Falls: a pendant alarm",
        contacts="My daughter",
    )
    workflow.plan_submit(actor=client_user, plan=plan)
    workflow.plan_start_review(actor=social_worker, plan=plan)
    plan = workflow.plan_approve(actor=social_worker, plan=plan, checklist=dict(CHECKLIST))
    assert plan.status == "approved"
    lines = {line.provider_id: line for line in plan.lines.all()}
    providers = [Provider.objects.get(pk=brightside.pk), Provider.objects.get(pk=riverside.pk)]
    staff = {p.pk: factories.ProviderStaffFactory(provider=p, full_name=f"Staff of {p.name}") for p in providers}
    return PayWorld(
        client=client_user,
        social_worker=social_worker,
        finance=finance_user,
        budget=budget,
        plan=plan,
        providers=providers,
        lines=lines,
        staff=staff,
    )


@pytest.fixture
def run_payments(django_capture_on_commit_callbacks, finance_user):
    """`run_payments(actor=None)`: a payment run started by finance (or `actor`), with the sending
    it queues run to the end (Celery is eager in tests); returns the run, reloaded."""

    def start(actor=None) -> PaymentRun:
        with django_capture_on_commit_callbacks(execute=True):
            run = services.payment_run_start(actor=actor or finance_user)
        return reload(run)

    return start


def live_payments(invoice: Invoice):
    return Payment.objects.filter(invoice=invoice).exclude(status=PaymentStatus.REVERSED)


@pytest.fixture
def worker_retries(settings):
    """Eager tasks retry as they would in a worker. With `CELERY_TASK_EAGER_PROPAGATES = True`
    (the settings' eager mode) Celery raises `Retry` out of an eager task instead of running the
    retry (see test_payments_stripe.py's xfail on that); without propagation it runs each retry at
    once. Any task that then fails for another reason still fails the test, here at teardown."""
    from celery.signals import task_failure

    settings.CELERY_TASK_EAGER_PROPAGATES = False
    settings.PAYMENT_RETRY_BACKOFF_SECONDS = 0
    failures = []

    def record(sender=None, exception=None, **kwargs):
        failures.append(f"{getattr(sender, 'name', sender)}: {exception!r}")

    task_failure.connect(record, weak=False)
    yield
    task_failure.disconnect(record)
    assert not failures, f"eager tasks failed: {failures}"


@pytest.fixture
def stripe_payments(stripe_fake, settings, worker_retries):
    """The Stripe fake, with Cairn paying through it: short client timeout, a timeout fault that
    holds its answer just past it, instant eager retries (`worker_retries`). Transfers are sent one
    after another, so a test's fault hits a known payment (test_send_concurrency.py sends them at
    once and checks what must hold whatever the order)."""
    settings.PAYMENT_GATEWAY = "stripe"
    settings.PAYMENT_SEND_CONCURRENCY = 1
    settings.PAYMENT_RETRY_BACKOFF_SECONDS = 0
    settings.STRIPE_TIMEOUT_SECONDS = STRIPE_TIMEOUT
    stripe_fake.timeout_sleep = FAULT_HOLD
    return stripe_fake


def onboard(world: PayWorld, fake) -> dict[int, str]:
    """Give each provider of the world an onboarded connected account at the fake; returns
    provider pk → account id."""
    accounts = {}
    for provider in world.providers:
        account = fake.create_account(email=provider.email, onboarded=True)
        provider_payee_account_set(
            actor=None, provider=provider, account_id=account["id"], gateway_name="stripe", ready=True
        )
        accounts[provider.pk] = account["id"]
    world.providers[:] = [reload(p) for p in world.providers]
    return accounts


def stripe_account_id(provider) -> str:
    """The provider's Stripe connected account id, or "" when it has none."""
    account = PayeeAccount.objects.filter(provider=provider, gateway="stripe").first()
    return account.account_id if account else ""


def stripe_ready(provider) -> bool:
    return PayeeAccount.objects.filter(provider=provider, gateway="stripe", ready=True).exists()
