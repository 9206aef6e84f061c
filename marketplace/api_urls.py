from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter(trailing_slash=True)
router.register("reviews", api.ReviewViewSet, basename="api-review")

urlpatterns = [
    path("providers/<int:pk>/reviews/", api.ProviderReviewsView.as_view(), name="api-provider-reviews"),
    *router.urls,
]
