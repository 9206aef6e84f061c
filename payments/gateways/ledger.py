"""The embedded gateway: it calls nobody, but records each transfer under its idempotency key in
`LedgerGatewayTransfer` exactly as an outside gateway would, so payments, retries, reversals and
reconciliation behave the same whichever gateway is configured. The ledger postings themselves
are the payments services' (every gateway's payments post to the budget ledger alike)."""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction
from djmoney.money import Money

from ..models import LedgerGatewayTransfer, PayeeAccount
from . import CheckoutSession, GatewayRefused, IssuedCard, Transfer, WebhookEvent, WebhooksNotConfigured


class LedgerGateway:
    name = "ledger"
    label = "Cairn's ledger"
    needs_account = False
    transactional = True
    issues_cards = False
    takes_payments = False

    def destination(self, *, payee: str, account: PayeeAccount | None) -> str | None:
        return payee

    def transfer(
        self, *, amount: Money, destination: str, key: str, group: str, metadata: dict, description: str = ""
    ) -> Transfer:
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
        return _transfer(existing)

    def transfer_many(self, items: list[dict]) -> list[Transfer]:
        """`transfer` for a batch (each item its keyword arguments), in two statements: keys seen
        before give their transfer back, the rest are inserted together. Only ever called inside
        the batch's transaction, under the payments' row locks, so no other call races for a key."""
        keys = [item["key"] for item in items]
        existing = {row.idempotency_key: row for row in LedgerGatewayTransfer.objects.filter(idempotency_key__in=keys)}
        new = [
            LedgerGatewayTransfer(
                transfer_id=f"ltr_{uuid.uuid4().hex[:24]}",
                idempotency_key=item["key"],
                group=item["group"],
                destination=item["destination"],
                amount=item["amount"],
                metadata={k: str(v) for k, v in item["metadata"].items()},
            )
            for item in items
            if item["key"] not in existing
        ]
        LedgerGatewayTransfer.objects.bulk_create(new)
        existing.update({row.idempotency_key: row for row in new})
        transfers = []
        for item in items:
            row = existing[item["key"]]
            if row.amount != item["amount"] or row.destination != item["destination"]:
                raise GatewayRefused("This idempotency key was used for a different transfer.")
            transfers.append(_transfer(row))
        return transfers

    def find(self, *, group: str, payment_ref: str, destination: str = "") -> Transfer | None:
        row = LedgerGatewayTransfer.objects.filter(group=group, metadata__payment=payment_ref).first()
        return _transfer(row) if row else None

    def list_group(self, *, group: str) -> list[Transfer]:
        # Take-backs (recovered surplus) are not transfers of the run.
        rows = LedgerGatewayTransfer.objects.filter(group=group).exclude(metadata__has_key="takes_back")
        return [_transfer(row) for row in rows]

    def reverse(self, *, transfer_id: str, key: str) -> Transfer:
        with transaction.atomic():
            row = LedgerGatewayTransfer.objects.select_for_update().filter(transfer_id=transfer_id).first()
            if row is None:
                raise GatewayRefused(f"No transfer {transfer_id}.")
            if not row.reversed:
                LedgerGatewayTransfer.objects.filter(pk=row.pk).update(reversed=True)
                row.reversed = True
        return _transfer(row)

    def take_back(self, *, transfer_id: str, amount: Money, key: str, metadata: dict) -> str:
        """Recorded as a transfer of its own back from the payee, under its key, naming the
        transfer it comes out of; never more than is left of that transfer."""
        with transaction.atomic():
            original = LedgerGatewayTransfer.objects.select_for_update().filter(transfer_id=transfer_id).first()
            if original is None or original.reversed:
                raise GatewayRefused(f"No transfer {transfer_id} to take money back from.")
            existing = LedgerGatewayTransfer.objects.filter(idempotency_key=key).first()
            if existing is not None:
                if existing.amount != amount or existing.metadata.get("takes_back") != transfer_id:
                    raise GatewayRefused("This idempotency key was used for a different take-back.")
                return existing.transfer_id
            taken = sum(
                (row.amount for row in LedgerGatewayTransfer.objects.filter(metadata__takes_back=transfer_id)),
                Money(0, str(amount.currency)),
            )
            if taken + amount > original.amount:
                raise GatewayRefused(f"Only {original.amount - taken} of transfer {transfer_id} is left to take back.")
            row = LedgerGatewayTransfer.objects.create(
                transfer_id=f"ltb_{uuid.uuid4().hex[:24]}",
                idempotency_key=key,
                group=original.group,
                destination=original.destination,
                amount=amount,
                metadata={**{k: str(v) for k, v in metadata.items()}, "takes_back": transfer_id},
            )
        return row.transfer_id

    def issue_card(
        self, *, reference: str, name: str, email: str, address: dict, blocked_categories: list[str], limit: Money
    ) -> IssuedCard:
        raise GatewayRefused("Cairn's ledger does not issue prepaid cards.")

    def set_card_limit(self, *, card_id: str, limit: Money, blocked_categories: list[str]) -> None:
        raise GatewayRefused("Cairn's ledger does not issue prepaid cards.")

    def checkout(
        self, *, amount: Money, reference: str, description: str, success_url: str, cancel_url: str, email: str
    ) -> CheckoutSession:
        raise GatewayRefused("Cairn's ledger takes no payments: record money received instead.")

    def create_account(self, *, email: str, name: str, reference: str) -> str:
        return f"ledger_acct_{reference}"

    def onboarding_link(self, *, account_id: str, refresh_url: str, return_url: str) -> str:
        return return_url

    def account_ready(self, *, account_id: str) -> bool:
        return True

    def parse_webhook(self, *, payload: bytes, signature: str) -> WebhookEvent:
        raise WebhooksNotConfigured("The embedded ledger gateway sends no webhooks.")


def _transfer(row: LedgerGatewayTransfer) -> Transfer:
    return Transfer(
        id=row.transfer_id,
        amount=row.amount,
        destination=row.destination,
        group=row.group,
        metadata=dict(row.metadata),
        reversed=row.reversed,
    )
