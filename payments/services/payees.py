"""Payee accounts: who a gateway pays, and whether they can be paid yet. A provider's staff open
their organisation's account through the gateway's onboarding; the gateway's webhooks (or a
refresh) say when it is ready."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.exceptions import InvalidInput, NotVisible, StateConflict
from accounts.models import AuditAction, User
from accounts.services import audit_record
from accounts.text import neutralise
from providers.models import Provider

from ..gateways import GatewayError, gateway
from ..models import FundAccount, PayeeAccount
from ..permissions import can_spend_from

__all__ = [
    "fund_payments_onboard",
    "fund_payments_refresh",
    "payee_account_set",
    "person_payee_account_set",
    "provider_payee_account_set",
    "provider_payments_onboard",
    "provider_payments_refresh",
]


def provider_payee_account_set(
    *, actor: User | None, provider: Provider, gateway_name: str, account_id: str, ready: bool
) -> PayeeAccount:
    """Store the provider's account with a gateway and whether it can be paid (see `_account_set`)."""
    return _account_set(actor, {"provider": provider}, gateway_name, account_id, ready)


def person_payee_account_set(
    *, actor: User | None, person: User, gateway_name: str, account_id: str, ready: bool
) -> PayeeAccount:
    """Store a person's own account with a gateway (a direct payment's holder; see `_account_set`)."""
    return _account_set(actor, {"person": person}, gateway_name, account_id, ready)


def _account_set(actor: User | None, payee: dict, gateway_name: str, account_id: str, ready: bool) -> PayeeAccount:
    """An account, once set, is never swapped for another here: a different id is refused (400), so
    payments cannot be redirected quietly. Locks the payee's account row; audited when anything
    changes."""
    with transaction.atomic():
        account = PayeeAccount.objects.select_for_update().filter(gateway=gateway_name, **payee).first()
        if account is not None and account.account_id != account_id:
            raise InvalidInput("This payee already has an account with the payment service.", field="account_id")
        if account is None:
            try:
                with transaction.atomic():
                    account = PayeeAccount.objects.create(
                        gateway=gateway_name, account_id=account_id, ready=ready, **payee
                    )
            except IntegrityError as exc:
                raise InvalidInput("That account belongs to another payee.", field="account_id") from exc
            _audit(actor, account, created=True)
            return account
        return _set_ready(actor, account, ready)


def payee_account_set(*, actor: User | None, account: PayeeAccount, ready: bool) -> PayeeAccount:
    """Record whether a payee's account can be paid now (the gateway said so)."""
    with transaction.atomic():
        return _set_ready(actor, PayeeAccount.objects.select_for_update().get(pk=account.pk), ready)


def _set_ready(actor: User | None, account: PayeeAccount, ready: bool) -> PayeeAccount:
    if account.ready != ready:
        account.ready = ready
        account.save(update_fields=["ready", "updated_at"])
        _audit(actor, account, created=False)
    return account


def _audit(actor: User | None, account: PayeeAccount, *, created: bool) -> None:
    audit_record(
        actor=actor,
        actor_username="" if actor else "payment service",
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        target=account,
        changes={"gateway": account.gateway, "account_id": account.account_id, "ready": account.ready},
    )


def provider_payments_onboard(*, actor: User, provider: Provider, refresh_url: str, return_url: str) -> str:
    """Provider staff set up payouts: open the organisation's account with the configured gateway
    when it has none (idempotently, keyed by the provider), store it, and return the onboarding
    link to send them to. Enforces: the provider's own staff (404 otherwise). The gateway is
    called outside any transaction."""
    if actor.provider_id != provider.pk:
        raise NotVisible("No such provider.")
    return _onboard(
        actor,
        {"provider": provider},
        email=provider.email,
        name=provider.name,
        reference=str(provider.pk),
        urls=(refresh_url, return_url),
    )


def provider_payments_refresh(*, actor: User | None, provider: Provider) -> PayeeAccount | None:
    """Ask the configured gateway whether the provider's onboarding is complete, and store it."""
    return _refresh(actor, {"provider": provider})


def fund_payments_onboard(*, actor: User, fund: FundAccount, refresh_url: str, return_url: str) -> str:
    """The person holding a direct payment (or their representative) sets up how they receive it:
    open the person's own account with the configured gateway when they have none (idempotently,
    keyed by the person), store it, and return the gateway's onboarding link. 404 for anyone who
    may not record the fund's spending. The gateway is called outside any transaction."""
    if fund.holder_id is None or not can_spend_from(actor, fund):
        raise NotVisible("No such direct payment.")
    person = fund.holder
    return _onboard(
        actor,
        {"person": person},
        email=person.email,
        name=person.full_name,
        reference=f"person-{person.pk}",
        urls=(refresh_url, return_url),
    )


def fund_payments_refresh(*, actor: User | None, fund: FundAccount) -> PayeeAccount | None:
    """Ask the configured gateway whether the holder's account can be paid now, and store it."""
    return _refresh(actor, {"person_id": fund.holder_id})


def _onboard(actor: User, payee: dict, *, email: str, name: str, reference: str, urls: tuple[str, str]) -> str:
    """The payee's name goes to the gateway without control or bidirectional-override characters
    (a name stored before names refused them must not reorder what the payment service shows)."""
    name = neutralise(name)
    gw = gateway()
    existing = PayeeAccount.objects.filter(gateway=gw.name, **payee).first()
    try:
        account_id = existing.account_id if existing else gw.create_account(email=email, name=name, reference=reference)
        if existing is None:
            _account_set(actor, payee, gw.name, account_id, False)
        return gw.onboarding_link(account_id=account_id, refresh_url=urls[0], return_url=urls[1])
    except GatewayError as exc:
        raise StateConflict(f"The payment service did not answer: {exc.message} Try again in a few minutes.") from exc


def _refresh(actor: User | None, payee: dict) -> PayeeAccount | None:
    gw = gateway()
    account = PayeeAccount.objects.filter(gateway=gw.name, **payee).first()
    if account is None:
        return None
    try:
        ready = gw.account_ready(account_id=account.account_id)
    except GatewayError as exc:
        raise StateConflict(f"The payment service did not answer: {exc.message}") from exc
    return payee_account_set(actor=actor, account=account, ready=ready)
