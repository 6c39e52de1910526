"""Shared fixtures of the core ledger's tests.

Every test runs with ``LEVERAGE_ACTOR=tester`` and without ``LEVERAGE_DB`` (so a test never
touches a ledger outside its ``tmp_path``), with the built-in plugins or those its
``plugins`` marker names, and forgets the loaded plugins afterwards.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from leverage import plugins
from leverage.cli import cli

Event = dict[str, Any]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    monkeypatch.setenv("LEVERAGE_ACTOR", "tester")
    monkeypatch.delenv("LEVERAGE_DB", raising=False)
    monkeypatch.delenv("LEVERAGE_TRACE_PLUGINS", raising=False)
    monkeypatch.setattr(plugins._state, "reported", set())  # (each failure reported once a test)
    # Only the built-in plugins (never whatever else is installed on the machine), or those a
    # test or module names: ``pytestmark = pytest.mark.plugins("leverage_tos")``.
    only = request.node.get_closest_marker("plugins")
    monkeypatch.setenv("LEVERAGE_LOAD_PLUGINS", ",".join(only.args) if only else BUILTIN_PLUGINS)
    plugins.reset()
    yield
    plugins.reset()


BUILTIN_PLUGINS = "leverage_crm,leverage_tos,leverage_graphviz"


@pytest.fixture
def runner() -> CliRunner:
    # click 8.2+: result.output mixes stdout and stderr; result.stdout / result.stderr apart.
    return CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "l.db"


@pytest.fixture
def invoke(runner: CliRunner, db: Path) -> Callable[..., Result]:
    """``invoke(*args, db=None, input=None)``: run ``leverage --db DB ARGS``."""

    def _invoke(*args: Any, db_path: Path | str | None = None, input: str | None = None) -> Result:
        argv = ["--db", str(db_path if db_path is not None else db), *(str(a) for a in args)]
        return runner.invoke(cli, argv, input=input)

    return _invoke


# -- a small realistic ledger ----------------------------------------------------------------

SEVERITY = {"scale": 4, "scope": 3, "irremediability": 3}

SAMPLE_EVENTS: list[Event] = [
    {"type": "party.added", "at": "2021-01-01", "actor": "ana",
     "data": {"id": "we", "name": "We Host GmbH", "kind": "self", "country": "DE",
              "sector": "Hosting"}},
    {"type": "party.added", "at": "2021-01-01", "actor": "ana",
     "data": {"id": "acme", "name": "Acme Media SARL", "kind": "client", "country": "FR",
              "sector": "Media", "external_ids": {"salesforce": "0015g00000XyZ"}}},
    {"type": "party.added", "at": "2021-01-01", "actor": "ana",
     "data": {"id": "north-dc", "name": "North Datacenter AB", "kind": "supplier",
              "country": "SE"}},
    {"type": "party.added", "at": "2021-01-01", "actor": "ana",
     "data": {"id": "peer-host", "name": "Peer Hosting Ltd", "kind": "partner",
              "attributes": {"source": {"system": "crm", "row": 3}}}},
    {"type": "relationship.added", "at": "2021-01-02", "actor": "ana",
     "data": {"id": "rel-acme", "source": "we", "target": "acme", "type": "hosts",
              "leverage": 3, "since": "2019-05-01", "contract": "MSA-2019-17"}},
    {"type": "relationship.added", "at": "2021-01-02", "actor": "ana",
     "data": {"id": "rel-dc", "source": "north-dc", "target": "we", "type": "supplies",
              "crucial": True}},
    {"type": "impact.opened", "at": "2021-01-07", "actor": "ana",
     "data": {"id": "imp-1", "relationship": "rel-acme",
              "rights": ["expression", "security-of-person"],
              "summary": "Forum hosted for Acme carries calls for violence against journalists.",
              "severity": SEVERITY, "likelihood": 4, "involvement": "linked",
              "status": "actual", "affected": ["journalists"]}},
    {"type": "step.taken", "at": "2021-01-08", "actor": "ana",
     "data": {"impact": "imp-1", "kind": "dialogue", "id": "step-1",
              "summary": "Call with Acme's trust and safety lead.", "deadline": "2021-01-20",
              "with": ["peer-host"], "policy_refs": ["ToS 4.2"]}},
    {"type": "step.taken", "at": "2021-01-21T10:00:00Z", "actor": "ben",
     "data": {"impact": "imp-1", "kind": "formal-notice", "id": "step-2",
              "summary": "Formal notice citing ToS 4.2, 14 days to act."}},
    {"type": "step.outcome", "at": "2021-01-25", "actor": "ben",
     "data": {"impact": "imp-1", "outcome": "improved", "step": "step-2",
              "summary": "Moderation team doubled; the worst threads removed."}},
    {"type": "assessment.recorded", "at": "2021-01-26", "actor": "ben",
     "data": {"impact": "imp-1", "kind": "termination-impact", "conclusion": "exit-acceptable",
              "summary": "Users can move to other forums; no lock-in.",
              "experts": ["Dr. Amal Haddad"]}},
]


@pytest.fixture
def sample_events() -> list[Event]:
    """A small realistic ledger as plain event dicts (no chain fields): a self party, three
    other parties, two relationships, one impact with two steps, an outcome and an
    assessment."""
    return copy.deepcopy(SAMPLE_EVENTS)


def _jsonl(events: Iterable[Event]) -> str:
    return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events)


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[..., Path]:
    """``write_jsonl(events, name="events.jsonl")``: a JSON Lines file in tmp_path."""

    def _write(events: Iterable[Event], name: str = "events.jsonl") -> Path:
        path = tmp_path / name
        path.write_text(_jsonl(events), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def load_events(invoke: Callable[..., Result], tmp_path: Path) -> Callable[..., Result]:
    """``load_events(events, db_path=None)``: ``leverage load`` of plain events; asserts it
    succeeded."""
    counter = [0]

    def _load(events: Iterable[Event], db_path: Path | None = None) -> Result:
        counter[0] += 1
        path = tmp_path / f"setup-{counter[0]}.jsonl"
        path.write_text(_jsonl(events), encoding="utf-8")
        result = invoke("load", path, db_path=db_path)
        assert result.exit_code == 0, result.output
        return result

    return _load


@pytest.fixture
def sample_db(db: Path, load_events: Callable[..., Result], sample_events: list[Event]) -> Path:
    """``db`` holding the sample ledger (11 events)."""
    load_events(sample_events)
    return db


@pytest.fixture
def export_bytes(runner: CliRunner) -> Callable[[Path], bytes]:
    """``export_bytes(db)``: the bytes of ``leverage export`` of a ledger."""

    def _export(db_path: Path) -> bytes:
        result = runner.invoke(cli, ["--db", str(db_path), "export"])
        assert result.exit_code == 0, result.output
        return result.stdout_bytes

    return _export


@pytest.fixture
def events_of() -> Callable[[Path], list[Event]]:
    """``events_of(db)``: every event of a ledger as dicts, read with plain sqlite3."""

    def _events(db_path: Path) -> list[Event]:
        conn = sqlite3.connect(str(db_path))
        try:
            rows = conn.execute(
                "SELECT seq, recorded_at, prev, hash, type, at, actor, data FROM events "
                "ORDER BY seq").fetchall()
        finally:
            conn.close()
        return [{"seq": r[0], "recorded_at": r[1], "prev": r[2], "hash": r[3], "type": r[4],
                 "at": r[5], "actor": r[6], "data": json.loads(r[7])} for r in rows]

    return _events


@pytest.fixture
def assert_user_error() -> Callable[..., str]:
    """``assert_user_error(result, *fragments)``: exit status 1, exactly one line on stderr
    that contains every fragment, no traceback. Returns that line."""

    def _check(result: Result, *fragments: str) -> str:
        assert result.exit_code == 1, (result.exit_code, result.output, result.exception)
        assert isinstance(result.exception, SystemExit), (
            f"not a user error but {result.exception!r}: {result.output}")
        assert "Traceback" not in result.output
        lines = result.stderr.splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got {lines!r}"
        for fragment in fragments:
            assert fragment in lines[0], (fragment, lines[0])
        return lines[0]

    return _check


@pytest.fixture
def reports_db(invoke: Callable[..., Result], db: Path) -> Path:
    """The reports' fixture ledger (``tests/fixtures/reports/ledger.jsonl``) after ``init``."""
    assert invoke("init", "--at", "2023-01-01").exit_code == 0
    result = invoke("load", Path(__file__).parent / "fixtures" / "reports" / "ledger.jsonl")
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture
def restored_copy(invoke: Callable[..., Result], export_bytes: Callable[[Path], bytes],
                  tmp_path: Path) -> Callable[[Path], Path]:
    """``restored_copy(db_path)``: the ledger's export loaded into a new ledger, which must
    export the very same bytes; returns its path."""

    def _restore(db_path: Path) -> Path:
        first = export_bytes(db_path)
        path = tmp_path / "export.jsonl"
        path.write_bytes(first)
        restored = tmp_path / "restored.db"
        result = invoke("load", path, db_path=restored)
        assert result.exit_code == 0, result.output
        assert export_bytes(restored) == first
        return restored

    return _restore
