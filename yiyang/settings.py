"""Django settings for Yiyang.

Layers: defaults in code, overrides from environment variables, secrets apart.
Production mode (``YIYANG_MODE=production``) refuses to start without its secrets;
development and demo mode generate them into ``var/`` on first use. Demo mode
(``yiyang demo``) is development without Django's debug pages: what a county tries first,
often on a shared network, must not list its URL patterns or show tracebacks.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("YIYANG_VAR_DIR", BASE_DIR / "var"))

# Under pytest the mode defaults to "test" (cheap password hashing, no DEBUG).
MODE = os.environ.get("YIYANG_MODE") or ("test" if "pytest" in sys.modules else "development")
MODES = ("development", "demo", "production", "test")
if MODE not in MODES:
    raise ImproperlyConfigured(f"YIYANG_MODE must be one of {', '.join(MODES)}, not {MODE!r}")
PRODUCTION = MODE == "production"
DEBUG = os.environ.get("YIYANG_DEBUG", "1" if MODE == "development" else "0") == "1"


def _secret(env_name: str, file_name: str, make) -> str:
    """A secret from the environment; in non-production modes generated into var/ once."""
    value = os.environ.get(env_name)
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{env_name} is required in production mode")
    path = VAR_DIR / file_name
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    value = make()
    path.write_text(value)
    path.chmod(0o600)
    return value


SECRET_KEY = _secret("YIYANG_SECRET_KEY", "secret_key", lambda: secrets.token_urlsafe(50))
# 32 bytes, url-safe base64: the key for field encryption and keyed hashes (ADR 0003).
FIELD_ENCRYPTION_KEY = _secret("YIYANG_FIELD_KEY", "field_key", lambda: secrets.token_urlsafe(32))

ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("YIYANG_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
]
if not PRODUCTION:
    ALLOWED_HOSTS += ["testserver"]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("YIYANG_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "yiyang.common",
    "yiyang.accounts",
    "yiyang.audit",
    "yiyang.network",
    "yiyang.residents",
    "yiyang.assessments",
    "yiyang.devices",
    "yiyang.notifications",
    "yiyang.emergency",
    "yiyang.ops",
    "yiyang.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "yiyang.web.middleware.SecurityHeadersMiddleware",  # CSP, no-store
    # Client address, user agent and request id for every audit row of the request
    # (also those written by the middleware below).
    "yiyang.audit.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "yiyang.web.middleware.ChosenLanguageMiddleware",  # Chinese unless chosen otherwise
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "yiyang.audit.middleware.DenialAuditMiddleware",  # one audit row per 403
    "yiyang.accounts.middleware.SecurityPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "yiyang.urls"
WSGI_APPLICATION = "yiyang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yiyang.web.context.navigation",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------
DEFAULT_SQLITE = f"sqlite:///{VAR_DIR / 'yiyang.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", DEFAULT_SQLITE), conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE: writers take the lock at BEGIN, so read-then-write (the audit
        # chain head) cannot deadlock; WAL lets readers go on meanwhile.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
    if str(DATABASES["default"]["NAME"]).startswith(str(VAR_DIR)):
        VAR_DIR.mkdir(parents=True, exist_ok=True)
    # Tests run on a database file, as the demo does, not Django's default in-memory
    # database: an in-memory one is shared between threads in SQLite's shared-cache mode,
    # where a live-server request that writes while another reads fails at once with
    # "database table is locked" (table locks ignore the busy timeout). One file per
    # process, in the system's temporary directory (removed after the run).
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"yiyang-test-{os.getpid()}.sqlite3")
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, queue, devices ------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
MQTT_URL = os.environ.get("MQTT_URL", "")
# The device consumer (yiyang consume_devices, ADR 0018): a stable client id per worker
# (the broker keeps its persistent session and queued messages under it), the shared
# subscription group, how long the broker keeps a stopped consumer's session.
MQTT_CLIENT_ID = os.environ.get("YIYANG_MQTT_CLIENT_ID", "")
MQTT_SHARE_GROUP = os.environ.get("YIYANG_MQTT_SHARE_GROUP", "yiyang")
MQTT_SESSION_EXPIRY = int(os.environ.get("YIYANG_MQTT_SESSION_EXPIRY", str(7 * 24 * 3600)))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("YIYANG_CACHE_PREFIX", "yiyang"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}

# --- accounts and security ------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["yiyang.accounts.backends.LockoutModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if MODE == "test":
    PASSWORD_HASHERS.insert(0, "yiyang.accounts.hashers.TestArgon2PasswordHasher")
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": int(os.environ.get("YIYANG_PASSWORD_MIN_LENGTH", "8"))},
    },
    {
        "NAME": "yiyang.accounts.passwords.CharacterClassValidator",
        "OPTIONS": {"min_classes": int(os.environ.get("YIYANG_PASSWORD_MIN_CLASSES", "3"))},
    },
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Lockout by username + client address (等保 level 3 spirit): 5 failures → 15 minutes.
LOCKOUT_MAX_FAILURES = int(os.environ.get("YIYANG_LOCKOUT_MAX_FAILURES", "5"))
LOCKOUT_MINUTES = int(os.environ.get("YIYANG_LOCKOUT_MINUTES", "15"))
# Idle session timeout (seconds of inactivity) for page sessions.
SESSION_IDLE_TIMEOUT = int(os.environ.get("YIYANG_SESSION_IDLE_SECONDS", "1800"))
SESSION_COOKIE_AGE = 12 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
# HTTPS only, for this long, once a browser has seen the site over HTTPS (production;
# Django sends the header only on HTTPS responses). 0 turns it off.
SECURE_HSTS_SECONDS = int(os.environ.get("YIYANG_HSTS_SECONDS", "31536000" if PRODUCTION else "0"))
# Behind a reverse proxy that terminates TLS and sets X-Forwarded-Proto (and strips it from
# clients): trust it, so that HTTPS requests are known as such (HSTS, secure redirects).
# Opt-in: without such a proxy a client could claim HTTPS with the header.
if os.environ.get("YIYANG_BEHIND_TLS_PROXY", "0") == "1":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Content-Security-Policy of every response (yiyang.web.middleware.SecurityHeadersMiddleware):
# scripts, styles, images, fonts and requests from our own origin only; no inline script
# or style, no eval, no framing, forms post only to us.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Who may read the API schema (/api/v1/openapi.json) and its docs page (/api/v1/docs):
# "public" (anyone) or "login" (a logged-in page session or a bearer token). Default:
# "login" in production, "public" otherwise.
API_DOCS = os.environ.get("YIYANG_API_DOCS") or ("login" if PRODUCTION else "public")
if API_DOCS not in {"public", "login"}:
    raise ImproperlyConfigured(f"YIYANG_API_DOCS must be public or login, not {API_DOCS!r}")
# Behind a reverse proxy that sets X-Forwarded-For, trust its first address for lockout/audit.
TRUST_X_FORWARDED_FOR = os.environ.get("YIYANG_TRUST_X_FORWARDED_FOR", "0") == "1"
API_TOKEN_DAYS = int(os.environ.get("YIYANG_API_TOKEN_DAYS", "30"))
# Roles that must use a TOTP second factor: comma list of role codes, "" = none; unset =
# yiyang.common.permissions.DEFAULT_MFA_REQUIRED (the three administrator roles).
MFA_REQUIRED_ROLES = os.environ.get("YIYANG_MFA_REQUIRED_ROLES")
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# --- i18n -----------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "yiyang" / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# --- static ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "media")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
# The app serves its own static files (no CDN, no nginx needed on a government intranet).
SERVE_STATIC = os.environ.get("YIYANG_SERVE_STATIC", "1") == "1"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# A TrueType font with Chinese glyphs to embed in PDF reports (e.g. Debian's
# /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc) or "STSong-Light"; unset: the first usable
# Chinese system font is embedded, and only when none is found ReportLab's built-in
# STSong-Light (not embedded), with a warning in the log (ADR 0016).
YIYANG_PDF_FONT = os.environ.get("YIYANG_PDF_FONT") or None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("YIYANG_LOG_LEVEL", "WARNING")},
}
