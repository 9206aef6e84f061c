"""Settings shared by every environment.

Everything that differs between a laptop, CI and production comes from the environment
(django-environ), with defaults that let a newcomer run Cairn with nothing but Python installed:
SQLite, eager Celery, the console email backend and the `ledger` payment gateway.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Only for local use; production.py refuses to start without a real one.
SECRET_KEY = env("SECRET_KEY", default="django-insecure-cairn-local-development-key-not-for-production")
DEBUG = env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",  # kept only so the migration that moved its tokens to knox can run
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "djmoney",
    "django_fsm",  # its graph_transitions command draws docs/plan-workflow.svg
    "django_fsm_log",
    "django_celery_beat",
    "axes",
    "csp",
    # Cairn, bottom layer first (docs/architecture.md: imports point down this list).
    "accounts",
    "providers",
    "budgets",
    "careplans",
    "approvals",
    "payments",
    "marketplace",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # A NUL character in the query string is a 400 before any view compares it (accounts/query_checks.py).
    "accounts.query_checks.RefuseNulInQueryMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # With DEBUG on, the product's 404 page rather than Django's technical one (marketplace/middleware.py).
    "marketplace.middleware.ProductNotFoundMiddleware",
    # Service errors a page view did not handle answer with their family's status (accounts/web.py).
    "accounts.web.ServiceErrorMiddleware",
    # Cache-Control: no-store, Permissions-Policy, no Server header (accounts/web.py).
    "accounts.web.ResponseHeadersMiddleware",
    # Axes last, as its documentation asks, so it sees the authenticated user.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "marketplace.urls"
# Request bodies (docs/api.md, "Limits"): the largest plan the API allows is about 150 KB of JSON;
# form posts carry far less. Uploaded files are checked by their own limits.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=512 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("DATA_UPLOAD_MAX_NUMBER_FIELDS", default=1000)
DATA_UPLOAD_MAX_NUMBER_FILES = env.int("DATA_UPLOAD_MAX_NUMBER_FILES", default=10)
WSGI_APPLICATION = "marketplace.wsgi.application"
ASGI_APPLICATION = "marketplace.asgi.application"

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
                "marketplace.context_processors.site",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# models.W040: "SQLite does not support indexes with non-key columns". The one covering index
# (marketplace.Review, `include=["rating"]`) speeds up PostgreSQL, the production database; on
# SQLite, used only to try Cairn locally, Django creates it without the extra column, which is
# harmless, so the warning would only repeat on every `make run`. PostgreSQL never raises it.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a check: revokes the person's API tokens whenever a new password is saved (accounts/tokens.py).
    {"NAME": "accounts.tokens.RevokeTokensOnPasswordChange"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# build/static is produced by `make assets` from node_modules and static_src (never committed).
STATICFILES_DIRS = [BASE_DIR / "build" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Locally, serve straight from the finders so `make assets` output shows without collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "private-media")

# Email: the console by default, so a password reset link appears in the runserver output.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Cairn <no-reply@cairn.example>")

# Money (django-money): pounds sterling unless a council says otherwise.
DEFAULT_CURRENCY = "GBP"
CURRENCIES = ("GBP",)

# Council name shown in the header and in documents.
CAIRN_COUNCIL_NAME = env("CAIRN_COUNCIL_NAME", default="Northfield Council")
# The address people use to reach Cairn, for links in emails.
CAIRN_SITE_URL = env("CAIRN_SITE_URL", default="http://127.0.0.1:8000")
# How far back a new budget period may start (to begin it when the assessment began), and how
# far ahead, in months (budgets.services.budgets.budget_period_check).
BUDGET_BACKDATE_MAX_MONTHS = env.int("BUDGET_BACKDATE_MAX_MONTHS", default=3)
BUDGET_START_AHEAD_MAX_MONTHS = env.int("BUDGET_START_AHEAD_MAX_MONTHS", default=12)

# --- API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous call then gets 401 with WWW-Authenticate, not 403 (docs/api.md).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.CairnTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # drf-spectacular's, documenting every operation's error answers too (accounts/api/schema.py).
    "DEFAULT_SCHEMA_CLASS": "accounts.api.schema.CairnAutoSchema",
    "EXCEPTION_HANDLER": "accounts.api.errors.exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "COERCE_DECIMAL_TO_STRING": True,
    # JSON bounded in size and depth, refusing NUL and lone surrogates (accounts/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "accounts.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Public, no-login endpoints and pages (accounts/throttles.py): per address, far above normal use.
    # Sign-in and password reset (docs/security.md, "Throttles and lock-out"): per address.
    "DEFAULT_THROTTLE_RATES": {
        "public": "600/minute",
        "sign_in": env("THROTTLE_SIGN_IN", default="30/minute"),
        "sign_in_failures": env("THROTTLE_SIGN_IN_FAILURES", default="40/hour"),
        "password_reset": env("THROTTLE_PASSWORD_RESET", default="10/hour"),
        "password_reset_email": env("THROTTLE_PASSWORD_RESET_EMAIL", default="3/hour"),
    },
}
# API tokens (django-rest-knox, docs/security.md "Tokens"): each expires this long after it is issued;
# a person holds at most API_TOKENS_PER_USER at once (the oldest goes when a new one is issued).
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.int("API_TOKEN_LIFETIME_HOURS", default=30 * 24)),
    "AUTH_HEADER_PREFIX": "Token",
}
API_TOKENS_PER_USER = env.int("API_TOKENS_PER_USER", default=10)
SPECTACULAR_SETTINGS = {
    "TITLE": "Cairn API",
    "DESCRIPTION": (
        "Personal budgets and self-directed care, contract v1. Get a token with POST /api/v1/auth/token/ "
        "and send it as `Authorization: Token <token>`; errors are 400 with field messages, 401, 403, "
        "404 (missing or not yours) and 409 (wrong state)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"IncomeKindEnum": "budgets.models.charging.IncomeKind.choices"},
}

# --- Security ----------------------------------------------------------------------------
# Lock out by username and address together after repeated failures, for a finite cool-off,
# so an attacker cannot lock a real person out for good.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout_response"
AXES_VERBOSE = False
# How many reverse proxies in front of Cairn append to X-Forwarded-For (0: trust none of it), and
# the addresses (or networks) those proxies connect from: the header is believed only on requests
# from them, so a client reaching the app server directly cannot choose its address
# (docs/security.md, "Proxies and the trust boundary").
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
TRUSTED_PROXY_ADDRESSES = env.list("TRUSTED_PROXY_ADDRESSES", default=["127.0.0.1", "::1"])
AXES_CLIENT_IP_CALLABLE = "accounts.services.client_ip"
AXES_USERNAME_CALLABLE = "accounts.text.axes_username"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True
# Browser features Cairn never uses, switched off (accounts.web.ResponseHeadersMiddleware).
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=(), interest-cohort=()"
)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)

# --- Background jobs ---------------------------------------------------------------------
# With no broker configured, tasks run inline (eager) so the product works with nothing else
# installed; with CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0) a worker runs them.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="memory://")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL.startswith("memory://")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Scheduled jobs live in one place; later capabilities add their entries there.
from marketplace.schedule import BEAT_SCHEDULE  # noqa: E402

CELERY_BEAT_SCHEDULE = BEAT_SCHEDULE

# django-fsm-log keeps the history of plans, assessments, providers and invoices. A payment's
# every state change already writes its own audit row; two more log rows per payment in a run of
# thousands would be cost without a reader.
DJANGO_FSM_LOG_IGNORED_MODELS = ["payments.models.Payment"]

# --- Payments (docs/payments.md) -------------------------------------------------------------
# The gateway new payment runs use, by name; each name maps to the class implementing
# `payments.gateways.Gateway`. Adding a gateway: write the class, add it here.
PAYMENT_GATEWAYS = {
    "ledger": "payments.gateways.ledger.LedgerGateway",
    "stripe": "payments.gateways.stripe.StripeGateway",
}
PAYMENT_GATEWAY = env("PAYMENT_GATEWAY", default="ledger")
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
# Seconds before a Stripe call counts as timed out (the payment is then looked up, never resent blind).
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=20.0)
# Payment sending: how many times one payment is retried (with backoff) before finance must act.
PAYMENT_MAX_RETRIES = env.int("PAYMENT_MAX_RETRIES", default=5)
PAYMENT_RETRY_BACKOFF_SECONDS = env.int("PAYMENT_RETRY_BACKOFF_SECONDS", default=30)
# Payment runs are paid in batches (docs/payments.md): with Cairn's own ledger gateway one database
# transaction per `PAYMENT_BATCH_SIZE` payments; with an outside gateway `PAYMENT_SEND_BATCH_SIZE`
# transfers are sent between two commits. `PAYMENT_RUN_WORKERS`: how many workers may share one run.
PAYMENT_BATCH_SIZE = env.int("PAYMENT_BATCH_SIZE", default=500)
# 250, not 100: bench/payment_run.py paid 10,000 through the Stripe fake with one worker in
# 28–30 s at 250 or 500 a batch, against 33–44 s at 100 (each batch's claim, commits and
# completion cost the same however many it holds); a crashed worker leaves at most one batch to
# look up before it is resumed.
PAYMENT_SEND_BATCH_SIZE = env.int("PAYMENT_SEND_BATCH_SIZE", default=250)
PAYMENT_RUN_WORKERS = env.int("PAYMENT_RUN_WORKERS", default=4)
# How many of a batch's transfers to an outside gateway are in flight at once (threads in the
# worker; each transfer keeps its own idempotency key). 1 sends them one after another.
PAYMENT_SEND_CONCURRENCY = env.int("PAYMENT_SEND_CONCURRENCY", default=4)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # The stripe library logs every request at INFO: too much for a payment run of thousands.
    "loggers": {"axes": {"level": "WARNING"}, "stripe": {"level": "WARNING"}},
}

if PAYMENT_GATEWAY not in PAYMENT_GATEWAYS:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"PAYMENT_GATEWAY must be one of {sorted(PAYMENT_GATEWAYS)}, not {PAYMENT_GATEWAY!r}.")
