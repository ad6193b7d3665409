"""The authentication backend: Django's model backend behind the login limiter."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from accounts.login_limits import LoginLocked, login_check, login_failed, login_succeeded
from helpdesk.client_address import client_address


class LimitedModelBackend(ModelBackend):
    """Refuses every attempt while locked (Django's `authenticate()` then returns None
    without asking another backend), counts failures and clears them on success."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        client_ip: str | None = None,
        **kwargs: Any,
    ):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        if client_ip is None and request is not None:
            client_ip = client_address(request)
        try:
            login_check(client_ip=client_ip, username=username)
        except LoginLocked as exc:
            raise PermissionDenied(str(exc)) from exc
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            login_failed(client_ip=client_ip, username=username)
        else:
            login_succeeded(username=username)
        return user
