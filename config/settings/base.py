"""Settings shared by every environment.

Everything secret or host-specific comes from the environment.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# The secret keys are read as given: django-environ would take a value starting with "$" (which
# Django's get_random_secret_key() can make) for the name of another variable, and print the
# rest of the key in its error.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    raise ImproperlyConfigured("Set the DJANGO_SECRET_KEY environment variable.")
# Retired secret keys, comma separated: what they signed (sessions, password-reset links, the
# directory's unsubscribe links and reply addresses) stays valid while a new DJANGO_SECRET_KEY
# is rolled out. Drop them once those have expired.
SECRET_KEY_FALLBACKS = [
    key.strip()
    for key in os.environ.get("DJANGO_SECRET_KEY_FALLBACKS", "").split(",")
    if key.strip()
]
DEBUG = env.bool("DJANGO_DEBUG", default=False)

# --- Hosts -------------------------------------------------------------------------------
# The society site lives on the base host; each group at <slug>.<base host>. Every link
# between hosts is built from HORIZONTAL_BASE_URL by society.urls_helpers.
HORIZONTAL_BASE_URL = env("HORIZONTAL_BASE_URL", default="http://horizontal.localhost:8000").rstrip(
    "/"
)
_base = urlsplit(HORIZONTAL_BASE_URL)
HORIZONTAL_SCHEME = _base.scheme
HORIZONTAL_BASE_HOST = _base.hostname
HORIZONTAL_PORT_SUFFIX = f":{_base.port}" if _base.port else ""
SOCIETY_NAME = env("HORIZONTAL_SOCIETY_NAME", default="Horizontal Society")
# The directory's mailing list: its RFC 2919 List-Id, and the address replies come back to
# (<prefix>+<signed token>@<domain>, piped by the mail server to `manage.py directory_inbound`).
DIRECTORY_LIST_ID = env("HORIZONTAL_LIST_ID", default=f"directory.{HORIZONTAL_BASE_HOST}")
DIRECTORY_REPLY_PREFIX = env("HORIZONTAL_REPLY_PREFIX", default="reply")
DIRECTORY_REPLY_DOMAIN = env("HORIZONTAL_REPLY_DOMAIN", default=HORIZONTAL_BASE_HOST)
# The authserv-id our mail server writes in Authentication-Results; when set, a reply by
# e-mail is posted only if that server found dmarc=pass (a forged From posts nothing).
DIRECTORY_INBOUND_AUTHSERV_ID = env("HORIZONTAL_INBOUND_AUTHSERV_ID", default="")

ALLOWED_HOSTS = [HORIZONTAL_BASE_HOST, f".{HORIZONTAL_BASE_HOST}"]
# Every form posts to its own host (sign-out from a group goes through the base host's page).
CSRF_TRUSTED_ORIGINS = [HORIZONTAL_BASE_URL]

# --- Applications --------------------------------------------------------------------------
# Decided once (moving an app between these lists later needs fake-zero steps in every schema).
# No group app may ever appear in SHARED_APPS: a missing group schema would then silently
# fall back to public tables of the same name.
SHARED_APPS = [
    "society",
    "directory",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # The admin on the society's own site (society.admin); before django_tenants, whose admin
    # templates expect a tenant on every request (the base host has none).
    "society.apps.SocietyAdminConfig",
    "django_tenants",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.saml",
    "allauth.socialaccount.providers.openid_connect",
    "django_htmx",
    "django_celery_beat",
    # No models: the tasks and commands that enter group schemas from the public one.
    "crossschema",
]
TENANT_APPS = [
    "groups",
    "evaluation",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "society.PeerGroup"
TENANT_DOMAIN_MODEL = "society.GroupDomain"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_group"
# New groups are cloned from this schema, which `manage.py schemas_migrate` keeps current.
TENANT_BASE_SCHEMA = "group_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# Set search_path once per schema switch, not before every query (halves round trips). Safe
# from django-tenants 4.0.1 on, which fixed the rollback bug that once leaked another tenant's
# rows with this setting (SECURITY.md 3); the isolation tests run with it.
TENANT_LIMIT_SET_CALLS = True

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/horizontal")
}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
# Direct connections only (no PgBouncer in transaction mode: it loses search_path).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # A NUL in a parameter is a 400 before anything reads it (society.inputs has the rest).
    "society.middleware.RefuseNulMiddleware",
    "society.middleware.GroupHostMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "society.middleware.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "groups.middleware.GroupMembershipMiddleware",
    "society.middleware.SignInErrorMiddleware",
]

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
                "society.context_processors.site",
            ],
            # Every template may show a time in the reader's zone with `|when`.
            "builtins": ["society.templatetags.horizontal"],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# --- Users and sign-in ----------------------------------------------------------------------
AUTH_USER_MODEL = "society.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Sign-in exists only on the base host; group hosts send visitors there with next=<group URL>.
LOGIN_URL = f"{HORIZONTAL_BASE_URL}/accounts/login/"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
ACCOUNT_ADAPTER = "society.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
# The code's e-mail says whose it is: "[Horizontal Society] Your sign-in code".
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SOCIETY_NAME}] "
# No "unknown account, sign up here" mail to addresses we do not know (there is no sign-up).
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_FORMS = {
    "login": "society.forms.LoginForm",
    "request_login_code": "society.forms.RequestLoginCodeForm",
}
# Lockout: 5 failed sign-ins for one address in 5 minutes locks that address for the rest of
# the window; per-IP limits use the client address as seen through ALLAUTH_TRUSTED_PROXY_COUNT
# proxies, so a forged X-Forwarded-For cannot reset them.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "login": "30/m/ip",
    "request_login_code": "20/m/ip,3/m/key",
}
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("ALLAUTH_TRUSTED_PROXY_COUNT", default=0)

# Institutional sign-in: one allauth provider app per institution (society.services).
SOCIALACCOUNT_ADAPTER = "society.adapters.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # never log in by an address an IdP asserts
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_PROVIDERS = {
    "saml": {"provider_class": "society.sso.InstitutionSAMLProvider"},
    "openid_connect": {
        "provider_class": "society.sso.InstitutionOIDCProvider",
        "OAUTH_PKCE_ENABLED": True,
    },
}
# One SP entity ID for every institution, whatever host a request came in on.
SAML_SP_ENTITY_ID = env("SAML_SP_ENTITY_ID", default=f"{HORIZONTAL_BASE_URL}/accounts/saml/sp/")
# When true, an OpenID Connect issuer, and every endpoint its discovery document names, must be
# an https:// URL (society.oidc; checked when an institution is saved and at every sign-in).
# production.py turns it on; development and the tests run their OpenID Providers on loopback
# over plain http.
HORIZONTAL_OIDC_REQUIRE_HTTPS = env.bool("HORIZONTAL_OIDC_REQUIRE_HTTPS", default=False)

# One session for the base host and every group host.
SESSION_COOKIE_DOMAIN = HORIZONTAL_BASE_HOST
CSRF_COOKIE_DOMAIN = HORIZONTAL_BASE_HOST
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)

# Key-encryption keys for groups' confidential spaces: base64 of 32 random bytes each, newest
# first (`python -c "import os,base64;print(base64.urlsafe_b64encode(os.urandom(32)).decode())"`).
# Never derived from SECRET_KEY; keep retired keys listed until `manage.py group_keys_rewrap`.
HORIZONTAL_KEYS = env.list("HORIZONTAL_KEYS", default=[])
# How long a concluded group may export before its confidential data is destroyed.
HORIZONTAL_EXPORT_WINDOW_DAYS = env.int("HORIZONTAL_EXPORT_WINDOW_DAYS", default=30)
# A provisioning still "creating" after this long is shown as stalled and may be retried.
HORIZONTAL_PROVISION_STALE_SECONDS = env.int("HORIZONTAL_PROVISION_STALE_SECONDS", default=300)

# --- Cache, Redis, Celery --------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        # django-redis, for IGNORE_EXCEPTIONS: with Redis down the cache reads as empty and
        # writes are dropped (logged), so no page fails; what it holds (sign-in rate limits,
        # OpenID Providers' keys) is only held back for that while.
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": env("CACHE_URL", default=REDIS_URL),
        # Every key carries the schema, so one group's cache never answers another's.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": 2,
            "SOCKET_TIMEOUT": 2,
            "IGNORE_EXCEPTIONS": True,
        },
    }
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "horizontal.cache"

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Longer than any task may run, so Redis does not hand a running task to a second worker.
    "visibility_timeout": 3600,
    "socket_timeout": 5,
    "socket_connect_timeout": 5,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 5
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    # Computed from database state: a missed run loses nothing, a repeated one does nothing.
    "shred-concluded-groups": {"task": "crossschema.groups_shred_due", "schedule": 3600.0},
    "provision-queued-groups": {
        "task": "crossschema.applications_provision_queued",
        "schedule": 60.0,
    },
    # Every minute, and a run not started within the minute is dropped (the next one does
    # its work): sweeps never pile up behind a slow mail server.
    "send-due-emails": {
        "task": "crossschema.emails_send_due",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "dispatch-due-reminders": {
        "task": "crossschema.reminders_dispatch",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Once a day; the outbox key makes a second run (or a rerun) record nothing twice.
    "remind-admins-of-waiting-applications": {
        "task": "crossschema.admin_applications_remind",
        "schedule": 86400.0,
    },
    "forget-old-emails": {"task": "crossschema.emails_purge", "schedule": 86400.0},
    "directory-digests": {"task": "directory.digests_send", "schedule": 3600.0},
    "directory-follow-accounts": {
        "task": "directory.profiles_follow_accounts",
        "schedule": 60.0,
    },
}
CELERY_TIMEZONE = "UTC"

# --- Internationalisation and time ----------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files (self-hosted, no CDN) ------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- E-mail ----------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="127.0.0.1")
EMAIL_PORT = env.int("EMAIL_PORT", default=1025)
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=None)  # with the file-based backend (tests)
# An authenticated relay: STARTTLS (EMAIL_USE_TLS) or implicit TLS (EMAIL_USE_SSL).
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Horizontal <noreply@horizontal.localhost>")

# --- Security headers --------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Strict CSP: every asset is self-hosted, no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": [
            "'self'",
            f"{HORIZONTAL_SCHEME}://*.{HORIZONTAL_BASE_HOST}{HORIZONTAL_PORT_SUFFIX}",
        ],
    }
}

# --- Logging: no personal data, no secrets -------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "config.logging.RedactSecretsInPaths"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Query logging would write confidential text to the log.
        "django.db.backends": {"level": "WARNING", "propagate": True},
        # runserver's access log has a handler of its own in Django's defaults: send it
        # through ours, which redacts tokens in paths.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # Django's own "django" logger has a console handler of its own (in DEBUG) that would
        # print invitation and feed tokens next to our redacted line: only ours.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
