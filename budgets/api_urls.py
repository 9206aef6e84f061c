from django.urls import path

from accounts.api.routers import Router

from . import api, api_charging

router = Router()
router.register("assessments", api.AssessmentViewSet, basename="api-assessment")
router.register("budgets", api.BudgetViewSet, basename="api-budget")
router.register("charging-policies", api_charging.ChargingPolicyViewSet, basename="api-charging-policy")
router.register("financial-assessments", api_charging.FinancialAssessmentViewSet, basename="api-financial-assessment")
router.register("contribution-reviews", api_charging.ReviewViewSet, basename="api-contribution-review")

urlpatterns = [
    path("ras/active/", api.ActiveSchemeView.as_view(), name="api-ras-active"),
    path("stats/contribution-reviews/", api_charging.ReviewTimesView.as_view(), name="api-stats-contribution-reviews"),
    *router.urls,
]
