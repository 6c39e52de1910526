"""Isolation: whatever a plugin does wrong, the ledger stays exactly as it was (or exactly
as committed), ``verify`` passes, and the rest of the tool keeps working (issue 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_plugins_support import EVENTS, FakePlugins, count, make_ledger, verified

from leverage import LeverageError, hookimpl, plugins
from leverage.ledger import open_ledger

NEW_PARTY = ("party", "add", "north", "--name", "North", "--kind", "supplier", "--at", "2021-02-01")


pytestmark = pytest.mark.plugins()  # the core alone: never the plugins installed


@pytest.fixture
def ledger_db(leverage_db: Path) -> Path:
    make_ledger(leverage_db)
    return leverage_db


@pytest.fixture
def unchanged(ledger_db: Path):
    """Call it at the end of a test: the ledger has exactly the events it had before."""
    before = verified(ledger_db)

    def check() -> None:
        assert verified(ledger_db) == before
        assert count(ledger_db) == before[0]

    return check


def one_line_error(result, *fragments: str) -> str:
    assert result.exit_code == 1, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


# -- validate_event --------------------------------------------------------------------------

class Veto:
    """Refuses parties of kind supplier, with a LeverageError."""

    @hookimpl
    def validate_event(self, event, ledger):
        if event.type == "party.added" and event.data["kind"] == "supplier":
            raise LeverageError(f"suppliers are managed in the ERP, not here ({event.data['id']})")


class Crashes:
    @hookimpl
    def validate_event(self, event):
        raise ZeroDivisionError("division by zero")


def test_validate_event_refusal_writes_nothing(leverage_cli, ledger_db, unchanged):
    invoke = leverage_cli(veto=Veto())
    line = one_line_error(invoke(*NEW_PARTY), "refused by plugin veto")
    assert line == "Error: refused by plugin veto: suppliers are managed in the ERP, not here (north)"
    unchanged()
    assert invoke("party", "add", "other", "--name", "O", "--kind", "other").exit_code == 0  # not a supplier


def test_validate_event_refusal_aborts_a_whole_load(leverage_cli, ledger_db, unchanged, tmp_path):
    lines = [
        {"type": "party.added", "at": "2021-02-01", "data": {"id": "p1", "name": "P1", "kind": "client"}},
        {"type": "party.added", "at": "2021-02-01", "data": {"id": "p2", "name": "P2", "kind": "partner"}},
        {"type": "party.added", "at": "2021-02-01", "data": {"id": "p3", "name": "P3", "kind": "supplier"}},
    ]
    path = tmp_path / "batch.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in lines))
    invoke = leverage_cli(veto=Veto())
    one_line_error(invoke("load", path), f"{path}:3", "refused by plugin veto: suppliers are managed")
    unchanged()


def test_a_crash_in_validate_event_refuses_the_event(leverage_cli, ledger_db, unchanged):
    one_line_error(leverage_cli(crashes=Crashes())(*NEW_PARTY),
                   "plugin crashes failed in validate_event: ZeroDivisionError: division by zero")
    unchanged()


def test_validate_event_refusal_through_the_python_api(leverage_plugins, ledger_db, unchanged):
    leverage_plugins(veto=Veto())
    ledger = open_ledger(ledger_db)
    try:
        with pytest.raises(LeverageError, match="refused by plugin veto: suppliers"):
            ledger.append([{"type": "party.added", "at": "2021-02-01", "actor": "api",
                            "data": {"id": "s", "name": "S", "kind": "supplier"}}])
    finally:
        ledger.close()
    unchanged()


def test_validate_event_sees_earlier_events_of_the_same_write(leverage_plugins, ledger_db, unchanged):
    seen = []

    class Looks:
        @hookimpl
        def validate_event(self, event, ledger):
            seen.append((event.data["id"], ledger.count()))
            if event.data["id"] == "p2":
                raise LeverageError("enough")

    leverage_plugins(looks=Looks())
    ledger = open_ledger(ledger_db)
    before = ledger.count()
    with pytest.raises(LeverageError):
        ledger.append([{"type": "party.added", "at": "2021-02-01", "actor": "a",
                        "data": {"id": f"p{i}", "name": "P", "kind": "other"}} for i in (1, 2)])
    ledger.close()
    assert seen == [("p1", before), ("p2", before + 1)]
    unchanged()


def test_a_validator_that_mutates_the_event_cannot_corrupt_the_ledger(leverage_plugins, ledger_db):
    class Mutates:
        @hookimpl
        def validate_event(self, event):
            if event.type == "party.added":
                event.data["id"] = "hijacked"

    leverage_plugins(mutates=Mutates())
    ledger = open_ledger(ledger_db)
    try:
        ledger.append([{"type": "party.added", "at": "2021-02-01", "actor": "a",
                        "data": {"id": "zz", "name": "Z", "kind": "other"}}])
        plugins.remove_plugin("mutates")
        ledger.append([{"type": "party.updated", "at": "2021-02-02", "actor": "a",
                        "data": {"id": "zz", "name": "Zed"}}])
        assert ledger.state().parties["zz"].name == "Zed"
    finally:
        ledger.close()


# -- event_recorded --------------------------------------------------------------------------

class Listener:
    def __init__(self) -> None:
        self.events: list = []

    @hookimpl
    def event_recorded(self, event):
        self.events.append(event)


class Explodes:
    @hookimpl
    def event_recorded(self, event, ledger):
        raise ConnectionError("mirror unreachable")


def test_event_recorded_failure_is_reported_and_the_write_stands(leverage_cli, ledger_db):
    before_count, _ = verified(ledger_db)
    listener = Listener()
    invoke = leverage_cli(explodes=Explodes(), listener=listener)
    result = invoke(*NEW_PARTY)
    assert result.exit_code == 0, result.output
    assert result.stderr == "plugin explodes failed in event_recorded: mirror unreachable\n"
    assert "recorded party.added north" in result.stdout
    # exactly as committed: one more event, the chain intact, and it is the event written
    after_count, head = verified(ledger_db)
    assert after_count == count(ledger_db) == before_count + 1
    [event] = listener.events  # the other plugins are still told
    assert (event.seq, event.hash) == (after_count, head)
    assert event.data == {"id": "north", "name": "North", "kind": "supplier"}
    ledger = open_ledger(ledger_db)
    assert ledger.state().parties["north"].name == "North"
    ledger.close()


def test_event_recorded_failure_during_a_load(leverage_cli, ledger_db, tmp_path):
    before_count, _ = verified(ledger_db)
    path = tmp_path / "batch.jsonl"
    path.write_text("".join(
        json.dumps({"type": "party.added", "at": "2021-02-01", "data": {"id": f"p{i}", "name": "P", "kind": "other"}})
        + "\n" for i in range(3)))
    result = leverage_cli(explodes=Explodes())("load", path)
    assert result.exit_code == 0, result.output
    assert result.stderr.count("plugin explodes failed in event_recorded: mirror unreachable") == 3
    assert verified(ledger_db)[0] == before_count + 3


def test_event_recorded_is_not_called_for_a_refused_write(leverage_cli, ledger_db, unchanged):
    listener = Listener()
    invoke = leverage_cli(veto=Veto(), listener=listener)
    one_line_error(invoke(*NEW_PARTY), "refused by plugin veto")
    assert listener.events == []
    unchanged()


# -- checks ----------------------------------------------------------------------------------

class BadCheck:
    @hookimpl
    def register_checks(self, register):
        def always_fails(impact):
            raise ValueError(f"cannot judge {impact.id}")

        register(always_fails)


def test_a_failing_check_becomes_a_plugin_error_finding(leverage_cli, ledger_db, unchanged):
    result = leverage_cli(badcheck=BadCheck())("status", "--json", "--as-of", "2021-01-08")
    assert result.exit_code == 0, result.output
    [status] = json.loads(result.stdout)
    errors = [f for f in status["findings"] if f["code"] == "plugin-error"]
    assert len(errors) == 1
    assert "badcheck" in errors[0]["message"] and "ValueError: cannot judge imp-1" in errors[0]["message"]
    assert errors[0]["source"]
    assert status["next"]  # the rest of the status is still computed
    unchanged()


# -- plugins that cannot load or register ----------------------------------------------------

@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    fake = FakePlugins(tmp_path, monkeypatch)
    yield fake
    fake.close()


def test_a_broken_plugin_leaves_the_tool_working(fakes, leverage_cli, ledger_db):
    fakes.add("halfway", "import json\nraise ImportError('cannot find libcrm.so')")
    invoke = leverage_cli()
    result = invoke(*NEW_PARTY)
    assert result.exit_code == 0, result.output
    assert "plugin halfway is broken" in result.stderr
    assert verified(ledger_db)[0] == len(EVENTS) + 2
    result = invoke("status", "--json", "--as-of", "2021-01-08")
    assert result.exit_code == 0 and result.stderr == ""  # reported once


@pytest.mark.parametrize("source", [
    "from leverage import hookimpl\n@hookimpl\ndef validate_evnt(event):\n    pass\n",
    "from leverage import hookimpl\n@hookimpl\ndef register_step_kinds(register):\n"
    "    register('dialogue', 'engage', 'Mine')\n",
    "from leverage import hookimpl\n@hookimpl\ndef register_step_kinds(register):\n"
    "    register('community-talk', 'escalate', 'Mine')\n",
    "from leverage import hookimpl\n@hookimpl\ndef register_commands(cli):\n    raise RuntimeError('boom')\n",
], ids=["misspelled hook", "duplicate step kind", "unknown rung", "register_commands raises"])
def test_a_plugin_refused_at_load_writes_nothing(fakes, leverage_cli, ledger_db, unchanged, source):
    fakes.add("faulty", source)
    invoke = leverage_cli()
    for args in (("step", "add", "imp-1", "--kind", "dialogue", "--summary", "Call", "--at", "2021-01-09"),
                 NEW_PARTY):
        one_line_error(invoke(*args), "faulty")
    unchanged()
    # without it (LEVERAGE_LOAD_PLUGINS leaves it out) the same command works
    fakes.monkeypatch.setenv("LEVERAGE_LOAD_PLUGINS", "")
    plugins.reset()
    assert invoke(*NEW_PARTY).exit_code == 0
