"""Statelessness: one conversation served alternately by two server processes.

Both uvicorn processes share PostgreSQL and Redis with the test; nothing about the
session lives in either process. On SQLite the cache is in each process's memory,
so the test only runs on PostgreSQL + Redis.
"""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from django.conf import settings
from django.db import connection

from dialogue.models import Message, Role
from helpdesk.config import get_config
from helpdesk.tenancy import tenant_scope
from helpdesk.testing import free_port, sse_events

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


@pytest.fixture
def servers(transactional_db, llm) -> Iterator[list[str]]:
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("Two server processes need shared PostgreSQL and Redis (run with them).")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings_test",
        "DATABASE_URL": _database_url(),
        "HELPDESK_SETTINGS_FILE": str(settings.HELPDESK_SETTINGS_FILE),
    }
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "helpdesk.asgi:application", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, process in zip(urls, processes, strict=True):
            _wait_ready(url, process)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
        _wait_for_their_sessions_to_end()


def _wait_for_their_sessions_to_end() -> None:
    """PostgreSQL ends a departed client's session a moment later; until then the test
    database could not be dropped at the end of the run."""
    deadline = time.monotonic() + 5
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.05)


def _wait_ready(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(process.stderr.read().decode())
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


def _stream_text(response: httpx.Response) -> dict:
    name, data = sse_events(response.text)[-1]
    assert name == "done"
    return data


def test_one_conversation_through_two_processes(servers, tenant_a, llm):
    first, second = servers
    # No knowledge here, so every answer is low-confidence: keep the assistant answering.
    get_config().set("dialogue.handoff_after_low_confidence", 0)
    token = httpx.post(
        f"{first}/api/v1/chat/visitor-token/",
        json={"widget_key": tenant_a.widget_key, "visitor_id": "roaming-visitor"},
    ).json()["data"]["token"]
    headers = {"Authorization": f"Visitor {token}"}
    session_id = httpx.post(f"{second}/api/v1/chat/sessions/", headers=headers).json()["data"]["id"]
    questions = ["第一问：你好", "第二问：退款", "第三问：发票", "第四问：物流"]
    for number, question in enumerate(questions):
        server = servers[number % 2]
        body = {"content": question, "client_message_id": f"m{number}"}
        if number % 2:
            response = httpx.post(
                f"{server}/api/v1/chat/sessions/{session_id}/stream/",
                json=body,
                headers=headers,
                timeout=10,
            )
            assert response.status_code == 200
            assert _stream_text(response)["session"] == session_id
        else:
            response = httpx.post(
                f"{server}/api/v1/chat/sessions/{session_id}/messages/",
                json=body,
                headers=headers,
                timeout=10,
            )
            assert response.status_code == 200, response.text
            assert response.json()["data"]["session"]["id"] == session_id
    # The last prompt, built by the second process, holds every earlier turn in order.
    prompt = llm.requests()[-1]["messages"]
    users = [m["content"] for m in prompt if m["role"] == "user"]
    assert users == questions
    # A retry of message m2 at the other process is a duplicate: no second LLM call.
    calls = llm.stats()["requests"]
    retry = httpx.post(
        f"{second}/api/v1/chat/sessions/{session_id}/messages/",
        json={"content": questions[2], "client_message_id": "m2"},
        headers=headers,
        timeout=10,
    )
    assert retry.json()["data"]["duplicate"] is True
    assert llm.stats()["requests"] == calls
    with tenant_scope(tenant_a):
        roles = list(
            Message.objects.filter(session_id=session_id)
            .order_by("created_at", "id")
            .values_list("role", flat=True)
        )
    assert roles == [Role.USER, Role.ASSISTANT] * 4


def test_client_leaving_a_stream_stops_it_cleanly(servers, tenant_a, llm):
    llm.configure(tokens=40, token_delay_ms=50)
    token = httpx.post(
        f"{servers[0]}/api/v1/chat/visitor-token/",
        json={"widget_key": tenant_a.widget_key, "visitor_id": "leaver"},
    ).json()["data"]["token"]
    headers = {"Authorization": f"Visitor {token}"}
    session_id = httpx.post(f"{servers[0]}/api/v1/chat/sessions/", headers=headers).json()["data"][
        "id"
    ]
    url = f"{servers[0]}/api/v1/chat/sessions/{session_id}/stream/"
    with httpx.stream("POST", url, json={"content": "你好"}, headers=headers, timeout=10) as r:
        for line in r.iter_lines():
            if line.startswith("data:"):
                break
    deadline = time.monotonic() + 10
    answer = None
    while time.monotonic() < deadline and answer is None:
        with tenant_scope(tenant_a):
            answer = Message.objects.filter(session_id=session_id, role=Role.ASSISTANT).first()
        time.sleep(0.1)
    assert answer is not None and answer.error_type == "client_disconnected"
    # The LLM stream was abandoned too, not generated to the end for nobody.
    assert llm.stats()["completed"] == 0
