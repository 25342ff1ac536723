"""The repository's own promises: compose file, pinned requirements, README, bench script."""

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.conftest import ROOT


def _docker_compose() -> list[str] | None:
    """`docker compose` if this machine has Docker with its compose plugin, else None."""
    docker = shutil.which("docker")
    if docker is None:
        return None
    try:
        found = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return [docker, "compose"] if found.returncode == 0 else None


def test_docker_compose_file_shape_and_docker_compose_config_where_docker_has_compose():
    """Always: parses docker-compose.yml as YAML and checks its shape (the services, the same
    settings module and variables as `make run`, the commands). This alone does not show that
    Docker accepts the file.

    Only where `docker compose` is installed: also runs `docker compose config -q`, Docker's
    own validation of the file. Without it (as on a machine with no Docker or no compose
    plugin), this test is a shape check and nothing more."""
    compose_cli = _docker_compose()
    if compose_cli is not None:
        result = subprocess.run(
            [*compose_cli, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "beat", "postgres", "redis", "mail"} <= set(services)
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.local"
        assert "@postgres:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:6379")
    assert "celery -A config worker" in services["worker"]["command"]
    assert "celery -A config beat" in services["beat"]["command"]
    assert "schemas_migrate" in services["web"]["command"]


def test_every_requirement_is_pinned():
    lines = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines and all(
        re.fullmatch(r"[A-Za-z0-9_.\-\[\],]+==[0-9][\w.]*", line) for line in lines
    )
    names = {line.split("==")[0].lower() for line in lines}
    assert {"lxml", "xmlsec"} <= names  # pinned together


def test_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", readme, re.S)
    assert blocks[0].strip() == "make run"
    assert blocks[1].strip() == "make test"
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test")
    for shot in re.findall(r"\]\((docs/screenshots/[\w.-]+\.png)\)", readme):
        assert (ROOT / shot).is_file(), shot


# The benches run at a tiny size, all four at once (each makes and migrates a scratch database
# of its own, which is most of their time): started together by the first test that needs one.
BENCHES = {
    "provision": (["bench/provision.py", "--rounds", "1", "--batch", "2"], "bench"),
    "pages": (
        ["bench/pages.py", "--members", "3", "--meetings", "4", "--requests", "3"],
        "pages",
    ),
    "directory": (["bench/directory.py", "--profiles", "2000", "--rounds", "2"], "dirbench"),
    "reminders": (
        ["bench/reminders.py", "--groups", "4", "--due", "80", "--rounds", "1"],
        "remindbench",
    ),
}


@pytest.fixture(scope="module")
def benches():
    running = {
        name: subprocess.Popen(
            [sys.executable, *argv, "--database", f"{prefix}_{os.getpid()}"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (argv, prefix) in BENCHES.items()
    }
    results: dict[str, tuple[int, str, str]] = {}

    def result(name: str) -> tuple[int, str, str]:
        if name not in results:
            out, err = running[name].communicate(timeout=300)
            results[name] = (running[name].returncode, out, err)
        return results[name]

    yield result
    for proc in running.values():
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_provision_bench_prints_its_closing_line(benches):
    code, out, err = benches("provision")
    assert code == 0, err[-2000:]
    *_, batch, last = out.strip().splitlines()
    assert re.fullmatch(
        r"batch: 2 groups back to back, median \d+\.\d{3} s, worst \d+\.\d{3} s", batch
    )
    assert re.fullmatch(
        r"provision: template \d+\.\d\d s, migrate \d+\.\d\d s, ratio \d+\.\d", last
    )


def test_pages_bench_prints_its_closing_line(benches):
    code, out, err = benches("pages")
    assert code == 0, err[-2000:]
    last = out.strip().splitlines()[-1]
    assert re.fullmatch(
        r"pages: dashboard p50 \d+ ms, meeting p50 \d+ ms, minimal p50 \d+ ms, worst ratio \d+\.\d",
        last,
    )


def test_directory_bench_prints_its_closing_line(benches):
    code, out, err = benches("directory")
    assert code == 0, err[-2000:]
    last = out.strip().splitlines()[-1]
    assert re.fullmatch(
        r"directory: p50 \d+\.\d ms, p95 \d+\.\d ms, icontains p95 \d+ ms, ratio \d+\.\d", last
    )


def test_reminders_bench_prints_its_closing_line_and_finds_every_reminder_both_ways(benches):
    code, out, err = benches("reminders")
    assert code == 0, err[-2000:]
    last = out.strip().splitlines()[-1]
    assert re.fullmatch(
        r"reminders: 80 due in 4 groups, index \d+\.\d\d s, loop \d+\.\d\d s, ratio \d+\.\d", last
    )
