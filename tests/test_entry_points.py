"""Settings that fail closed: manage.py, config.wsgi and the Celery app, run as real processes.

Without DJANGO_SETTINGS_MODULE they load config.settings.production, which refuses to start
without its secrets, with a secret published in this repository, or over plain http.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest
from django.core.management.utils import get_random_secret_key

from config.settings import published
from tests.conftest import ROOT

REFUSAL = "config.settings.production refuses to start"

# What the platform needs to run Python; nothing of Django's, Celery's or this project's
# (pytest-django has set DJANGO_SETTINGS_MODULE=config.settings.test in os.environ).
KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ")

ENTRY_POINTS = {
    "manage.py": [sys.executable, "manage.py", "check"],
    "config.wsgi": [sys.executable, "-c", "import config.wsgi"],
    # The CLI the Procfile uses; `report` loads the app's configuration but needs no broker.
    "celery": [sys.executable, "-m", "celery", "-A", "config", "report"],
}
# Each one, printing the settings module it ended up with.
SHOW_SETTINGS = "from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)"
ENTRY_POINTS_SHOWING_SETTINGS = {
    "manage.py": [sys.executable, "manage.py", "shell", "-v", "0", "-c", SHOW_SETTINGS],
    "config.wsgi": [sys.executable, "-c", f"import config.wsgi; {SHOW_SETTINGS}"],
    # Importing config.wsgi imports the config package, whose __init__ imports config.celery
    # first; run the file by itself too, so that its own default is the one tested.
    "config/wsgi.py alone": [
        sys.executable,
        "-c",
        f"import runpy; runpy.run_path('config/wsgi.py'); {SHOW_SETTINGS}",
    ],
    "celery": [sys.executable, "-c", f"import config.celery; {SHOW_SETTINGS}"],
}


def new_kek() -> str:
    """A key as config/settings/base.py says to make one."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def bare_env(**extra: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in KEPT if name in os.environ}
    env.update(
        # The suite's own services; the broker in memory, so that nothing here reaches a queue.
        DATABASE_URL=os.environ.get(
            "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/horizontal"
        ),
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        CELERY_BROKER_URL="memory://",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    assert "DJANGO_SETTINGS_MODULE" not in env
    return env


def production_env(**extra: str) -> dict[str, str]:
    """Sane production values: a random secret key, two keys (rotation), an https base URL."""
    values = {
        "DJANGO_SECRET_KEY": get_random_secret_key(),
        "DJANGO_SECRET_KEY_FALLBACKS": get_random_secret_key(),
        "HORIZONTAL_KEYS": f"{new_kek()},{new_kek()}",
        "HORIZONTAL_BASE_URL": "https://mentoring.society.example",
        "ALLAUTH_TRUSTED_PROXY_COUNT": "1",
    }
    values.update(extra)
    return bare_env(**values)


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def assert_refused(result: subprocess.CompletedProcess, sentence: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"ImproperlyConfigured: {REFUSAL}" in result.stderr, output
    assert sentence in result.stderr, output
    # It was the production settings that refused, and nothing ran with the development ones
    # (the message may name local.py; a traceback frame in it would mean it had been loaded).
    assert "config/settings/production.py" in result.stderr, output
    assert 'settings/local.py", line' not in output
    assert "System check identified" not in output
    assert "software -> celery" not in output  # celery report's first line


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_without_settings_module_or_secrets_each_entry_point_refuses_to_start(entry):
    result = run(ENTRY_POINTS[entry], bare_env())
    assert_refused(
        result,
        f"{REFUSAL} without DJANGO_SECRET_KEY, HORIZONTAL_KEYS, HORIZONTAL_BASE_URL, "
        "ALLAUTH_TRUSTED_PROXY_COUNT in the environment",
    )


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_the_base_url_is_never_defaulted_in_production(entry):
    env = production_env()
    del env["HORIZONTAL_BASE_URL"]
    assert_refused(run(ENTRY_POINTS[entry], env), f"{REFUSAL} without HORIZONTAL_BASE_URL in")


BAD_VALUES = {
    "development secret key": (
        {"DJANGO_SECRET_KEY": published.DEVELOPMENT_SECRET_KEY},
        "DJANGO_SECRET_KEY holds the secret key published in config/settings/local.py",
    ),
    "test secret key": (
        {"DJANGO_SECRET_KEY": published.TEST_SECRET_KEY},
        "DJANGO_SECRET_KEY holds the secret key published in config/settings/test.py",
    ),
    "development secret key as a fallback": (
        {
            "DJANGO_SECRET_KEY_FALLBACKS": (
                f"{get_random_secret_key()}, {published.DEVELOPMENT_SECRET_KEY}"
            )
        },
        "DJANGO_SECRET_KEY_FALLBACKS holds the secret key published in config/settings/local.py",
    ),
    "development HORIZONTAL_KEYS": (
        {"HORIZONTAL_KEYS": published.DEVELOPMENT_HORIZONTAL_KEY},
        "HORIZONTAL_KEYS entry 1 is the key published in config/settings/local.py",
    ),
    "development key kept as a retired one": (
        {"HORIZONTAL_KEYS": f"{new_kek()},{published.DEVELOPMENT_HORIZONTAL_KEY}"},
        "HORIZONTAL_KEYS entry 2 is the key published in config/settings/local.py",
    ),
    "test key in standard base64": (
        {
            "HORIZONTAL_KEYS": base64.b64encode(
                base64.urlsafe_b64decode(published.TEST_HORIZONTAL_KEY)
            ).decode()
        },
        "HORIZONTAL_KEYS entry 1 is the key published in config/settings/test.py",
    ),
    "a key that is not 32 bytes": (
        {"HORIZONTAL_KEYS": base64.urlsafe_b64encode(b"short").decode()},
        "HORIZONTAL_KEYS entry 1 is not 32 bytes in base64",
    ),
    "no key at all": ({"HORIZONTAL_KEYS": ","}, "HORIZONTAL_KEYS lists no key"),
    "http base URL": (
        {"HORIZONTAL_BASE_URL": "http://mentoring.society.example"},
        "HORIZONTAL_BASE_URL must be an https:// URL with a host name "
        "(it is 'http://mentoring.society.example')",
    ),
    "development base URL": (
        {"HORIZONTAL_BASE_URL": "http://horizontal.localhost:8000"},
        "HORIZONTAL_BASE_URL must be an https:// URL",
    ),
    "proxy count that is not a number": (
        {"ALLAUTH_TRUSTED_PROXY_COUNT": "two"},
        "ALLAUTH_TRUSTED_PROXY_COUNT must be a whole number",
    ),
}
# Every entry point for the cases; the rest through manage.py only (same settings).
REFUSALS = [
    (entry, case)
    for case in BAD_VALUES
    for entry in (
        ENTRY_POINTS
        if case in ("development secret key", "development HORIZONTAL_KEYS", "http base URL")
        else ["manage.py"]
    )
]


@pytest.mark.parametrize(("entry", "case"), REFUSALS)
def test_production_refuses_published_secrets_and_plain_http(entry, case):
    values, sentence = BAD_VALUES[case]
    assert_refused(run(ENTRY_POINTS[entry], production_env(**values)), sentence)


@pytest.mark.parametrize("entry", ENTRY_POINTS_SHOWING_SETTINGS)
def test_with_the_secrets_each_entry_point_runs_on_production_settings(entry):
    result = run(ENTRY_POINTS_SHOWING_SETTINGS[entry], production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == ["config.settings.production", "False"]


def test_production_accepts_openid_providers_over_https_only():
    """Whatever the environment says (development and the tests run theirs over http)."""
    show = "from django.conf import settings; print(settings.HORIZONTAL_OIDC_REQUIRE_HTTPS)"
    argv = [sys.executable, "manage.py", "shell", "-v", "0", "-c", show]
    result = run(argv, production_env(HORIZONTAL_OIDC_REQUIRE_HTTPS="false"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == ["True"]


def test_secret_keys_and_their_fallbacks_are_read_as_given():
    """Fallbacks: comma separated, spaces and empty entries dropped. A key may start with "$"
    (get_random_secret_key() can make one): it is a key, not the name of another variable."""
    key = "$" + get_random_secret_key()
    fallbacks = ["$" + get_random_secret_key(), get_random_secret_key()]
    show = (
        "from django.conf import settings; "
        "print(repr(settings.SECRET_KEY)); print(settings.SECRET_KEY_FALLBACKS)"
    )
    env = production_env(
        DJANGO_SECRET_KEY=key, DJANGO_SECRET_KEY_FALLBACKS=f" {fallbacks[0]} ,{fallbacks[1]},"
    )
    result = run([sys.executable, "manage.py", "shell", "-v", "0", "-c", show], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [repr(key), repr(fallbacks)]


def test_deploy_check_passes_with_production_settings_and_good_values():
    result = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        production_env(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (1 silenced)." in result.stdout


def test_an_authenticated_tls_mail_relay_is_configured_from_the_environment():
    show = (
        "from django.conf import settings as s; "
        "print(s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD,"
        " s.EMAIL_USE_TLS, s.EMAIL_USE_SSL)"
    )
    env = production_env(
        EMAIL_HOST="smtp.relay.example",
        EMAIL_PORT="587",
        EMAIL_HOST_USER="horizontal",
        EMAIL_HOST_PASSWORD="relay-password",
        EMAIL_USE_TLS="true",
    )
    result = run([sys.executable, "manage.py", "shell", "-v", "0", "-c", show], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == [
        "smtp.relay.example",
        "587",
        "horizontal",
        "relay-password",
        "True",
        "False",
    ]
