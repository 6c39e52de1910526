"""The status projection (leverage/projection.py) gives exactly the replay's answer.

The replay is ``engine.evaluate`` on ``Ledger.state(as_of)``: what ``Ledger.status`` computed
before the projection existed. Random ledgers exercise every rule (forced, suspended,
reinstated, terminated and closed impacts, ended relationships, party kinds that move the
counterparty, policy changes, voids, back-dated and same-day events, offsets in ``at``),
then grow in rounds so that every kind of change is refreshed incrementally; after each
round the stored rows must also equal a full rebuild's.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leverage import engine, open_ledger, plugins, projection
from leverage.errors import LeverageError
from leverage.ledger import Ledger
from leverage.policy import resolve
from leverage.state import _parse_stored_at
from leverage.timeutil import parse_at

FAR = date(2031, 1, 1)
RIGHTS = ("life", "security-of-person", "expression", "assembly", "privacy", "labour", "health")
STEP_KINDS = ("dialogue", "information-request", "capacity-building", "formal-notice",
              "tos-warning", "contractual-assurance", "warning-label", "corrective-action-plan",
              "enhanced-action-plan", "withhold-business", "peer-collaboration",
              "multi-stakeholder")
CONCLUSIONS = {"termination-impact": ("exit-acceptable", "exit-more-severe"),
               "leverage": ("promising", "not-promising"),
               "rabat": ("incitement", "below-threshold"),
               "stakeholder": ("workers report progress",)}


def _policy_data(name: str) -> dict[str, str]:
    name, content = resolve(name)
    return {"name": name, "sha256": hashlib.sha256(content.encode()).hexdigest(),
            "content": content}


class Gen:
    """Random events that are mostly valid; the ledger refuses the rest (they are skipped)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.day = date(2021, 1, 4)
        self.n = 0
        self.parties: list[str] = []
        self.rels: list[str] = []
        self.impacts: list[str] = []
        self.steps: dict[str, list[str]] = {}

    def at(self) -> str:
        rng = self.rng
        if rng.random() < 0.6:
            self.day += timedelta(days=rng.choice((0, 0, 1, 1, 2, 5, 20)))
        day = self.day - timedelta(days=rng.choice((0, 0, 0, 0, 1, 3)))  # some back-dated
        shape = rng.random()
        if shape < 0.4:
            return day.isoformat()
        if shape < 0.8:
            return f"{day.isoformat()}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z"
        offset = rng.choice(("+02:00", "-05:00", "+00:00"))
        return f"{day.isoformat()}T{rng.randrange(24):02d}:15:30.25{offset}"

    def _id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def event(self) -> dict[str, Any]:  # noqa: C901 - a table of cases
        rng = self.rng
        at = self.at()
        if len(self.parties) < 3:
            kind = "self" if not self.parties else rng.choice(("client", "supplier", "partner"))
            pid = self._id("p")
            self.parties.append(pid)
            return {"type": "party.added", "at": at,
                    "data": {"id": pid, "name": pid.upper(), "kind": kind}}
        if len(self.rels) < 2 or (not self.impacts and rng.random() < 0.5):
            return self._rel(at)
        if not self.impacts:
            return self._impact(at)
        roll = rng.random()
        impact = rng.choice(self.impacts[-12:])
        actor = rng.choice(("ana", "ben"))
        if roll < 0.04:
            pid = self._id("p")
            self.parties.append(pid)
            return {"type": "party.added", "at": at, "actor": actor, "data": {
                "id": pid, "name": pid, "kind": rng.choice(("client", "supplier", "self"))}}
        if roll < 0.07:
            return {"type": "party.updated", "at": at, "actor": actor, "data": {
                "id": rng.choice(self.parties), "kind": rng.choice(("self", "client", "supplier")),
                "name": "renamed"}}
        if roll < 0.11:
            return self._rel(at)
        if roll < 0.14:
            data: dict[str, Any] = {"id": rng.choice(self.rels)}
            if rng.random() < 0.5:
                data["crucial"] = rng.random() < 0.5
            else:
                data["leverage"] = rng.randrange(1, 6)
            return {"type": "relationship.updated", "at": at, "actor": actor, "data": data}
        if roll < 0.16:
            return {"type": "relationship.ended", "at": at, "actor": actor,
                    "data": {"id": rng.choice(self.rels), "reason": "contract ran out"}}
        if roll < 0.26:
            return self._impact(at)
        if roll < 0.33:
            data = {"id": impact, "summary": "reassessed"}
            if rng.random() < 0.7:
                data["severity"] = self._severity()
            if rng.random() < 0.3:
                data["rights"] = rng.sample(RIGHTS, 2)
            return {"type": "impact.reassessed", "at": at, "actor": actor, "data": data}
        if roll < 0.55:
            sid = self._id("s")
            self.steps.setdefault(impact, []).append(sid)
            data = {"impact": impact, "kind": rng.choice(STEP_KINDS), "summary": "a step",
                    "id": sid}
            if rng.random() < 0.6:
                data["deadline"] = (self.day + timedelta(days=rng.randrange(1, 120))).isoformat()
            if rng.random() < 0.25:  # an enforcement action as the ToS ingest records it
                data["attributes"] = {"tos": {
                    "action": rng.choice(("warning", "label", "remove", "restrict")),
                    "rule": {"id": "r1", "egregious": rng.random() < 0.1},
                    "strikes": {"window_days": 4000, "restrict": 2, "suspend": 3}}}
            return {"type": "step.taken", "at": at, "actor": actor, "data": data}
        if roll < 0.66:
            data = {"impact": impact, "summary": "an outcome",
                    "outcome": rng.choice(("improved", "no-change", "worsened", "remediated"))}
            if self.steps.get(impact) and rng.random() < 0.5:
                data["step"] = self.steps[impact][-1]
            return {"type": "step.outcome", "at": at, "actor": actor, "data": data}
        if roll < 0.74:
            kind = rng.choice(tuple(CONCLUSIONS))
            return {"type": "assessment.recorded", "at": at, "actor": actor, "data": {
                "impact": impact, "kind": kind, "conclusion": rng.choice(CONCLUSIONS[kind]),
                "summary": "an assessment"}}
        if roll < 0.92:
            decision = rng.choice(("continue", "suspend", "suspend", "reinstate", "reinstate",
                                   "terminate", "close"))
            data = {"impact": impact, "decision": decision, "rationale": "why",
                    "policy_refs": ["UNGP 19"]}
            approver = rng.random()
            if approver < 0.6:
                data["approved_by"] = "carla"
            elif approver < 0.7:
                data["approved_by"] = actor.upper()
            return {"type": "decision.made", "at": at, "actor": actor, "data": data}
        if roll < 0.97:
            return {"type": "event.voided", "at": at, "actor": actor,
                    "data": {"seq": rng.randrange(1, max(2, self.n)), "reason": "a mistake"}}
        return {"type": "policy.set", "at": at, "actor": actor,
                "data": _policy_data(rng.choice(("ungp", "csddd", "lksg")))}

    def _severity(self) -> dict[str, int]:
        rng = self.rng
        return {"scale": rng.randrange(1, 6), "scope": rng.randrange(1, 6),
                "irremediability": rng.randrange(1, 6)}

    def _rel(self, at: str) -> dict[str, Any]:
        rng = self.rng
        rid = self._id("r")
        self.rels.append(rid)
        source, target = rng.sample(self.parties, 2)
        data: dict[str, Any] = {"id": rid, "source": source, "target": target,
                                "type": rng.choice(("hosts", "supplies", "serves"))}
        if rng.random() < 0.3:
            data["crucial"] = True
        if rng.random() < 0.7:
            data["leverage"] = rng.randrange(1, 6)
        return {"type": "relationship.added", "at": at, "data": data}

    def _impact(self, at: str) -> dict[str, Any]:
        rng = self.rng
        iid = self._id("i")
        self.impacts.append(iid)
        return {"type": "impact.opened", "at": at, "data": {
            "id": iid, "relationship": rng.choice(self.rels), "rights": rng.sample(RIGHTS, 2),
            "summary": "an impact", "severity": self._severity(),
            "involvement": rng.choice(("cause", "contribute", "linked")),
            "status": rng.choice(("potential", "actual"))}}


def _append(ledger: Ledger, gen: Gen, n: int) -> int:
    """Append up to ``n`` random events one by one (refused ones are skipped)."""
    written = 0
    for _ in range(n):
        try:
            ledger.append([gen.event()], actor="ana", force_reason=lambda _d, _f: "forced in a test")
        except LeverageError:
            continue
        written += 1
    return written


def replay(ledger: Ledger, as_of: date) -> list[engine.Status]:
    """What ``Ledger.status`` computed before the projection: evaluate on a full fold."""
    reg = plugins.registries()
    state = ledger.state(as_of=as_of)
    return engine.evaluate(state, as_of, step_kinds=reg.step_rungs(), checks=reg.checks,
                           explain=False)


def projected(ledger: Ledger, as_of: date) -> list[engine.Status]:
    result = projection.statuses(ledger, as_of, plugins.registries())
    assert result is not None, "the projection declined to answer"
    return result


def stored(ledger: Ledger) -> tuple[dict[str, str], list[tuple[Any, ...]]]:
    conn = ledger.store.conn
    meta = dict(conn.execute("SELECT key, value FROM projection_meta").fetchall())
    rows = conn.execute("SELECT * FROM projection_status ORDER BY impact").fetchall()
    return meta, rows


def latest_day(ledger: Ledger) -> date:
    key = ledger.store.conn.execute("SELECT MAX(at_key) FROM events").fetchone()[0]
    return date.fromisoformat(key[:10])


def assert_same(ledger: Ledger) -> None:
    """Projection == replay as of the ledger's latest day, a later day and far ahead."""
    last = latest_day(ledger)
    for as_of in (last, last + timedelta(days=40), FAR):
        expected = replay(ledger, as_of)
        assert projected(ledger, as_of) == expected
        assert ledger.status(as_of=as_of, include_closed=True) == expected
        assert ledger.status(as_of=as_of) == [s for s in expected if not s.closed]


def assert_rows_fresh(ledger: Ledger) -> None:
    """The stored rows are what a rebuild from scratch stores, stamped with the head."""
    meta, rows = stored(ledger)
    assert int(meta["stamp"]) == ledger.head()[0]
    assert projection.refresh(ledger, full=True)
    meta_again, rows_again = stored(ledger)
    assert rows == rows_again
    assert meta == meta_again


@pytest.fixture(params=["builtin", "none"])
def plugin_set(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Built-in plugins (their checks need the state) and none (only the core's check)."""
    if request.param == "none":
        monkeypatch.setenv("LEVERAGE_LOAD_PLUGINS", "")
        plugins.reset()
    return str(request.param)


@pytest.mark.parametrize("seed", range(6))
def test_projection_is_the_replay_on_random_ledgers(tmp_path: Path, plugin_set: str,
                                                    seed: int) -> None:
    ledger = open_ledger(tmp_path / "l.db", create=True)
    gen = Gen(seed)
    _append(ledger, gen, 160)
    assert_same(ledger)
    assert_rows_fresh(ledger)
    for _round in range(6):
        _append(ledger, gen, gen.rng.choice((1, 3, 12)))
        assert_same(ledger)
        assert_rows_fresh(ledger)
    ledger.close()


def test_the_random_ledgers_cover_the_rules(tmp_path: Path) -> None:
    """The generator reaches what the comparison is meant to cover."""
    codes: set[str] = set()
    rungs: set[str] = set()
    rel_statuses: set[str] = set()
    closed = 0
    for seed in range(6):
        ledger = open_ledger(tmp_path / f"l{seed}.db", create=True)
        _append(ledger, Gen(seed), 200)
        for s in ledger.status(as_of=FAR, include_closed=True):
            codes.update(f.code for f in s.findings)
            rungs.add(s.rung)
            rel_statuses.add(s.relationship_status)
            closed += s.closed
        ledger.close()
    assert {"overdue", "lenient-deadline", "disproportionate", "forced-decision",
            "reassessment-due", "crucial-relationship", "cease-own-contribution",
            "review-due"} <= codes
    assert {"strike-threshold", "competing-rights-unassessed", "disproportionate"} <= codes
    assert {"monitor", "engage", "notice", "enforce", "suspend"} <= rungs
    assert {"active", "suspended", "terminated", "ended"} <= rel_statuses
    assert closed


def _small_ledger(path: Path, n: int = 120, seed: int = 7) -> Ledger:
    ledger = open_ledger(path, create=True)
    _append(ledger, Gen(seed), n)
    return ledger


def test_each_kind_of_change_is_refreshed(tmp_path: Path) -> None:
    ledger = _small_ledger(tmp_path / "l.db")
    gen = Gen(99)
    gen.day = latest_day(ledger) + timedelta(days=1)
    state = ledger.state()
    gen.parties, gen.rels = list(state.parties), list(state.relationships)
    gen.impacts = [i for i, imp in state.impacts.items() if not imp.closed]
    assert_same(ledger)
    changes: list[dict[str, Any]] = [
        {"type": "party.updated", "at": gen.at(), "data": {"id": gen.parties[0], "kind": "client"}},
        {"type": "party.updated", "at": gen.at(), "data": {"id": gen.parties[0], "kind": "self"}},
        {"type": "relationship.updated", "at": gen.at(),
         "data": {"id": gen.rels[0], "crucial": True, "leverage": 1}},
        {"type": "step.taken", "at": gen.at(), "data": {
            "impact": gen.impacts[0], "kind": "formal-notice", "summary": "notice"}},
        {"type": "relationship.ended", "at": gen.at(), "data": {"id": gen.rels[-1], "reason": "x"}},
        {"type": "policy.set", "at": gen.at(), "data": _policy_data("lksg")},
    ]
    for event in changes:
        try:
            ledger.append([event], actor="ana")
        except LeverageError:
            continue
        assert_same(ledger)
        assert_rows_fresh(ledger)
    # voids of the latest events of several kinds
    for seq in range(ledger.head()[0], 0, -1):
        try:
            ledger.append([{"type": "event.voided", "at": gen.at(),
                            "data": {"seq": seq, "reason": "undo"}}], actor="ana")
        except LeverageError:
            continue
        assert_same(ledger)
        assert_rows_fresh(ledger)
        if seq < ledger.head()[0] - 30:
            break
    ledger.close()


def test_a_new_impact_and_a_void_of_its_opening(tmp_path: Path) -> None:
    ledger = _small_ledger(tmp_path / "l.db")
    rel = next(iter(ledger.state().relationships))
    day = latest_day(ledger) + timedelta(days=2)
    ledger.append([{"type": "impact.opened", "at": day.isoformat(), "data": {
        "id": "new-1", "relationship": rel, "rights": ["life"], "summary": "new",
        "severity": {"scale": 5, "scope": 2, "irremediability": 2}}}], actor="ana")
    assert_same(ledger)
    assert any(s.impact == "new-1" for s in projected(ledger, FAR))
    seq = ledger.head()[0]
    ledger.append([{"type": "event.voided", "at": day.isoformat(),
                    "data": {"seq": seq, "reason": "wrong ledger"}}], actor="ana")
    assert_same(ledger)
    assert not any(s.impact == "new-1" for s in projected(ledger, FAR))
    assert_rows_fresh(ledger)


def test_a_date_before_the_latest_event_is_replayed(tmp_path: Path) -> None:
    ledger = _small_ledger(tmp_path / "l.db")
    last = latest_day(ledger)
    assert projection.statuses(ledger, last - timedelta(days=1), plugins.registries()) is None
    for as_of in (last - timedelta(days=1), last - timedelta(days=30), date(2021, 2, 1)):
        assert ledger.status(as_of=as_of, include_closed=True) == replay(ledger, as_of)


def test_known_at_and_explain_are_replayed(tmp_path: Path) -> None:
    ledger = _small_ledger(tmp_path / "l.db")
    reg = plugins.registries()
    recorded = ledger.store.conn.execute("SELECT MAX(recorded_at) FROM events").fetchone()[0]
    state = ledger.state(as_of=FAR, known_at=recorded)
    expected = engine.evaluate(state, FAR, step_kinds=reg.step_rungs(), checks=reg.checks,
                               explain=False)
    assert ledger.status(as_of=FAR, known_at=recorded, include_closed=True) == expected
    explained = engine.evaluate(ledger.state(as_of=FAR), FAR, step_kinds=reg.step_rungs(),
                                checks=reg.checks, explain=True)
    assert ledger.status(as_of=FAR, explain=True, include_closed=True) == explained


def test_an_empty_ledger(tmp_path: Path) -> None:
    ledger = open_ledger(tmp_path / "l.db", create=True)
    assert projection.statuses(ledger, FAR, plugins.registries()) is None
    assert ledger.status(as_of=FAR) == []


def test_a_changed_fingerprint_rebuilds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = _small_ledger(tmp_path / "l.db")
    assert_same(ledger)
    before = stored(ledger)
    monkeypatch.setattr(projection, "fingerprint", lambda step_kinds, checks=(): "another code base")
    assert_same(ledger)
    meta, rows = stored(ledger)
    assert meta["fingerprint"] == "another code base"
    assert rows == before[1]


def test_stored_cores_are_used_and_a_stale_stamp_is_not(tmp_path: Path) -> None:
    """A status reads the stored cores (it does not replay) and refreshes after appends."""
    ledger = _small_ledger(tmp_path / "l.db")
    assert_same(ledger)
    conn = ledger.store.conn
    impact, core = conn.execute("SELECT impact, core FROM projection_status LIMIT 1").fetchone()
    fields = orjson.loads(core)
    fields[2] = "marked-rung"  # a value no replay gives: shows the row is what is read
    conn.execute("UPDATE projection_status SET core = ? WHERE impact = ?",
                 (orjson.dumps(fields).decode(), impact))
    assert any(s.rung == "marked-rung" for s in projected(ledger, FAR))
    # an event on that impact's relationship makes it stale: recomputed from the log
    rel = conn.execute("SELECT rel FROM projection_status WHERE impact = ?", (impact,)).fetchone()[0]
    ledger.append([{"type": "relationship.updated", "at": (latest_day(ledger)).isoformat(),
                    "data": {"id": rel, "leverage": 2}}], actor="ana")
    assert not any(s.rung == "marked-rung" for s in projected(ledger, FAR))
    assert_same(ledger)


def test_a_locked_ledger_answers_without_writing(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    ledger = _small_ledger(path)
    other = sqlite3.connect(str(path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        assert projected(ledger, FAR) == replay(ledger, FAR)
        meta, rows = stored(ledger)
        assert "stamp" not in meta and not rows
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert projected(ledger, FAR) == replay(ledger, FAR)
    assert int(stored(ledger)[0]["stamp"]) == ledger.head()[0]


def test_a_read_only_ledger_answers(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    _small_ledger(path).close()
    ledger = open_ledger(path)
    expected = replay(ledger, FAR)
    ledger.close()
    uri = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    from leverage.store import Store

    read_only = Ledger(Store(path, uri))
    assert projected(read_only, FAR) == expected
    assert projected(read_only, FAR) == expected
    read_only.close()


def test_inside_a_write_the_status_is_replayed(tmp_path: Path) -> None:
    ledger = _small_ledger(tmp_path / "l.db")
    with ledger.store.write():
        assert projection.statuses(ledger, FAR, plugins.registries()) is None
        assert ledger.status(as_of=FAR, include_closed=True) == replay(ledger, FAR)


def test_checks_run_for_every_impact_on_the_state(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEVERAGE_LOAD_PLUGINS", "")
    plugins.reset()
    ledger = _small_ledger(tmp_path / "l.db")
    calls: list[tuple[str, Any, date]] = []

    def check(impact: Any, state: Any, policy: Any, as_of: date) -> list[dict[str, str]]:
        calls.append((impact.id, state, as_of))
        if impact.steps:
            return [{"code": "test-check", "message": f"{len(impact.steps)} steps",
                     "source": "a test"}]
        if impact.decisions:
            raise RuntimeError("boom")
        return []

    plugins.registries().checks.append(("tester", check))
    expected = replay(ledger, FAR)
    calls.clear()
    assert projected(ledger, FAR) == expected
    state = ledger.state(as_of=FAR)
    assert sorted(c[0] for c in calls) == sorted(state.impacts)
    assert all(c[1] == state and c[2] == FAR for c in calls)
    assert any(f.code == "test-check" for s in expected for f in s.findings)
    assert any(f.code == "plugin-error" for s in expected for f in s.findings)


def test_a_check_declaring_needs_extra_is_skipped_only_without_such_events(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEVERAGE_LOAD_PLUGINS", "")
    plugins.reset()
    path = tmp_path / "l.db"
    ledger = _small_ledger(path)
    calls: list[str] = []

    def check(impact: Any, state: Any) -> list[Any]:
        calls.append(impact.id)
        return []

    check.needs_extra = ("tests",)  # type: ignore[attr-defined]
    reg = plugins.registries()
    reg.checks[:] = [("tester", check)]
    conn = ledger.store.conn
    assert projection._running(conn, reg.checks) == []
    assert projected(ledger, FAR) == replay(ledger, FAR)
    calls.clear()
    projected(ledger, FAR)
    assert calls == []
    # an event of a type the core's handlers do not fold (here written behind the ledger's
    # back: only its type matters) means State.extra may hold something: run the check
    seq, prev = ledger.head()
    conn.execute("INSERT INTO events (seq, recorded_at, prev, hash, type, at, at_key, actor, data)"
                 " VALUES (?, '2030-01-01T00:00:00.000000Z', ?, ?, 'x.test', '2022-01-01',"
                 " '2022-01-01T00:00:00.000000Z', 'ana', '{}')", (seq + 1, prev, "0" * 64))
    conn.execute("INSERT INTO event_types (type, first_seq) VALUES ('x.test', ?)", (seq + 1,))
    assert projection._running(conn, reg.checks) == reg.checks
    expected = replay(ledger, FAR)
    calls.clear()
    assert projected(ledger, FAR) == expected
    assert sorted(calls) == sorted(ledger.state(as_of=FAR).impacts)


def _mark(ledger: Ledger, impact: str) -> None:
    ledger.append([{"type": "step.taken", "at": "2030-06-01", "data": {
        "impact": impact, "kind": "dialogue", "summary": "marked"}}], actor="ana")


def test_a_check_declaring_applies_to_runs_on_a_fold_of_the_impacts_it_applies_to(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEVERAGE_LOAD_PLUGINS", "")
    plugins.reset()
    ledger = _small_ledger(tmp_path / "l.db", n=300, seed=11)
    full = ledger.state(as_of=FAR)
    assert len(full.impacts) > 20
    first, quiet = sorted(full.impacts)[:2]
    _mark(ledger, first)
    calls: list[tuple[str, frozenset[str]]] = []

    def check(impact: Any, state: Any) -> list[dict[str, str]]:
        calls.append((impact.id, frozenset(state.impacts)))
        return [{"code": "test-check", "message": f"{len(impact.steps)} steps",
                 "source": "a test"}]

    def marked(impact: Any) -> bool:
        return any(step.summary == "marked" for step in impact.steps)

    check.applies_to = marked  # type: ignore[attr-defined]
    plugins.registries().checks.append(("tester", check))
    expected = replay(ledger, FAR)
    assert [c[0] for c in calls] == [first]  # the replay skips the others too
    assert [s.impact for s in expected if any(f.code == "test-check" for f in s.findings)] == [first]
    projected(ledger, FAR)  # builds the projection
    calls.clear()
    assert projected(ledger, FAR) == expected
    assert [c[0] for c in calls] == [first]
    rel = full.impacts[first].relationship
    siblings = {i.id for i in full.impacts.values() if i.relationship == rel}
    assert calls[0][1] == siblings  # a fold of that impact's relationship, not of the log
    assert len(siblings) < len(full.impacts)
    # an impact it comes to apply to is checked from then on (the stored rows follow the log)
    _mark(ledger, quiet)
    calls.clear()
    assert projected(ledger, FAR) == replay(ledger, FAR)
    calls.clear()
    assert projected(ledger, FAR) == replay(ledger, FAR)
    assert sorted({c[0] for c in calls}) == sorted({first, quiet})


def _many_relationships(path: Path, n: int = 40) -> Ledger:
    """``n`` accounts, each with one relationship and one impact with a step; the first has
    three strikes and a suspension (what the built-in ToS checks apply to)."""
    ledger = open_ledger(path, create=True)
    events: list[dict[str, Any]] = [
        {"type": "party.added", "at": "2024-01-01", "data": {"id": "host", "name": "Host", "kind": "self"}}]
    for k in range(n):
        events += [
            {"type": "party.added", "at": "2024-01-01", "data": {"id": f"a{k}", "name": f"A{k}", "kind": "client"}},
            {"type": "relationship.added", "at": "2024-01-01", "data": {
                "id": f"r{k}", "source": "host", "target": f"a{k}", "type": "hosts"}},
            {"type": "impact.opened", "at": "2024-01-02", "data": {
                "id": f"i{k}", "relationship": f"r{k}", "rights": ["expression", "life"],
                "summary": "threats", "severity": {"scale": 3, "scope": 2, "irremediability": 2},
                "involvement": "contribute", "status": "actual"}},
            {"type": "step.taken", "at": "2024-01-03", "data": {
                "impact": f"i{k}", "kind": "dialogue", "summary": "a call"}},
        ]
    for day in ("2024-01-04", "2024-01-05", "2024-01-06"):
        events.append({"type": "step.taken", "at": day, "data": {
            "impact": "i0", "kind": "content-removal", "summary": "removed a post",
            "attributes": {"tos": {"action": "remove", "rule": {"id": "r1"}}}}})
    events.append({"type": "decision.made", "at": "2024-01-07", "data": {
        "impact": "i0", "decision": "suspend", "rationale": "threats", "policy_refs": ["UNGP 19"],
        "approved_by": "legal"}})
    ledger.append(events, actor="ana", force_reason=lambda _d, _f: "forced in a test")
    return ledger


def test_a_status_with_applies_to_checks_does_not_fold_the_log(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = _many_relationships(tmp_path / "l.db")
    SOON = date(2024, 2, 1)  # noqa: N806 - while the strikes count
    expected = replay(ledger, SOON)
    codes = {f.code for s in expected if s.impact == "i0" for f in s.findings}
    assert {"strike-threshold", "competing-rights-unassessed"} <= codes
    assert projected(ledger, SOON) == expected  # the built-in plugins' checks (applies_to)
    folds: list[Any] = []
    real = Ledger.state

    def counting(self: Ledger, *args: Any, **kwargs: Any) -> Any:
        folds.append(kwargs)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Ledger, "state", counting)
    assert projected(ledger, SOON) == expected
    assert folds == []
    # a check that does not declare applies_to needs the whole state
    plugins.registries().checks.append(("tester", lambda impact: []))
    assert projected(ledger, SOON) == replay(ledger, SOON)
    assert folds


def test_an_applies_to_that_raises_counts_as_true(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEVERAGE_LOAD_PLUGINS", "")
    plugins.reset()
    ledger = _small_ledger(tmp_path / "l.db")
    calls: list[str] = []

    def check(impact: Any) -> list[Any]:
        calls.append(impact.id)
        return []

    def broken(impact: Any) -> bool:
        raise ValueError("no")

    check.applies_to = broken  # type: ignore[attr-defined]
    plugins.registries().checks.append(("tester", check))
    expected = replay(ledger, FAR)
    every = sorted(ledger.state(as_of=FAR).impacts)
    assert sorted(calls) == every
    projected(ledger, FAR)
    calls.clear()
    assert projected(ledger, FAR) == expected
    assert sorted(calls) == every


def test_cores_of_a_partial_fold_are_the_full_folds(tmp_path: Path) -> None:
    ledger = _small_ledger(tmp_path / "l.db", n=200, seed=3)
    conn = ledger.store.conn
    _full_policy, full = engine.cores(ledger.state(as_of=FAR), FAR)
    by_id = {c.impact: c for c in full}
    rels = sorted({c.relationship for c in full})[:3]
    changes = projection._Changes()
    changes.relationships.update(rels)
    changes.impacts.update(c.impact for c in full if c.relationship in rels)
    with ledger.store.read():
        partial = projection._partial_state(conn, changes, FAR)
    _policy, cores = engine.cores(partial, FAR)
    assert {c.impact for c in cores} == changes.impacts
    assert all(c == by_id[c.impact] for c in cores)


def test_a_core_survives_its_serialisation(tmp_path: Path) -> None:
    ledger = _small_ledger(tmp_path / "l.db", n=200, seed=5)
    _policy, cores = engine.cores(ledger.state(as_of=FAR), FAR)
    for core in cores:
        again, applies = projection._decode(core.impact, core.relationship, projection._encode(core, [0, 2]))
        assert applies == [0, 2]
        assert again == core


def test_the_cli_answers_from_the_projection(tmp_path: Path, invoke: Callable[..., Any],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "cli.db"
    _small_ledger(db).close()
    first = invoke("status", "--json", "--as-of", FAR.isoformat(), db_path=db)
    assert first.exit_code == 0, first.output
    ledger = open_ledger(db)
    assert int(stored(ledger)[0]["stamp"]) == ledger.head()[0]
    ledger.close()

    def refuse(*_a: Any, **_k: Any) -> None:
        raise AssertionError("replayed")

    monkeypatch.setattr(engine, "evaluate", refuse)
    again = invoke("status", "--json", "--as-of", FAR.isoformat(), db_path=db)
    assert again.exit_code == 0, again.output
    assert again.stdout == first.stdout


# -- the fold's reading of ``at`` -------------------------------------------------------------

@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)),
       st.sampled_from(["date", "Z", "frac", "+05:30", "-00:00", "+14:00"]))
@settings(max_examples=300, deadline=None)
def test_the_folds_reading_of_at_is_parse_at(moment: datetime, shape: str) -> None:
    if shape == "date":
        text = moment.date().isoformat()
    elif shape == "Z":
        text = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    elif shape == "frac":
        text = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    else:
        text = moment.strftime("%Y-%m-%dT%H:%M:%S") + shape
    expected = parse_at(text)
    got = _parse_stored_at(text)
    assert got == expected and got.tzinfo is expected.tzinfo and repr(got) == repr(expected)


@pytest.mark.parametrize("bad", ["2021-02-30", "2021-01-07T24:00:00Z", "0000-01-01",
                                 "2021-W01-1T10:00:00Z", "２０２１-01-01", "2021-01-01 ",
                                 "2021-01-07T10:00:00"])
def test_the_folds_reading_of_at_refuses_what_parse_at_refuses(bad: str) -> None:
    with pytest.raises(LeverageError):
        parse_at(bad)
    with pytest.raises(LeverageError):
        _parse_stored_at(bad)


# -- the engine's shortcuts -------------------------------------------------------------------

def test_the_folds_bound_on_record_times_changes_no_answer(tmp_path: Path) -> None:
    """``State._latest`` lets the engine skip cutting records at the as-of date; a state
    without it (cut record by record) gives the same statuses, at every date."""
    import attrs

    ledger = _small_ledger(tmp_path / "l.db", n=200, seed=11)
    reg = plugins.registries()
    state = ledger.state()
    assert state._latest is not None
    assert all(r.when <= state._latest for i in state.impacts.values()
               for r in (*i.steps, *i.decisions, *i.outcomes, *i.assessments,
                         *i.assessments_of_severity))
    unbounded = attrs.evolve(state)
    assert unbounded._latest is None and unbounded == state
    last = latest_day(ledger)
    for as_of in (date(2021, 3, 1), last - timedelta(days=20), last, FAR):
        for explain in (False, True):
            got = engine.evaluate(state, as_of, step_kinds=reg.step_rungs(), checks=reg.checks,
                                  explain=explain)
            want = engine.evaluate(unbounded, as_of, step_kinds=reg.step_rungs(),
                                   checks=reg.checks, explain=explain)
            assert got == want


def _record_findings_reference(ctx: Any, impact: Any) -> list[engine.Finding]:
    """The engine's record findings as first written: the severity before each record by
    ``_severity_before``, the policy by ``ctx.policies.at`` (the optimised walk must agree)."""
    from leverage.model import Step

    out: list[engine.Finding] = []
    records: list[Any] = [*impact.steps, *impact.decisions]
    if len(impact.steps) and len(impact.decisions):
        records.sort(key=engine._key)
    for record in records:
        policy = ctx.policies.at(record.when)
        severity, rights = engine._severity_before(impact, engine._key(record))
        level = policy.level_of(severity, rights)
        when = record.when
        if isinstance(record, Step):
            rung = policy.rung_of(record.kind)
            if rung is None:
                continue
            if not policy.proportionate(rung, level):
                out.append(engine._finding(
                    policy, "disproportionate", kind=record.kind,
                    date=engine._day(when).isoformat(), rung=rung, level=level,
                    min_level=policy.ladder.proportionate[rung]))
            if record.deadline is not None:
                days = policy.days_for(level)
                allowed = engine._day(when) + timedelta(days=days)
                if record.deadline > allowed:
                    out.append(engine._finding(
                        policy, "lenient-deadline", kind=record.kind,
                        date=engine._day(when).isoformat(), deadline=record.deadline.isoformat(),
                        days=engine._days_text(days), level=level, allowed=allowed.isoformat()))
            continue
        if record.forced:
            g = engine.GateInput(
                ctx.state, engine._before(impact, engine._key(record)), policy, record.decision,
                {"decision": record.decision, "approved_by": record.approved_by},
                record.actor, when, level)
            failed = engine._run_gates(g)
            codes = ", ".join(dict.fromkeys(f.code for f in failed)) or "none"
            out.append(engine._finding(policy, "forced-decision", decision=record.decision,
                                       date=engine._day(when).isoformat(),
                                       reason=record.forced, codes=codes))
            out.extend(failed)
        found = engine._disproportionate_decision(policy, record.decision, when, level)
        if found is not None:
            out.append(found)
    return out


@pytest.mark.parametrize("seed", range(4))
def test_the_record_findings_walk_is_the_reference(tmp_path: Path, seed: int) -> None:
    """Also with records and assessments out of (time, seq) order, and several policies."""
    import attrs

    ledger = _small_ledger(tmp_path / "l.db", n=250, seed=seed + 40)
    state = ledger.state()
    reg = plugins.registries()
    rng = random.Random(seed)
    impacts = list(state.impacts.values())
    shuffled = []
    for impact in impacts:
        fields = {name: tuple(rng.sample(getattr(impact, name), len(getattr(impact, name))))
                  for name in ("steps", "decisions", "assessments_of_severity")}
        shuffled.append(attrs.evolve(impact, **fields))
    for as_of in (FAR, latest_day(ledger)):
        ctx = engine._context(state, as_of, impacts, None, (), reg.step_rungs(), False)
        for impact in [*impacts, *shuffled]:
            assert engine._record_findings(ctx, impact) == _record_findings_reference(ctx, impact)
