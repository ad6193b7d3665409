"""Django settings for Helpdesk.

Process-level values come from the environment (or a `.env` file) through
django-environ. Product settings (LLM, dialogue, knowledge, alerts, Feishu, ...)
live in the ConfigService, `helpdesk/config.py`, not here.
"""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

# Without DEBUG a missing key stays empty: the server stops at start-up (helpdesk.asgi) and
# anything that signs raises, while commands that sign nothing (migrate, makemigrations,
# check) still run, as on a build machine.
SECRET_KEY = env.str("SECRET_KEY", default="") or (
    "django-insecure-debug-only-key-never-used-in-production" if DEBUG else ""
)

# Encrypts Feishu app secrets at rest (Fernet keys, comma-separated to rotate).
FEISHU_SECRETS_KEY = env.str("FEISHU_SECRETS_KEY", default="")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

VAR_DIR = Path(env.str("HELPDESK_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)
HELPDESK_SETTINGS_FILE = Path(
    env.str("HELPDESK_SETTINGS_FILE", default=str(VAR_DIR / "system_settings.json"))
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "servestatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_tasks_db",
    "helpdesk",
    "accounts",
    "workorders",
    "knowledge",
    "alerts",
    "dialogue",
    "llm",
    "reports",
    "feishu",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, and sync-only: the whole chain then runs in one thread (see its docstring).
    "helpdesk.middleware.TenantScopeMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
ASGI_APPLICATION = "helpdesk.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'helpdesk.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DATABASE_POOL", default=True
):
    # Under ASGI every request runs in a fresh worker thread, so persistent connections
    # (CONN_MAX_AGE) are rarely reused; a pool saves a PostgreSQL connect per request.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A server that stops answering must not hold a new connection (and the pool's
    # reconnect attempts) for ever; a pool timeout then becomes a 503.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=20),
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the task worker read while the other writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# With PostgreSQL and Redis, the chat's hot entry points (the stream's fast path,
# dialogue/fast_stream.py, and the WebSocket chat) use the native turn store.
CHAT_NATIVE_STORE = env.bool("CHAT_NATIVE_STORE", default=True)

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "helpdesk.cache.SharedClientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="helpdesk"),
            "OPTIONS": {
                # Past the limit, callers wait for a free connection instead of failing.
                "pool_class": "redis.BlockingConnectionPool",
                "max_connections": env.int("REDIS_MAX_CONNECTIONS", default=50),
                "timeout": env.float("REDIS_POOL_TIMEOUT", default=5.0),
                # A Redis that stops answering fails a call within these, not never.
                "socket_connect_timeout": env.float("REDIS_CONNECT_TIMEOUT", default=1.0),
                "socket_timeout": env.float("REDIS_SOCKET_TIMEOUT", default=2.0),
            },
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py's async pool refuses a connection past its limit (100 by
                # default): a reconnect storm's group joins and leaves need more.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "max_connections": env.int("CHANNEL_LAYER_MAX_CONNECTIONS", default=1000),
                        # A consumer waits for its messages with BZPOPMIN for 5 s; redis-py 8
                        # reads every reply within 5 s by default, so a busy Redis made
                        # that read time out and the consumer (the page's connection) fail.
                        "socket_timeout": env.float("CHANNEL_LAYER_SOCKET_TIMEOUT", default=10.0),
                        # Connections are opened in bursts (a reconnect storm's joins), when
                        # the event loop is busiest: the cache's fail-fast second would time
                        # out on the loop's own lag and fail the page's connection.
                        "socket_connect_timeout": env.float(
                            "CHANNEL_LAYER_CONNECT_TIMEOUT", default=5.0
                        ),
                    }
                ],
                "prefix": env.str("CHANNEL_LAYER_PREFIX", default="helpdesk"),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# Channels whose customers are reached by a deliverer of their own (dialogue.delivery).
HELPDESK_CHANNEL_DELIVERY = {"feishu": "feishu.delivery.deliver_agent_message"}

# Called with tenant=<Tenant> inside its scope when a tenant is created.
HELPDESK_TENANT_INITIALISERS: list[str] = [
    "alerts.services.alert_rules_create_defaults",
    "knowledge.services.vocabulary_seed_shipped",
]

AUTH_USER_MODEL = "accounts.User"
# Every login (API, admin, browsable API) goes through the login limiter.
AUTHENTICATION_BACKENDS = ["accounts.backends.LimitedModelBackend"]
PASSWORD_HASHERS = [
    "accounts.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "accounts.hashers.LegacySHA256PasswordHasher",
]
BCRYPT_ROUNDS = env.int("BCRYPT_ROUNDS", default=12)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "servestatic.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Any request body over this is refused with a 413 before Django reads it
# (helpdesk.request_limits); knowledge imports take up to 20 files per request.
MAX_REQUEST_BODY_BYTES = env.int("MAX_REQUEST_BODY_BYTES", default=64 * 1024 * 1024)

# Proxies in front of the application that append the client's address to
# X-Forwarded-For; 0 reads no header (helpdesk.client_address).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Whether configured outbound URLs (LLM, embeddings, Feishu) may point at private,
# loopback or link-local addresses, as local stubs in development do.
OUTBOUND_ALLOW_PRIVATE = env.bool("OUTBOUND_ALLOW_PRIVATE", default=DEBUG)

SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# HSTS for subdomains and the preload list bind the whole parent domain, which only its
# owner can decide; they stay opt-in through the two variables above.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Every page: scripts and styles from our own origin only, no inline code, no framing
# (the web chat page sets its own policy, with each tenant's frame ancestors).
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["helpdesk.api.permissions.IsTenantMember"],
    "DEFAULT_RENDERER_CLASSES": [
        "helpdesk.api.renderers.EnvelopeJSONRenderer",
        "helpdesk.api.renderers.StaffBrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "helpdesk.api.pagination.PagePagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "helpdesk.api.exceptions.envelope_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="120/min"),
        "user": env.str("API_THROTTLE_USER", default="600/min"),
    },
    "DEFAULT_THROTTLE_CLASSES": [
        "helpdesk.rate_limits.AnonRateThrottle",
        "helpdesk.rate_limits.UserRateThrottle",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "helpdesk.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_VERSIONING_CLASS": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Helpdesk API",
    "DESCRIPTION": (
        "Multi-tenant AI customer-service back office. Every response under /api/v1/ is an "
        "envelope: {success, data, meta} or {success: false, error: {code, message, fields}}. "
        'Authenticate with "Authorization: Token <key>" from /api/v1/auth/login/.'
    ),
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "DEFAULT_GENERATOR_CLASS": "helpdesk.api.schema.TenantAwareSchemaGenerator",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "helpdesk.api.schema.envelope_postprocessing_hook",
    ],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI and Redoc served from our own static files (drf-spectacular-sidecar).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "WorkOrderStatusEnum": "workorders.models.WorkOrder.Status",
        "WorkOrderSourceEnum": "workorders.models.WorkOrder.Source",
        "WorkOrderPriorityEnum": "workorders.models.WorkOrder.Priority",
    },
}

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_secrets": {"()": "helpdesk.logging.RedactSecretsFilter"},
        "outages_once": {"()": "helpdesk.outages.OutageLogFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["outages_once", "redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
    },
}
