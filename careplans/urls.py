from django.urls import path

from . import views

urlpatterns = [
    path("budgets/<int:budget_id>/plans/new/", views.PlanStartView.as_view(), name="plan-start"),
    # `plans/<pk>/` (name "plan-detail") is routed by approvals/urls.py: the workflow extends this page.
    path("plans/<int:pk>/details/", views.PlanDetailsEditView.as_view(), name="plan-details"),
    path("plans/<int:pk>/lines/add/", views.LineAddView.as_view(), name="plan-line-add"),
    path("plans/<int:pk>/lines/add-own/", views.OwnArrangementAddView.as_view(), name="plan-line-add-own"),
    path("plans/<int:pk>/lines/<int:line_id>/change/", views.LineChangeView.as_view(), name="plan-line-change"),
    path(
        "plans/<int:pk>/lines/<int:line_id>/remove/confirm/",
        views.LineRemoveConfirmView.as_view(),
        name="plan-line-remove-confirm",
    ),
    path("plans/<int:pk>/lines/<int:line_id>/remove/", views.LineRemoveView.as_view(), name="plan-line-remove"),
    path("plans/<int:pk>/new-version/", views.PlanNewVersionView.as_view(), name="plan-new-version"),
    path("plans/<int:pk>/plan.pdf", views.PlanPdfView.as_view(), name="plan-pdf"),
]
