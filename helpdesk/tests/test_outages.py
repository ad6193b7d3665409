"""Database and cache outages: a 503 in the envelope, one log line per kind, limits that
keep counting in process memory, health checks that blame the right component."""

import asyncio
import logging
import threading

import psycopg
import pytest
from django.db import utils as db_utils
from django.test import RequestFactory
from rest_framework.request import Request

from helpdesk import health
from helpdesk.api.exceptions import envelope_exception_handler, json_500
from helpdesk.outages import Outage, OutageLogFilter, outage_of, reset_outage_log
from helpdesk.rate_limits import AnonRateThrottle, resilient_cache
from helpdesk.testing import free_port

DEAD_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
    }
}


def database_down_error() -> db_utils.OperationalError:
    """The error Django raises when PostgreSQL cannot be reached (a real refused connect)."""
    try:
        psycopg.connect(f"host=127.0.0.1 port={free_port()} connect_timeout=2")
    except psycopg.OperationalError as exc:
        try:
            raise db_utils.OperationalError(*exc.args) from exc
        except db_utils.OperationalError as wrapped:
            return wrapped
    raise AssertionError("connected to a closed port")


@pytest.fixture(autouse=True)
def _fresh_outage_log():
    reset_outage_log()
    resilient_cache.clear_local()
    yield
    reset_outage_log()


def test_database_outage_is_a_503_with_one_log_line(caplog):
    request = Request(RequestFactory().get("/api/v1/workorders/"))
    caplog.set_level(logging.WARNING, logger="helpdesk.outage")
    responses = [
        envelope_exception_handler(database_down_error(), {"request": request}) for _ in range(3)
    ]
    assert {response.status_code for response in responses} == {503}
    assert responses[0].data["error"]["code"] == "database_unavailable"
    assert responses[0]["Retry-After"] == "5"
    lines = [r for r in caplog.records if r.name == "helpdesk.outage"]
    assert len(lines) == 1
    assert "database unavailable" in lines[0].getMessage()
    assert lines[0].exc_info is None


def test_outside_drf_a_database_outage_is_a_503_too(rf):
    try:
        raise database_down_error()
    except db_utils.OperationalError:
        api = json_500(rf.get("/api/v1/workorders/"))
        page = json_500(rf.get("/admin/"))
    assert api.status_code == page.status_code == 503
    assert b"database_unavailable" in api.content
    assert page["Retry-After"] == "5"


def test_other_errors_are_still_a_500(rf):
    try:
        raise RuntimeError("bug")
    except RuntimeError:
        assert json_500(rf.get("/api/v1/workorders/")).status_code == 500


def test_django_request_tracebacks_of_an_outage_become_one_line():
    outage_filter = OutageLogFilter()
    error = database_down_error()
    records = [
        logging.LogRecord(
            "django.request",
            logging.ERROR,
            __file__,
            1,
            "Internal Server Error: %s",
            ("/api/v1/x/",),
            (type(error), error, error.__traceback__),
        )
        for _ in range(5)
    ]
    kept = [record for record in records if outage_filter.filter(record)]
    assert len(kept) == 1
    assert kept[0].exc_info is None
    assert kept[0].levelno == logging.WARNING
    assert "Internal Server Error: /api/v1/x/" in kept[0].getMessage()
    plain = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "boom", (), None)
    assert outage_filter.filter(plain) and plain.levelno == logging.ERROR


def test_outage_kinds():
    import redis

    assert outage_of(database_down_error()) is Outage.DATABASE
    assert outage_of(redis.exceptions.ConnectionError("refused")) is Outage.CACHE
    assert outage_of(ValueError("x")) is None


def test_throttle_counts_in_memory_while_the_cache_is_down(settings, rf, caplog):
    settings.CACHES = DEAD_REDIS
    caplog.set_level(logging.WARNING, logger="helpdesk.outage")

    class Limited(AnonRateThrottle):
        rate = "3/min"

    request = Request(rf.get("/api/v1/knowledge/search/", REMOTE_ADDR="10.7.0.1"))
    allowed = [Limited().allow_request(request, None) for _ in range(4)]
    assert allowed == [True, True, True, False]
    lines = [r for r in caplog.records if r.name == "helpdesk.outage"]
    assert len(lines) == 1 and "cache unavailable" in lines[0].getMessage()


def test_health_check_of_a_hanging_component_times_out_alone(monkeypatch):
    monkeypatch.setattr(health, "CHECK_TIMEOUT_SECONDS", 0.2)
    release = threading.Event()
    runs = []

    def hangs() -> None:
        runs.append(1)
        release.wait(5)

    async def both():
        check = health._on_thread("hanging-test", hangs)
        return await asyncio.gather(health._run(check), health._run(check))

    try:
        first, second = asyncio.run(both())
    finally:
        release.set()
    assert first == second == {"ok": False, "error": "TimeoutError", "timeout_s": 0.2}
    assert runs == [1]  # the second request joined the check in flight


@pytest.mark.django_db
def test_healthz_with_the_cache_down_blames_the_cache_only(settings, client):
    settings.CACHES = DEAD_REDIS
    body = client.get("/healthz").json()
    assert body["checks"]["cache"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_django_503_lines_are_written_once_per_interval():
    outage_filter = OutageLogFilter()
    error = database_down_error()
    records = [
        logging.LogRecord(
            "django.request",
            logging.ERROR,
            __file__,
            1,
            "Service Unavailable: %s",
            ("/api/v1/x/",),
            (type(error), error, error.__traceback__),
        )
        for _ in range(4)
    ]
    for record in records:
        record.status_code = 503
    kept = [record for record in records if outage_filter.filter(record)]
    assert len(kept) == 1
    assert kept[0].exc_info is None
    assert "(0 more 503 responses not logged)" in kept[0].getMessage()
