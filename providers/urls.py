from django.urls import path

from . import views

urlpatterns = [
    path("my-organisation/", views.MyOrganisationView.as_view(), name="my-organisation"),
    path("my-organisation/edit/", views.ProfileEditView.as_view(), name="my-organisation-edit"),
    path("my-organisation/services/add/", views.ServiceFormView.as_view(), name="service-add"),
    path("my-organisation/services/<int:pk>/edit/", views.ServiceFormView.as_view(), name="service-edit"),
    path("my-organisation/services/<int:pk>/retire/", views.ServiceRetireView.as_view(), name="service-retire"),
    path("providers/", views.ProviderListView.as_view(), name="provider-list"),
    path("providers/add/", views.ProviderAddView.as_view(), name="provider-add"),
    path("providers/<int:pk>/manage/", views.ProviderManageView.as_view(), name="provider-manage"),
]
