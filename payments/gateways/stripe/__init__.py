"""Stripe Connect: transfers from the council's platform account to each payee's connected
account, in pence, through the official client; onboarding of connected accounts; webhooks."""

from __future__ import annotations

from djmoney.money import Money

from accounts.money import to_pence

from ...models import PayeeAccount
from .. import CheckoutSession, IssuedCard, Transfer, WebhookEvent
from . import issuing, onboarding, webhooks
from .client import call, make_client, plain, to_transfer


class StripeGateway:
    name = "stripe"
    label = "Stripe"
    needs_account = True
    transactional = False
    issues_cards = True
    takes_payments = True

    def __init__(self, client=None):
        self._client = client

    @property
    def client(self):
        if self._client is None:
            self._client = make_client()
        return self._client

    def destination(self, *, payee: str, account: PayeeAccount | None) -> str | None:
        return account.account_id if account is not None and account.ready else None

    def transfer(
        self, *, amount: Money, destination: str, key: str, group: str, metadata: dict, description: str = ""
    ) -> Transfer:
        if destination.startswith("ic_"):  # a prepaid card: the load tops up the Issuing balance
            return issuing.top_up(
                self.client,
                amount=amount,
                card_id=destination,
                key=key,
                group=group,
                metadata=metadata,
                description=description,
            )
        params = {
            "amount": to_pence(amount),
            "currency": str(amount.currency).lower(),
            "destination": destination,
            "transfer_group": group,
            "metadata": {k: str(v) for k, v in metadata.items()},
        }
        if description:
            params["description"] = description[:350]
        return to_transfer(call(self.client.v1.transfers.create, params, options={"idempotency_key": key}))

    def find(self, *, group: str, payment_ref: str, destination: str = "") -> Transfer | None:
        if destination.startswith("ic_"):  # a load onto a prepaid card was a top-up
            topped = issuing.top_ups_in(self.client, group=group)
            return next((t for t in topped if t.metadata.get("payment") == payment_ref), None)

        def look():
            for item in self.client.v1.transfers.list({"transfer_group": group, "limit": 100}).auto_paging_iter():
                if (plain(item).get("metadata") or {}).get("payment") == payment_ref:
                    return item
            return None

        found = call(look)
        return to_transfer(found) if found is not None else None

    def list_group(self, *, group: str) -> list[Transfer]:
        def everything():
            return list(self.client.v1.transfers.list({"transfer_group": group, "limit": 100}).auto_paging_iter())

        return [to_transfer(item) for item in call(everything)] + issuing.top_ups_in(self.client, group=group)

    def reverse(self, *, transfer_id: str, key: str) -> Transfer:
        call(self.client.v1.transfers.reversals.create, transfer_id, {}, options={"idempotency_key": key})
        return to_transfer(call(self.client.v1.transfers.retrieve, transfer_id))

    def take_back(self, *, transfer_id: str, amount: Money, key: str, metadata: dict) -> str:
        """A partial reversal of the load's Connect transfer: the money comes back from the
        person's connected account to the council's platform balance."""
        params = {"amount": to_pence(amount), "metadata": {k: str(v) for k, v in metadata.items()}}
        reversal = call(
            self.client.v1.transfers.reversals.create, transfer_id, params, options={"idempotency_key": key}
        )
        return plain(reversal)["id"]

    def issue_card(
        self, *, reference: str, name: str, email: str, address: dict, blocked_categories: list[str], limit: Money
    ) -> IssuedCard:
        return issuing.issue_card(
            self.client,
            reference=reference,
            name=name,
            email=email,
            address=address,
            blocked_categories=blocked_categories,
            limit=limit,
        )

    def set_card_limit(self, *, card_id: str, limit: Money, blocked_categories: list[str]) -> None:
        issuing.set_card_limit(self.client, card_id=card_id, limit=limit, blocked_categories=blocked_categories)

    def checkout(
        self, *, amount: Money, reference: str, description: str, success_url: str, cancel_url: str, email: str
    ) -> CheckoutSession:
        """A Stripe Checkout session (mode `payment`, one line, in pence); `client_reference_id`
        and metadata name the person, so the completion is matched to them again."""
        params = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": str(amount.currency).lower(),
                        "unit_amount": to_pence(amount),
                        "product_data": {"name": description[:200]},
                    },
                    "quantity": 1,
                }
            ],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": reference,
            "metadata": {"cairn": reference},
        }
        if email:
            params["customer_email"] = email
        session = plain(call(self.client.v1.checkout.sessions.create, params))
        return CheckoutSession(id=session["id"], url=session["url"])

    def create_account(self, *, email: str, name: str, reference: str) -> str:
        return onboarding.create_account(self.client, email=email, name=name, reference=reference)

    def onboarding_link(self, *, account_id: str, refresh_url: str, return_url: str) -> str:
        return onboarding.onboarding_link(
            self.client, account_id=account_id, refresh_url=refresh_url, return_url=return_url
        )

    def account_ready(self, *, account_id: str) -> bool:
        return onboarding.account_ready(self.client, account_id=account_id)

    def parse_webhook(self, *, payload: bytes, signature: str) -> WebhookEvent:
        return webhooks.parse(payload=payload, signature=signature)
