"""Every command has help; ``--version`` and ``-h`` work; ``--help`` starts without the heavy
imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import click
import pytest

from leverage import __version__
from leverage.cli import cli

# The commands of DESIGN section 6 that the core ledger provides (issue 2, item 8).
CORE_COMMANDS = {
    ("init",), ("policy",), ("policy", "show"), ("policy", "set"),
    ("party",), ("party", "add"), ("party", "update"), ("party", "list"),
    ("rel",), ("rel", "add"), ("rel", "update"), ("rel", "end"), ("rel", "list"),
    ("impact",), ("impact", "open"), ("impact", "reassess"),
    ("step",), ("step", "add"), ("step", "outcome"),
    ("assess",), ("decide",), ("void",), ("log",), ("verify",), ("export",), ("load",),
    ("schema",), ("plugins",),
}


def walk(group: click.Group, ctx: click.Context, path: tuple[str, ...] = ()):
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, name
        yield (*path, name), cmd
        if isinstance(cmd, click.Group):
            sub = click.Context(cmd, info_name=name, parent=ctx)
            yield from walk(cmd, sub, (*path, name))


def all_commands() -> list[tuple[tuple[str, ...], click.Command]]:
    ctx = click.Context(cli, info_name="leverage")
    return list(walk(cli, ctx))


def test_the_core_commands_exist():
    paths = {path for path, _ in all_commands()}
    missing = CORE_COMMANDS - paths
    assert not missing, f"missing commands: {sorted(missing)}"


def test_every_command_has_help_text():
    assert cli.help and cli.help.strip()
    for path, cmd in all_commands():
        assert cmd.help and cmd.help.strip(), f"`leverage {' '.join(path)}` has no help text"
        assert cmd.get_short_help_str().strip(), path


@pytest.mark.parametrize("path", sorted(CORE_COMMANDS), ids=" ".join)
def test_help_of_core_commands(runner, path):
    for flag in ("--help", "-h"):
        result = runner.invoke(cli, [*path, flag])
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("Usage: "), result.stdout
        assert " ".join(path) in result.stdout.splitlines()[0]


def test_help_of_every_command_including_plugins(runner):
    for path, cmd in all_commands():
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage: " in result.stdout, path
        for param in cmd.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert param.opts[0] in result.stdout, (path, param.opts)


def test_top_level_help(runner):
    for flag in ("--help", "-h"):
        result = runner.invoke(cli, [flag])
        assert result.exit_code == 0, result.output
        out = result.stdout
        assert out.startswith("Usage: ")
        for text in ("--db", "--actor", "--version", "LEVERAGE_DB", "LEVERAGE_ACTOR"):
            assert text in out, text
        for name in ("init", "party", "rel", "impact", "step", "decide", "verify", "load"):
            assert name in out


def test_no_command_shows_usage(runner):
    result = runner.invoke(cli, [])
    assert "Usage: " in result.output
    assert "Traceback" not in result.output


def test_version(runner):
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"leverage, version {__version__}"


def test_unknown_command_is_one_line_error(runner):
    result = runner.invoke(cli, ["frobnicate"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "frobnicate" in lines[0]


def test_help_starts_without_heavy_imports():
    code = ("import sys; from leverage.cli import cli\n"
            "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
            "import json; print(json.dumps(sorted(m for m in sys.modules)), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Usage: ")
    modules = set(json.loads(proc.stderr.strip().splitlines()[-1]))
    heavy = {"networkx", "jsonschema", "graphviz", "rich"} & modules
    assert not heavy, f"`leverage --help` imports {sorted(heavy)}"
