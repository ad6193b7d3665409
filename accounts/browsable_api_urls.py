"""The browsable API's login and logout (DRF's `rest_framework.urls`), with the limited
login form."""

from django.contrib.auth import views
from django.urls import path

from accounts.forms import LimitedAuthenticationForm

app_name = "rest_framework"

urlpatterns = [
    path(
        "login/",
        views.LoginView.as_view(
            template_name="rest_framework/login.html",
            authentication_form=LimitedAuthenticationForm,
        ),
        name="login",
    ),
    path("logout/", views.LogoutView.as_view(), name="logout"),
]
