"""The code's layout holds: one-way layers between the apps, schema switching in one place,
no imports hidden inside functions to dodge a cycle (README, "How the code is laid out")."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("society", "directory", "groups", "evaluation", "crossschema")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _sources(*, include_migrations: bool = False) -> list[Path]:
    paths = []
    for app in (*APPS, "config", "bench"):
        for path in (ROOT / app).rglob("*.py"):
            if include_migrations or "migrations" not in path.parts:
                paths.append(path)
    return sorted(paths)


def test_the_import_contracts_are_kept():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _tree_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "tree"
    copy.mkdir()
    shutil.copy(ROOT / "pyproject.toml", copy)
    for app in (*APPS, "config"):
        shutil.copytree(ROOT / app, copy / app, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_the_contracts_fail_on_each_cycle_the_layers_forbid(tmp_path):
    """Each arrow the README forbids, written into a copy of the tree, breaks a contract."""
    upward = {
        "society/services.py": "import directory.services",
        "directory/services.py": "import groups.services.invitations",
        "groups/views/home.py": "import crossschema.provisioning",
        "evaluation/models.py": "import groups.models",
        "society/tasking.py": "import config.celery",
    }
    copy = _tree_copy(tmp_path)
    for path, line in upward.items():
        target = copy / path
        original = target.read_text()
        target.write_text(original + f"\n{line}  # noqa\n")
        result = _lint_imports(copy)
        target.write_text(original)
        assert result.returncode != 0, f"{path}: {line} was not caught"
        assert "BROKEN" in result.stdout, result.stdout


def test_only_the_middleware_and_crossschema_switch_schemas():
    """Outside tests and migrations, schemas are switched in crossschema and the host
    middleware only (the Celery app's switch is tenant-schemas-celery's own)."""
    allowed = {ROOT / "society" / "middleware.py"}
    pattern = re.compile(r"tenant_context|schema_context|set_schema")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _sources()
        if path not in allowed and "crossschema" not in path.relative_to(ROOT).parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_no_import_of_the_project_hides_inside_a_function():
    """A function-level import that exists to dodge a cycle is a cycle (STYLE.md). Only the
    app registry's own loading in apps.py and checks.py may import late."""
    offenders = []
    for path in _sources():
        if path.name in ("apps.py", "checks.py") or "bench" in path.relative_to(ROOT).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.ImportFrom)
                    and (inner.level > 0 or (inner.module or "").split(".")[0] in (*APPS, "config"))
                ) or (
                    isinstance(inner, ast.Import)
                    and any(alias.name.split(".")[0] in (*APPS, "config") for alias in inner.names)
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert offenders == []


def test_no_model_signal_receivers():
    """Writes happen in services, where a reader finds them, never in save() signals."""
    pattern = re.compile(r"\b(post_save|pre_save|post_delete|pre_delete|m2m_changed)\b")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _sources()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
