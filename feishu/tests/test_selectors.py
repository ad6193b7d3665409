"""The callback's app lookup: found apps are kept a few seconds, unknown ids never."""

import pytest

from feishu import selectors
from feishu.models import FeishuApp

pytestmark = pytest.mark.django_db


def test_unknown_app_ids_are_not_kept(app_a):
    for n in range(50):
        assert selectors.callback_app(f"cli_random_{n}") is None
    assert selectors._apps == {}
    assert selectors.callback_app("cli_a") == app_a
    assert list(selectors._apps) == ["cli_a"]


def test_an_expired_entry_is_dropped_on_read(app_a, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(selectors.time, "monotonic", lambda: clock[0])
    assert selectors.callback_app("cli_a") == app_a
    FeishuApp.all_tenants.filter(pk=app_a.pk).update(is_active=False)
    assert selectors.callback_app("cli_a") == app_a  # still within APP_CACHE_SECONDS
    clock[0] += selectors.APP_CACHE_SECONDS + 1
    assert selectors.callback_app("cli_a") is None
    assert selectors._apps == {}
