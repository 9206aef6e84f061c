"""Values every page template needs: the council's name and the signed-in person's main sections.

The sections are the service navigation in the header (GOV.UK's service navigation component): a
few of the home page's tasks per role, the ones a person comes back to every day. Each comes from
`marketplace.home.TASKS`, so it keeps the task's permission predicate and is never a link the
person would be refused. The section a page belongs to is marked current (`aria-current`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from accounts.models import Role

from .home import TASKS

# Per role, the home page tasks (by URL name) shown as sections, in this order, and a short label.
SECTIONS: dict[str, list[tuple[str, str]]] = {
    Role.CLIENT: [("my-budget", "My budget"), ("catalogue", "Find support"), ("invoice-list", "Invoices")],
    Role.REPRESENTATIVE: [("my-budget", "Budgets"), ("catalogue", "Find support"), ("invoice-list", "Invoices")],
    Role.SOCIAL_WORKER: [
        ("caseload", "My caseload"),
        ("review-queue", "Plans to review"),
        ("statutory-reviews", "Statutory reviews"),
        ("catalogue", "Find support"),
    ],
    Role.TEAM_MANAGER: [
        ("team", "My team"),
        ("review-queue", "Plans to review"),
        ("statutory-reviews", "Statutory reviews"),
        ("catalogue", "Find support"),
    ],
    Role.CASE_MANAGER: [("provider-list", "Providers"), ("quality", "Quality"), ("catalogue", "Find support")],
    Role.FINANCE: [
        ("budget-list", "Budgets"),
        ("payment-runs", "Payment runs"),
        ("invoice-list", "Invoices"),
        ("fund-list", "Funds"),
        ("contribution-arrears", "Contributions"),
    ],
    Role.PROVIDER: [("my-organisation", "Your organisation"), ("invoice-list", "Invoices"), ("payouts", "Get paid")],
    Role.ADMIN: [
        ("budget-list", "Budgets"),
        ("ras-schemes", "Resource Allocation System"),
        ("quality", "Quality"),
        ("admin:index", "Administration"),
    ],
}

# Pages that belong to a section without sitting under its address (a client's own budget page
# lives at /budgets/<id>/, a plan at /plans/<id>/): the path prefix, and the section it belongs to.
_ALSO_UNDER: dict[str, tuple[str, ...]] = {
    "my-budget": ("/budgets/", "/plans/", "/assessments/", "/financial-assessments/"),
    "caseload": ("/clients/", "/assessments/", "/budgets/", "/plans/"),
    "team": ("/clients/", "/assessments/", "/budgets/", "/plans/"),
    "catalogue": ("/providers/",),
    "review-queue": ("/plans/",),
    "payment-runs": ("/payments/",),
    "fund-list": ("/budgets/",),
    "quality": ("/quality/",),
    "my-organisation": ("/my-organisation/",),
}


@dataclass(frozen=True)
class Section:
    title: str
    url: str
    current: str  # "" when not current; "page" on the section's own page; "true" on a page within it


def nav_sections(user, path: str) -> list[Section]:
    """The person's main sections, the one `path` belongs to marked (the longest match wins, the
    section's own address before any page it merely contains)."""
    if not getattr(user, "is_authenticated", False):
        return []
    entries = []
    for url_name, title in SECTIONS.get(user.role, []):
        # Two tasks may share an address (a client's and a representative's "my-budget").
        if any(task.url_name == url_name and task.allowed(user) for task in TASKS):
            entries.append((url_name, title, reverse(url_name)))

    def score(entry) -> int:
        url_name, _title, url = entry
        if path == url:
            return 10_000
        if path.startswith(url) and url != "/":
            return 1_000 + len(url)
        if any(path.startswith(prefix) for prefix in _ALSO_UNDER.get(url_name, ())):
            return 1
        return 0

    best = max(entries, key=score, default=None)
    best_score = score(best) if best else 0
    sections = []
    for entry in entries:
        url_name, title, url = entry
        current = ""
        if best_score and entry is best:
            current = "page" if path == url else "true"
        sections.append(Section(title, url, current))
    return sections


def site(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {
        "council_name": settings.CAIRN_COUNCIL_NAME,
        "nav_sections": nav_sections(user, request.path) if user is not None else [],
    }
