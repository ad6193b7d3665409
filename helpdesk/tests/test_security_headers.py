"""A Content-Security-Policy on every page, and pages that need no inline code under it."""

import re

import pytest
from django.test import Client

STRICT = ("script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)


def assert_strict(response) -> None:
    policy = response["Content-Security-Policy"]
    for directive in STRICT:
        assert directive in policy, policy
    assert "unsafe-inline" not in policy


def assert_no_inline_code(html: str) -> None:
    assert INLINE_SCRIPT.findall(html) == []
    assert INLINE_HANDLER.findall(html) == []
    assert INLINE_STYLE.findall(html) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/admin/login/", "/api-auth/login/", "/api/docs/", "/healthz", "/api/v1/auth/me/"]
)
def test_anonymous_pages_have_the_strict_policy(client, path):
    response = client.get(path)
    assert_strict(response)
    if response["Content-Type"].startswith("text/html"):
        assert_no_inline_code(response.content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/workorders/workorder/",
        "/admin/workorders/workorder/add/",
        "/admin/knowledge/knowledgeentry/add/",
        "/admin/llm/llmcall/",
        "/admin/accounts/user/",
    ],
)
def test_admin_pages_need_no_inline_code(admin_a, path):
    client = Client()
    client.force_login(admin_a)
    response = client.get(path)
    assert response.status_code == 200
    assert_strict(response)
    assert_no_inline_code(response.content.decode())


@pytest.mark.django_db
def test_swagger_ui_loads_its_start_up_script_as_a_file(client):
    html = client.get("/api/docs/").content.decode()
    sources = re.findall(r'<script src="([^"]+)"', html)
    assert any("swagger-ui-bundle" in source for source in sources)
    assert all(source.startswith("/") for source in sources), sources  # no CDN
    assert client.get(sources[-1]).status_code == 200


@pytest.mark.django_db
def test_redoc_allows_inline_styles_only(client):
    response = client.get("/api/redoc/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy + ";"
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert INLINE_SCRIPT.findall(response.content.decode()) == []


@pytest.mark.django_db
def test_browsable_api_runs_no_inline_script(agent_a):
    client = Client()
    client.force_login(agent_a)
    response = client.get("/api/v1/auth/me/", HTTP_ACCEPT="text/html")
    assert response["Content-Type"].startswith("text/html")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy + ";"
    assert "frame-ancestors 'none'" in policy
    assert INLINE_SCRIPT.findall(response.content.decode()) == []
    assert INLINE_HANDLER.findall(response.content.decode()) == []
