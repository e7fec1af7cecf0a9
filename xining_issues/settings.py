"""Settings for xining-issues.

Every setting that differs between a laptop and production is read from the environment here,
through django-environ, and nowhere else. The README's settings table mirrors ``ENV_VARIABLES``.
The defaults are the embedded development setup: SQLite and a Celery broker on the file system
under ``var/``, so ``make run`` needs no server.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from xining_issues.brokers import filesystem_transport_options
from xining_issues.cache import cache_settings
from xining_issues.storage import STORAGE_ENV_VARIABLES, default_storage_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

# Placeholder used only when DEBUG is on; production refuses to start with it.
DEVELOPMENT_SECRET_KEY = "dev-insecure-xining-issues-secret-key-change-me"  # noqa: S105

# name: (type, default, description). The single list of variables; README mirrors it.
ENV_VARIABLES: dict[str, tuple[type, object, str]] = {
    "DEBUG": (bool, True, "Development mode. Must be 0 in production."),
    "SECRET_KEY": (str, "", "Django secret key. Required when DEBUG=0."),
    "ALLOWED_HOSTS": (list, ["127.0.0.1", "localhost", "[::1]"], "Host names the site answers."),
    "CSRF_TRUSTED_ORIGINS": (list, [], "Origins (scheme://host) trusted for unsafe requests."),
    "DATABASE_URL": (str, f"sqlite:///{VAR_DIR / 'db.sqlite3'}", "Database URL."),
    "DATABASE_REPLICA_URL": (str, "", "Streaming read replica of DATABASE_URL (optional)."),
    "DATABASE_REPLICA_MAX_LAG": (int, 30, "Seconds behind at most, else reads use the primary."),
    "CELERY_BROKER_URL": (str, "filesystem://", "Celery broker URL (redis://… in production)."),
    "CELERY_FILESYSTEM_DIR": (str, str(VAR_DIR / "celery"), "Queue folder (filesystem broker)."),
    "MEDIA_ROOT": (str, str(VAR_DIR / "media"), "Uploads (kept outside the web root)."),
    **STORAGE_ENV_VARIABLES,
    "EXPORT_RETENTION_DAYS": (int, 7, "Days a background export's workbook is kept."),
    "QUEUE_EXPORT_SYNC_MAX_ROWS": (int, 2000, "Queue exports up to this size build at once."),
    "ROUTER_MIN_CONFIDENCE": (
        float,
        0.35,
        "智能派单: below this top probability the rule's suggestion stands alone.",
    ),
    "ROUTER_CACHE_SECONDS": (
        float,
        30.0,
        "智能派单: each process re-reads the model's version, categories and 权责清单 this often.",
    ),
    "ROUTER_TRAINING_CASES": (
        int,
        300_000,
        "智能派单 learns from at most this many of the newest archived cases.",
    ),
    "STATIC_ROOT": (str, str(VAR_DIR / "static"), "Where collectstatic puts files."),
    "SECURE_SSL_REDIRECT": (bool, True, "Redirect HTTP to HTTPS when DEBUG=0."),
    "SECURE_HSTS_SECONDS": (int, 31536000, "HSTS max-age when DEBUG=0."),
    "EMAIL_URL": (str, "consolemail://", "Outgoing mail (smtp+tls://user:pass@host:587)."),
    "DEFAULT_FROM_EMAIL": (str, "noreply@xining-issues.local", "Sender of outgoing mail."),
    "SMS_BACKEND": (str, "logging", "SMS backend: logging (development) or http."),
    "SMS_GATEWAY_URL": (str, "", "HTTP SMS gateway endpoint (SMS_BACKEND=http)."),
    "SMS_GATEWAY_TOKEN": (str, "", "Bearer token for the SMS gateway."),
    "CACHE_URL": (str, "locmemcache://", "Cache for rate limits (redis://… in production)."),
    "TRUSTED_PROXIES": (list, [], "Proxies (IPs/CIDRs) whose X-Forwarded-For hop is believed."),
    "LOGIN_FAILURE_LIMIT": (int, 5, "Failed sign-ins that lock a username."),
    "LOGIN_IP_FAILURE_LIMIT": (int, 20, "Failed sign-ins that lock a client address."),
    "LOGIN_LOCKOUT_MINUTES": (int, 15, "How long a sign-in lockout lasts."),
    "TRACK_FAILURE_LIMIT": (int, 5, "Wrong phone digits that lock a tracking code."),
    "TRACK_LOCK_MINUTES": (int, 15, "How long a tracking code stays locked."),
    "OUTBOX_RETENTION_DAYS": (
        int,
        90,
        "Days sent emails and SMS (with their recipients) are kept.",
    ),
    "ACCESS_LOG_RETENTION_DAYS": (int, 180, "Days the sign-in log is kept (at least 180)."),
    "LOG_LEVEL": (str, "INFO", "Root log level."),
    "SITE_URL": (str, "http://127.0.0.1:8000", "Public address, for links in SMS and email."),
    "OPEN311_JURISDICTION": (str, "xining.gov.cn", "The city's Open311 jurisdiction_id."),
    "OPEN311_PLACE_KM": (float, 5.0, "How far a lat/long may lie from a community's point."),
    "SUPERVISION_SCAN_SECONDS": (int, 60, "How often the supervision scan runs."),
    "SUPERVISION_WARNING_SHARE": (float, 0.75, "Warn when this share of the time is used."),
    "SUPERVISION_SIGN_HOURS": (int, 2, "Working hours a unit has to sign for a case."),
    "SUPERVISION_LEADER_AFTER_HOURS": (int, 24, "Overdue hours before the unit leader is told."),
    "SUPERVISION_OFFICE_AFTER_HOURS": (int, 72, "Overdue hours before the 督查室 above is told."),
    "SUPERVISION_EVALUATE_DAYS": (int, 7, "Days to evaluate before a reply is archived."),
    "SUPERVISION_BATCH_SIZE": (int, 200, "Cases per supervision task."),
    "STATS_WEIGHT_RESPONSE": (float, 0.3, "Weight of 响应率 in the composite score."),
    "STATS_WEIGHT_RESOLUTION": (float, 0.3, "Weight of 解决率 in the composite score."),
    "STATS_WEIGHT_SATISFACTION": (float, 0.4, "Weight of 满意率 in the composite score."),
}

env = environ.Env(**{name: (kind, default) for name, (kind, default, _d) in ENV_VARIABLES.items()})
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG: bool = env("DEBUG")
SECRET_KEY: str = env("SECRET_KEY")
if not SECRET_KEY or SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a long random value when DEBUG is off, for example: "
            "SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
        )
    SECRET_KEY = DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS: list[str] = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS: list[str] = env("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "simple_history",
    "import_export",
    "axes",
    "csp",
    "org",
    "notifications",
    "cases",
    "topics",
    "stats",
    "demo",
    "xining_issues.apps.ShellConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "xining_issues.middleware.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # After the locale (its messages speak the reader's language), before anything that reads
    # parameters (CSRF reads the form): refuses NUL bytes, puts API errors in the JSON shape.
    "xining_issues.middleware.ApiErrorMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a sign-in refused for lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "xining_issues.urls"
WSGI_APPLICATION = "xining_issues.wsgi.application"
ASGI_APPLICATION = "xining_issues.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "xining_issues.context_processors.roles",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # WAL lets the web server, the worker and beat read while one of them writes.
    # Tests use a file, not memory, so that a real worker process can share the test database;
    # one file per test process, so that two test runs on one machine do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
    # The tab counts' covering index (cases.0011) is PostgreSQL's; SQLite keeps its key
    # column only, which is all a demo city needs: say nothing of it at every migrate.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # An unreachable database fails a request (and /healthz) in seconds, not minutes.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
# An optional streaming replica (hot standby) of the primary, for the dashboards', exports' and
# work queue's reads (xining_issues/db_router.py). Only views marked for it read there, only
# while it answers within DATABASE_REPLICA_MAX_LAG seconds; everything else uses the primary.
DATABASE_REPLICA_MAX_LAG: int = env("DATABASE_REPLICA_MAX_LAG")
DATABASE_ROUTERS: list[str] = []
if env("DATABASE_REPLICA_URL"):
    _replica = env.db("DATABASE_REPLICA_URL")
    if not (
        DATABASES["default"]["ENGINE"].endswith("postgresql")
        and _replica["ENGINE"] == DATABASES["default"]["ENGINE"]
    ):
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URL needs PostgreSQL, for it and for DATABASE_URL: it names a "
            "streaming standby of the primary."
        )
    _replica.update(
        ATOMIC_REQUESTS=False,
        CONN_MAX_AGE=DATABASES["default"]["CONN_MAX_AGE"],
        CONN_HEALTH_CHECKS=True,
        # Tests use the test database for both aliases instead of creating a second one.
        TEST={"MIRROR": "default"},
    )
    # The primary's connection options, then the replica URL's own; a replica that does not
    # answer is skipped after 2 s (the reads go to the primary), unless its URL says otherwise.
    _replica["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "connect_timeout": 2,
        **_replica.get("OPTIONS", {}),
    }
    DATABASES["replica"] = _replica
    DATABASE_ROUTERS = ["xining_issues.db_router.ReplicaRouter"]

# Rate limits count in the cache: use Redis in production so every web process shares them.
# A Redis URL gets the fail-open backend: if Redis is down, limits count per process instead
# of refusing complaints (xining_issues/cache.py).
CACHES = {"default": cache_settings(url=env("CACHE_URL"))}

# --- who the client is, and how many tries it gets (xining_issues/throttling.py) --------------
# Only hops appended by these proxies are read from X-Forwarded-For; none listed, none read.
TRUSTED_PROXIES: list[str] = env("TRUSTED_PROXIES")
try:
    for _proxy in TRUSTED_PROXIES:
        ipaddress.ip_network(_proxy.strip(), strict=False)
except ValueError as _error:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_error}") from _error
# Wrong phone digits per tracking code, from any address, before its public view is locked.
TRACK_FAILURE_LIMIT: int = env("TRACK_FAILURE_LIMIT")
TRACK_LOCK_SECONDS: int = env("TRACK_LOCK_MINUTES") * 60

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "org.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Sign-in lockout (django-axes, kept in the database so it holds while Redis is down): a username
# is locked after LOGIN_FAILURE_LIMIT failures from anywhere, an address after
# LOGIN_IP_FAILURE_LIMIT failures for any usernames (higher: an office shares one NAT address).
# The backend comes first so that a locked account is refused before its password is checked.
AUTHENTICATION_BACKENDS = [
    "org.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "org.lockout.LockoutHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT: int = env("LOGIN_FAILURE_LIMIT")
LOGIN_IP_FAILURE_LIMIT: int = max(env("LOGIN_IP_FAILURE_LIMIT"), 1)
LOGIN_LOCKOUT_MINUTES: int = env("LOGIN_LOCKOUT_MINUTES")
AXES_COOLOFF_TIME = dt.timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
# Failures while locked are refused without being counted, so a lock ends on time.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Not reset by a success: a success on the attacker's own account from the same address would
# otherwise wipe the count of the account under attack (axes resets by username OR address).
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "xining_issues.throttling.lockout_address"
AXES_LOCKOUT_CALLABLE = "org.lockout.lockout_response"
AXES_COOLOFF_MESSAGE = format_lazy(
    _("登录失败次数过多，已暂时锁定。请 {minutes} 分钟后再试，或请管理员解锁。"),
    minutes=LOGIN_LOCKOUT_MINUTES,
)
# The sign-in log (who, when, from where) is part of the audit trail 等保 2.0 asks for.
AXES_DISABLE_ACCESS_LOG = False
# Failed sign-ins are kept too (axes forgets its lockout rows when a cool-off ends).
AXES_ENABLE_ACCESS_FAILURE_LOG = True

# Data retention (beat: "purge expired", daily). A sent message's recipient is personal data
# that is no longer needed once delivery questions are settled; the sign-in log is kept at least
# six months, as the Cybersecurity Law (网络安全法, art. 21) asks of network logs.
OUTBOX_RETENTION_DAYS: int = env("OUTBOX_RETENTION_DAYS")
ACCESS_LOG_RETENTION_DAYS: int = max(env("ACCESS_LOG_RETENTION_DAYS"), 180)

# Passwords per 等保 2.0 level-2 practice: at least 8 characters, letters and digits, not a
# common password (Django's list of 20,000 and local words such as "xining123").
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "org.passwords.LettersAndDigitsValidator"},
    {"NAME": "org.passwords.LocalCommonPasswordValidator"},
]

# 中文 first: the pages default to simplified Chinese, English is one click away.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env("STATIC_ROOT")
# Front-end packages are installed by npm; `npm run vendor` (make setup, the Dockerfile) copies
# the few files the pages load into static/vendor/. node_modules is never collected: it holds
# dev-only packages and ~100 MB no page asks for. Nothing comes from a CDN or is committed.
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # Local disk under MEDIA_ROOT, or an S3-compatible object store (MEDIA_STORAGE=s3).
    "default": default_storage_config(env),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# WhiteNoise reads settings.DEBUG when each middleware stack is built, and the test runner turns
# DEBUG off: every test client then indexed all of STATIC_ROOT (minutes for a suite once
# collectstatic had run). Pinned to the environment's DEBUG, development and tests look files up
# per request through the finders, and production (DEBUG=0) indexes the collected files once.
WHITENOISE_AUTOREFRESH: bool = DEBUG
WHITENOISE_USE_FINDERS: bool = DEBUG
if DEBUG:
    # WhiteNoise serves from the finders in development but warns when the folder is missing.
    Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = env("MEDIA_ROOT")
EXPORT_RETENTION_DAYS: int = env("EXPORT_RETENTION_DAYS")
QUEUE_EXPORT_SYNC_MAX_ROWS: int = env("QUEUE_EXPORT_SYNC_MAX_ROWS")
ROUTER_MIN_CONFIDENCE: float = env("ROUTER_MIN_CONFIDENCE")
ROUTER_TRAINING_CASES: int = env("ROUTER_TRAINING_CASES")
ROUTER_CACHE_SECONDS: float = env("ROUTER_CACHE_SECONDS")
# No MEDIA_URL route: uploads are served only through views that check permission.

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "xining_issues.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every throttle keys on xining_issues.throttling.client_ip; none is applied by default.
    "DEFAULT_THROTTLE_CLASSES": [],
    "DEFAULT_THROTTLE_RATES": {"anon_auth": "20/min", "anon_write": "10/min", "track": "30/min"},
    "EXCEPTION_HANDLER": "xining_issues.exceptions.api_exception_handler",
}

# Content-Security-Policy (django-csp), on every page, in development too so that a violation
# shows at once: the pages run only their own scripts and style sheets, never inline ones. Photos
# are previewed from blob: URLs after the browser shrinks them, and charts may draw data: images.
# One allowance: style *attributes*, because ECharts writes its tooltips as HTML with them (and
# the export progress bar sets its width so). An attribute cannot run script, select elements
# or fetch from another host (img-src still applies); <style> elements stay refused.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    }
}

SPECTACULAR_SETTINGS = {
    "TITLE": "xining-issues API",
    "DESCRIPTION": "有诉必应马上办 case workflow and 每月一题 topics for Xining.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from drf-spectacular-sidecar: served by this server, no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One schema name per choice set used by several fields.
    "ENUM_NAME_OVERRIDES": {
        "TimeUnitEnum": "cases.models.TimeUnit",
        "StatusEnum": "cases.models.Status",
        "ChannelEnum": "cases.models.Channel",
        "RejectReasonEnum": "cases.models.RejectReason",
        "RegionLevelEnum": "org.models.RegionLevel",
        "UnitKindEnum": "org.models.UnitKind",
        "TopicStatusEnum": "topics.models.TopicStatus",
        "TopicTaskStatusEnum": "topics.models.TaskStatus",
        "BulletinStatusEnum": "stats.models.BulletinStatus",
        "ReportKindEnum": "stats.models.ReportKind",
    },
}

# Celery: the broker needs no server by default (kombu's filesystem transport under var/).
CELERY_BROKER_URL: str = env("CELERY_BROKER_URL")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_transport_options(
        Path(env("CELERY_FILESYSTEM_DIR"))
    )
else:
    # Deadlines live in the database, so no task is ever scheduled further ahead than this.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
# Publishing must not hang a request when the broker is down (the outbox covers that case).
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

EMAIL_CONFIG = env.email_url("EMAIL_URL")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL: str = env("DEFAULT_FROM_EMAIL")
SMS_BACKEND: str = env("SMS_BACKEND")
SMS_GATEWAY_URL: str = env("SMS_GATEWAY_URL")
SMS_GATEWAY_TOKEN: str = env("SMS_GATEWAY_TOKEN")

SITE_URL: str = env("SITE_URL").rstrip("/")
OPEN311_JURISDICTION: str = env("OPEN311_JURISDICTION")
OPEN311_PLACE_KM: float = env("OPEN311_PLACE_KM")
SUPERVISION = {
    "scan_seconds": env("SUPERVISION_SCAN_SECONDS"),
    "warning_share": env("SUPERVISION_WARNING_SHARE"),
    "sign_hours": env("SUPERVISION_SIGN_HOURS"),
    "leader_after_hours": env("SUPERVISION_LEADER_AFTER_HOURS"),
    "office_after_hours": env("SUPERVISION_OFFICE_AFTER_HOURS"),
    "evaluate_days": env("SUPERVISION_EVALUATE_DAYS"),
    "batch_size": env("SUPERVISION_BATCH_SIZE"),
}
# The dashboards' composite score (综合得分): the default weights of the three rates; a request
# may pass others (w_response, w_resolution, w_satisfaction).
STATS_SCORE_WEIGHTS = {
    "response": env("STATS_WEIGHT_RESPONSE"),
    "resolution": env("STATS_WEIGHT_RESOLUTION"),
    "satisfaction": env("STATS_WEIGHT_SATISFACTION"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL")},
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env("SECURE_SSL_REDIRECT")
    SECURE_HSTS_SECONDS = env("SECURE_HSTS_SECONDS")
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
