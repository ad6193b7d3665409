"""Login forms of the admin and the browsable API, which say when a login is locked."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from accounts.login_limits import LoginLocked, login_check
from helpdesk.client_address import client_address


class LimitedAuthenticationForm(AuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username")
        if username is not None and self.request is not None:
            try:
                login_check(client_ip=client_address(self.request), username=username)
            except LoginLocked as exc:
                raise forms.ValidationError(str(exc), code="login_locked") from exc
        return super().clean()


class LimitedAdminAuthenticationForm(LimitedAuthenticationForm, AdminAuthenticationForm):
    pass
