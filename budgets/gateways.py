"""Payment gateways: "move this much to that account, with this key" (STYLE.md).

Two gateways with one interface, chosen by `settings.PAYMENT_GATEWAY`:
- `ledger` (the embedded default) calls nobody; it records the transfer in
  `LedgerGatewayTransfer`, keyed like a real one, so retries and reconciliation behave the same.
- `stripe`: Stripe Connect transfers from the council's platform account to the provider's
  connected account, in pence, through the official client (`StripeClient`; `STRIPE_API_BASE`
  points it at a local fake in tests). Our own Celery task retries, so the client's are off.

Errors say what the caller may safely do next:
- `GatewayAmbiguous`: a timeout, a dropped connection or a 5xx — the transfer may or may not
  exist. Look it up (`find`) before any new attempt; resend only with the same key.
- `GatewayRetryLater`: 429 — nothing was done; try again later with the same key.
- `GatewayRefused`: a definite refusal (bad account, insufficient balance...) with the
  gateway's message, for finance to act on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from djmoney.money import Money

from accounts.money import to_pence


class GatewayError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class GatewayAmbiguous(GatewayError):
    """The outcome is unknown: look the transfer up before trying again."""


class GatewayRetryLater(GatewayError):
    """Nothing happened; try again later."""


class GatewayRefused(GatewayError):
    """A definite no, with the gateway's reason."""


@dataclass(frozen=True)
class Transfer:
    id: str
    amount: Money
    destination: str
    group: str
    metadata: dict = field(default_factory=dict)
    reversed: bool = False


class LedgerGateway:
    name = "ledger"
    local = True  # lives in Cairn's own database: callers may use it inside a transaction

    def transfer(
        self, *, amount: Money, destination: str, key: str, group: str, metadata: dict, description: str = ""
    ) -> Transfer:
        from .models import LedgerGatewayTransfer

        existing = LedgerGatewayTransfer.objects.filter(idempotency_key=key).first()
        if existing is None:
            try:
                with transaction.atomic():
                    existing = LedgerGatewayTransfer.objects.create(
                        transfer_id=f"ltr_{uuid.uuid4().hex[:24]}",
                        idempotency_key=key,
                        group=group,
                        destination=destination,
                        amount=amount,
                        metadata={k: str(v) for k, v in metadata.items()},
                    )
            except IntegrityError:  # the same key at the same moment: the first one stands
                existing = LedgerGatewayTransfer.objects.get(idempotency_key=key)
        if existing.amount != amount or existing.destination != destination:
            raise GatewayRefused("This idempotency key was used for a different transfer.")
        return _ledger_transfer(existing)

    def find(self, *, group: str, payment_ref: str) -> Transfer | None:
        from .models import LedgerGatewayTransfer

        row = LedgerGatewayTransfer.objects.filter(group=group, metadata__payment=payment_ref).first()
        return _ledger_transfer(row) if row else None

    def list_group(self, *, group: str) -> list[Transfer]:
        from .models import LedgerGatewayTransfer

        return [_ledger_transfer(row) for row in LedgerGatewayTransfer.objects.filter(group=group)]

    def create_account(self, *, email: str, name: str, reference: str) -> str:
        return f"ledger_acct_{reference}"

    def onboarding_link(self, *, account_id: str, refresh_url: str, return_url: str) -> str:
        return return_url

    def account_ready(self, *, account_id: str) -> bool:
        return True


def _ledger_transfer(row) -> Transfer:
    return Transfer(
        id=row.transfer_id,
        amount=row.amount,
        destination=row.destination,
        group=row.group,
        metadata=dict(row.metadata),
        reversed=row.reversed,
    )


class StripeGateway:
    name = "stripe"
    local = False

    def __init__(self, client=None):
        self._client = client

    @property
    def client(self):
        if self._client is None:
            import stripe

            options = {"base_addresses": {"api": settings.STRIPE_API_BASE}} if settings.STRIPE_API_BASE else {}
            self._client = stripe.StripeClient(
                settings.STRIPE_SECRET_KEY,
                max_network_retries=0,
                http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
                **options,
            )
        return self._client

    def _call(self, fn, *args, **kwargs):
        import stripe

        try:
            return fn(*args, **kwargs)
        except stripe.RateLimitError as exc:
            raise GatewayRetryLater(_message(exc)) from exc
        except stripe.IdempotencyError as exc:
            raise GatewayRefused(_message(exc)) from exc
        except stripe.APIError as exc:
            if getattr(exc, "http_status", None) == 409:  # a concurrent request with the same key
                raise GatewayRetryLater(_message(exc)) from exc
            raise GatewayAmbiguous(_message(exc)) from exc
        except stripe.APIConnectionError as exc:
            raise GatewayAmbiguous(_message(exc)) from exc
        except stripe.StripeError as exc:
            status = getattr(exc, "http_status", None)
            if status is not None and status >= 500:
                raise GatewayAmbiguous(_message(exc)) from exc
            raise GatewayRefused(_message(exc)) from exc

    def transfer(
        self, *, amount: Money, destination: str, key: str, group: str, metadata: dict, description: str = ""
    ) -> Transfer:
        params = {
            "amount": to_pence(amount),
            "currency": str(amount.currency).lower(),
            "destination": destination,
            "transfer_group": group,
            "metadata": {k: str(v) for k, v in metadata.items()},
        }
        if description:
            params["description"] = description[:350]
        result = self._call(self.client.v1.transfers.create, params, options={"idempotency_key": key})
        return _stripe_transfer(result)

    def find(self, *, group: str, payment_ref: str) -> Transfer | None:
        def look():
            for item in self.client.v1.transfers.list({"transfer_group": group, "limit": 100}).auto_paging_iter():
                if (_plain(item).get("metadata") or {}).get("payment") == payment_ref:
                    return item
            return None

        found = self._call(look)
        return _stripe_transfer(found) if found is not None else None

    def list_group(self, *, group: str) -> list[Transfer]:
        def everything():
            pages = self.client.v1.transfers.list({"transfer_group": group, "limit": 100})
            return list(pages.auto_paging_iter())

        return [_stripe_transfer(item) for item in self._call(everything)]

    def create_account(self, *, email: str, name: str, reference: str) -> str:
        params = {
            "type": "express",
            "country": "GB",
            "capabilities": {"transfers": {"requested": True}},
            "business_profile": {"name": name[:100]},
            "metadata": {"cairn_provider": reference},
        }
        if email:
            params["email"] = email
        account = self._call(
            self.client.v1.accounts.create, params, options={"idempotency_key": f"cairn-account-{reference}"}
        )
        return account["id"]

    def onboarding_link(self, *, account_id: str, refresh_url: str, return_url: str) -> str:
        link = self._call(
            self.client.v1.account_links.create,
            {"account": account_id, "refresh_url": refresh_url, "return_url": return_url, "type": "account_onboarding"},
        )
        return link["url"]

    def account_ready(self, *, account_id: str) -> bool:
        account = _plain(self._call(self.client.v1.accounts.retrieve, account_id))
        return bool(account.get("payouts_enabled") or account.get("charges_enabled")) and bool(
            account.get("details_submitted")
        )


def _plain(obj) -> dict:
    """A Stripe object as a plain dict (stripe 16's objects have no `.get`)."""
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _message(exc) -> str:
    return getattr(exc, "user_message", None) or str(exc) or exc.__class__.__name__


def _stripe_transfer(item) -> Transfer:
    item = _plain(item)
    return Transfer(
        id=item["id"],
        amount=Money(Decimal(item["amount"]) / 100, str(item["currency"]).upper()),
        destination=item.get("destination") or "",
        group=item.get("transfer_group") or "",
        metadata=dict(item.get("metadata") or {}),
        reversed=bool(item.get("reversed")),
    )


def gateway(name: str | None = None):
    """The configured gateway (`settings.PAYMENT_GATEWAY`), or the one named."""
    name = name or settings.PAYMENT_GATEWAY
    if name == "stripe":
        return StripeGateway()
    return LedgerGateway()
