from django.urls import path

from . import views

urlpatterns = [
    path("caseload/", views.CaseloadView.as_view(), name="caseload"),
    path("clients/<int:pk>/", views.ClientDetailView.as_view(), name="client-detail"),
    path(
        "clients/<int:pk>/representatives/",
        views.ClientRepresentativeAddView.as_view(),
        name="client-representative-add",
    ),
    path(
        "clients/<int:pk>/representatives/<int:link_id>/remove/",
        views.ClientRepresentativeRemoveView.as_view(),
        name="client-representative-remove",
    ),
    path("clients/<int:client_id>/assess/", views.AssessmentStartView.as_view(), name="assessment-start"),
    path("assessments/<int:pk>/", views.AssessmentDetailView.as_view(), name="assessment-detail"),
    path("assessments/<int:pk>/step/<int:step>/", views.AssessmentStepView.as_view(), name="assessment-step"),
    path("assessments/<int:pk>/complete/", views.AssessmentCompleteView.as_view(), name="assessment-complete"),
    path(
        "assessments/<int:pk>/not-eligible/", views.AssessmentNotEligibleView.as_view(), name="assessment-not-eligible"
    ),
    path(
        "clients/<int:client_id>/financial-assessment/new/",
        views.FinancialAssessmentNewView.as_view(),
        name="financial-assessment-new",
    ),
    path("financial-assessments/<int:pk>/", views.FinancialAssessmentView.as_view(), name="financial-assessment"),
    path(
        "financial-assessments/<int:pk>/letter.pdf",
        views.FinancialAssessmentLetterView.as_view(),
        name="financial-assessment-letter",
    ),
    path("my-budget/", views.MyBudgetView.as_view(), name="my-budget"),
    path("budgets/", views.BudgetListView.as_view(), name="budget-list"),
    path("budgets/<int:pk>/", views.BudgetDetailView.as_view(), name="budget-detail"),
    path("budgets/<int:pk>/statement.pdf", views.BudgetStatementView.as_view(), name="budget-statement"),
    path(
        "budgets/<int:pk>/statements/<int:year>/<int:month>.pdf",
        views.BudgetMonthStatementView.as_view(),
        name="budget-month-statement",
    ),
    path("budgets/<int:pk>/final/", views.BudgetFinalView.as_view(), name="budget-final"),
    path("ras/", views.SchemeListView.as_view(), name="ras-schemes"),
    path("ras/<int:scheme_id>/new-version/", views.SchemeDraftStartView.as_view(), name="ras-scheme-draft"),
    path("ras/<int:scheme_id>/edit/", views.SchemeEditView.as_view(), name="ras-scheme-edit"),
    path("ras/<int:scheme_id>/publish/", views.SchemePublishView.as_view(), name="ras-scheme-publish"),
    path("ras/<int:scheme_id>/what-if/", views.WhatIfStartView.as_view(), name="whatif-start"),
    path("ras/what-if/<int:pk>/", views.WhatIfDetailView.as_view(), name="whatif-detail"),
    path("ras/what-if/<int:pk>/progress.json", views.WhatIfProgressView.as_view(), name="whatif-progress"),
    path("ras/what-if/<int:pk>/clients.csv", views.WhatIfCsvView.as_view(), name="whatif-csv"),
    path("charging/reassessments/", views.ReassessmentListView.as_view(), name="reassessments"),
    path("charging/reassessments/<int:pk>/", views.ReassessmentDetailView.as_view(), name="reassessment-detail"),
    path(
        "charging/reassessments/<int:pk>/progress.json",
        views.ReassessmentProgressView.as_view(),
        name="reassessment-progress",
    ),
    path("charging/reassessments/<int:pk>/clients.csv", views.ReassessmentCsvView.as_view(), name="reassessment-csv"),
    path(
        "charging/reassessments/<int:pk>/confirm/", views.ReassessmentConfirmView.as_view(), name="reassessment-confirm"
    ),
]
