"""Payment gateways (payments/gateways): the `Gateway` protocol every gateway meets, `gateway(name)`
loading the class `settings.PAYMENT_GATEWAYS` names, where each gateway pays a payee, reversing a
transfer once (the embedded ledger and Stripe, against the local fake), and adding a gateway with
nothing but a class and a line in the setting."""

# ruff: noqa: F811  (pytest fixtures imported from payment_fixtures, then requested by name)

from __future__ import annotations

import inspect
import typing
import uuid
from typing import Protocol

import pytest
from djmoney.money import Money

from payments.gateways import (
    CheckoutSession,
    Gateway,
    GatewayRefused,
    IssuedCard,
    Transfer,
    WebhookEvent,
    WebhooksNotConfigured,
    gateway,
)
from payments.gateways.ledger import LedgerGateway
from payments.gateways.stripe import StripeGateway
from payments.models import InvoiceStatus, LedgerGatewayTransfer, PayeeAccount, Payment, PaymentStatus
from tests.payments.payment_fixtures import (  # noqa: F401  (fixtures by name)
    assert_ledger_balances,
    gbp,
    pay_world,
    reload,
    run_payments,
)

# --- a third gateway, defined here and named in the setting by its dotted path ----------------


class OtherGateway:
    """A gateway that keeps its transfers in memory: enough to show a new gateway is a class and a
    line in `settings.PAYMENT_GATEWAYS`, nothing else."""

    name = "other"
    label = "Other Pay"
    transactional = False
    needs_account = False
    issues_cards = False
    takes_payments = False

    transfers: typing.ClassVar[dict[str, Transfer]] = {}  # key → transfer, shared by every instance

    def destination(self, *, payee: str, account: PayeeAccount | None) -> str | None:
        return f"other:{payee}"

    def transfer(
        self, *, amount: Money, destination: str, key: str, group: str, metadata: dict, description: str = ""
    ) -> Transfer:
        if key not in self.transfers:
            self.transfers[key] = Transfer(
                id=f"oth_{uuid.uuid4().hex[:12]}",
                amount=amount,
                destination=destination,
                group=group,
                metadata={k: str(v) for k, v in metadata.items()},
            )
        return self.transfers[key]

    def find(self, *, group: str, payment_ref: str, destination: str = "") -> Transfer | None:
        return next((t for t in self.list_group(group=group) if t.metadata.get("payment") == payment_ref), None)

    def list_group(self, *, group: str) -> list[Transfer]:
        return [t for t in self.transfers.values() if t.group == group]

    def reverse(self, *, transfer_id: str, key: str) -> Transfer:
        raise GatewayRefused("Other Pay does not take transfers back.")

    def take_back(self, *, transfer_id: str, amount: Money, key: str, metadata: dict) -> str:
        raise GatewayRefused("Other Pay does not take money back.")

    def issue_card(
        self, *, reference: str, name: str, email: str, address: dict, blocked_categories: list[str], limit: Money
    ) -> IssuedCard:
        raise GatewayRefused("Other Pay issues no cards.")

    def set_card_limit(self, *, card_id: str, limit: Money, blocked_categories: list[str]) -> None:
        raise GatewayRefused("Other Pay issues no cards.")

    def checkout(
        self, *, amount: Money, reference: str, description: str, success_url: str, cancel_url: str, email: str
    ) -> CheckoutSession:
        raise GatewayRefused("Other Pay takes no payments.")

    def create_account(self, *, email: str, name: str, reference: str) -> str:
        return f"other_{reference}"

    def onboarding_link(self, *, account_id: str, refresh_url: str, return_url: str) -> str:
        return return_url

    def account_ready(self, *, account_id: str) -> bool:
        return True

    def parse_webhook(self, *, payload: bytes, signature: str) -> WebhookEvent:
        raise WebhooksNotConfigured("Other Pay sends no webhooks.")


OTHER_PATH = f"{__name__}.OtherGateway"


@pytest.fixture
def other_gateway(settings):
    """`settings.PAYMENT_GATEWAYS` with "other" added, and nothing else changed."""
    OtherGateway.transfers.clear()
    settings.PAYMENT_GATEWAYS = {**settings.PAYMENT_GATEWAYS, "other": OTHER_PATH}
    yield settings
    OtherGateway.transfers.clear()


# --- the protocol, read from the Protocol itself -----------------------------------------------


def protocol_attributes(protocol) -> dict[str, type]:
    """The data members a protocol declares (its annotations, resolved), bases included."""
    return typing.get_type_hints(protocol)


def protocol_methods(protocol) -> dict[str, inspect.Signature]:
    """The methods a protocol declares (bases included, `typing.Protocol`'s own machinery left out)."""
    methods = {}
    for klass in reversed(protocol.__mro__):
        if klass in (object, Protocol, typing.Generic):
            continue
        for name, value in vars(klass).items():
            if not name.startswith("_") and callable(value):
                methods[name] = inspect.signature(value)
    return methods


def shape(signature: inspect.Signature) -> list[tuple[str, object, bool]]:
    """What a caller relies on: each parameter's name, kind and whether it has a default."""
    return [(p.name, p.kind, p.default is not inspect.Parameter.empty) for p in signature.parameters.values()]


def protocol_gaps(protocol, cls) -> list[str]:
    """Every way `cls` falls short of `protocol`: a missing or mistyped attribute, a missing method,
    a method whose parameters differ. Empty: `cls` implements it."""
    gaps = []
    for name, kind in protocol_attributes(protocol).items():
        if not hasattr(cls, name):
            gaps.append(f"attribute {name} missing")
        elif not isinstance(getattr(cls, name), kind):
            gaps.append(f"attribute {name} is not a {kind.__name__}")
    for name, signature in protocol_methods(protocol).items():
        method = getattr(cls, name, None)
        if not callable(method):
            gaps.append(f"method {name} missing")
        elif shape(inspect.signature(method)) != shape(signature):
            gaps.append(f"method {name} takes {inspect.signature(method)}, not {signature}")
    return gaps


def test_the_gateway_protocol_declares_what_payments_rely_on():
    # Guards the introspection below: if it found nothing, every gateway would "implement" it.
    assert set(protocol_attributes(Gateway)) == {
        "name",
        "label",
        "transactional",
        "needs_account",
        "issues_cards",
        "takes_payments",
    }
    assert set(protocol_methods(Gateway)) >= {"destination", "transfer", "find", "reverse", "parse_webhook"}


@pytest.mark.parametrize("cls", [LedgerGateway, StripeGateway, OtherGateway], ids=["ledger", "stripe", "other"])
def test_each_gateway_has_every_member_of_the_protocol(cls):
    assert protocol_gaps(Gateway, cls) == []


def test_a_member_added_to_the_protocol_fails_a_gateway_that_lacks_it():
    class WiderGateway(Gateway, Protocol):
        currency: str

        def refund(self, *, transfer_id: str) -> Transfer: ...

    class NarrowerGateway(Gateway, Protocol):
        def reverse(self, *, transfer_id: str, key: str, reason: str) -> Transfer: ...

    assert protocol_gaps(WiderGateway, LedgerGateway) == ["attribute currency missing", "method refund missing"]
    assert [gap.split(" takes")[0] for gap in protocol_gaps(NarrowerGateway, StripeGateway)] == ["method reverse"]


def test_each_configured_gateway_is_named_by_its_own_name(settings):
    for name in settings.PAYMENT_GATEWAYS:
        assert gateway(name).name == name


# --- gateway(name) ------------------------------------------------------------------------------


def test_gateway_loads_the_class_the_setting_names():
    assert isinstance(gateway("ledger"), LedgerGateway)
    assert isinstance(gateway("stripe"), StripeGateway)


def test_gateway_without_a_name_is_the_one_new_runs_use(settings):
    settings.PAYMENT_GATEWAY = "stripe"
    assert isinstance(gateway(), StripeGateway)
    settings.PAYMENT_GATEWAY = "ledger"
    assert isinstance(gateway(), LedgerGateway)


def test_an_unknown_gateway_name_is_refused_with_its_name():
    with pytest.raises(GatewayRefused) as refused:
        gateway("carrier-pigeon")
    assert "'carrier-pigeon'" in refused.value.message


def test_a_gateway_removed_from_the_setting_is_refused(settings):
    settings.PAYMENT_GATEWAYS = {"ledger": settings.PAYMENT_GATEWAYS["ledger"]}
    with pytest.raises(GatewayRefused):
        gateway("stripe")


def test_adding_a_gateway_needs_only_the_class_and_the_setting(other_gateway):
    assert isinstance(gateway("other"), OtherGateway)
    other_gateway.PAYMENT_GATEWAY = "other"
    assert isinstance(gateway(), OtherGateway)


@pytest.mark.django_db
def test_a_payment_run_pays_through_an_added_gateway(other_gateway, pay_world, run_payments):
    other_gateway.PAYMENT_GATEWAY = "other"
    invoice = pay_world.invoice()

    run = run_payments()

    assert run.gateway == "other"
    payment = Payment.objects.get(invoice=invoice)
    assert payment.status == PaymentStatus.PAID
    assert reload(invoice).status == InvoiceStatus.PAID
    [sent] = OtherGateway.transfers.values()
    assert (sent.id, sent.amount, sent.group) == (payment.transfer_id, gbp("24.50"), run.transfer_group)
    assert sent.destination == f"other:{payment.payee_reference}"
    assert not LedgerGatewayTransfer.objects.exists()
    assert_ledger_balances(pay_world.budget)


# --- destination --------------------------------------------------------------------------------


def test_ledger_pays_the_payee_reference_with_or_without_an_account():
    ledger = LedgerGateway()
    assert ledger.destination(payee="provider-12", account=None) == "provider-12"
    account = PayeeAccount(gateway="ledger", account_id="ledger_acct_12", ready=False)
    assert ledger.destination(payee="provider-12", account=account) == "provider-12"


def test_stripe_pays_the_account_only_once_it_is_ready():
    stripe = StripeGateway()
    assert stripe.destination(payee="provider-12", account=None) is None
    started = PayeeAccount(gateway="stripe", account_id="acct_1Started", ready=False)
    assert stripe.destination(payee="provider-12", account=started) is None
    ready = PayeeAccount(gateway="stripe", account_id="acct_1Ready", ready=True)
    assert stripe.destination(payee="provider-12", account=ready) == "acct_1Ready"


# --- reverse: the embedded ledger --------------------------------------------------------------


@pytest.fixture
def ledger_transfer(db):
    return LedgerGateway().transfer(
        amount=gbp("24.50"), destination="provider-12", key="cairn-invoice-1-run-1", group="run-1", metadata={}
    )


def test_ledger_reverse_marks_the_transfer_reversed(ledger_transfer):
    reversed_ = LedgerGateway().reverse(transfer_id=ledger_transfer.id, key="reverse-1")

    assert ledger_transfer.reversed is False
    assert reversed_.reversed is True
    assert (reversed_.id, reversed_.amount) == (ledger_transfer.id, gbp("24.50"))
    assert LedgerGatewayTransfer.objects.get(transfer_id=ledger_transfer.id).reversed is True


def test_ledger_reverse_twice_gives_the_same_result(ledger_transfer):
    first = LedgerGateway().reverse(transfer_id=ledger_transfer.id, key="reverse-1")
    again = LedgerGateway().reverse(transfer_id=ledger_transfer.id, key="reverse-1")

    assert again == first
    assert LedgerGatewayTransfer.objects.count() == 1
    assert LedgerGatewayTransfer.objects.get().reversed is True


def test_ledger_reverse_of_an_unknown_transfer_is_refused_and_changes_nothing(ledger_transfer):
    with pytest.raises(GatewayRefused) as refused:
        LedgerGateway().reverse(transfer_id="ltr_nosuchtransfer", key="reverse-1")

    assert "ltr_nosuchtransfer" in refused.value.message
    assert list(LedgerGatewayTransfer.objects.values_list("transfer_id", "reversed")) == [(ledger_transfer.id, False)]


# --- reverse: Stripe, against the local fake ---------------------------------------------------


@pytest.fixture
def stripe_transfer(stripe_fake):
    account = stripe_fake.create_account(email="office@brightside.example", onboarded=True)
    return stripe_fake.create_transfer(amount=2450, destination=account["id"], transfer_group="run-1")


def reversal_posts(fake, transfer_id) -> list:
    return fake.requests_to("POST", f"/v1/transfers/{transfer_id}/reversals")


def test_stripe_reverse_takes_the_whole_transfer_back(stripe_fake, stripe_transfer):
    balance_before = stripe_fake.balance()

    reversed_ = StripeGateway().reverse(transfer_id=stripe_transfer["id"], key="reverse-1")

    assert reversed_.reversed is True
    assert (reversed_.id, reversed_.amount) == (stripe_transfer["id"], gbp("24.50"))
    held = stripe_fake.get_transfer(stripe_transfer["id"])
    assert (held["reversed"], held["amount_reversed"], held["reversals"]["total_count"]) == (True, 2450, 1)
    assert stripe_fake.balance() == balance_before + 2450
    [post] = reversal_posts(stripe_fake, stripe_transfer["id"])
    assert post.idempotency_key == "reverse-1"


def test_stripe_reverse_twice_with_the_same_key_reverses_once(stripe_fake, stripe_transfer):
    first = StripeGateway().reverse(transfer_id=stripe_transfer["id"], key="reverse-1")
    balance_after_first = stripe_fake.balance()

    again = StripeGateway().reverse(transfer_id=stripe_transfer["id"], key="reverse-1")

    assert again == first
    held = stripe_fake.get_transfer(stripe_transfer["id"])
    assert (held["amount_reversed"], held["reversals"]["total_count"]) == (2450, 1)
    assert stripe_fake.balance() == balance_after_first
    assert [p.idempotency_key for p in reversal_posts(stripe_fake, stripe_transfer["id"])] == ["reverse-1"] * 2


def test_stripe_reverse_of_an_unknown_transfer_is_refused_and_changes_nothing(stripe_fake, stripe_transfer):
    balance_before = stripe_fake.balance()

    with pytest.raises(GatewayRefused):
        StripeGateway().reverse(transfer_id="tr_1NoSuchTransfer", key="reverse-1")

    held = stripe_fake.get_transfer(stripe_transfer["id"])
    assert (held["reversed"], held["amount_reversed"]) == (False, 0)
    assert stripe_fake.balance() == balance_before
