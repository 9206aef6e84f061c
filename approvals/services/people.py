"""Who a plan concerns (the client and the people acting for them, their social worker and that
worker's team manager) and how they are told about it: shared by the workflow edges and the
review jobs. Whoever acts for the client is told whatever the client is told (docs/rules.md,
"People acting for a client")."""

from __future__ import annotations

from collections.abc import Iterable

from django.urls import reverse

from accounts.models import User
from accounts.selectors import current_social_worker, representatives_of
from accounts.services import notification_send
from careplans.models import CarePlan

from .. import selectors


def notify_about_plan(
    plan: CarePlan, recipients: Iterable[User | None], message: str, *, actor: User | None, link: str = ""
) -> None:
    """In-app notifications about the plan now; the email copies after the transaction commits.
    When the client is among the recipients, so are their representatives."""
    recipients = list(recipients)
    if any(person is not None and person.pk == plan.client_id for person in recipients):
        recipients += representatives_of(plan.client)
    notification_send(
        recipients=recipients,
        message=message,
        actor=actor,
        link=link or reverse("plan-detail", args=[plan.pk]),
        target=plan,
    )


def people_of(plan: CarePlan) -> dict[str, User | None]:
    """The client, their social worker and that worker's team manager. The people acting for the
    client are not listed: `notify_about_plan` adds them wherever the client is told."""
    social_worker = current_social_worker(client=plan.client)
    return {
        "client": plan.client,
        "social_worker": social_worker,
        "team_manager": selectors.team_manager_of(social_worker),
    }
