from django.urls import path

from accounts.api.routers import Router

from . import api

router = Router()
router.register("reviews", api.ReviewViewSet, basename="api-review")

urlpatterns = [
    path("providers/<int:pk>/reviews/", api.ProviderReviewsView.as_view(), name="api-provider-reviews"),
    *router.urls,
]
