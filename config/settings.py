"""Vox settings: one module, configured only through the environment.

With nothing set, Vox runs embedded: SQLite in ./var and background jobs on a thread
inside the web process. DATABASE_URL and REDIS_URL switch it to PostgreSQL and real
Celery workers. Every variable is listed in .env.example.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url

from config.env import (
    ConfigError,
    development_secret_key,
    env_bool,
    env_int,
    env_list,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VOX_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ConfigError("SECRET_KEY must be set when DEBUG=0")
    SECRET_KEY = development_secret_key(BASE_DIR / ".secret_key")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

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
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "axes",
    "tasks",
    "raters",
    "annotation",
    "quality",
    "aggregation",
    "modelruns",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.RejectNulMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.LazyMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as its documentation asks: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

# A Content-Security-Policy on every reply (django-csp): scripts only from Vox's own static
# files, so an item text that slipped past escaping still could not run. No template has
# an inline script or handler (tests/config/test_csp.py reads them all). Inline style
# attributes (progress bars, meters) and the styles Redoc injects need 'unsafe-inline'
# for styles only; Redoc's search runs in a worker made from a blob.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Logins are throttled by django-axes (a maintained library, MIT) at every door that takes
# a password: the login page, the admin's login and /api/token/ (config/views.py). Its
# backend goes first and refuses a locked-out account or address before any password is
# checked, so the right password does not get through a lockout either. Then Django's own
# backend, which the workbench spares a second read of a user row it has (config/auth.py);
# a session signed in before it names Django's class and signs in again once.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "config.auth.Backend",
]
# By account (from any address) and by address (for any account), each on its own.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = env_int("VOX_LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("VOX_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.views.login_locked_out"
AXES_USERNAME_CALLABLE = "config.views.login_username"
# Behind a proxy, set VOX_PROXY_COUNT so that the client's address, not the proxy's, counts.
AXES_IPWARE_PROXY_COUNT = env_int("VOX_PROXY_COUNT", 0, minimum=0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"]
)

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "raters.context_processors.nav",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql", "sqlite"))
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # The work queue's statements are prepared once per connection (config/rows.py)
        # and written for generic plans. Left to choose, the server goes on planning a
        # statement afresh whenever a custom plan looks cheaper, and planning the queue's
        # seat (eight tables) costs several times running it. Only prepared statements
        # are planned from the plan cache; the ORM's queries are planned each time anyway.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = (
            options.get("options", "") + " -c plan_cache_mode=force_generic_plan"
        ).strip()
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "vox.sqlite3",
            # The embedded job thread writes while requests read: WAL lets readers go on,
            # and IMMEDIATE transactions take the write lock up front instead of failing
            # half-way with "database is locked".
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # Tests on a file, not in memory: the browser tests' live server writes from
            # another thread, and shared-cache memory databases lock whole tables.
            "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")},
        }
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Jobs -----------------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss"))
# "celery" when a broker is configured; otherwise "thread" (embedded: in-process, off the
# request thread) or "eager" (run inline; the test suite uses it on SQLite).
VOX_JOBS = env_str("VOX_JOBS", "celery" if REDIS_URL else "thread")
if VOX_JOBS not in {"celery", "thread", "eager"}:
    raise ConfigError(f"VOX_JOBS={VOX_JOBS!r} must be one of celery, thread, eager")
if VOX_JOBS == "celery" and not REDIS_URL:
    raise ConfigError("VOX_JOBS=celery needs REDIS_URL")

# With Redis, sessions are read from it and written through to the database
# ("cached_db"): the workbench posts once per label, and the session's read was a
# database statement of its own each time. The cache is Redis, shared by every process,
# so a logout or a password change ends the session everywhere at once.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "vox",
        }
    }
    SESSION_ENGINE = "config.sessions"

# Jobs go to this queue; tests use their own so a running dev worker never takes them.
VOX_JOBS_QUEUE = env_str("VOX_JOBS_QUEUE", "vox")
CELERY_TASK_DEFAULT_QUEUE = VOX_JOBS_QUEUE
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A job that outlives this is redelivered to another worker; keep it above the longest run.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("VOX_JOB_VISIBILITY_S", 3600)}
CELERY_BEAT_SCHEDULE = {
    "reclaim-expired-leases": {"task": "annotation.jobs.leases_reclaim", "schedule": 60.0},
    "after-submits": {"task": "annotation.jobs.after_submits", "schedule": 30.0},
    "prune-job-files": {"task": "tasks.jobs.job_files_prune", "schedule": 3600.0},
    "fail-stale-jobs": {"task": "tasks.jobs.jobs_watchdog", "schedule": 60.0},
    "fail-stale-model-runs": {"task": "modelruns.jobs.model_runs_watchdog", "schedule": 60.0},
    "fail-lost-aggregation-runs": {
        "task": "aggregation.jobs.aggregation_watchdog",
        "schedule": 60.0,
    },
    "aggregation-schedule": {
        "task": "aggregation.jobs.aggregation_schedule",
        "schedule": float(env_int("VOX_AGGREGATION_SCHEDULE_S", 900, minimum=10)),
    },
}
# A running import or export that made no progress for this long lost its worker; beat
# runs it again, or fails it past VOX_JOB_MAX_ATTEMPTS. Progress comes every few thousand records, well under a second apart.
VOX_JOB_STALE_S = env_int("VOX_JOB_STALE_S", 600, minimum=1)
# How many workers a job may lose before beat fails it instead of running it again.
VOX_JOB_MAX_ATTEMPTS = env_int("VOX_JOB_MAX_ATTEMPTS", 3, minimum=1)
# A running aggregation whose heartbeat is older than this is presumed lost with its worker,
# and a redelivered job may take it over, up to VOX_AGGREGATION_MAX_ATTEMPTS deliveries.
VOX_AGGREGATION_STALE_S = env_int("VOX_AGGREGATION_STALE_S", 300, minimum=1)
VOX_AGGREGATION_MAX_ATTEMPTS = env_int("VOX_AGGREGATION_MAX_ATTEMPTS", 3, minimum=1)
# Runs started by the count of new labels (run_every_annotations) come at most this often
# per project; 0 starts one at every threshold.
VOX_AGGREGATION_MIN_GAP_S = env_int("VOX_AGGREGATION_MIN_GAP_S", 60, minimum=0)
# A project's first run starts after this many labels (0: wait for run_every_annotations).
VOX_AGGREGATION_FIRST_RUN = env_int("VOX_AGGREGATION_FIRST_RUN", 20, minimum=0)

# --- Auth -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "vox@localhost")

# --- HTTP security ----------------------------------------------------------
# Behind TLS in production; VOX_HTTPS=0 serves plain HTTP (local benchmarks with DEBUG=0).
VOX_HTTPS = env_bool("VOX_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = VOX_HTTPS
SESSION_COOKIE_SECURE = VOX_HTTPS
CSRF_COOKIE_SECURE = VOX_HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if VOX_HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = VOX_HTTPS
SECURE_HSTS_PRELOAD = VOX_HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("VOX_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Static and uploaded files --------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns at every request when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("VOX_MEDIA_ROOT", str(VAR_DIR / "media")))
# Uploads above this go to a temporary file instead of memory, so big imports stream.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
VOX_IMPORT_MAX_BYTES = env_int("VOX_IMPORT_MAX_BYTES", 2 * 1024**3, minimum=1)
VOX_IMPORT_MAX_ITEM_BYTES = env_int("VOX_IMPORT_MAX_ITEM_BYTES", 1024**2, minimum=1)
VOX_IMPORT_MAX_ITEMS = env_int("VOX_IMPORT_MAX_ITEMS", 5_000_000, minimum=1)
# Exports of projects up to this many items stream at once; larger ones run as a job.
VOX_EXPORT_STREAM_MAX_ITEMS = env_int("VOX_EXPORT_STREAM_MAX_ITEMS", 50_000, minimum=0)
# Import uploads are deleted this many days after the import finished, export files this
# many days after they were written (tasks.services.job_files_prune); the job rows stay.
VOX_IMPORT_KEEP_DAYS = env_int("VOX_IMPORT_KEEP_DAYS", 1, minimum=0)
VOX_EXPORT_KEEP_DAYS = env_int("VOX_EXPORT_KEEP_DAYS", 7, minimum=0)

# --- Labeling -------------------------------------------------------------
# The queue's fast lane (annotation/fastlane.py): token-authenticated next and submit
# answered without Django's request cycle. Off, every request goes through Django.
VOX_QUEUE_FAST_LANE = env_bool("VOX_QUEUE_FAST_LANE", True)
# One request at a time per worker process, annotators' "next" first (config/gate.py).
# For a server that runs several threads per worker process, as bin/serve does; off, the
# threads run requests side by side.
VOX_WEB_NEXT_FIRST = env_bool("VOX_WEB_NEXT_FIRST", False)
VOX_LEASE_SECONDS = env_int("VOX_LEASE_SECONDS", 15 * 60, minimum=10)
# Which gold item, if any, fills a rater's next slot (see quality/injection.py).
VOX_GOLD_POLICY = "quality.injection.silent_gold"
# How long after a submit the rater may take it back (0 turns undo off).
VOX_UNDO_SECONDS = env_int("VOX_UNDO_SECONDS", 60, minimum=0)
# The trust rules (warn, retrain, suspend) run after a random 1 to this many further answers
# following a scored gold answer, not at once: an immediate suspension would tell the rater
# which item was the check. 0 applies them at once.
VOX_TRUST_CHECK_DELAY = env_int("VOX_TRUST_CHECK_DELAY", 4, minimum=0)

# --- API ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "config.authentication.FastTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.Pagination",
    "PAGE_SIZE": 100,
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Vox API",
    "DESCRIPTION": "Projects, items, the work queue, annotations and exports.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Redoc from the vendored drf-spectacular-sidecar package, so /api/docs/ works offline
    # and under the Content-Security-Policy (no CDN scripts, no Google fonts).
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status" with different choices; name each set once.
    "ENUM_NAME_OVERRIDES": {
        "ImportStatusEnum": "tasks.models.ImportJob.Status",
        "JobStatusEnum": "tasks.models.ExportJob.Status",
        # The label kinds, and what an admin may do to a rater, each one set wherever used.
        "LabelKindEnum": "tasks.models.Project.Kind",
        "RaterActionEnum": "raters.services.RATER_ACTIONS",
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
