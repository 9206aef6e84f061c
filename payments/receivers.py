"""Receivers of careplans' events (careplans/events.py). Each only queues a task that calls a service."""

from __future__ import annotations

from django.dispatch import receiver

from careplans.events import plan_approved


@receiver(plan_approved, dispatch_uid="payments.funds_schedule")
def _schedule_funds(sender, plan_id: int, **kwargs) -> None:
    from .tasks import funds_schedule

    funds_schedule.delay(plan_id)
