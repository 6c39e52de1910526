"""Tests of the example plugin, with the fixtures of ``leverage.testing`` (a pytest plugin
that comes with leverage: nothing to import or configure).

- ``leverage_cli(plugin)`` registers the plugin for one test and returns ``invoke(*args)``,
  which runs the ``leverage`` command line against a ledger in ``tmp_path``;
- ``leverage_ledger`` is that ledger, empty (the default policy only);
- ``leverage_example_ledger()`` fills it with a small scenario (impact ``imp-1``);
- ``leverage_plugins(plugin)`` registers a plugin for tests that use the Python API.
"""

from __future__ import annotations

import importlib.metadata
import json

import leverage_example
import pytest

from leverage import plugins


def test_the_step_kind_is_registered_on_rung_engage(leverage_cli):
    invoke = leverage_cli(leverage_example)
    kinds = {k["kind"]: k for k in json.loads(invoke("step", "kinds", "--json").stdout)}
    assert kinds["community-dialogue"]["rung"] == "engage"
    assert kinds["community-dialogue"]["owner"] == "leverage_example"


def test_a_community_dialogue_is_a_step_at_engage(leverage_cli, leverage_example_ledger):
    leverage_example_ledger()  # impact imp-1, opened 2021-01-07, one dialogue with the partner
    invoke = leverage_cli(leverage_example)
    result = invoke("step", "add", "imp-1", "--kind", "community-dialogue",
                    "--summary", "Meeting with the journalists' union", "--at", "2021-01-10")
    assert result.exit_code == 0, result.output
    [status] = json.loads(invoke("status", "--json", "--as-of", "2021-01-11").stdout)
    assert status["rung"] == "engage"


def test_the_check_finds_an_impact_nobody_asked_the_community_about(leverage_cli, leverage_example_ledger):
    leverage_example_ledger()
    invoke = leverage_cli(leverage_example)
    [early] = json.loads(invoke("status", "--json", "--as-of", "2021-01-20").stdout)
    assert "community-not-heard" not in [f["code"] for f in early["findings"]]
    [late] = json.loads(invoke("status", "--json", "--as-of", "2021-03-01").stdout)
    [finding] = [f for f in late["findings"] if f["code"] == "community-not-heard"]
    assert finding["source"] == "UNGP 18(b)"
    assert "53 days" in finding["message"] and "imp-1" in finding["message"]


def test_the_check_is_quiet_once_the_community_was_heard(leverage_cli, leverage_example_ledger):
    leverage_example_ledger()
    invoke = leverage_cli(leverage_example)
    invoke("step", "add", "imp-1", "--kind", "community-dialogue", "--summary", "Town hall", "--at", "2021-02-01")
    [status] = json.loads(invoke("status", "--json", "--as-of", "2021-03-01").stdout)
    assert "community-not-heard" not in [f["code"] for f in status["findings"]]


def test_the_command(leverage_cli, leverage_example_ledger):
    leverage_example_ledger()
    invoke = leverage_cli(leverage_example)
    assert invoke("dialogues").stdout == "imp-1: 0 community dialogue(s), last never\n"
    invoke("step", "add", "imp-1", "--kind", "community-dialogue", "--summary", "Town hall", "--at", "2021-02-01")
    assert json.loads(invoke("dialogues", "--json").stdout) == [
        {"impact": "imp-1", "dialogues": 1, "last": "2021-02-01"}]
    assert "community dialogues" in invoke("--help").stdout


def test_event_recorded_appends_to_the_log(leverage_cli, leverage_ledger, tmp_path, monkeypatch):
    log = tmp_path / "events.log"
    monkeypatch.setenv("LEVERAGE_EXAMPLE_LOG", str(log))
    invoke = leverage_cli(leverage_example)
    result = invoke("party", "add", "we", "--name", "We Host GmbH", "--kind", "self", "--at", "2021-01-01")
    assert result.exit_code == 0, result.output
    [line] = [json.loads(x) for x in log.read_text().splitlines()]
    head = invoke("verify").stdout.split()[-1]
    assert line == {"seq": 2, "type": "party.added", "at": "2021-01-01", "actor": "tester", "hash": head}


def test_event_recorded_through_the_python_api(leverage_plugins, leverage_ledger, tmp_path, monkeypatch):
    log = tmp_path / "events.log"
    monkeypatch.setenv("LEVERAGE_EXAMPLE_LOG", str(log))
    leverage_plugins(leverage_example)
    leverage_ledger.append([{"type": "party.added", "at": "2021-01-01", "actor": "ana",
                             "data": {"id": "acme", "name": "Acme", "kind": "client"}}])
    assert json.loads(log.read_text())["actor"] == "ana"


def test_a_failing_listener_does_not_undo_the_write(leverage_cli, leverage_ledger, tmp_path, monkeypatch):
    monkeypatch.setenv("LEVERAGE_EXAMPLE_LOG", str(tmp_path / "no-such-dir" / "events.log"))
    invoke = leverage_cli(leverage_example)
    result = invoke("party", "add", "we", "--name", "We", "--kind", "self", "--at", "2021-01-01")
    assert result.exit_code == 0
    assert "plugin leverage_example failed in event_recorded" in result.stderr
    assert invoke("verify").stdout.startswith("ok: 2 events")


def test_installed_as_an_entry_point(leverage_cli, monkeypatch):
    """Once installed (`pip install .`), leverage finds the plugin by itself."""
    eps = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="leverage")}
    if "leverage_example" not in eps:
        pytest.skip("the plugin is not installed (pip install -e .)")
    monkeypatch.setenv("LEVERAGE_LOAD_PLUGINS", "leverage_example")
    rows = {r["name"]: r for r in json.loads(leverage_cli()("plugins", "--json").stdout)}
    assert rows["leverage_example"]["status"] == "loaded"
    assert rows["leverage_example"]["version"] == leverage_example.__version__
    assert rows["leverage_example"]["hooks"] == ["event_recorded", "register_checks", "register_commands",
                                                 "register_step_kinds"]
    assert plugins.registries().step_kinds["community-dialogue"].owner == "leverage_example"
