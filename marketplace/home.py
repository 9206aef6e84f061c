"""What each role can do now, as the home page lists it, and for a representative the people
they act for.

Each entry names a URL that exists and a predicate from a `permissions` module, so the home page
never offers a link the person would be refused. Capabilities add their entries here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.urls import reverse

from accounts import permissions
from accounts.models import Role
from approvals import permissions as approval_permissions
from budgets import permissions as budget_permissions
from budgets.selectors import current_budgets_acted_for
from payments import permissions as payment_permissions
from payments.models import FundAccount, FundKind
from payments.selectors import invoices_to_confirm_for
from providers import permissions as provider_permissions

if TYPE_CHECKING:
    from collections.abc import Callable

    from accounts.models import Representation, User
    from budgets.models import PersonalBudget
    from careplans.models import CarePlan


@dataclass(frozen=True)
class Task:
    title: str
    url_name: str
    description: str
    allowed: Callable[[User], bool]

    @property
    def url(self) -> str:
        return reverse(self.url_name)


def _signed_in(user: User) -> bool:
    return bool(user.is_authenticated)


TASKS: list[Task] = [
    Task(
        "My budget",
        "my-budget",
        "How much you have, how it was worked out, and where every pound went.",
        lambda user: permissions.has_role(user, Role.CLIENT),
    ),
    Task(
        "Budgets of the people you act for",
        "my-budget",
        "Each person's budget: how much they have, how it was worked out, and where every pound went.",
        lambda user: permissions.has_role(user, Role.REPRESENTATIVE),
    ),
    Task(
        "Find support",
        "catalogue",
        "Search services from checked providers near you, and compare them side by side.",
        lambda user: permissions.has_role(
            user, Role.CLIENT, Role.REPRESENTATIVE, Role.SOCIAL_WORKER, Role.TEAM_MANAGER, Role.CASE_MANAGER
        ),
    ),
    Task(
        "Your organisation",
        "my-organisation",
        "Your organisation's details and the services you list, with their prices.",
        lambda user: permissions.has_role(user, Role.PROVIDER) and user.provider_id is not None,
    ),
    Task(
        "Providers",
        "provider-list",
        "Every provider: check and verify new ones, suspend or reinstate.",
        provider_permissions.can_list_all_providers,
    ),
    Task(
        "My caseload",
        "caseload",
        "Your clients and where each has got to; start or continue an assessment.",
        permissions.can_view_own_caseload,
    ),
    Task(
        "Plans to review",
        "review-queue",
        "Care plans waiting for your review or decision, soonest due first.",
        approval_permissions.is_reviewer,
    ),
    Task(
        "Statutory reviews",
        "statutory-reviews",
        "When each approved plan must next be reviewed with the person.",
        approval_permissions.is_reviewer,
    ),
    Task(
        "My team",
        "team",
        "Your social workers' caseloads, and allocating a client to one of them.",
        permissions.can_view_team,
    ),
    Task(
        "Administration",
        "admin:index",
        "Accounts, teams, providers, scheduled jobs and the audit trail.",
        permissions.can_use_admin_site,
    ),
    Task(
        "Personal budgets",
        "budget-list",
        "Every personal budget with what is allocated, committed, paid and available.",
        lambda user: permissions.has_role(user, Role.FINANCE, Role.ADMIN),
    ),
    Task(
        "Resource Allocation System",
        "ras-schemes",
        "The scheme in force, drafts, and what-if re-pricing of every client.",
        budget_permissions.can_manage_schemes,
    ),
    Task(
        "API documentation",
        "api-docs",
        "The JSON API for council systems, with an interactive explorer.",
        permissions.is_admin,
    ),
    Task(
        "Quality dashboard",
        "quality",
        "Providers by client score, falling and low-rated ones, disagreements with the regulator; moderate reviews.",
        lambda user: permissions.has_role(user, Role.CASE_MANAGER) or permissions.is_admin(user),
    ),
    Task(
        "Invoices",
        "invoice-list",
        "Invoices for support: send them (providers), confirm or dispute them (clients, the people acting for "
        "them, and social workers).",
        lambda user: permissions.has_role(
            user, Role.PROVIDER, Role.CLIENT, Role.REPRESENTATIVE, Role.SOCIAL_WORKER, Role.TEAM_MANAGER, Role.FINANCE
        ),
    ),
    Task(
        "Get paid",
        "payouts",
        "Set up how your organisation receives payments.",
        lambda user: permissions.has_role(user, Role.PROVIDER) and user.provider_id is not None,
    ),
    Task(
        "Direct payments and funds",
        "fund-list",
        "The direct payments and individual service funds you look after: what each was paid, spent and holds.",
        lambda user: (
            payment_permissions.can_run_payments(user)
            or permissions.has_role(user, Role.SOCIAL_WORKER, Role.TEAM_MANAGER)
            or (permissions.has_role(user, Role.PROVIDER) and user.provider_id is not None)
        ),
    ),
    Task(
        "Contributions owed",
        "contribution-arrears",
        "Everyone who owes contributions towards their care; record money received.",
        payment_permissions.can_run_payments,
    ),
    Task(
        "Reassess under a new charging policy",
        "reassessments",
        "When a new charging policy starts: see who would pay more or less, then record the new assessments.",
        budget_permissions.can_reassess,
    ),
    Task(
        "Payment runs",
        "payment-runs",
        "Pay confirmed invoices, follow a run, retry failures, remittance advice and reconciliation.",
        payment_permissions.can_run_payments,
    ),
    Task("Notifications", "notifications", "What has happened to the plans you are involved in.", _signed_in),
    Task(
        "How long approval takes",
        "stats-approval-times",
        "Open statistics: the time each approval stage takes, by month.",
        _signed_in,
    ),
    Task(
        "Where the money goes",
        "stats-spend",
        "Open statistics: spend by kind of support and month.",
        _signed_in,
    ),
    Task("Your account", "account", "Your details and your role.", _signed_in),
    Task("Change your password", "password_change", "Choose a new password.", _signed_in),
]


def tasks_for(user: User) -> list[Task]:
    return [task for task in TASKS if task.allowed(user)]


@dataclass(frozen=True)
class ActingFor:
    """One person a representative acts for, with where to find what they may do for them."""

    link: Representation
    budget: PersonalBudget | None
    plan: CarePlan | None  # the latest version on the current budget
    invoices_to_confirm: int
    has_direct_payment: bool = False


def acting_for(user: User) -> list[ActingFor]:
    """For a representative, each client they act for (by name): their current budget, its latest
    plan and how many invoices wait for a decision. Empty for every other role."""
    if not permissions.has_role(user, Role.REPRESENTATIVE):
        return []
    waiting = Counter(invoices_to_confirm_for(user).values_list("plan__client_id", flat=True))
    rows = list(current_budgets_acted_for(user))
    with_dp = set(
        FundAccount.objects.filter(
            budget_id__in=[budget.pk for _, budget in rows if budget is not None], kind=FundKind.DIRECT_PAYMENT
        ).values_list("budget_id", flat=True)
    )
    return [
        ActingFor(
            link=link,
            budget=budget,
            plan=budget.plans.order_by("-version", "-id").first() if budget is not None else None,
            invoices_to_confirm=waiting[link.client_id],
            has_direct_payment=budget is not None and budget.pk in with_dp,
        )
        for link, budget in rows
    ]
