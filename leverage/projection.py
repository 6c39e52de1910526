"""The status projection: the part of every impact's status that does not depend on the
as-of date, kept in the store beside the log it is derived from.

``leverage status`` for today (more exactly: for any as-of date on or after the ledger's
latest ``at``, as known now) reads one stored *core* per impact (level, rung, due date,
next step, relationship status and the findings that do not move with the date; see
:class:`leverage.engine._Core`) and finishes it for the date (overdue, ``review-due``,
``reassessment-due``) instead of replaying the whole log. The answer is exactly the
replay's: the cores are computed by the engine's own code from a fold of the log, and the
tests compare both on every rule.

The projection is maintained lazily, on read, and never trusted blindly:

- the table ``projection_meta`` records the ``seq`` of the newest event the cores were
  computed from (the *stamp*) and a *fingerprint* of what else they depend on (the source
  of the engine, the state builder, the model and the policy code, and the step kinds
  plugins register). A different fingerprint rebuilds everything.
- events appended after the stamp name what they change by their subject (``party:``,
  ``relationship:``, ``impact:``; a void names the subject of the event it voids). The cores
  of every impact of each relationship touched (the relationship status is shared by its
  impacts; a party touches the relationships it is an end of) are recomputed from a fold of
  just their events (and every ``policy.set``). A ``policy.set`` rebuilds everything, and so
  does a change touching too many impacts (one full fold is cheaper).
- event types added by core modules (grievances and the like) fold into ``State.extra``
  only, which the engine's rules do not read: they leave the cores alone.

Reading never waits for a writer: refreshed cores are written back in a short transaction
of their own when the write lock is free (and skipped when the ledger is read-only or
another process refreshed first). Inside a write transaction, for a past date, with
``--known-at`` or with ``explain`` the status is replayed as before.

Checks registered with ``register_checks`` run on a state folded from the log:

- a check that declares :data:`leverage.engine.NEEDS_EXTRA` is skipped while no event of
  the log folds into ``State.extra`` (it finds nothing without its projection);
- when every other check declares :data:`leverage.engine.APPLIES_TO`, each stored row also
  records which of them apply to its impact (evaluated when its core is computed, from the
  same fold), and the state is a fold of just those impacts, their relationships' other
  impacts, the parties at the ends and the policies (nothing at all when none applies);
- otherwise the whole log is folded, as a replay does.

:func:`refresh` brings the projection up to date at once (a writer may call it after a
commit). Cost: one row per impact (about 0.9 KB at 100,000 impacts); a rebuild costs about
one replay.
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from . import engine
from .engine import Finding, Status, _Core
from .state import fold
from .timeutil import end_of_day_key

if TYPE_CHECKING:  # pragma: no cover
    from .ledger import Ledger
    from .model import State
    from .plugins import Registries
    from .policy import Policy

__all__ = ["VERSION", "refresh", "statuses"]

#: Bump when what a stored core means changes in a way the fingerprinted sources do not show.
VERSION = 1

#: Event types of the core whose subject (``kind:id``) names what they change.
SUBJECT_TYPES = frozenset({
    "party.added", "party.updated", "relationship.added", "relationship.updated",
    "relationship.ended", "impact.opened", "impact.reassessed", "step.taken", "step.outcome",
    "assessment.recorded", "decision.made",
})

#: Whether the log holds events of types the core's own handlers do not fold (types core
#: modules add, which fold into ``State.extra``): the store lists the types it holds
#: (migration ``0005_event_types``).
_OTHER_EVENTS = (
    "SELECT 1 FROM event_types WHERE type NOT IN ("
    "'policy.set', 'party.added', 'party.updated', 'relationship.added', "
    "'relationship.updated', 'relationship.ended', 'impact.opened', 'impact.reassessed', "
    "'step.taken', 'step.outcome', 'assessment.recorded', 'decision.made', 'event.voided'"
    ") LIMIT 1"
)

#: At most this many events appended since the stamp are examined one by one; beyond, or
#: when more than a fifth of the impacts (and more than ``_MIN_FULL``) must be recomputed,
#: the projection is rebuilt from one full fold.
_MAX_SCAN = 20000
_MIN_FULL = 2000
_CHUNK = 500


# -- the fingerprint ----------------------------------------------------------------------------

_source_digest: list[str] = []


def _sources_digest() -> str:
    """A digest of the code the cores are computed by (read once per process)."""
    if _source_digest:
        return _source_digest[0]
    from . import model, policy, state, timeutil, vocab

    h = hashlib.sha256(f"leverage-projection-{VERSION}".encode())
    for module in (engine, state, model, policy, timeutil, vocab, sys.modules[__name__]):
        h.update(module.__name__.encode())
        h.update(_source_of(module))
    _source_digest.append(h.hexdigest())
    return _source_digest[0]


def _source_of(module: Any) -> bytes:
    """The source of a module: its file, else what its loader gives (a zip), else nothing
    (then :data:`VERSION` alone tells stored cores of different code apart)."""
    path = getattr(module, "__file__", None)
    try:
        if path:
            return Path(path).read_bytes()
    except OSError:
        pass
    try:
        source = module.__loader__.get_source(module.__name__)
    except Exception:
        return b""
    return source.encode() if isinstance(source, str) else b""


def fingerprint(step_kinds: Mapping[str, str], checks: Sequence[tuple[str, Any]] = ()) -> str:
    """What the stored rows depend on besides the log: the code, the plugins' step kinds and
    the checks (each row records which checks' ``applies_to`` it satisfies, by position)."""
    h = hashlib.sha256(_sources_digest().encode())
    h.update(orjson.dumps(sorted(step_kinds.items())))
    for owner, check in checks:
        predicate = engine.applies_to_of(check)
        h.update(orjson.dumps([owner, getattr(check, "__module__", None),
                               getattr(check, "__qualname__", repr(check)), predicate is not None]))
        if predicate is not None:
            module = sys.modules.get(getattr(predicate, "__module__", None) or "")
            h.update(_source_of(module) if module is not None else b"")
    return h.hexdigest()


def _predicates(checks: Sequence[tuple[str, Any]]) -> list[tuple[int, Any]]:
    """(position, ``applies_to``) of the checks that declare one."""
    found = []
    for i, (_owner, check) in enumerate(checks):
        predicate = engine.applies_to_of(check)
        if predicate is not None:
            found.append((i, predicate))
    return found


# -- (de)serialising a core ---------------------------------------------------------------------

def _encode(core: _Core, applies: Sequence[int] = ()) -> str:
    """A core and the positions of the checks that apply to its impact, as stored."""
    return orjson.dumps([
        core.party, core.level, core.rung, core.due.isoformat() if core.due is not None else None,
        core.next, core.relationship_status, core.closed,
        list(core.deadline) if core.deadline is not None else None, core.days,
        [core.worsened.code, core.worsened.message, core.worsened.source]
        if core.worsened is not None else None,
        [core.review[0].isoformat(), core.review[1]] if core.review is not None else None,
        [core.reassess[0].isoformat(), core.reassess[1]] if core.reassess is not None else None,
        [[f.code, f.message, f.source] for f in core.findings],
        list(applies),
    ]).decode()


def _decode(impact: str, rel: str, text: str | bytes) -> tuple[_Core, list[int]]:
    (party, level, rung, due, nxt, rel_status, closed, deadline, days, worsened, review,
     reassess, findings, applies) = orjson.loads(text)
    fromiso = date.fromisoformat
    return _Core(
        impact, rel, party, level, rung, fromiso(due) if due is not None else None, nxt,
        rel_status, closed, (deadline[0], deadline[1]) if deadline is not None else None, days,
        Finding(worsened[0], worsened[1], worsened[2]) if worsened is not None else None,
        (fromiso(review[0]), review[1]) if review is not None else None,
        (fromiso(reassess[0]), reassess[1]) if reassess is not None else None,
        tuple([Finding(f[0], f[1], f[2]) for f in findings]),
    ), applies


def _applying(state: State, impact_id: str, predicates: Sequence[tuple[int, Any]]) -> list[int]:
    if not predicates:
        return []
    impact = state.impacts[impact_id]
    return [i for i, predicate in predicates if engine.applies(predicate, impact)]


def _row(core: _Core, state: State, predicates: Sequence[tuple[int, Any]] = ()
         ) -> tuple[str, str, str, str, str]:
    rel = state.relationships.get(core.relationship)
    source, target = (rel.source, rel.target) if rel is not None else ("", "")
    return (core.impact, core.relationship, source, target,
            _encode(core, _applying(state, core.impact, predicates)))


# -- what changed since the stamp ---------------------------------------------------------------

class _Changes:
    """The impacts whose cores must be recomputed, and the relationships they belong to."""

    def __init__(self) -> None:
        self.impacts: set[str] = set()
        self.relationships: set[str] = set()
        self.parties: set[str] = set()


def _changes(conn: sqlite3.Connection, stamp: int, total: int) -> _Changes | None:
    """What the events after ``stamp`` change; None when everything must be rebuilt."""
    found = _Changes()
    rows = conn.execute(
        "SELECT seq, type, subject, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
        (stamp, _MAX_SCAN + 1)).fetchall()
    if len(rows) > _MAX_SCAN:
        return None
    for _seq, type_, subject, data in rows:
        if type_ == "policy.set":
            return None
        if type_ == "event.voided":
            target = conn.execute("SELECT type, subject, data FROM events WHERE seq = ?",
                                  (orjson.loads(data)["seq"],)).fetchone()
            if target is None:
                continue
            type_, subject, data = target
            if type_ == "policy.set":
                return None
        if type_ not in SUBJECT_TYPES:
            continue  # folded into State.extra only (or nowhere): no core reads it
        if not isinstance(subject, str):
            return None
        kind, _, id_ = subject.partition(":")
        if kind == "party":
            found.parties.add(id_)
        elif kind == "relationship":
            found.relationships.add(id_)
        elif kind == "impact":
            found.impacts.add(id_)
            if type_ == "impact.opened":
                found.relationships.add(orjson.loads(data)["relationship"])
        else:
            return None
    # every impact of each relationship touched: directly, through an impact, through a party
    for chunk in _chunks(sorted(found.impacts)):
        for (rel,) in conn.execute(
                f"SELECT rel FROM projection_status WHERE impact IN ({_marks(chunk)})", chunk):
            found.relationships.add(rel)
    for chunk in _chunks(sorted(found.parties)):
        marks = _marks(chunk)
        for (rel,) in conn.execute(
                f"SELECT DISTINCT rel FROM projection_status WHERE source IN ({marks}) "
                f"OR target IN ({marks})", [*chunk, *chunk]):
            found.relationships.add(rel)
    for chunk in _chunks(sorted(found.relationships)):
        for (impact,) in conn.execute(
                f"SELECT impact FROM projection_status WHERE rel IN ({_marks(chunk)})", chunk):
            found.impacts.add(impact)
        if len(found.impacts) > max(_MIN_FULL, total // 5):
            return None
    return found


def _chunks(items: Sequence[str]) -> Iterable[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield list(items[i:i + _CHUNK])


def _marks(chunk: Sequence[Any]) -> str:
    return ",".join("?" * len(chunk))


def _partial_state(conn: sqlite3.Connection, changes: _Changes, as_of: date) -> State:
    """A fold of the events of the impacts and relationships changed, the parties at the
    ends of those relationships, and every ``policy.set``: for each of those impacts the
    same state a full fold gives (an impact's records, its relationship and the parties'
    kinds are all the engine reads of it, with its siblings for the relationship status)."""
    live = "seq NOT IN (SELECT seq FROM voided)"
    columns = "seq, type, at, actor, data, at_key"
    rows: list[tuple[Any, ...]] = []
    subjects = [*("impact:" + i for i in sorted(changes.impacts)),
                *("relationship:" + r for r in sorted(changes.relationships))]
    for chunk in _chunks(subjects):
        rows += conn.execute(
            f"SELECT {columns} FROM events WHERE subject IN ({_marks(chunk)}) AND {live}",
            chunk).fetchall()
    parties = set(changes.parties)
    for row in rows:
        if row[1] == "relationship.added":
            data = orjson.loads(row[4])
            parties.add(data["source"])
            parties.add(data["target"])
    for chunk in _chunks(sorted("party:" + p for p in parties)):
        rows += conn.execute(
            f"SELECT {columns} FROM events WHERE subject IN ({_marks(chunk)}) AND {live}",
            chunk).fetchall()
    rows += conn.execute(
        f"SELECT {columns} FROM events WHERE type = 'policy.set' AND {live}").fetchall()
    rows.sort(key=lambda r: (r[5], r[0]))
    return fold((r[:5] for r in rows), as_of=as_of)


def _policy_state(conn: sqlite3.Connection, as_of: date) -> State:
    """A fold of every ``policy.set`` (found by their partial index, sorted here)."""
    rows = sorted(conn.execute(
        "SELECT at_key, seq, type, at, actor, data FROM events WHERE type = 'policy.set'"))
    return fold((r[1:] for r in rows), as_of=as_of)


# -- answering -----------------------------------------------------------------------------------

class _Delta:
    """Rows to write back: replacing all of them (``full``) or some."""

    def __init__(self, expected: tuple[str | None, str | None], stamp: int, fingerprint: str,
                 *, full: bool) -> None:
        self.expected = expected
        self.stamp = stamp
        self.fingerprint = fingerprint
        self.full = full
        self.upserts: list[tuple[str, str, str, str, str]] = []
        self.deletes: list[str] = []


class _Answer:
    def __init__(self, policy: Policy, cores: list[_Core], state: State | None,
                 checks: Sequence[tuple[str, Any]], delta: _Delta | None) -> None:
        self.policy = policy
        self.cores = cores
        #: the state the checks run on (None: no check runs)
        self.state = state
        #: the checks to run
        self.checks = checks
        self.delta = delta


def _running(conn: sqlite3.Connection, checks: Sequence[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The checks to run: all but those that declare (with
    :data:`leverage.engine.NEEDS_EXTRA`) that they find nothing on a state without those
    ``extra`` projections, while no event of the log folds into ``State.extra`` at all."""
    extra = [getattr(check, engine.NEEDS_EXTRA, None) for _owner, check in checks]
    if any(extra) and conn.execute(_OTHER_EVENTS).fetchone() is None:
        return [named for named, needs in zip(checks, extra, strict=True) if not needs]
    return list(checks)


def _usable(ledger: Ledger) -> bool:
    conn = ledger.store.conn
    return getattr(ledger, "_writer", None) is None and not conn.in_transaction


def _check_state(ledger: Ledger, as_of: date, checks: Sequence[tuple[str, Any]],
                 applies: Mapping[str, list[int]], rels: Mapping[str, str],
                 policies: State) -> State:
    """The state the checks run on: when each declares ``applies_to``, a fold of the impacts
    some of them apply to (with every impact of their relationships, the parties at the
    ends and the policies; ``policies`` when there are none: a fold with every
    ``policy.set``); else the whole state."""
    if any(engine.applies_to_of(check) is None for _owner, check in checks):
        return ledger.state(as_of=as_of)
    changes = _Changes()
    changes.relationships.update(rels[impact] for impact, applying in applies.items() if applying)
    conn = ledger.store.conn
    if not changes.relationships:
        return policies  # no impact to check
    wanted = changes.relationships
    changes.impacts.update(impact for impact, rel in rels.items() if rel in wanted)
    if len(changes.impacts) * 2 > len(rels):
        return ledger.state(as_of=as_of)  # most of the log: one sequential fold is cheaper
    return _partial_state(conn, changes, as_of)


def _compute(ledger: Ledger, as_of: date, step_kinds: Mapping[str, str],
             checks: Sequence[tuple[str, Any]], *, run_checks: bool = True,
             force_full: bool = False) -> _Answer | None:
    """The cores for ``as_of``, the state the checks run on (unless not ``run_checks``) and
    what to write back; None when the projection cannot answer for that date (events dated
    after it, or an empty ledger)."""
    conn = ledger.store.conn
    head = conn.execute("SELECT MAX(seq) FROM events").fetchone()[0]
    if not head:
        return None
    latest = conn.execute("SELECT MAX(at_key) FROM events").fetchone()[0]
    if latest >= end_of_day_key(as_of):
        return None
    running = _running(conn, checks) if run_checks else []
    predicates = _predicates(checks)
    fp = fingerprint(step_kinds, checks)
    meta = dict(conn.execute("SELECT key, value FROM projection_meta").fetchall())
    expected = (meta.get("stamp"), meta.get("fingerprint"))
    stamp: int | None = None
    if not force_full and meta.get("fingerprint") == fp and meta.get("stamp") is not None:
        stamp = int(meta["stamp"])
        if stamp > head:  # not this log's projection (a restored file?): rebuild
            stamp = None
    changes: _Changes | None = None
    if stamp is not None and stamp < head:
        total = conn.execute("SELECT COUNT(*) FROM projection_status").fetchone()[0]
        changes = _changes(conn, stamp, total)
    elif stamp is not None:
        changes = _Changes()  # up to date
    if changes is None:
        full = ledger.state(as_of=as_of)
        policy, cores = engine.cores(full, as_of, step_kinds=step_kinds)
        rebuilt = _Delta(expected, head, fp, full=True)
        rebuilt.upserts = [_row(core, full, predicates) for core in cores]
        return _Answer(policy, cores, full if running else None, running, rebuilt)
    fresh: list[_Core] = []
    applies: dict[str, list[int]] = {}
    rels: dict[str, str] = {}
    if changes.impacts or changes.relationships:
        partial = _partial_state(conn, changes, as_of)
        policy, fresh = engine.cores(partial, as_of, step_kinds=step_kinds)
        for core in fresh:
            applies[core.impact] = _applying(partial, core.impact, predicates)
            rels[core.impact] = core.relationship
    else:
        partial = _policy_state(conn, as_of)
        policy = engine.policy_at_end_of(partial, as_of, step_kinds)
    delta: _Delta | None = None
    if stamp != head or fresh:
        delta = _Delta(expected, head, fp, full=False)
        delta.upserts = [_row(core, partial, predicates) for core in fresh]
        kept = {core.impact for core in fresh}
        delta.deletes = sorted(i for i in changes.impacts if i not in kept)
    skip = changes.impacts
    cores = []
    for impact, rel, text in conn.execute("SELECT impact, rel, core FROM projection_status"):
        if impact in skip:
            continue
        core, applying = _decode(impact, rel, text)
        cores.append(core)
        rels[impact] = rel
        if applying:
            applies[impact] = applying
    cores.extend(fresh)
    state = _check_state(ledger, as_of, running, applies, rels, partial) if running else None
    return _Answer(policy, cores, state, running, delta)


def _write(conn: sqlite3.Connection, delta: _Delta) -> bool:
    """Write refreshed cores back if the write lock is free and nobody refreshed first."""
    timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute("PRAGMA busy_timeout = 100")
    try:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return False  # locked by a writer, or read-only: the next read refreshes
        try:
            meta = dict(conn.execute("SELECT key, value FROM projection_meta").fetchall())
            if (meta.get("stamp"), meta.get("fingerprint")) != delta.expected:
                conn.execute("ROLLBACK")
                return False
            if delta.full:
                conn.execute("DELETE FROM projection_status")
            elif delta.deletes:
                conn.executemany("DELETE FROM projection_status WHERE impact = ?",
                                 [(i,) for i in delta.deletes])
            conn.executemany(
                "INSERT OR REPLACE INTO projection_status (impact, rel, source, target, core) "
                "VALUES (?, ?, ?, ?, ?)", delta.upserts)
            conn.executemany(
                "INSERT OR REPLACE INTO projection_meta (key, value) VALUES (?, ?)",
                [("stamp", str(delta.stamp)), ("fingerprint", delta.fingerprint)])
            conn.execute("COMMIT")
            return True
        except sqlite3.Error:
            conn.execute("ROLLBACK")
            return False
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout)}")


def statuses(ledger: Ledger, as_of: date, registries: Registries) -> list[Status] | None:
    """Every impact's status as of ``as_of`` (closed ones included), sorted, exactly as
    :func:`leverage.engine.evaluate` gives it on :meth:`Ledger.state`; None when the
    projection cannot answer (a date before the ledger's latest ``at``, inside a write
    transaction): replay then."""
    if not _usable(ledger):
        return None
    step_kinds = registries.step_rungs()
    checks = registries.checks
    store = ledger.store
    with engine.gc_paused():  # millions of objects, no cycles: the collector only costs time
        try:
            with store.read():
                answer = _compute(ledger, as_of, step_kinds, checks)
        except sqlite3.OperationalError:
            return None  # e.g. a store without the projection's tables
        if answer is None:
            return None
        if answer.delta is not None:
            _write(store.conn, answer.delta)
        try:
            return engine.finish_cores(answer.cores, as_of, answer.policy, state=answer.state,
                                       checks=answer.checks if answer.state is not None else (),
                                       step_kinds=step_kinds)
        except engine.ProjectionMismatch:  # pragma: no cover - a bug: the replay is the answer
            return None


def refresh(ledger: Ledger, registries: Registries | None = None, *, full: bool = False) -> bool:
    """Bring the projection up to date with the log now (``full``: rebuild it), instead of at
    the next ``status``; returns whether it was written. A writer may call this after a
    commit to keep reads fast; it never changes an answer."""
    from . import plugins
    from .timeutil import now_utc

    if not _usable(ledger):
        return False
    reg = registries or plugins.registries()
    store = ledger.store
    with engine.gc_paused():
        with store.read():
            answer = _compute(ledger, now_utc().date(), reg.step_rungs(), reg.checks,
                              run_checks=False, force_full=full)
        if answer is None or answer.delta is None:
            return False
        return _write(store.conn, answer.delta)
