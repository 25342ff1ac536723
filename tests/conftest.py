"""Shared test set-up: one test database, one template schema, two groups, one worker, one browser.

Everything here runs against real PostgreSQL and Redis. Tests that only need the database use
pytest-django's `db` (rolled back per test). Tests that drive other processes (Celery worker,
gunicorn, the browser, `make run`) use `committed`, which writes for real and cleans up after.
"""

from __future__ import annotations

import copy
import email
import email.policy
import itertools
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

# Playwright's sync API runs an event loop in this thread; our DB calls are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent
# The session's own Celery queue: the web server sends to it, the session's worker reads it.
TEST_QUEUE = f"horizontal-test-{uuid.uuid4().hex[:8]}"
PASSWORD = "correct horse battery"


@dataclass
class World:
    """Committed for the whole session: groups alpha and beta, and people in every role."""

    alpha: object
    beta: object
    alice: object  # point-person of alpha, member of beta
    bob: object  # member of alpha only
    carol: object  # facilitator in alpha
    erin: object  # evaluator in alpha
    mallory: object  # point-person of beta only ("a member of another group")
    sam: object  # society admin, in no group
    olivia: object  # signed-in outsider, in no group
    samples: dict  # primary keys of one of each thing in alpha's space (see _make_space)


def _make_world() -> World:
    from crossschema.provisioning import group_provision
    from groups.models import Membership
    from groups.services.membership import membership_add
    from society.services import group_create, template_schema_migrate
    from tests.society.factories import InstitutionFactory, UserFactory

    template_schema_migrate()
    north = InstitutionFactory(name="Northfield University", email_domains=["northfield.edu"])
    lake = InstitutionFactory(name="Lakeside College", email_domains=["lakeside.edu"])
    people = {
        name: UserFactory(
            email=f"{name}@{inst.email_domains[0]}",
            full_name=f"{name.title()} Tester",
            institution=inst,
        )
        for name, inst in [
            ("alice", north),
            ("bob", lake),
            ("carol", north),
            ("erin", lake),
            ("mallory", lake),
            ("sam", north),
            ("olivia", north),
        ]
    }
    people["sam"].is_society_admin = True
    people["sam"].save(update_fields=["is_society_admin"])
    alpha = group_provision(group=group_create(name="Alpha Peer Group", slug="alpha"))
    beta = group_provision(group=group_create(name="Beta Circle", slug="beta"))
    R = Membership.Role
    with tenant_context(alpha):
        membership_add(user=people["alice"], role=R.POINT_PERSON)
        membership_add(user=people["bob"], role=R.MEMBER)
        membership_add(user=people["carol"], role=R.FACILITATOR)
        membership_add(user=people["erin"], role=R.EVALUATOR)
    with tenant_context(beta):
        membership_add(user=people["mallory"], role=R.POINT_PERSON)
        membership_add(user=people["alice"], role=R.MEMBER)
    return World(alpha=alpha, beta=beta, samples=_make_space(alpha, people), **people)


def _make_space(alpha, people) -> dict[str, int]:
    """One of each thing in alpha's working space, for the role matrix and other tests."""
    from datetime import timedelta

    from django.utils import timezone

    from groups.services.achievements import achievement_add
    from groups.services.confidential import confidential_entry_create
    from groups.services.goals import goal_save
    from groups.services.meetings import commitment_add, meeting_schedule
    from groups.services.polls import poll_create

    with tenant_context(alpha):
        alice, bob = people["alice"], people["bob"]
        poll = poll_create(
            title="Spring meeting",
            duration_minutes=60,
            actor=alice,
            starts=[timezone.now() + timedelta(days=30)],
        )
        meeting = meeting_schedule(
            title="Past meeting",
            starts_at=timezone.now() - timedelta(days=14),
            duration_minutes=60,
            actor=alice,
            allow_past=True,  # history, recorded as it happened
        )
        commitment = commitment_add(meeting=meeting, owner=bob, text="Draft aims", actor=alice)
        goal = goal_save(owner=bob, text="Submit a K award")
        thread = confidential_entry_create(author=bob, text="Job offer: thoughts?")
        peers = confidential_entry_create(author=bob, text="Peers only", peers_only=True)
        achievement = achievement_add(
            owner=bob, kind="paper", text="Paper accepted", shareable=False
        )
        item = meeting.agenda.first().pk
    return {
        "poll": poll.pk,
        "meeting": meeting.pk,
        "item": item,
        "commitment": commitment.pk,
        "goal": goal.pk,
        "thread": thread.pk,
        "peers_thread": peers.pk,
        "achievement": achievement.pk,
    }


@pytest.fixture(scope="session")
def django_db_setup(
    django_test_environment, django_db_blocker, django_db_createdb, django_db_keepdb
):
    """Always create the test database, also for sessions whose tests only use `committed`.

    (pytest-django creates it only when some collected test asks for `db`.)
    """
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        config = setup_databases(
            verbosity=0,
            interactive=False,
            aliases={"default"},
            keepdb=django_db_keepdb and not django_db_createdb,
        )
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            # A stopped worker's or server's backend can outlive its process by a moment.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            teardown_databases(config, verbosity=0)


@pytest.fixture(scope="session")
def world(django_db_setup, django_db_blocker) -> World:
    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"].startswith("test_"), "not the test database"
        world = _make_world()
        from society.models import OutboundEmail

        # The world's meeting and threads are history: their e-mails are not the tests' mail
        # (each test's sweep sends only what it recorded itself).
        OutboundEmail.objects.filter(group__in=[world.alpha, world.beta]).delete()
        return world


@pytest.fixture(autouse=True)
def _fresh_cache_and_public_schema() -> Iterator[None]:
    """Each test starts with an empty cache (sign-in rate limits live there) and ends in public."""
    from django.core.cache import cache

    cache.clear()
    yield
    connection.set_schema_to_public()


WORLD_OBJECTS = ("alpha", "beta", "alice", "bob", "carol", "erin", "mallory", "sam", "olivia")


def _as_data(obj) -> dict:
    """A model instance as plain data: its attributes and the related objects it has cached."""
    data = {k: v for k, v in vars(obj).items() if k != "_state"}
    for name, related in obj._state.fields_cache.items():
        data[f"cached {name}"] = related and {
            k: v for k, v in vars(related).items() if k != "_state"
        }
    return copy.deepcopy(data)


def _world_rows(world) -> dict:
    """What the database holds now for the world's people, groups, institutions, memberships.

    `last_login` is left out: every sign-in writes it (for real, in the `committed` tests).
    """
    from society.models import Institution, PeerGroup, User

    people = [getattr(world, name).pk for name in WORLD_OBJECTS[2:]]
    users = list(User.objects.filter(pk__in=people).order_by("pk").values())
    for user in users:
        user.pop("last_login")
    rows = {
        "users": users,
        "groups": list(
            PeerGroup.objects.filter(pk__in=[world.alpha.pk, world.beta.pk]).order_by("pk").values()
        ),
        "institutions": list(
            Institution.objects.filter(pk__in={u["institution_id"] for u in users})
            .order_by("pk")
            .values()
        ),
    }
    with connection.cursor() as cursor:
        for group in (world.alpha, world.beta):
            cursor.execute(
                f'SELECT user_id, role, is_active FROM "{group.schema_name}".groups_membership'
                " ORDER BY user_id"
            )
            rows[group.slug] = cursor.fetchall()
    return rows


@pytest.fixture(autouse=True)
def _world_is_left_as_it_was(request) -> Iterator[None]:
    """A test that uses `world` must leave it as it found it: the session's objects in memory,
    and their rows in the database (a `db` test's rollback restores those; a `committed` test
    must clean up). Change, or hand to code that may change, `fresh(world.bob)` instead."""
    if "world" not in request.fixturenames:
        yield
        return
    world = request.getfixturevalue("world")
    blocker = request.getfixturevalue("django_db_blocker")
    memory = {name: _as_data(getattr(world, name)) for name in WORLD_OBJECTS}
    samples = copy.deepcopy(world.samples)
    with blocker.unblock():
        rows = _world_rows(world)
    yield
    changed = {}
    for name in WORLD_OBJECTS:
        now = _as_data(getattr(world, name))
        keys = {*now, *memory[name]}
        diff = sorted(k for k in keys if now.get(k, "<none>") != memory[name].get(k, "<none>"))
        if diff:
            changed[f"world.{name}"] = diff
    assert not changed, f"the test changed the session's shared objects: {changed}"
    assert world.samples == samples, "the test changed world.samples"
    with blocker.unblock():
        connection.set_schema_to_public()
        assert _world_rows(world) == rows, "the test left the world's rows changed"


@pytest.fixture
def committed(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Database access outside a test transaction, for tests that other processes must see."""
    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"].startswith("test_"), "not the test database"
        yield
        connection.set_schema_to_public()


def fresh(obj):
    """A new copy of `obj` (one of the session's `world` objects) as the database holds it now:
    to change, or to hand to code that may change it or cache related rows on it."""
    return type(obj).objects.get(pk=obj.pk)


def host_of(group=None) -> str:
    from society.urls_helpers import group_host

    base = settings.HORIZONTAL_BASE_HOST if group is None else group_host(group.slug)
    return base + settings.HORIZONTAL_PORT_SUFFIX


@pytest.fixture
def client_for() -> Callable[..., Client]:
    """client_for(user, group): a test client signed in as `user`, talking to `group`'s host.

    It signs in a copy: a sign-in sets `last_login` and `backend` on the object it is given,
    and `user` is often one of the session's shared `world` objects.
    """

    def make(user=None, group=None) -> Client:
        client = Client(HTTP_HOST=host_of(group))
        if user is not None:
            client.force_login(copy.copy(user))
        return client

    return make


# --- real processes --------------------------------------------------------------------------


def database_url_of_tests() -> str:
    db = settings.DATABASES["default"]
    auth = quote(db["USER"] or "postgres")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=database_url_of_tests(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        HORIZONTAL_BASE_URL=settings.HORIZONTAL_BASE_URL,
        CELERY_TASK_DEFAULT_QUEUE=TEST_QUEUE,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def wait_for(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


@contextmanager
def running(
    argv: list[str], log: Path, ready: Callable[[], bool], what: str, **env: str
) -> Iterator[subprocess.Popen]:
    """Run `argv` (python -m ...) against the test database until the block ends."""
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", *argv],
            cwd=ROOT,
            env=process_env(**env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: proc.poll() is not None or ready(), 60, what)
        assert proc.poll() is None, log.read_text()
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def worker_argv(queue: str) -> list[str]:
    return [
        "celery",
        "-A",
        "config",
        "worker",
        "--pool",
        "solo",
        "-Q",
        queue,
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "-n",
        f"{queue}@%h",
    ]


def smtp_received(folder: Path) -> list[email.message.EmailMessage]:
    """What the session's SMTP server wrote to `folder` (`worker_outbox`), oldest first."""
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.iterdir())
    ]


def text_of(message: email.message.EmailMessage) -> str:
    """The plain-text part of a received e-mail (every e-mail we send is text and HTML)."""
    return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture(scope="session")
def worker_outbox(tmp_path_factory) -> Path:
    """Where the session's SMTP server keeps the e-mails it receives (one file per message)."""
    return tmp_path_factory.mktemp("worker-mail")


@pytest.fixture(scope="session")
def smtp_server(worker_outbox) -> Iterator[tuple[str, int]]:
    """A real SMTP server (aiosmtpd) on loopback for the session's worker; every message it
    receives is written to `worker_outbox` as it came over the wire."""
    from aiosmtpd.controller import Controller

    counter = itertools.count()

    class Keep:
        async def handle_DATA(self, server, session, envelope):
            name = f"{time.time_ns()}-{next(counter)}.eml"
            (worker_outbox / name).write_bytes(envelope.original_content or envelope.content)
            return "250 Message accepted for delivery"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield "127.0.0.1", port
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def celery_worker_process(world, tmp_path_factory, smtp_server) -> Iterator[str]:
    """One real Celery worker for the session, on a queue of its own; yields the queue name."""
    from config.celery import app

    queue = TEST_QUEUE
    app.conf.task_default_queue = queue
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    try:
        with running(
            worker_argv(queue),
            log,
            lambda: "ready." in log.read_text(),
            "the Celery worker",
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST=smtp_server[0],
            EMAIL_PORT=str(smtp_server[1]),
        ):
            yield queue
    finally:
        app.conf.task_default_queue = "celery"


@pytest.fixture(scope="session")
def web_server_log(tmp_path_factory) -> Path:
    """Where the session's gunicorn writes its output, access log included."""
    return tmp_path_factory.mktemp("web") / "gunicorn.log"


@pytest.fixture(scope="session")
def web_server(world, web_server_log, smtp_server) -> Iterator[str]:
    """gunicorn serving the test database on the base URL's port; yields the base URL. What
    it e-mails (sign-in codes, most mail) goes to the session's SMTP server, as the worker's."""
    port = int(settings.HORIZONTAL_PORT_SUFFIX.lstrip(":"))
    assert not port_open(port), f"port {port} is taken; the browser tests need it"
    log = web_server_log
    argv = [
        "gunicorn",
        "-c",
        "config/gunicorn.conf.py",
        "config.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        "2",
        "--access-logfile",
        "-",
    ]
    with running(
        argv,
        log,
        lambda: port_open(port),
        "gunicorn",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST=smtp_server[0],
        EMAIL_PORT=str(smtp_server[1]),
    ):
        yield settings.HORIZONTAL_BASE_URL


# --- browser (pytest-playwright, Debian's Chromium) ---------------------------------------------

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # axe-core is injected as a script; our CSP rightly forbids that: the test context bypasses it.
    return {**browser_context_args, "bypass_csp": True, "viewport": {"width": 1200, "height": 800}}
