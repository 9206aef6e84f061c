"""Celery wrappers: each calls one service."""

from __future__ import annotations

import datetime

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from . import services
from .models import Payment


def _backoff(retries: int) -> int:
    """Seconds before the next attempt: doubling from the configured base, at most an hour."""
    return min(settings.PAYMENT_RETRY_BACKOFF_SECONDS * (2**retries), 3600)


# acks_late + reject_on_worker_lost: a worker killed mid-task leaves the message to be delivered
# again, and `payments_resume_stalled` (on worker start and on a schedule) re-queues anything
# stuck; each attempt is safe to repeat (see payments.services.runs).
@shared_task(bind=True, name="payments.payment_send", acks_late=True, reject_on_worker_lost=True, max_retries=None)
def payment_send_task(self, payment_id: int, allow_failed: bool = False) -> str:
    if self.request.is_eager:
        return _send_inline(payment_id, allow_failed)
    try:
        payment = services.payment_send(payment_id=payment_id, allow_failed=allow_failed)
    except services.PaymentNotYetSent as exc:
        if self.request.retries >= settings.PAYMENT_MAX_RETRIES:
            services.payment_give_up(payment_id=payment_id, message=exc.message)
            return "failed"
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    return payment.status


def _send_inline(payment_id: int, allow_failed: bool) -> str:
    """Without a broker (eager Celery) a task cannot be retried later: try again at once, up to
    the same number of times, then give up to finance."""
    for _attempt in range(settings.PAYMENT_MAX_RETRIES + 1):
        try:
            return services.payment_send(payment_id=payment_id, allow_failed=allow_failed).status
        except services.PaymentNotYetSent as exc:
            message = exc.message
    services.payment_give_up(payment_id=payment_id, message=message)
    return "failed"


@shared_task(name="payments.payments_send_batch", acks_late=True, reject_on_worker_lost=True)
def payments_send_batch(payment_ids: list[int]) -> int:
    """Payments one at a time, by id: how runs were queued before they were paid in batches (kept
    so messages queued by an earlier version are still handled after an upgrade); any that need
    another attempt get their own retrying task."""
    sent = 0
    for payment_id in payment_ids:
        try:
            services.payment_send(payment_id=payment_id, check_run=False)
            sent += 1
        except services.PaymentNotYetSent:
            payment_send_task.apply_async((payment_id,), countdown=_backoff(0))
    run_ids = set(Payment.objects.filter(pk__in=payment_ids).values_list("run_id", flat=True))
    for run_id in run_ids:
        services.payment_run_check_finished(run_id=run_id)
    return sent


@shared_task(name="payments.payment_run_work", acks_late=True, reject_on_worker_lost=True)
def payments_run_work(run_id: int) -> int:
    """One of a run's workers: pays the run's payments a batch at a time until none is left. A
    message delivered again after a crash is harmless (it finds what is left, if anything)."""
    return services.payment_run_work(run_id=run_id)


@shared_task(bind=True, name="payments.recovery_take_back", acks_late=True, reject_on_worker_lost=True, max_retries=8)
def recovery_take_back_task(self, recovery_id: int) -> int:
    """Each take-back carries its fixed key, so a retry (or a redelivery after a crash) is safe."""
    remaining = services.recovery_take_back(recovery_id=recovery_id)
    if remaining and not self.request.is_eager:
        raise self.retry(countdown=_backoff(self.request.retries))
    return remaining


@shared_task(bind=True, name="payments.card_limit_sync", acks_late=True, max_retries=8)
def card_limit_sync_task(self, fund_id: int) -> bool:
    """The limit is absolute, so a retry (or two syncs) can only set the latest figure."""
    done = services.card_limit_sync(fund_id=fund_id)
    if not done and not self.request.is_eager:
        raise self.retry(countdown=_backoff(self.request.retries))
    return done


@shared_task(name="payments.payments_resume_stalled")
def payments_resume_stalled(minutes: int = 5) -> int:
    return services.payments_resume_stalled(older_than=datetime.timedelta(minutes=minutes))


@shared_task(name="payments.invoices_auto_confirm")
def invoices_auto_confirm() -> int:
    return services.invoices_auto_confirm()


@shared_task(name="payments.funds_schedule", acks_late=True)
def funds_schedule(plan_id: int) -> int:
    return len(services.funds_schedule(plan_id=plan_id))


@shared_task(name="payments.loads_net_for_client", acks_late=True)
def loads_net_for_client(client_id: int) -> int:
    return services.loads_net_for_client(client_id=client_id)


@shared_task(name="payments.contributions_charge_due")
def contributions_charge_due() -> int:
    return services.contributions_charge_due()


@shared_task(name="payments.loads_pay_due")
def loads_pay_due() -> int:
    run = services.loads_pay_due()
    return run.payment_count if run else 0


@shared_task(name="payments.funds_schedule_missing")
def funds_schedule_missing() -> int:
    return services.funds_schedule_missing()


@worker_ready.connect
def _resume_after_restart(sender=None, **kwargs) -> None:
    """A worker that starts (or restarts after a crash) picks up payments left in flight."""
    payments_resume_stalled.delay(0)
