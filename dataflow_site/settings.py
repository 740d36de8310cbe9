"""Settings for DataFlow Migration Review, driven by environment variables.

See README.md ("Configuration") for the list. Development needs none of them: the app
database is an embedded PostgreSQL under .dataflow/, and the secret key and Fernet key are
generated once into .dataflow/ and reused.
"""

from datetime import timedelta
from pathlib import Path

from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from psycopg.conninfo import conninfo_to_dict

from dataflow_site.env import ImproperlyConfiguredEnv, env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = Path(env_str("DATAFLOW_STATE_DIR", str(BASE_DIR / ".dataflow")))

DEBUG = env_bool("DATAFLOW_DEBUG", True)


def _generated_secret(filename: str, make) -> str:
    """A development secret, made once and kept under .dataflow/ (never in git)."""
    path = STATE_DIR / filename
    if path.exists():
        return path.read_text().strip()
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    value = make()
    path.write_text(value)
    path.chmod(0o600)
    return value


def _make_secret_key() -> str:
    import secrets

    return secrets.token_urlsafe(50)


def _make_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


SECRET_KEY = env_secret("DATAFLOW_SECRET_KEY")
FERNET_KEYS = env_list("DATAFLOW_FERNET_KEYS", []) or [k.strip() for k in (env_secret("DATAFLOW_FERNET_KEYS") or "").split(",") if k.strip()]
if DEBUG:
    SECRET_KEY = SECRET_KEY or _generated_secret("secret_key", _make_secret_key)
    FERNET_KEYS = FERNET_KEYS or [_generated_secret("fernet_key", _make_fernet_key)]
else:
    if not SECRET_KEY:
        raise ImproperlyConfiguredEnv("DATAFLOW_SECRET_KEY (or DATAFLOW_SECRET_KEY_FILE) is required when DATAFLOW_DEBUG=false")
    if not FERNET_KEYS:
        raise ImproperlyConfiguredEnv("DATAFLOW_FERNET_KEYS (or DATAFLOW_FERNET_KEYS_FILE) is required when DATAFLOW_DEBUG=false")

ALLOWED_HOSTS = env_list("DATAFLOW_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("DATAFLOW_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",  # the dev server serves static files through WhiteNoise too
    "django.contrib.staticfiles",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "dataflow_site.apps.SiteConfig",
    "django_htmx",
    "template_partials",
    "django_q",
    "targets",
    "migrations_app",
    "staging_app",
    "baselines_app",
    "integrations",
]

MIDDLEWARE = [
    "dataflow_site.middleware.nul_in_url_is_not_found",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dataflow_site.middleware.vary_on_htmx",
    "dataflow_site.step_up.StepUpMiddleware",
    # last: turns a refused sign-in into the login page with the lockout message
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dataflow_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "builtins": ["template_partials.templatetags.partials"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dataflow_site.roles.roles_context",
                "dataflow_site.navigation.navigation",
                "migrations_app.context_processors.running_migrations",
                "migrations_app.context_processors.may",
            ],
        },
    },
]

WSGI_APPLICATION = "dataflow_site.wsgi.application"
ASGI_APPLICATION = "dataflow_site.asgi.application"


def _database_from_url(url: str) -> dict:
    params = conninfo_to_dict(url)
    name = params.pop("dbname", None)
    if not name:
        raise ImproperlyConfiguredEnv("DATABASE_URL must name a database")
    database = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": params.pop("user", ""),
        "PASSWORD": params.pop("password", ""),
        "HOST": params.pop("host", ""),
        "PORT": params.pop("port", ""),
        "CONN_MAX_AGE": env_int("DATAFLOW_CONN_MAX_AGE", 0),
        "OPTIONS": params,
    }
    return database


DATABASE_URL = env_secret("DATABASE_URL")
EMBEDDED_PGDATA = STATE_DIR / "pgdata"
USING_EMBEDDED_POSTGRES = not DATABASE_URL
if USING_EMBEDDED_POSTGRES:
    from dataflow_site.embedded_pg import embedded_database_url

    DATABASE_URL = embedded_database_url(EMBEDDED_PGDATA)

DATABASES = {"default": _database_from_url(DATABASE_URL)}
# Error pages and reports hide the webhook and database URLs and the target password (POST) too.
DEFAULT_EXCEPTION_REPORTER_FILTER = "dataflow_site.error_reports.SecretSafeExceptionReporterFilter"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("DATAFLOW_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("DATAFLOW_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# WhiteNoise serves collectstatic's output with gzip and brotli variants (plotly's 1.5 MB bundle
# travels as about 0.45 MB) from every web process, without a separate static server.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_MAX_AGE = env_int("DATAFLOW_STATIC_MAX_AGE", 24 * 3600)
# Serve collectstatic's output (with its compressed variants) in development too: `make run`
# collects before it starts. True serves files straight from the source folders, uncompressed.
WHITENOISE_USE_FINDERS = env_bool("DATAFLOW_STATIC_USE_FINDERS", False)

# Connections to target databases.
TARGET_CONNECT_TIMEOUT = env_int("DATAFLOW_TARGET_CONNECT_TIMEOUT", 5)
TARGET_STATEMENT_TIMEOUT_MS = env_int("DATAFLOW_TARGET_STATEMENT_TIMEOUT_MS", 30_000)

# django-q2 with the ORM broker on the app database. retry must exceed timeout, or a
# task still running would be handed to a second worker.
Q_CLUSTER = {
    "name": "dataflow",
    "orm": "default",
    "workers": env_int("DATAFLOW_Q_WORKERS", 2),
    "timeout": env_int("DATAFLOW_Q_TIMEOUT", 1800),
    "retry": env_int("DATAFLOW_Q_RETRY", 2100),
    "max_attempts": 1,
    "catch_up": False,
    "save_limit": 1000,
    "poll": 0.5,
    "sync": env_bool("DATAFLOW_Q_SYNC", False),
    "label": "Background tasks",
}

# Email (sign-off notifications, alerts).
EMAIL_BACKEND = env_str(
    "DATAFLOW_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("DATAFLOW_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DATAFLOW_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("DATAFLOW_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("DATAFLOW_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DATAFLOW_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DATAFLOW_EMAIL_FROM", "dataflow@localhost")

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DATAFLOW_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("DATAFLOW_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"forbidden_without_traceback": {"()": "dataflow_site.log_filters.ForbiddenWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                             "filters": ["forbidden_without_traceback"]}},
    "root": {"handlers": ["console"], "level": env_str("DATAFLOW_LOG_LEVEL", "INFO")},
    # axes logs every successful sign-in at INFO; lockouts (WARNING) and the audit trail are what count
    "loggers": {"pgserver": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
# Where `make run` serves (bin/run-dev reads the same variables); links in emails follow it
# unless DATAFLOW_BASE_URL names the public address.
DATAFLOW_HOST = env_str("DATAFLOW_HOST", "127.0.0.1")
DATAFLOW_PORT = env_int("DATAFLOW_PORT", 8000)
_link_host = "127.0.0.1" if DATAFLOW_HOST in ("0.0.0.0", "::", "") else DATAFLOW_HOST
_link_host = f"[{_link_host}]" if ":" in _link_host else _link_host
DATAFLOW_BASE_URL = env_str("DATAFLOW_BASE_URL", f"http://{_link_host}:{DATAFLOW_PORT}")
# API requests per token (django-ninja throttle, Django cache): "N/s", "N/m", "N/h"
DATAFLOW_API_RATE = env_str("DATAFLOW_API_RATE", "600/m")

# Execution, alerts and incidents. Alert channels left empty are skipped, never an
# error. The webhook URL and routing key are secrets (``_FILE`` supported) and never shown.
DATAFLOW_SLACK_WEBHOOK_URL = env_secret("DATAFLOW_SLACK_WEBHOOK_URL", "") or ""
DATAFLOW_PAGERDUTY_URL = env_str("DATAFLOW_PAGERDUTY_URL", "https://events.pagerduty.com/v2/enqueue")
DATAFLOW_PAGERDUTY_ROUTING_KEY = env_secret("DATAFLOW_PAGERDUTY_ROUTING_KEY", "") or ""
DATAFLOW_ALERT_EMAILS = env_list("DATAFLOW_ALERT_EMAILS", [])
DATAFLOW_ALERT_MAX_ATTEMPTS = env_int("DATAFLOW_ALERT_MAX_ATTEMPTS", 3)
DATAFLOW_ALERT_RETRY_SECONDS = env_int("DATAFLOW_ALERT_RETRY_SECONDS", 5)
DATAFLOW_MIGRATION_DURATION_LIMIT_SECONDS = env_int("DATAFLOW_MIGRATION_DURATION_LIMIT_SECONDS", 300)
# Outgoing webhooks: comma-separated URLs (``_FILE`` too: a URL may carry a token) and the HMAC
# secret; with URLs and no secret nothing is sent (the deliveries say "skipped").
DATAFLOW_WEBHOOK_URLS = [u.strip() for u in (env_secret("DATAFLOW_WEBHOOK_URLS") or "").split(",") if u.strip()]
DATAFLOW_WEBHOOK_SECRET = env_secret("DATAFLOW_WEBHOOK_SECRET", "") or ""
DATAFLOW_WEBHOOK_MAX_ATTEMPTS = env_int("DATAFLOW_WEBHOOK_MAX_ATTEMPTS", 5)
DATAFLOW_WEBHOOK_RETRY_SECONDS = env_int("DATAFLOW_WEBHOOK_RETRY_SECONDS", 5)
DATAFLOW_WEBHOOK_TIMEOUT_SECONDS = env_int("DATAFLOW_WEBHOOK_TIMEOUT_SECONDS", 5)
if DATAFLOW_WEBHOOK_URLS and not DATAFLOW_WEBHOOK_SECRET and not DEBUG:
    raise ImproperlyConfiguredEnv("DATAFLOW_WEBHOOK_SECRET (or _FILE) is required when DATAFLOW_WEBHOOK_URLS is set")
# Statement policy and input limits: a script over this many bytes (forms, CLI, API) is refused
# with a message naming the limit; request bodies may be a little larger (SQL + rollback SQL).
DATAFLOW_MAX_SCRIPT_BYTES = env_int("DATAFLOW_MAX_SCRIPT_BYTES", 2 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 4 * DATAFLOW_MAX_SCRIPT_BYTES + 1024 * 1024
DATAFLOW_EXEC_LOCK_TIMEOUT_MS = env_int("DATAFLOW_EXEC_LOCK_TIMEOUT_MS", 2000)
DATAFLOW_EXEC_STATEMENT_TIMEOUT_MS = env_int("DATAFLOW_EXEC_STATEMENT_TIMEOUT_MS", 15 * 60 * 1000)
# a frozen worker must not hold its locks for the whole statement budget
DATAFLOW_EXEC_IDLE_IN_TRANSACTION_TIMEOUT_MS = env_int("DATAFLOW_EXEC_IDLE_IN_TRANSACTION_TIMEOUT_MS", 60_000)
DATAFLOW_EXEC_MAX_ATTEMPTS = env_int("DATAFLOW_EXEC_MAX_ATTEMPTS", 5)
DATAFLOW_EXEC_LOCK_WAIT_SECONDS = env_int("DATAFLOW_EXEC_LOCK_WAIT_SECONDS", 30)
# Data-changing statements are copied into the target's dataflow_backup schema before they run,
# up to this many bytes per plan; above it (0: always) the plan is irreversible for that data.
DATAFLOW_BACKUP_MAX_BYTES = env_int("DATAFLOW_BACKUP_MAX_BYTES", 1024 ** 3)

# Sign-in hardening. Failed sign-ins lock the account (django-axes, counted per username so one
# attacker cannot lock everybody out by address) for the cool-off; the lockout is audited once.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("DATAFLOW_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("DATAFLOW_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = (["username"] if env_str("DATAFLOW_LOGIN_LOCKOUT_BY", "username") == "username"
                           else [["username", "ip_address"]])
# Counting per account is deliberate (axes.W006 wants the address too): colleagues behind one
# proxy share an address, and one person's typos must not lock them all out.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
# attempts during a lockout neither extend it nor write more rows (nor audit events)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "dataflow_site.signin.lockout_response"
AXES_IPWARE_PROXY_COUNT = env_int("DATAFLOW_PROXY_COUNT", 0) or None
# Content-Security-Policy (django-csp): scripts only from our own static files, no inline script,
# no eval; see README ("Content-Security-Policy") for what plotly.js needs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        # plotly.js adds its CSS by creating an empty <style> element and filling it through the
        # CSSOM; the hash is the empty string's, so no inline style with content is allowed.
        "style-src": [CSP_SELF, "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"],
        "img-src": [CSP_SELF, "data:"],
        "font-src": [CSP_SELF],
        "connect-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
    },
}
# Step-up: sign-offs on HIGH and CRITICAL plans and executions on production targets need a TOTP
# code (django-otp) confirmed in this session within the last DATAFLOW_STEP_UP_MAX_AGE_SECONDS,
# by users holding one of these roles (they must enrol on their profile page). Unset (None): the
# roles that sign off and execute, as migrations_app/permissions.py names them; empty: nobody.
DATAFLOW_STEP_UP_ROLES = None if env_str("DATAFLOW_STEP_UP_ROLES") is None else env_list("DATAFLOW_STEP_UP_ROLES", [])
DATAFLOW_STEP_UP_MAX_AGE_SECONDS = env_int("DATAFLOW_STEP_UP_MAX_AGE_SECONDS", 600)
OTP_TOTP_ISSUER = env_str("DATAFLOW_TOTP_ISSUER", "DataFlow Migration Review")
