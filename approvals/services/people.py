"""Who a plan concerns (the client, their social worker and that worker's team manager) and how
they are told about it: shared by the workflow edges and the review jobs."""

from __future__ import annotations

from collections.abc import Iterable

from django.urls import reverse

from accounts.models import User
from accounts.selectors import current_social_worker
from accounts.services import notification_send
from careplans.models import CarePlan

from .. import selectors


def notify_about_plan(
    plan: CarePlan, recipients: Iterable[User | None], message: str, *, actor: User | None, link: str = ""
) -> None:
    """In-app notifications about the plan now; the email copies after the transaction commits."""
    notification_send(
        recipients=recipients,
        message=message,
        actor=actor,
        link=link or reverse("plan-detail", args=[plan.pk]),
        target=plan,
    )


def people_of(plan: CarePlan) -> dict[str, User | None]:
    social_worker = current_social_worker(client=plan.client)
    return {
        "client": plan.client,
        "social_worker": social_worker,
        "team_manager": selectors.team_manager_of(social_worker),
    }
