"""Settings for Shegong, driven by environment variables with safe defaults.

Environment variables (all optional):

- ``DATABASE_URL``: e.g. ``postgres://user@host:5432/shegong``; default a SQLite file in the
  data directory.
- ``SHEGONG_DATA_DIR``: where the SQLite database, the generated secret key, uploads and
  backups live; default ``./var``.
- ``SHEGONG_SECRET_KEY``: required in production; elsewhere a random key is generated once
  and kept in the data directory.
- ``SHEGONG_PRODUCTION=1``: production hardening (HTTPS only cookies, HSTS, SSL redirect).
- ``SHEGONG_DEMO=1``: demo mode (the login page says so; ``shegong setup --demo`` is allowed).
- ``SHEGONG_DEBUG=1``: Django debug pages (development only; refused in production).
- ``SHEGONG_ALLOWED_HOSTS``: comma-separated host names; default local addresses only.
- ``SHEGONG_CSRF_TRUSTED_ORIGINS``: comma-separated origins behind a proxy.
- ``SHEGONG_LOG_LEVEL``: default ``INFO``.
- ``SHEGONG_ENCRYPTION_KEYS``: Fernet keys for personal data, newest first (required in
  production; generated into the data directory elsewhere).
- ``SHEGONG_LOOKUP_KEY``: key of the keyed look-up hashes (required in production).
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


def env_flag(name: str, default: bool = False) -> bool:
    """Read a boolean environment variable ("1", "true", "yes", "on" are true)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    """Read a comma-separated environment variable."""
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("SHEGONG_DATA_DIR", Path.cwd() / "var")).resolve()

PRODUCTION = env_flag("SHEGONG_PRODUCTION")
DEMO_MODE = env_flag("SHEGONG_DEMO")
# Two-factor sign-in (security.md 3): required for roles that can see personal data. Off by
# default in demo mode only, so that the printed demo logins work with a password alone.
REQUIRE_TWO_FACTOR = env_flag("SHEGONG_REQUIRE_2FA", default=not DEMO_MODE)
DEBUG = env_flag("SHEGONG_DEBUG")
if PRODUCTION and (DEBUG or DEMO_MODE):
    raise ImproperlyConfigured("SHEGONG_DEBUG and SHEGONG_DEMO must be off in production.")
if PRODUCTION and not REQUIRE_TWO_FACTOR:
    raise ImproperlyConfigured("Two-factor sign-in cannot be turned off in production.")


def _secret_key() -> str:
    key = os.environ.get("SHEGONG_SECRET_KEY", "")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SHEGONG_SECRET_KEY must be set in production.")
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()


def _data_key(variable: str, file_name: str, make) -> str:
    """A key from the environment, or (outside production) generated once in the data dir."""
    value = os.environ.get(variable, "")
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{variable} must be set in production.")
    path = DATA_DIR / file_name
    if path.exists():
        return path.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    value = make()
    path.write_text(value)
    path.chmod(0o600)
    return value


# Personal data at rest (security.md 15): Fernet keys, newest first, comma-separated; the
# look-up key makes the keyed hashes used to find encrypted values.
SHEGONG_ENCRYPTION_KEYS = [
    key.strip()
    for key in _data_key(
        "SHEGONG_ENCRYPTION_KEYS", "encryption_keys", lambda: Fernet.generate_key().decode()
    ).split(",")
    if key.strip()
]
SHEGONG_LOOKUP_KEY = _data_key("SHEGONG_LOOKUP_KEY", "lookup_key", lambda: secrets.token_hex(32))
# The audit chain's keys (security.md 16): each row's hash is an HMAC with the newest key, so
# a row edited with write access to the database cannot be re-sealed without it; older keys
# (comma-separated after the newest) keep verifying the rows they sealed.
SHEGONG_AUDIT_KEYS = [
    key.strip()
    for key in _data_key("SHEGONG_AUDIT_KEY", "audit_key", lambda: secrets.token_hex(32)).split(",")
    if key.strip()
]
ALLOWED_HOSTS = env_list("SHEGONG_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("SHEGONG_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # first, so that its `createsuperuser` (which says to use `createadmin`) is the one run
    "shegong.accounts",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "ninja",
    "django_tasks_db",
    "shegong.core",
    "shegong.geo",
    "shegong.network",
    "shegong.workforce",
    "shegong.projects",
    "shegong.funding",
    "shegong.casework",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "shegong.core.middleware.LoadSheddingMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "shegong.core.middleware.SessionLimitsMiddleware",
    "shegong.core.middleware.InputBoundaryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Load shedding (core.middleware.LoadSheddingMiddleware): a request that waited longer than
# this in the server's queue (reverse proxy's X-Request-Start) gets 503 at once; 0 turns it off.
SHEGONG_QUEUE_LIMIT_MS = int(os.environ.get("SHEGONG_QUEUE_LIMIT_MS", "2000"))

# How long a one-time set-password link works (accounts.services.password_link_create).
SHEGONG_PASSWORD_LINK_HOURS = int(os.environ.get("SHEGONG_PASSWORD_LINK_HOURS", "72"))

ROOT_URLCONF = "shegong.config.urls"
WSGI_APPLICATION = "shegong.config.wsgi.application"
ASGI_APPLICATION = "shegong.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shegong.core.context_processors.platform",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'shegong.sqlite3'}",
        conn_max_age=0 if not PRODUCTION else 60,
        conn_health_checks=PRODUCTION,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication ------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Lockout: 5 failures within 15 minutes per user and address (security.md 2).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("SHEGONG_PROXY_COUNT", "0")) or None

# Sessions: 30-minute idle timeout, 12-hour absolute limit (security.md 4).
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_ABSOLUTE_LIMIT_SECONDS = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# --- Security headers (security.md 12) -----------------------------------------------------
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_flag("SHEGONG_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

# --- Internationalisation: Simplified Chinese first, English second ------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
# Digits grouped by three, dates as 2020-03-01, in both languages (shegong/formats/).
FORMAT_MODULE_PATH = ["shegong.formats"]
USE_I18N = True
USE_TZ = True

# --- Static files (vendored, served by WhiteNoise) -----------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = DATA_DIR / "uploads"  # outside the web root, served only through checked views

# --- Project evaluations: the lowest weighted total of each grade (below "pass" is a fail) --
SHEGONG_GRADE_THRESHOLDS = {"excellent": 90, "good": 80, "pass": 60}

# --- Services to residents (issue #6) ---------------------------------------------------
# Age limits of the special groups (domain.md: thresholds are configuration). "under" means
# the person must be younger than the value on the status's start date; "at_least" older.
SHEGONG_SPECIAL_GROUP_AGES = {
    "left_behind_child": {"under": 16},
    "orphan": {"under": 18},
    "unsupported_child": {"under": 18},
    "child_in_difficulty": {"under": 18},
    "left_behind_elder": {"at_least": 60},
}
# Years after a resident's last service, case activity or status before the retention job
# anonymises them (security.md 18; docs/retention.md).
SHEGONG_RETENTION_YEARS = int(os.environ.get("SHEGONG_RETENTION_YEARS", "10"))

# --- Background tasks: Django's tasks API on the database (`shegong db_worker` runs them) -
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# --- API ------------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 50
NINJA_MAX_PER_PAGE_SIZE = 500

# --- Logging: no personal data in logs (security.md 14) ------------------------------------
# One time zone in every log line: the platform's (Django sets the process's TZ to
# TIME_ZONE), with its offset written out; `make start` and the systemd units set TZ for
# gunicorn and the worker too, so their own lines agree.
LOG_DATE_FORMAT = "%Y-%m-%d %H:%M:%S%z"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "datefmt": LOG_DATE_FORMAT,
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SHEGONG_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

PLATFORM_NAME = _("Shegong social work platform")
