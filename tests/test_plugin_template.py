"""The plugin template installs into a fresh virtual environment with ``pip install`` next
to this project, and its own tests pass there (issue 4). Runs in CI; takes a minute.

Both projects are copied to ``tmp_path`` first, so that building them leaves nothing
(``build/``, ``*.egg-info``) in the working tree. The virtual environment sees the
interpreter's site-packages (``--system-site-packages``) so that the dependencies already
installed are not downloaded again; ``leverage`` and the template themselves are installed
into the environment, and the test checks that they are imported from there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "examples" / "plugin-template"
IGNORE = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".venv", "venv",
                                "*.db", "*.db-wal", "*.db-shm", ".hypothesis", ".mypy_cache", ".ruff_cache",
                                ".pytest_cache", "benchmarks", "tests")


def _bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / (name + (".exe" if os.name == "nt" else ""))


def _env() -> dict[str, str]:
    """The environment without anything that would steer leverage, pytest or Python."""
    drop = ("LEVERAGE_", "PYTHONPATH", "PYTHONHOME", "PYTEST_", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    return env


def _run(*args: object, cwd: Path | None = None, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, args))} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the virtual environment, the copy of the template) with both projects installed."""
    base = tmp_path_factory.mktemp("template")
    project = base / "leverage"
    shutil.copytree(ROOT, project, ignore=IGNORE)
    template = base / "leverage-plugin-template"
    shutil.copytree(TEMPLATE, template, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    env_dir = base / "venv"
    _run(sys.executable, "-m", "venv", "--system-site-packages", env_dir)
    python = _bin(env_dir, "python")
    _run(python, "-m", "pip", "install", "--quiet", project)
    _run(python, "-m", "pip", "install", "--quiet", template)
    return env_dir, template


def test_both_are_installed_into_the_environment(venv):
    env_dir, _template = venv
    code = "import leverage, leverage_example, leverage_crm; print(leverage.__file__); print(leverage_example.__file__)"
    out = _run(_bin(env_dir, "python"), "-c", code, cwd=env_dir).stdout.split()  # not from this checkout
    for path in out:
        assert Path(path).resolve().is_relative_to(env_dir.resolve()), f"{path} is not from the new environment"


def test_the_installed_plugin_is_found_by_its_entry_point(venv):
    env_dir, _template = venv
    out = _run(_bin(env_dir, "leverage"), "plugins", "--json", cwd=env_dir).stdout
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["leverage_example"]["status"] == "loaded"
    assert rows["leverage_example"]["builtin"] is False
    assert rows["leverage_example"]["version"] == "0.1.0"
    for builtin in ("leverage_crm", "leverage_tos", "leverage_graphviz"):
        assert rows[builtin]["builtin"] is True and rows[builtin]["status"] == "loaded", rows[builtin]
    assert "dialogues" in _run(_bin(env_dir, "leverage"), "--help", cwd=env_dir).stdout


def test_the_template_s_own_tests_pass_there(venv):
    env_dir, template = venv
    # -P: the template's directory is not put on sys.path, so the tests import the installed plugin
    proc = subprocess.run([str(_bin(env_dir, "python")), "-P", "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"],
                          cwd=template, env=_env(), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    summary = proc.stdout.strip().splitlines()[-1]
    assert "passed" in summary and "skipped" not in summary and "failed" not in summary, proc.stdout[-3000:]
    assert " 9 passed" in f" {summary}", summary
