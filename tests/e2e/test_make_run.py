"""`make run` on a machine where neither PostgreSQL nor Redis answers (acceptance 1 and 7).

The test points DATABASE_URL and REDIS_URL at free loopback ports, so the bootstrap must start
private servers under a fresh data directory, exactly as on a new machine. It then signs in over
HTTP, has the worker run a task, presses Ctrl-C (SIGINT to the whole foreground process group,
as a terminal does), checks nothing is left running, and runs it a second time.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest

from tests.conftest import ROOT, port_open, wait_for

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Site:
    """A tiny HTTP client that talks to 127.0.0.1 with our host names and keeps cookies."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, host: str, path: str, form: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Host": f"{host}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            form = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **form}
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://{host}:{self.port}"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        return response, text


def processes_with(marker: str) -> list[str]:
    """Processes whose environment carries `marker` (everything `make run` started inherits it)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if marker.encode() in (proc / "environ").read_bytes():
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120])
        except OSError:
            continue
    return found


def start(env: dict[str, str], log: Path) -> subprocess.Popen:
    out = open(log, "w")  # noqa: SIM115 (closed by the caller through proc.wait)
    return subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_running(proc: subprocess.Popen, log: Path) -> str:
    def ready():
        text = log.read_text()
        if proc.poll() is not None:
            raise AssertionError("make run stopped:\n" + text[-3000:])
        return "Horizontal is running" in text and text

    return wait_for(ready, 300, "make run to come up", interval=0.5)


def press_ctrl_c(proc: subprocess.Popen, marker: str, ports: list[int]) -> None:
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait(90)
    wait_for(lambda: not processes_with(marker), 20, "every started process to stop")
    assert not [p for p in ports if port_open(p)], "a port is still open after Ctrl-C"


def test_make_run_starts_everything_on_a_bare_machine_and_ctrl_c_stops_it(tmp_path):
    pg, redis, web = free_port(), free_port(), free_port()
    while len({pg, redis, web}) < 3:
        redis, web = free_port(), free_port()
    data_dir = tmp_path / "data"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CELERY_", "HORIZONTAL_", "DATABASE_", "REDIS_", "MAKE"))
    }
    env.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{pg}/horizontal",
        REDIS_URL=f"redis://127.0.0.1:{redis}/0",
        HORIZONTAL_BASE_URL=f"http://horizontal.localhost:{web}",
        HORIZONTAL_DATA_DIR=str(data_dir),
    )
    marker = f"HORIZONTAL_DATA_DIR={data_dir}"
    assert not port_open(pg) and not port_open(redis)
    proc = start(env, tmp_path / "run1.log")
    try:
        output = wait_running(proc, tmp_path / "run1.log")
        assert "Starting a private PostgreSQL" in output and "Starting a private Redis" in output
        assert f"http://k-club.horizontal.localhost:{web}/" in output
        assert "ada@northfield.edu / horizontal-demo" in output

        site = Site(web)
        response, _ = site.request("GET", "horizontal.localhost", "/")
        assert response.status == 200
        response, _ = site.request("GET", "k-club.horizontal.localhost", "/")
        assert response.status == 302
        assert response.getheader("Location").startswith(
            f"http://horizontal.localhost:{web}/accounts/login/?next="
        )
        site.request("GET", "horizontal.localhost", "/accounts/login/")
        response, _ = site.request(
            "POST",
            "horizontal.localhost",
            "/accounts/login/",
            {"login": "ada@northfield.edu", "password": "horizontal-demo"},
        )
        assert response.status == 302 and "sessionid" in site.cookies
        response, page = site.request("GET", "k-club.horizontal.localhost", "/")
        assert response.status == 200 and "K Club: early-career physician-scientists" in page

        # the worker started by make run runs a task sent from this group's request
        response, _ = site.request("POST", "k-club.horizontal.localhost", "/status/workers/", {})
        assert response.status == 302
        wait_for(
            lambda: (
                "this group"
                in site.request("GET", "k-club.horizontal.localhost", "/status/workers/")[1]
            ),
            60,
            "make run's worker to run the check",
        )
        wait_for(lambda: "beat: Starting" in (tmp_path / "run1.log").read_text(), 30, "beat")
    finally:
        press_ctrl_c(proc, marker, [pg, redis, web])

    proc = start(env, tmp_path / "run2.log")
    try:
        output = wait_running(proc, tmp_path / "run2.log")
        assert "Creating a private PostgreSQL cluster" not in output  # the data was kept
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg}/horizontal") as conn:
            counts = conn.execute(
                "SELECT (SELECT count(*) FROM society_user),"
                " (SELECT count(*) FROM society_peergroup),"
                " (SELECT count(*) FROM g_k_club.groups_membership),"
                " (SELECT count(*) FROM society_institution),"
                " (SELECT count(*) FROM directory_profile),"
                " (SELECT count(*) FROM directory_post)"
            ).fetchone()
        assert counts == (7, 2, 4, 4, 6, 1), "running twice must not duplicate demo data"
        assert re.search(r"Demo data: 4 institutions, 7 users, 2 groups", output)
    finally:
        press_ctrl_c(proc, marker, [pg, redis, web])
        real = (data_dir / "postgres").resolve()
        if real != data_dir / "postgres":
            shutil.rmtree(real, ignore_errors=True)
