from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter(trailing_slash=True)
router.register("assessments", api.AssessmentViewSet, basename="api-assessment")
router.register("budgets", api.BudgetViewSet, basename="api-budget")

urlpatterns = [
    path("ras/active/", api.ActiveSchemeView.as_view(), name="api-ras-active"),
    *router.urls,
]
