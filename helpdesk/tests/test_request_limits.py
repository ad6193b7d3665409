"""Bad bodies are a 400 or 413, in the error envelope under /api/, never a 500."""

import asyncio
import io
import json

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from helpdesk.api.parsers import JSONParser, RequestTooLarge
from helpdesk.request_limits import RequestBodyLimit

WORKORDERS = "/api/v1/workorders/"


def envelope_error(response) -> dict:
    body = response.json()
    assert body["success"] is False
    return body["error"]


@pytest.mark.django_db
class TestDjangoRefusals:
    def test_too_many_form_fields_on_the_api(self, client_a):
        fields = {f"f{n}": "x" for n in range(1001)}
        response = client_a.post(WORKORDERS, fields, format="multipart")
        assert response.status_code == 400
        assert envelope_error(response)["code"] == "parse_error"

    def test_too_many_urlencoded_fields_anonymously(self, db):
        body = "&".join(f"f{n}=x" for n in range(1001))
        response = APIClient().post(
            "/api/v1/auth/login/", body, content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 400
        assert envelope_error(response)["code"] == "parse_error"

    def test_too_many_fields_on_a_page(self, db):
        body = "&".join(f"f{n}=x" for n in range(1001))
        client = Client(enforce_csrf_checks=False)
        response = client.post(
            "/admin/login/", body, content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 400

    def test_json_body_over_the_limit_is_413(self, client_a, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
        payload = json.dumps({"title": "x" * 2048})
        response = client_a.post(WORKORDERS, payload, content_type="application/json")
        assert response.status_code == 413
        assert envelope_error(response)["code"] == "request_too_large"

    def test_form_body_over_the_limit_is_413_on_a_page(self, db, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
        body = "a=" + "x" * 2048
        response = Client().post(
            "/admin/login/", body, content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 413

    def test_form_body_over_the_limit_is_413_on_the_api(self, db, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
        body = "username=" + "x" * 2048
        response = APIClient().post(
            "/api/v1/auth/login/", body, content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 413
        assert envelope_error(response)["code"] == "request_too_large"

    def test_json_body_without_a_limit_is_read(self, client_a, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None  # Django's "no limit"
        payload = json.dumps({"title": "x" * 2048})
        response = client_a.post(WORKORDERS, payload, content_type="application/json")
        assert response.status_code not in (413, 500)

    def test_malformed_multipart_is_400(self, client_a):
        response = client_a.post(
            "/api/v1/workorders/import/",
            b"--nope\r\nContent-Disposition: form-data; name=\r\n\r\nbroken",
            content_type="multipart/form-data; boundary=",
        )
        assert response.status_code == 400
        envelope_error(response)

    def test_django_refusals_are_not_echoed(self, client_a, monkeypatch, caplog):
        def refuse(*args, **kwargs):
            raise SuspiciousFileOperation("Detected path traversal: /srv/helpdesk/var/x")

        monkeypatch.setattr(JSONParser, "parse", refuse)
        response = client_a.post(
            WORKORDERS, "{}", content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
        )
        assert response.status_code == 400
        assert envelope_error(response) == {
            "code": "parse_error",
            "message": "The request could not be read.",
            "fields": {},
        }
        assert "/srv/helpdesk" in caplog.text  # for the operator

    def test_malformed_json_is_400(self, client_a):
        response = client_a.post(WORKORDERS, "{not json", content_type="application/json")
        assert response.status_code == 400
        assert envelope_error(response)["code"] == "parse_error"


class RecordingApp:
    """An ASGI app that reads the whole body and answers 200 with its length."""

    def __init__(self) -> None:
        self.called = False

    async def __call__(self, scope, receive, send) -> None:
        self.called = True
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            size += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(size).encode()})


def run_asgi(app, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> list[dict]:
    sent: list[dict] = []
    pending = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]

    async def receive() -> dict:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/v1/x/", "headers": headers}
    asyncio.run(app(scope, receive, send))
    return sent


class TestBodyLimitBeforeDjango:
    def test_declared_length_over_the_limit_is_refused_unread(self, settings):
        settings.MAX_REQUEST_BODY_BYTES = 100
        inner = RecordingApp()
        sent = run_asgi(RequestBodyLimit(inner), [(b"content-length", b"101")], [b"x" * 101])
        assert sent[0]["status"] == 413
        assert json.loads(sent[1]["body"])["error"]["code"] == "request_too_large"
        assert inner.called is False

    def test_the_same_message_as_the_json_parser(self, settings):
        settings.MAX_REQUEST_BODY_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 3 * 2**20
        with translation.override("en"):
            sent = run_asgi(RequestBodyLimit(RecordingApp()), [(b"content-length", b"4000000")], [])
            with pytest.raises(RequestTooLarge) as parsed:
                JSONParser().parse(io.BytesIO(b"[" + b"0," * 2_000_000 + b"0]"))
        assert json.loads(sent[1]["body"]) == {
            "success": False,
            "error": {
                "code": "request_too_large",
                "message": "The request body is larger than 3.0 MB.",
                "fields": {},
            },
        }
        assert str(parsed.value.detail) == "The request body is larger than 3.0 MB."

    def test_chunked_body_over_the_limit_is_cut_off(self, settings):
        settings.MAX_REQUEST_BODY_BYTES = 100
        sent = run_asgi(RequestBodyLimit(RecordingApp()), [], [b"x" * 60, b"x" * 60])
        assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [413]

    def test_body_within_the_limit_passes(self, settings):
        settings.MAX_REQUEST_BODY_BYTES = 100
        sent = run_asgi(RequestBodyLimit(RecordingApp()), [], [b"x" * 50, b"x" * 50])
        assert sent[0]["status"] == 200
        assert sent[1]["body"] == b"100"

    def test_bad_content_length_is_400(self, settings):
        sent = run_asgi(RequestBodyLimit(RecordingApp()), [(b"content-length", b"-5")], [b""])
        assert sent[0]["status"] == 400
