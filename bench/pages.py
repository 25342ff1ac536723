"""Latency of the group dashboard and a meeting page against a minimal page of the same site,
served by gunicorn, with a group of 12 members and 200 meetings. Requests to the three pages
are interleaved so machine noise hits them alike. Ends with one line:

    pages: dashboard p50 11 ms, meeting p50 13 ms, minimal p50 8 ms, worst ratio 1.6

The minimal page is the group's norms page: the full middleware stack (host routing, session,
membership) and one small query. Usage: make bench-pages (or python bench/pages.py --help).
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from provision import scratch_database  # noqa: E402

PASSWORD = "bench-password-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build(members: int, meetings: int) -> tuple[str, int]:
    """The group, its people and its history; returns (a member's e-mail, a meeting id)."""
    from django.core.management import call_command
    from django.utils import timezone

    from crossschema.fanout import inside
    from crossschema.provisioning import group_provision
    from groups.services.meetings import attendance_record, commitment_add, meeting_schedule
    from groups.services.membership import membership_add
    from groups.services.minutes import minutes_publish
    from groups.services.mission import mission_adopt
    from society import services as s
    from society.models import User

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    s.template_schema_migrate()
    group = group_provision(group=s.group_create(name="Bench Group", slug="bench"))
    users = [
        User.objects.create_user(
            f"m{i}@bench.edu", PASSWORD, full_name=f"Member {i}", time_zone="America/Chicago"
        )
        for i in range(members)
    ]
    now = timezone.now()
    with inside(group):
        for i, user in enumerate(users):
            membership_add(user=user, role="point_person" if i == 0 else "member")
        mission_adopt(text="Everyone submits a career development award.", actor=users[0])
        last = None
        for i in range(meetings):
            last = meeting_schedule(
                title=f"Meeting {i}",
                duration_minutes=60,
                actor=users[0],
                starts_at=now - timedelta(days=7 * (meetings - i)),
                allow_past=True,  # history, recorded as it happened
            )
            attendance_record(meeting=last, present_ids={u.pk for u in users[::2]}, actor=users[0])
            for user in users:
                commitment_add(meeting=last, owner=user, text=f"Plan {i}", actor=users[0])
            minutes_publish(meeting=last, actor=users[0])
    return users[1].email, last.pk


class Client:
    def __init__(self, port: int, host: str) -> None:
        self.port, self.host, self.cookies = port, host, {}

    def request(self, method: str, path: str, host: str, form: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {
            "Host": f"{host}:{self.port}",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        body = None
        if form is not None:
            body = urlencode({"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **form})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://{host}:{self.port}"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        conn.close()
        return response.status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=12)
    parser.add_argument("--meetings", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200, help="per page")
    parser.add_argument("--database", default="horizontal_pages_bench")
    args = parser.parse_args()

    port = free_port()
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["HORIZONTAL_TEST_BASE_URL"] = f"http://horizontal.localhost:{port}"
    maintenance = scratch_database(args.database)
    import django

    django.setup()
    from django.db import connection

    email, meeting_id = build(args.members, args.meetings)
    connection.close()

    env = dict(os.environ, PYTHONUNBUFFERED="1")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        base, group = "horizontal.localhost", "bench.horizontal.localhost"
        client = Client(port, base)
        client.request("GET", "/accounts/login/", base)
        status = client.request(
            "POST", "/accounts/login/", base, {"login": email, "password": PASSWORD}
        )
        assert status == 302, f"sign-in failed ({status})"
        pages = {"dashboard": "/", "meeting": f"/meetings/{meeting_id}/", "minimal": "/charter/"}
        for path in pages.values():  # warm up both workers
            for _ in range(5):
                assert client.request("GET", path, group) == 200, path
        times: dict[str, list[float]] = {name: [] for name in pages}
        for _ in range(args.requests):
            for name, path in pages.items():
                start = time.perf_counter()
                client.request("GET", path, group)
                times[name].append((time.perf_counter() - start) * 1000)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)
        import psycopg

        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')

    p50 = {name: statistics.median(values) for name, values in times.items()}
    p95 = {name: sorted(v)[int(len(v) * 0.95) - 1] for name, v in times.items()}
    print(
        f"members {args.members}, meetings {args.meetings}, {args.requests} requests a page; "
        + ", ".join(f"{n} p95 {p95[n]:.1f} ms" for n in pages)
    )
    worst = max(p50["dashboard"], p50["meeting"]) / p50["minimal"]
    print(
        f"pages: dashboard p50 {p50['dashboard']:.0f} ms, meeting p50 {p50['meeting']:.0f} ms, "
        f"minimal p50 {p50['minimal']:.0f} ms, worst ratio {worst:.1f}"
    )


if __name__ == "__main__":
    main()
