"""Receivers of careplans' and budgets' events (careplans/events.py, budgets/events.py). Each only
queues a task that calls a service."""

from __future__ import annotations

from django.dispatch import receiver

from budgets.events import financial_assessment_recorded
from careplans.events import plan_approved


@receiver(plan_approved, dispatch_uid="payments.funds_schedule")
def _schedule_funds(sender, plan_id: int, **kwargs) -> None:
    from .tasks import funds_schedule

    funds_schedule.delay(plan_id)


@receiver(financial_assessment_recorded, dispatch_uid="payments.loads_net_for_client")
def _net_loads(sender, client_id: int, **kwargs) -> None:
    from .tasks import loads_net_for_client

    loads_net_for_client.delay(client_id)
