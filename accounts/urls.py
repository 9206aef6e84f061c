from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("sign-in/", views.SignInView.as_view(), name="login"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("account/", views.AccountView.as_view(), name="account"),
    path("account/tokens/revoke-all/", views.TokenRevokePageView.as_view(), name="account_tokens_revoke_all"),
    path("account/tokens/<str:token_id>/revoke/", views.TokenRevokePageView.as_view(), name="account_token_revoke"),
    path("team/", views.TeamView.as_view(), name="team"),
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
]
