from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import catalogue, reviews, views
from .openreferral.open_data import OpenDataPageView

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("budgets.api_urls")),
    path("", include("providers.api_urls")),
    path("", include("careplans.api_urls")),
    path("", include("approvals.api_urls")),
    path("", include("payments.api_urls")),
    path("", include("marketplace.api_urls")),
    path(
        "schema/",
        SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]),
        name="api-schema",
    ),
    path(
        "docs/",
        # Swagger UI's page template carries one inline <style>; scripts stay nonce/self only.
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema", authentication_classes=[], permission_classes=[])
        ),
        name="api-docs",
    ),
]

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("", include("accounts.urls")),
    path("", include("budgets.urls")),
    path("", include("providers.urls")),
    path("", include("careplans.urls")),
    path("", include("approvals.urls")),
    path("", include("payments.urls")),
    path("services/", catalogue.CatalogueView.as_view(), name="catalogue"),
    path("services/compare/", catalogue.CompareView.as_view(), name="compare"),
    path("providers/<int:pk>/", catalogue.ProviderPageView.as_view(), name="provider-page"),
    path("providers/<int:pk>/review/", reviews.ReviewCreateView.as_view(), name="provider-review"),
    path("reviews/<int:pk>/answer/", reviews.ReviewAnswerView.as_view(), name="review-answer"),
    path("quality/", reviews.QualityDashboardView.as_view(), name="quality"),
    path("quality/reviews/", reviews.ModerationView.as_view(), name="moderation"),
    path("quality/reviews/<int:pk>/<str:decision>/", reviews.ModerationActionView.as_view(), name="moderation-action"),
    path("openreferral/", include("marketplace.openreferral.urls")),
    path("open-data/", OpenDataPageView.as_view(), name="open-data"),
    path("favicon.ico", views.favicon),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
]

handler404 = "marketplace.views.page_not_found"
handler500 = "marketplace.views.server_error"
handler403 = "marketplace.views.permission_denied"
