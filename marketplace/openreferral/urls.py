"""`/openreferral/`: the Open Referral UK directory (docs/open-data.md). Paths as the UK profile's
OpenAPI document spells them, without trailing slashes."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.RootView.as_view(), name="oruk-root"),
    path("services", views.ServiceListView.as_view(), name="oruk-services"),
    path("services/<str:pk>", views.ServiceDetailView.as_view(), name="oruk-service"),
    path("service_at_locations", views.ServiceAtLocationListView.as_view(), name="oruk-service-at-locations"),
    path(
        "service_at_locations/<str:pk>",
        views.ServiceAtLocationDetailView.as_view(),
        name="oruk-service-at-location",
    ),
    path("taxonomies", views.TaxonomyListView.as_view(), name="oruk-taxonomies"),
    path("taxonomies/<str:pk>", views.TaxonomyDetailView.as_view(), name="oruk-taxonomy"),
    path("taxonomy_terms", views.TaxonomyTermListView.as_view(), name="oruk-taxonomy-terms"),
    path("taxonomy_terms/<str:pk>", views.TaxonomyTermDetailView.as_view(), name="oruk-taxonomy-term"),
]
