"""Budget pages: the caseload with statuses, the assessment wizard and decision, a budget with how
it was worked out and its ledger, the statement PDF, the final budget, and what-if runs.

One module per job, so each set of pages can be read (and changed) without the others:
- `access`: the checks every page makes first (role → 403, a record the person may not see → 404);
- `clients`: the caseload and a client's record, with the people acting for the client;
- `assessments`: starting an assessment, the wizard, the decision, completing or not eligible;
- `budgets`: a budget, the finance list, a client's own budget, statements, the final budget;
- `charging`: recording a financial assessment, how a contribution was worked out, reviews;
- `schemes`: RAS schemes, the draft price editor, what-if runs and publishing (administrators);
- `reassessment`: reassessing everyone under a new charging policy (finance, administrators).
`budgets.urls` imports the views from here.
"""

from .assessments import (
    AssessmentCompleteView,
    AssessmentDetailView,
    AssessmentNotEligibleView,
    AssessmentStartView,
    AssessmentStepView,
)
from .budgets import (
    BudgetDetailView,
    BudgetFinalView,
    BudgetListView,
    BudgetMonthStatementView,
    BudgetStatementView,
    MyBudgetView,
)
from .charging import FinancialAssessmentLetterView, FinancialAssessmentNewView, FinancialAssessmentView
from .clients import CaseloadView, ClientDetailView, ClientRepresentativeAddView, ClientRepresentativeRemoveView
from .reassessment import (
    ReassessmentConfirmView,
    ReassessmentCsvView,
    ReassessmentDetailView,
    ReassessmentListView,
    ReassessmentProgressView,
)
from .schemes import (
    SchemeDraftStartView,
    SchemeEditView,
    SchemeListView,
    SchemePublishView,
    WhatIfCsvView,
    WhatIfDetailView,
    WhatIfProgressView,
    WhatIfStartView,
)

__all__ = [
    "AssessmentCompleteView",
    "AssessmentDetailView",
    "AssessmentNotEligibleView",
    "AssessmentStartView",
    "AssessmentStepView",
    "BudgetDetailView",
    "BudgetFinalView",
    "BudgetListView",
    "BudgetMonthStatementView",
    "BudgetStatementView",
    "CaseloadView",
    "ClientDetailView",
    "ClientRepresentativeAddView",
    "ClientRepresentativeRemoveView",
    "FinancialAssessmentLetterView",
    "FinancialAssessmentNewView",
    "FinancialAssessmentView",
    "MyBudgetView",
    "ReassessmentConfirmView",
    "ReassessmentCsvView",
    "ReassessmentDetailView",
    "ReassessmentListView",
    "ReassessmentProgressView",
    "SchemeDraftStartView",
    "SchemeEditView",
    "SchemeListView",
    "SchemePublishView",
    "WhatIfCsvView",
    "WhatIfDetailView",
    "WhatIfProgressView",
    "WhatIfStartView",
]
