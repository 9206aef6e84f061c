"""Reconciliation: a payment run's payments and ledger postings against the gateway's transfers."""

from __future__ import annotations

import dataclasses

from budgets.models import TransactionKind

from ..gateways import gateway
from ..models import PaymentRun, PaymentStatus

__all__ = ["Difference", "payment_run_reconcile"]


@dataclasses.dataclass(frozen=True)
class Difference:
    payment_id: int | None
    transfer_id: str
    problem: str


def payment_run_reconcile(*, run: PaymentRun) -> list[Difference]:
    """Compare the run's payments (and their ledger postings) with the gateway's transfers for the
    run's transfer group; every difference is listed. Raises `GatewayError` if the gateway
    cannot be asked."""
    transfers = {t.id: t for t in gateway(run.gateway).list_group(group=run.transfer_group)}
    by_reference = {t.metadata.get("payment"): t for t in transfers.values()}
    differences: list[Difference] = []
    seen: set[str] = set()
    for payment in run.payments.select_related("ledger_transaction").order_by("pk"):
        transfer = transfers.get(payment.transfer_id) if payment.transfer_id else by_reference.get(payment.reference)
        if transfer is not None:
            seen.add(transfer.id)
        status = payment.status
        if status in (PaymentStatus.PAID, PaymentStatus.REVERSED) and transfer is None:
            differences.append(
                Difference(payment.pk, payment.transfer_id, "Paid in Cairn, but the gateway has no transfer.")
            )
            continue
        if (
            status not in (PaymentStatus.PAID, PaymentStatus.REVERSED)
            and transfer is not None
            and not transfer.reversed
        ):
            differences.append(
                Difference(
                    payment.pk, transfer.id, f"The gateway has a transfer, but Cairn has the payment as {status}."
                )
            )
            continue
        if transfer is None:
            continue
        if transfer.amount != payment.amount:
            differences.append(
                Difference(
                    payment.pk, transfer.id, f"Amounts differ: Cairn {payment.amount}, gateway {transfer.amount}."
                )
            )
        if transfer.reversed and status != PaymentStatus.REVERSED:
            differences.append(Difference(payment.pk, transfer.id, "Reversed at the gateway, not in Cairn."))
        if status == PaymentStatus.REVERSED and not transfer.reversed:
            differences.append(Difference(payment.pk, transfer.id, "Reversed in Cairn, not at the gateway."))
        # An invoice is paid out of the commitment; a load is paid into the fund (its own kind).
        posted_as = TransactionKind.PAYMENT if payment.invoice_id else TransactionKind.FUND_LOAD
        if status == PaymentStatus.PAID and (
            payment.ledger_transaction is None or payment.ledger_transaction.kind != posted_as
        ):
            differences.append(Difference(payment.pk, transfer.id, "Paid, but no payment posted to the ledger."))
    for transfer in transfers.values():
        if transfer.id not in seen:
            differences.append(
                Difference(None, transfer.id, f"A transfer of {transfer.amount} that matches no payment of this run.")
            )
    return differences
