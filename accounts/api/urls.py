from django.urls import path

from accounts.api.routers import Router

from . import views

router = Router()
router.register("users", views.UserViewSet, basename="api-user")
router.register("teams", views.TeamViewSet, basename="api-team")
router.register("caseloads", views.CaseloadViewSet, basename="api-caseload")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("auth/tokens/", views.TokenListView.as_view(), name="api-token-list"),
    path("auth/tokens/<str:token_id>/", views.TokenRevokeView.as_view(), name="api-token-revoke"),
    path("me/", views.MeView.as_view(), name="api-me"),
    *router.urls,
]
