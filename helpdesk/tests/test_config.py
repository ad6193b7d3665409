import json
import subprocess
import sys

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from conftest import api_client_for
from helpdesk.config import SECRET_MASK, ConfigError, ConfigService, Source, get_config
from helpdesk.testing import assert_matches_schema


@pytest.fixture
def service(tmp_path) -> ConfigService:
    return ConfigService(path=tmp_path / "system_settings.json", environ={})


class TestPrecedence:
    def test_default_then_file_then_env(self, tmp_path):
        environ: dict[str, str] = {}
        service = ConfigService(path=tmp_path / "s.json", environ=environ)
        assert service.get("llm.model") == "qwen-plus"
        assert service.source("llm.model") is Source.DEFAULT
        service.set("llm.model", "deepseek-chat")
        assert service.get("llm.model") == "deepseek-chat"
        assert service.source("llm.model") is Source.FILE
        environ["LLM_MODEL"] = "moonshot-v1-8k"
        assert service.get("llm.model") == "moonshot-v1-8k"
        assert service.source("llm.model") is Source.ENV

    def test_env_values_are_parsed_by_declared_type(self, tmp_path):
        environ = {
            "LLM_TEMPERATURE": "0.7",
            "LLM_MAX_RETRIES": "5",
            "ALERTS_ENABLED": "no",
            "FEISHU_REPLAY_WINDOW_SECONDS": "120",
            "DIALOGUE_HANDOFF_KEYWORDS": '["人工"]',
        }
        service = ConfigService(path=tmp_path / "s.json", environ=environ)
        assert service.get("llm.temperature") == 0.7
        assert service.get("llm.max_retries") == 5
        assert service.get("alerts.enabled") is False
        assert service.get("feishu.replay_window_seconds") == 120
        assert service.get("dialogue.handoff_keywords") == ["人工"]

    def test_get_section(self, service):
        section = service.get_section("llm")
        assert section["model"] == "qwen-plus"
        assert "api_key" in section
        for name in ("llm", "dialogue", "knowledge", "alerts", "feishu"):
            assert service.get_section(name)

    def test_get_default_argument_replaces_only_none(self, service):
        assert service.get("llm.base_url", "fallback") == ""


class TestErrors:
    def test_unknown_key_is_named(self, service):
        with pytest.raises(ConfigError, match=r"llm\.nope: unknown"):
            service.get("llm.nope")
        with pytest.raises(ConfigError, match=r"llm\.nope"):
            service.set("llm.nope", 1)

    def test_wrong_type_is_named_and_not_written(self, service):
        with pytest.raises(ConfigError, match=r"llm\.max_retries: expected int"):
            service.set("llm.max_retries", "three")
        with pytest.raises(ConfigError, match=r"llm\.temperature: must be at most 2"):
            service.set("llm.temperature", 5)
        assert not service.path.exists()

    def test_bad_env_value_is_named(self, tmp_path):
        service = ConfigService(path=tmp_path / "s.json", environ={"LLM_MAX_RETRIES": "many"})
        with pytest.raises(ConfigError, match="LLM_MAX_RETRIES"):
            service.get("llm.max_retries")

    def test_bad_file_value_is_reported_by_validate_all(self, service):
        service.path.write_text(json.dumps({"llm.max_retries": "x"}))
        with pytest.raises(ConfigError, match=r"llm\.max_retries"):
            service.validate_all()

    def test_unknown_key_in_file_is_reported(self, service):
        service.path.write_text(json.dumps({"llm.typo": 1}))
        with pytest.raises(ConfigError, match=r"llm\.typo"):
            service.validate_all()

    def test_update_is_all_or_nothing(self, service):
        with pytest.raises(ConfigError):
            service.update({"llm.model": "ok", "llm.max_tokens": -1})
        assert service.source("llm.model") is Source.DEFAULT


class TestPersistence:
    def test_set_is_atomic_json_and_seen_by_another_process(self, service):
        service.set("llm.model", "glm-4")
        assert json.loads(service.path.read_text())["llm.model"] == "glm-4"
        assert not list(service.path.parent.glob(".system_settings.*"))
        code = (
            "from helpdesk.config import ConfigService; import pathlib, sys;"
            f"s = ConfigService(path=pathlib.Path({str(service.path)!r}), environ={{}});"
            "print(s.get('llm.model'))"
        )
        output = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd=settings.BASE_DIR,
            env={"DJANGO_SETTINGS_MODULE": "helpdesk.settings_test", "PATH": ""},
        ).stdout
        assert output.strip() == "glm-4"

    def test_change_by_another_writer_is_picked_up(self, service, tmp_path):
        other = ConfigService(path=service.path, environ={})
        assert service.get("llm.model") == "qwen-plus"
        other.set("llm.model", "qwen-max")
        assert service.get("llm.model") == "qwen-max"


class TestDescribe:
    def test_secrets_are_masked(self, service):
        service.set("llm.api_key", "sk-very-secret")
        rows = {row["key"]: row for row in service.describe()}
        assert rows["llm.api_key"]["value"] == SECRET_MASK
        assert rows["llm.api_key"]["source"] == "file"
        assert "sk-very-secret" not in json.dumps(rows)


@pytest.mark.django_db
class TestConfigApi:
    URL = "/api/v1/config/"

    def test_platform_admin_reads_with_sources_and_masked_secrets(self, superuser):
        get_config().set("llm.api_key", "sk-live-123456")
        client = api_client_for(superuser)
        response = client.get(self.URL)
        assert response.status_code == 200
        assert_matches_schema(response, "get", self.URL)
        rows = {row["key"]: row for row in response.json()["data"]}
        assert rows["llm.api_key"]["value"] == SECRET_MASK
        assert "sk-live-123456" not in response.content.decode()
        assert rows["llm.model"]["source"] == "default"

    def test_platform_admin_changes_file_values(self, superuser):
        client = api_client_for(superuser)
        response = client.patch(self.URL, {"values": {"llm.model": "deepseek-chat"}}, format="json")
        assert response.status_code == 200
        assert_matches_schema(response, "patch", self.URL)
        assert get_config().get("llm.model") == "deepseek-chat"

    def test_bad_values_are_a_400_naming_each_key_and_change_nothing(self, superuser):
        client = api_client_for(superuser)
        response = client.patch(
            self.URL,
            {"values": {"llm.model": "ok", "llm.max_tokens": "lots", "llm.nope": 1}},
            format="json",
        )
        assert response.status_code == 400
        assert_matches_schema(response, "patch", self.URL)
        assert set(response.json()["error"]["fields"]) == {"llm.max_tokens", "llm.nope"}
        assert get_config().source("llm.model") is Source.DEFAULT

    @pytest.mark.parametrize("role_fixture", ["admin_a", "agent_a", "viewer_a", "admin_b"])
    def test_tenant_users_are_refused(self, request, role_fixture):
        client = api_client_for(request.getfixturevalue(role_fixture))
        assert client.get(self.URL).status_code == 403
        response = client.patch(self.URL, {"values": {"llm.model": "x"}}, format="json")
        assert response.status_code == 403
        assert_matches_schema(response, "patch", self.URL)

    def test_anonymous_is_401(self, db):
        response = APIClient().get(self.URL)
        assert response.status_code == 401
        assert_matches_schema(response, "get", self.URL)


def test_secret_values_are_masked_in_logs(caplog):
    import logging

    from helpdesk.logging import RedactSecretsFilter

    get_config().set("llm.api_key", "sk-leaky-0123456789")
    logger = logging.getLogger("helpdesk.test.redaction")
    logger.addFilter(RedactSecretsFilter())
    try:
        with caplog.at_level(logging.INFO, logger=logger.name):
            logger.info("calling provider with key %s", "sk-leaky-0123456789")
    finally:
        logger.filters.clear()
    assert "sk-leaky-0123456789" not in caplog.text
    assert SECRET_MASK in caplog.text


def test_secret_values_are_masked_in_logged_tracebacks():
    import io
    import logging

    from helpdesk.logging import RedactSecretsFilter

    get_config().set("llm.api_key", "sk-leaky-0123456789")
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.addFilter(RedactSecretsFilter())
    logger = logging.getLogger("helpdesk.test.redaction.traceback")
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError("provider refused key sk-leaky-0123456789")
        except RuntimeError:
            logger.exception("LLM call failed")
    finally:
        logger.removeHandler(handler)
    assert "RuntimeError: provider refused key" in output.getvalue()
    assert "sk-leaky-0123456789" not in output.getvalue()


def _run_without_secret_key(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        env={"DJANGO_SETTINGS_MODULE": "helpdesk.settings", "DEBUG": "0", "PATH": ""},
    )


def test_the_server_does_not_start_without_a_secret_key():
    result = _run_without_secret_key("-c", "import helpdesk.asgi")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_commands_that_sign_nothing_run_without_a_secret_key():
    result = _run_without_secret_key("manage.py", "makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stderr
