"""Eligibility, the Resource Allocation System (RAS), personal budgets and their ledger.

Design:
- A `RasScheme` is one version of the council's RAS: questions grouped by eligibility outcome
  (`domain`), answers worth points, percentage modifiers on points, optional marginal price bands,
  a base price per point and a minimum and maximum budget. Its `status` is an FSM
  (draft → published → retired). Only drafts can be edited; a published version is frozen, and
  `content_digest` (a SHA-256 of its canonical export) lets anyone check an assessment was priced
  with exactly that content.
- An `Assessment` records the answers, the two yes/no eligibility conditions and which modifiers
  apply; the decision (eligible, reasons) and the priced breakdown are stored on it, so what the
  client was told never changes even if code does. Completing an eligible one creates the
  `PersonalBudget`.
- The ledger is double-entry (after django-hordak): each `PersonalBudget` has three accounts —
  `available` (allocated, not yet committed), `committed` (promised to an approved plan, not yet
  paid) and `paid` — and the council has `funding` and `reclaimed` accounts. A `LedgerTransaction`
  is a set of `LedgerPosting`s that sum to zero in one currency. Transactions and postings are
  append-only (app and database triggers); corrections are reversing transactions. Each account
  keeps a running `balance`, changed only by the ledger service under a row lock, and checked
  against the sum of its postings by tests.
  The four figures follow: allocated = available + committed + paid balances; committed (the
  figure) = committed + paid balances; paid = paid balance; available = available balance.
- `BudgetPolicy` is the single row of administrator-configurable numbers (contingency, period).
- A `WhatIfRun` re-prices every client's latest completed assessment under a draft scheme; it
  changes no budget.
- A `ReassessmentRun` works out every client's latest financial assessment again under a new
  charging policy (a `ReassessmentRow` each); it changes nothing until it is confirmed.

One module per part, so each can be read on its own: `schemes` (the outcome choices and a scheme
with its questions, answers, modifiers and bands), `assessments`, `budgets` (personal budgets and
the policy), `charging` (the charging policy and financial assessments), `ledger`, `whatif` and
`reassessment`.
Everyone imports from here: `from budgets.models import X`.
"""

from .assessments import Assessment, AssessmentStatus
from .budgets import BudgetPolicy, PersonalBudget
from .charging import (
    Band,
    ChargingPolicy,
    ContributionReview,
    FinancialAssessment,
    IncomeKind,
    ReviewStatus,
)
from .ledger import (
    BUDGET_ACCOUNT_KINDS,
    AccountKind,
    LedgerAccount,
    LedgerPosting,
    LedgerTransaction,
    TransactionKind,
)
from .reassessment import ReassessmentOutcome, ReassessmentRow, ReassessmentRun, ReassessmentStatus
from .schemes import (
    ELIGIBILITY_OUTCOMES,
    Outcome,
    RasAnswer,
    RasBand,
    RasModifier,
    RasQuestion,
    RasScheme,
    SchemeStatus,
    UnableReason,
)
from .whatif import WhatIfRun, WhatIfStatus

__all__ = [
    "BUDGET_ACCOUNT_KINDS",
    "ELIGIBILITY_OUTCOMES",
    "AccountKind",
    "Assessment",
    "AssessmentStatus",
    "Band",
    "BudgetPolicy",
    "ChargingPolicy",
    "ContributionReview",
    "FinancialAssessment",
    "IncomeKind",
    "LedgerAccount",
    "LedgerPosting",
    "LedgerTransaction",
    "Outcome",
    "PersonalBudget",
    "RasAnswer",
    "RasBand",
    "RasModifier",
    "RasQuestion",
    "RasScheme",
    "ReassessmentOutcome",
    "ReassessmentRow",
    "ReassessmentRun",
    "ReassessmentStatus",
    "ReviewStatus",
    "SchemeStatus",
    "TransactionKind",
    "UnableReason",
    "WhatIfRun",
    "WhatIfStatus",
]
