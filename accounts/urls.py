from django.urls import path

from accounts.api import LoginView, LogoutView, MeView, TokenDetailView, TokenListView

urlpatterns = [
    path("login/", LoginView.as_view(), name="auth-login"),
    path("logout/", LogoutView.as_view(), name="auth-logout"),
    path("me/", MeView.as_view(), name="auth-me"),
    path("tokens/", TokenListView.as_view(), name="auth-tokens"),
    path("tokens/<int:token_id>/", TokenDetailView.as_view(), name="auth-token-detail"),
]
