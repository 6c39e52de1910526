"""The ledger: validated, atomic appends to the store, and the state derived from it.

:func:`open_ledger` is the Python API for dashboards and plugins::

    from leverage import open_ledger
    ledger = open_ledger("leverage.db")
    state = ledger.state(as_of=date(2021, 1, 10))
    for status in ledger.status(as_of=date(2021, 1, 10)):
        print(status.impact, status.next)
    ledger.append([{"type": "party.added", "at": "2021-01-02", "actor": "ana",
                    "data": {"id": "acme", "name": "Acme", "kind": "client"}}])

Every path by which an event enters (the CLI, ``load``, importers, this API) goes through
:meth:`Ledger.append` or :meth:`Ledger.load`, which check each event's fields, its
references, the decision gates of the policy in force and every plugin's
``validate_event``, and write all or nothing.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import orjson
from orjson import OPT_SORT_KEYS as _SORT_KEYS
from orjson import dumps as _dumps

from . import plugins
from .canonical import canonical, event_hash, export_line
from .canonical import hash_fields as _hash
from .errors import ChainError, GateError, LeverageError, ValidationError
from .events import _SUBJECT_FIELDS, ZERO_HASH, check_line, plain_key, subject_of
from .gcpause import gc_paused
from .model import Event, State
from .state import fold
from .store import Store, open_store
from .timeutil import (
    at_key,
    day_of,
    end_of_day_key,
    format_recorded,
    now_utc,
    parse_at,
    parse_date,
)

BATCH = 5000


#: Reference checks of event types added by core modules: ``check(writer, type, at, actor,
#: data)`` raises ValidationError; ``INDEX_UPDATES`` keep the writer's index in step:
#: ``update(writer, seq, type, at, data)``.
REFERENCE_CHECKS: dict[str, Callable[..., None]] = {}
INDEX_UPDATES: dict[str, Callable[..., None]] = {}
#: Voids of any event as core modules see them: ``check(writer, seq, type, data)`` raises on
#: a reference that the void would leave dangling; ``update(writer, by_seq, seq, type,
#: data)`` keeps the index in step.
VOID_CHECKS: list[Callable[..., None]] = []
VOID_UPDATES: list[Callable[..., None]] = []


#: core event types that change nothing the writer's index keeps
_NO_INDEX_UPDATE = frozenset({"step.outcome", "assessment.recorded", "impact.reassessed",
                              "relationship.updated", "policy.set"})


class _DryRun(Exception):
    """Rolls back a dry run's transaction."""


def open_ledger(path: str | os.PathLike[str] = "leverage.db", *, create: bool = False) -> Ledger:
    """Open the ledger at ``path`` (``create``: make it when missing)."""
    return Ledger(open_store(path, create=create))


_MISSING: Any = object()


class _Seen:
    """A set of ids that may answer "maybe" for an id it does not hold, never "no" for one it
    holds, in a fixed 8 MB (a Bloom filter of two hash functions): what lets a load into an
    empty ledger tell a new step id from one it wrote and evicted without holding every id
    (memory bounded by the parties and impacts, not the events). With 400,000 ids a "maybe"
    is wrong about once in 6,000 lookups, and then costs one read of the table."""

    BITS = 1 << 26

    def __init__(self) -> None:
        self.bits: bytes | bytearray = b""  # (allocated at the first id: most writes evict nothing)

    def add(self, id_: str) -> None:
        bits = self.bits
        if not isinstance(bits, bytearray):
            bits = self.bits = bytearray(self.BITS >> 3)
        h = hash(id_)
        a = h & (self.BITS - 1)
        b = (h >> 32) & (self.BITS - 1)
        bits[a >> 3] |= 1 << (a & 7)
        bits[b >> 3] |= 1 << (b & 7)

    def update(self, ids: Iterable[str]) -> None:
        for id_ in ids:
            self.add(id_)

    def __contains__(self, id_: object) -> bool:
        bits = self.bits
        if not bits:
            return False
        h = hash(id_)
        a = h & (self.BITS - 1)
        b = (h >> 32) & (self.BITS - 1)
        return bool(bits[a >> 3] & (1 << (a & 7))) and bool(bits[b >> 3] & (1 << (b & 7)))


class Index:
    """The derived ``entities`` table, cached for the length of one write transaction."""

    #: kinds whose entries leave the cache once written (they grow with the log, not with the
    #: number of parties and impacts): a later lookup reads them back from the table
    EVICTED = ("step",)
    #: at most this many entries of those kinds stay cached between batches (the latest)
    TRANSIENT = 20000

    def __init__(self, conn: sqlite3.Connection, *, empty: bool = False):
        self.conn = conn
        #: kind -> id -> entry (None: known not to exist); the entries of evicted kinds in
        #: the order they were cached (the oldest leave first)
        self.caches: dict[str, dict[str, dict[str, Any] | None]] = {}
        #: kind -> ids of changed entries not yet written (kinds kept in the cache)
        self.dirty: dict[str, set[str]] = {}
        #: entries of evicted kinds not yet written, in order: (kind, id, entry or None)
        self.unwritten: list[tuple[str, str, dict[str, Any] | None]] = []
        #: the table was empty when the transaction began: a miss is an unknown id, unless
        #: the id was evicted (then it is read back)
        self.empty = empty
        self.evicted = _Seen()

    def _cache(self, kind: str) -> dict[str, dict[str, Any] | None]:
        cache = self.caches.get(kind)
        if cache is None:
            cache = self.caches[kind] = {}
            self.dirty[kind] = set()
        return cache

    def get(self, kind: str, id_: str) -> dict[str, Any] | None:
        cache = self.caches.get(kind)
        if cache is None:
            cache = self._cache(kind)
        else:
            found = cache.get(id_, _MISSING)
            if found is not _MISSING:
                return found
        if self.empty and (kind not in self.EVICTED or id_ not in self.evicted):
            return None
        row = self.conn.execute(
            "SELECT seq, at_key, info FROM entities WHERE kind = ? AND id = ?", (kind, id_)
        ).fetchone()
        value = None
        if row is not None:
            value = orjson.loads(row[2])
            value["seq"] = row[0]
            value["key"] = row[1]
        cache[id_] = value
        return value

    def put(self, kind: str, id_: str, value: dict[str, Any] | None) -> None:
        cache = self.caches.get(kind)
        if cache is None:
            cache = self._cache(kind)
        if kind in self.EVICTED:
            cache.pop(id_, None)  # (to the end of the order)
            cache[id_] = value
            self.unwritten.append((kind, id_, value))
        else:
            cache[id_] = value
            self.dirty[kind].add(id_)

    def touch(self, kind: str, id_: str) -> None:
        """Mark a cached entry of a kind kept (not evicted) as changed in place."""
        self.dirty[kind].add(id_)

    def flush(self, *, evicted_only: bool = False) -> None:
        """Write the changed entries to the table (``evicted_only``: only those of the
        evicted kinds, as the write path does between batches: the others stay cached, and
        are written once, when the transaction ends or before anything reads the table)."""
        # kind -> id -> the entry's last value (None: delete it)
        changes: dict[str, dict[str, dict[str, Any] | None]] = {}
        for kind, id_, value in self.unwritten:
            changes.setdefault(kind, {})[id_] = value
        self.unwritten = []
        if not evicted_only:
            for kind, ids in self.dirty.items():
                if ids:
                    cache = self.caches[kind]
                    changes.setdefault(kind, {}).update((id_, cache[id_]) for id_ in ids)
                    ids.clear()
        dumps = orjson.dumps
        for kind in sorted(changes):
            values = changes[kind]
            deletes = [(kind, id_) for id_, value in values.items() if value is None]
            if deletes:
                self.conn.executemany("DELETE FROM entities WHERE kind = ? AND id = ?", deletes)
            upserts = []
            for id_ in sorted(values):  # in key order: each row lands beside the previous one
                value = values[id_]
                if value is not None:
                    info = value.copy()
                    del info["seq"], info["key"]
                    upserts.append((kind, id_, value["seq"], value["key"], dumps(info).decode()))
            if upserts:
                self.conn.executemany(
                    "INSERT OR REPLACE INTO entities (kind, id, seq, at_key, info) "
                    "VALUES (?, ?, ?, ?, ?)", upserts)
        for kind in self.EVICTED:
            cache = self.caches.get(kind) or {}
            excess = len(cache) - self.TRANSIENT
            if excess > 0:  # the oldest leave
                gone = list(itertools.islice(cache, excess))
                for id_ in gone:
                    del cache[id_]
                if self.empty:
                    self.evicted.update(gone)


class _Writer:
    """One write transaction: checks each event and buffers its row."""

    def __init__(self, ledger: Ledger, conn: sqlite3.Connection, *, actor: str,
                 force_now: datetime | None = None, bulk: bool = False):
        self.ledger = ledger
        self.conn = conn
        self.actor = actor
        self.head_seq, self.head_hash = ledger.store.head()
        self.index = Index(conn, empty=self.head_seq == 0)
        #: the cached impacts and steps, and the ids of impacts changed in place (the fast
        #: paths of the usual events)
        self._impacts = self.index._cache("impact")
        self._impacts_changed = self.index.dirty["impact"]
        self._steps = self.index._cache("step")
        #: the policy.set records (few): (at_key, seq, content), in ledger order
        self.policy_rows: list[tuple[str, int, str]] = [
            (k, seq, orjson.loads(d)["content"]) for seq, k, d in conn.execute(
                "SELECT seq, at_key, data FROM events WHERE type = 'policy.set'")]
        self._policies: dict[str, Any] = {}
        #: a bulk write into a (nearly) empty ledger drops the indexes of the events table
        #: and builds each once (sorting beats a B-tree insert per row), at the end of the
        #: transaction or before anything reads the table (see :meth:`flush`)
        self.deferred: list[str] = []
        if bulk and self.head_seq < BATCH:
            for name, sql in conn.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                    "AND tbl_name = 'events' AND sql IS NOT NULL ORDER BY name").fetchall():
                conn.execute(f'DROP INDEX "{name}"')
                self.deferred.append(sql)
        row = conn.execute("SELECT recorded_at FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        now = format_recorded(force_now or now_utc())
        self.recorded_at = max(now, row[0]) if row else now
        self.pending: list[tuple[Any, ...]] = []
        self.written: list[Event] = []
        self.chained: bool | None = None
        self.validators = plugins.hook_calls("validate_event")
        self.keep_events = bool(plugins.hook_calls("event_recorded"))
        self._registries: plugins.Registries | None = None
        #: called with (decision data, failing findings) when a decision fails its gates;
        #: a non-empty string returned records it as forced with that reason
        self.force_reason: Callable[[dict[str, Any], list[Any]], str | None] | None = None
        #: the ordering key of the event being added (see _not_before)
        self.key = ""

    # -- the write path --------------------------------------------------------------------
    def add(self, obj: dict[str, Any], where: Callable[[int], str | None] | None = None,
            n: int = 0) -> None:
        """Check and buffer one event; ``where(n)`` names it in an error (built only then)."""
        try:
            key = plain_key(obj)  # the usual line, valid: checked in one pass
            if key is None:
                check_line(obj)
                key = at_key(obj["at"])
            self._add(obj, key)
        except ValidationError as exc:
            place = where(n) if where else None
            raise exc.located(place) if place else exc from None
        except LeverageError as exc:
            place = where(n) if where else None
            raise (LeverageError(f"{place}: {exc}") if place else exc) from None

    def _add(self, obj: dict[str, Any], key: str) -> None:
        chained = "hash" in obj
        if self.chained is None:
            self.chained = chained
            if chained and obj["prev"] != self.head_hash:
                if self.head_seq == 0:
                    raise ChainError(
                        "this file does not start a ledger (its first prev is not 64 zeros); "
                        "load it into the ledger it continues"
                    )
                raise ChainError(
                    f"this file does not continue this ledger: its first prev is "
                    f"{obj['prev'][:12]}..., the ledger's head is {self.head_hash[:12]}... "
                    f"(seq {self.head_seq})"
                )
        elif chained != self.chained:
            raise ValidationError(
                "a file mixes chained lines (with seq, prev and hash) and plain lines",
                path="hash" if not chained else "line",
            )
        type_ = obj["type"]
        data = obj["data"]
        at = obj["at"]
        actor = obj.get("actor") or self.actor
        self.key = key
        found = self.check_references(type_, at, actor, data)
        seq = self.head_seq + 1
        try:
            data_json = _dumps(data, option=_SORT_KEYS)  # canonical(data), inlined:
            if not data_json.isascii():  # (keys above U+FFFF sort differently in RFC 8785)
                data_json = canonical(data)
            if chained:
                if obj["seq"] != seq:
                    raise ChainError(f"seq {obj['seq']} out of order: expected {seq}", obj["seq"])
                if obj["prev"] != self.head_hash:
                    raise ChainError(f"seq {seq}: prev does not match the previous hash", seq)
                recorded_at = obj["recorded_at"]
            else:
                recorded_at = self.recorded_at
            digest = _hash(seq, recorded_at, self.head_hash, type_, at, actor, data_json)
        except (orjson.JSONEncodeError, TypeError) as exc:
            raise ValidationError(f"not valid Unicode text ({exc})", path="data") from None
        if chained and digest != obj["hash"]:
            raise ChainError(f"seq {seq}: hash does not match the event (altered?)", seq)
        if self.validators or self.keep_events:
            event = Event(type_, at, actor, data, seq, recorded_at, self.head_hash, digest)
            if self.validators:
                self.flush()
                # a copy: a validator that changes what it is shown changes nothing
                self._run_validators(Event(type_, at, actor, orjson.loads(data_json)))
            if self.keep_events:
                self.written.append(event)
        fields = _SUBJECT_FIELDS.get(type_)
        subject: str | None
        if fields is not None and type(data.get(fields[1])) is str:
            subject = fields[0] + data[fields[1]]  # subject_of(type_, data), inlined
        else:
            subject = subject_of(type_, data)
        self.pending.append((seq, recorded_at, self.head_hash, digest, type_, at, self.key,
                             actor, data_json.decode(), subject))
        self.head_seq = seq
        self.head_hash = digest
        self.apply(seq, type_, at, data, found)
        if type_ == "policy.set":
            self.policy_rows.append((self.key, seq, data["content"]))
        if len(self.pending) >= BATCH:
            self._write_pending()
            self.index.flush(evicted_only=True)

    def _run_validators(self, event: Event) -> None:
        for call in self.validators:
            try:
                call(event=event, ledger=self.ledger)
            except LeverageError as exc:
                raise LeverageError(f"refused by plugin {call.plugin_name}: {exc}") from None
            except Exception as exc:
                raise LeverageError(
                    f"plugin {call.plugin_name} failed in validate_event: {type(exc).__name__}: {exc}"
                ) from None

    def _write_pending(self) -> None:
        if self.pending:
            self.conn.executemany(
                "INSERT INTO events (seq, recorded_at, prev, hash, type, at, at_key, actor, data,"
                " subject) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                self.pending,
            )
            first: dict[str, int] = {}
            for row in self.pending:
                if row[4] not in first:
                    first[row[4]] = row[0]
            self.conn.executemany(
                "INSERT OR IGNORE INTO event_types (type, first_seq) VALUES (?, ?)", first.items())
            self.pending.clear()

    def flush(self) -> None:
        """Make the events table complete and indexed: call before reading it."""
        self._write_pending()
        if self.deferred:
            self.conn.execute("PRAGMA threads = 4")  # (sorting for an index may use them)
            for sql in self.deferred:
                self.conn.execute(sql)
            self.deferred.clear()

    def finish(self) -> None:
        self.flush()
        self.index.flush()

    def policy_at_key(self, key: str) -> Any:
        """The policy in force at ordering key ``key``, with the registered step kinds."""
        rows = self.policy_rows
        content = None
        for k, _seq, text in sorted(rows) if len(rows) > 1 else rows:
            if content is None or k <= key:
                content = text
        cache_key = content or ""
        policy = self._policies.get(cache_key)
        if policy is None:
            from .policy import Policy, default_policy

            base = Policy.from_content(content) if content is not None else default_policy()
            policy = base.with_step_kinds(self.registries().step_rungs())
            self._policies[cache_key] = policy
        return policy

    # -- references --------------------------------------------------------------------------
    def _need(self, kind: str, id_: str, path: str) -> dict[str, Any]:
        found = self.index.get(kind, id_)
        if found is None:
            raise ValidationError(f"unknown {kind} {id_!r}", path=path)
        return found

    def _new(self, kind: str, id_: str) -> None:
        if self.index.get(kind, id_) is not None:
            raise ValidationError(f"{kind} {id_!r} exists already", path="data.id")

    def _not_before(self, at: str, entity: dict[str, Any], what: str, path: str) -> None:
        """Refuse an event dated on a UTC day before what it refers to. On the same day, a
        date (00:00) or an earlier time is ordered just after it (``at`` stays verbatim)."""
        if self.key < entity["key"]:
            if self.key[:10] < entity["key"][:10]:
                raise ValidationError(f"dated {at}, before {what} ({entity['at']})", path=path)
            self.key = entity["key"]

    def _open_impact(self, id_: str, at: str, path: str = "data.impact") -> dict[str, Any]:
        impact = self._impacts.get(id_)
        if impact is not None and not impact["closed"] and self.key >= impact["key"]:
            return impact  # cached, open, opened before: nothing to refuse or reorder
        impact = self._need("impact", id_, path)
        if impact["closed"]:
            raise ValidationError(f"impact {id_!r} is closed (open a new impact to reopen)", path=path)
        self._not_before(at, impact, f"impact {id_!r} was opened", "at")
        return impact

    def registries(self) -> plugins.Registries:
        if self._registries is None:
            self._registries = plugins.registries()
        return self._registries

    def step_kinds(self) -> Any:
        kinds = self._step_kinds
        if kinds is None:
            kinds = self._step_kinds = self.registries().step_kinds
        return kinds

    _step_kinds: Any = None

    def check_references(self, type_: str, at: str, actor: str, d: dict[str, Any]
                         ) -> dict[str, Any] | None:
        """Refuse an event whose references do not hold; returns the index entry of the
        impact a step or decision is recorded on (:meth:`apply` updates it)."""
        get = self.index.get
        # (most frequent types first)
        if type_ == "step.taken":
            opened = self._open_impact(d["impact"], at)
            if d["kind"] not in (self._step_kinds or self.step_kinds()):
                raise ValidationError(
                    f"unknown step kind {d['kind']!r} (`leverage step kinds` lists them)", path="data.kind")
            sid = d.get("id")
            if sid is not None:
                found = self._steps.get(sid, _MISSING)
                if found is _MISSING and (not self.index.empty or sid in self.index.evicted):
                    found = get("step", sid)  # (not cached: an empty table has only the evicted)
                if found is not None and found is not _MISSING:
                    raise ValidationError(f"step {sid!r} exists already", path="data.id")
            if "deadline" in d and d["deadline"] < self.key[:10] and parse_date(d["deadline"]) < day_of(at):
                raise ValidationError(
                    f"deadline {d['deadline']} is before the step's date {day_of(at)}",
                    path="data.deadline")
            for i, party in enumerate(d.get("with") or ()):
                self._need("party", party, f"data.with[{i}]")
            return opened
        elif type_ == "step.outcome":
            opened = self._open_impact(d["impact"], at)
            first = opened.get("first_step")
            if first is not None and first[:10] == self.key[:10] and first > self.key:
                self.key = first
            if first is None or first > self.key:
                raise ValidationError(
                    f"impact {d['impact']!r} has no step dated at or before {at}: an outcome "
                    "follows a step", path="data.impact")
            if "step" in d:
                step = self._steps.get(d["step"])
                if step is not None and step["impact"] == d["impact"] and self.key >= step["key"]:
                    return None  # cached, of this impact, taken before: nothing to refuse
                step = self._need("step", d["step"], "data.step")
                if step["impact"] != d["impact"]:
                    raise ValidationError(
                        f"step {d['step']!r} belongs to impact {step['impact']!r}", path="data.step")
                self._not_before(at, step, f"step {d['step']!r} was taken", "at")
        elif type_ == "decision.made":
            impact = self._open_impact(d["impact"], at)
            linked = get("relationship", impact["rel"])
            decision = d["decision"]
            if linked is not None and linked["term"] and decision != "close":
                raise ValidationError(
                    f"relationship {impact['rel']!r} is terminated: only `close` is possible",
                    path="data.decision")
            self._check_gates(d, at, actor)
            return impact
        elif type_ == "impact.reassessed":
            self._open_impact(d["id"], at, "data.id")
        elif type_ == "assessment.recorded":
            self._open_impact(d["impact"], at)
        elif type_ == "impact.opened":
            self._new("impact", d["id"])
            rel = self._need("relationship", d["relationship"], "data.relationship")
            self._not_before(at, rel, f"relationship {d['relationship']!r} was added", "at")
        elif type_ == "relationship.added":
            self._new("relationship", d["id"])
            for end in ("source", "target"):
                party = self._need("party", d[end], f"data.{end}")
                self._not_before(at, party, f"party {d[end]!r} was added", "at")
            if d["source"] == d["target"]:
                raise ValidationError("a relationship needs two different parties", path="data.target")
        elif type_ == "party.added":
            self._new("party", d["id"])
        elif type_ == "party.updated":
            party = self._need("party", d["id"], "data.id")
            self._not_before(at, party, f"party {d['id']!r} was added", "at")
        elif type_ == "relationship.updated":
            rel = self._need("relationship", d["id"], "data.id")
            self._not_before(at, rel, f"relationship {d['id']!r} was added", "at")
        elif type_ == "relationship.ended":
            rel = self._need("relationship", d["id"], "data.id")
            if rel["ended"]:
                raise ValidationError(f"relationship {d['id']!r} has ended already", path="data.id")
            self._not_before(at, rel, f"relationship {d['id']!r} began", "at")
        elif type_ == "policy.set":
            import hashlib

            from .policy import Policy

            if hashlib.sha256(d["content"].encode()).hexdigest() != d["sha256"]:
                raise ValidationError("is not the SHA-256 of data.content", path="data.sha256")
            Policy.from_content(d["content"])  # a policy the engine can apply, or a clear error
        elif type_ == "event.voided":
            self._check_void(d["seq"])
        else:
            check = REFERENCE_CHECKS.get(type_)
            if check is not None:
                check(self, type_, at, actor, d)
        return None

    def _check_gates(self, d: dict[str, Any], at: str, actor: str) -> None:
        policy = self.policy_at_key(self.key)
        if not policy.gate_checks(d["decision"]) and d["decision"] != "reinstate":
            return  # nothing to check: no need to read the impact's record
        from . import engine

        self.flush()
        self.index.flush()
        state = self.ledger._impact_state(d["impact"], self.key, conn=self.conn)
        if d["decision"] == "reinstate":
            latest = None
            impact = state.impacts.get(d["impact"])
            for decision in impact.decisions if impact else ():
                if decision.decision in ("suspend", "reinstate"):
                    latest = decision.decision
            if latest != "suspend":
                raise ValidationError(
                    f"impact {d['impact']!r} is not suspended as of {at}: nothing to reinstate",
                    path="data.decision")
        failures = engine.check_gates(state, d["impact"], d, actor=actor, when=parse_at(at),
                                      policy=policy)
        if failures and not d.get("forced") and self.force_reason is not None:
            reason = self.force_reason(d, failures)
            if reason:
                d["forced"] = reason
        if failures and not d.get("forced"):
            codes = [f.code for f in failures]
            detail = "; ".join(f"{f.code}: {f.message}" for f in failures)
            raise GateError(
                f"decision {d['decision']} refused: {detail} (record it anyway with --force REASON)",
                codes,
            )

    # -- voids -------------------------------------------------------------------------------
    def _check_void(self, seq: int) -> None:
        self.flush()
        self.index.flush()
        conn = self.conn
        row = conn.execute("SELECT type, data FROM events WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            raise ValidationError(f"no event with seq {seq}", path="data.seq")
        if conn.execute("SELECT 1 FROM voided WHERE seq = ?", (seq,)).fetchone():
            raise ValidationError(f"event {seq} is voided already", path="data.seq")
        type_, data = row[0], orjson.loads(row[1])
        if type_ == "event.voided":
            raise ValidationError("a void cannot be voided (record the event again)", path="data.seq")
        if type_ == "policy.set":
            raise ValidationError("a policy.set cannot be voided (set the policy again)", path="data.seq")
        live = "seq NOT IN (SELECT seq FROM voided)"
        refs: list[Any] = []
        if type_ == "party.added":
            pid = data["id"]
            refs = conn.execute(
                f"SELECT seq FROM events WHERE type = 'relationship.added' AND {live} AND "
                "(json_extract(data, '$.source') = ? OR json_extract(data, '$.target') = ?) "
                "UNION SELECT e.seq FROM events e, json_each(e.data, '$.with') j "
                f"WHERE e.type = 'step.taken' AND e.{live} AND j.value = ? "
                f"UNION SELECT seq FROM events WHERE subject = ? AND seq != ? AND {live}",
                (pid, pid, pid, "party:" + pid, seq),
            ).fetchall()
        elif type_ == "relationship.added":
            rid = data["id"]
            refs = conn.execute(
                f"SELECT seq FROM events WHERE type = 'impact.opened' AND {live} AND "
                "json_extract(data, '$.relationship') = ? "
                f"UNION SELECT seq FROM events WHERE subject = ? AND seq != ? AND {live}",
                (rid, "relationship:" + rid, seq),
            ).fetchall()
        elif type_ == "impact.opened":
            refs = conn.execute(
                f"SELECT seq FROM events WHERE subject = ? AND seq != ? AND {live}",
                ("impact:" + data["id"], seq),
            ).fetchall()
        elif type_ == "step.taken" and "id" in data:
            refs = conn.execute(
                f"SELECT seq FROM events WHERE type = 'step.outcome' AND {live} AND "
                "json_extract(data, '$.step') = ?", (data["id"],),
            ).fetchall()
        if refs:
            listed = ", ".join(str(r[0]) for r in sorted(refs)[:5])
            raise ValidationError(
                f"voiding event {seq} ({type_}) would leave events {listed} referring to nothing; "
                "void those first", path="data.seq")
        if type_ == "step.taken":
            impact = self.index.get("impact", data["impact"])
            if impact and impact["steps"] == 1 and conn.execute(
                f"SELECT 1 FROM events WHERE subject = ? AND type = 'step.outcome' AND {live}",
                ("impact:" + data["impact"],),
            ).fetchone():
                raise ValidationError(
                    f"voiding event {seq} would leave outcomes of impact {data['impact']!r} "
                    "without any step; void those first", path="data.seq")
        for check in VOID_CHECKS:
            check(self, seq, type_, data)

    # -- the derived index -------------------------------------------------------------------
    def apply(self, seq: int, type_: str, at: str, d: dict[str, Any],
              found: dict[str, Any] | None = None) -> None:
        """Update the index for an event; ``found``: what :meth:`check_references` returned."""
        if type_ in _NO_INDEX_UPDATE:
            return
        idx = self.index
        if type_ == "step.taken":  # (the most frequent first)
            if found is None:
                found = idx.get("impact", d["impact"]) or {}
                idx.put("impact", d["impact"], found)
            else:
                self._impacts_changed.add(d["impact"])  # (idx.touch, inlined)
            i = found
            i["steps"] += 1
            key = self.key
            first = i.get("first_step")
            if first is None or key < first:
                i["first_step"] = key
            if "id" in d:
                idx.put("step", d["id"], {"seq": seq, "key": key, "at": at, "impact": d["impact"]})
        elif type_ == "party.added":
            idx.put("party", d["id"], {"seq": seq, "key": self.key, "at": at, "kind": d["kind"]})
        elif type_ == "party.updated" and "kind" in d:
            p = dict(idx.get("party", d["id"]) or {})
            p["kind"] = d["kind"]
            idx.put("party", d["id"], p)
        elif type_ == "relationship.added":
            idx.put("relationship", d["id"], {
                "seq": seq, "key": self.key, "at": at, "s": d["source"], "t": d["target"],
                "ended": 0, "term": 0})
        elif type_ == "relationship.ended":
            r = dict(idx.get("relationship", d["id"]) or {})
            r["ended"] = 1
            idx.put("relationship", d["id"], r)
        elif type_ == "impact.opened":
            idx.put("impact", d["id"], {
                "seq": seq, "key": self.key, "at": at, "rel": d["relationship"],
                "closed": 0, "steps": 0, "first_step": None})
        elif type_ == "decision.made":
            decision = d["decision"]
            if decision == "close":
                i = dict(idx.get("impact", d["impact"]) or {})
                i["closed"] = 1
                idx.put("impact", d["impact"], i)
            elif decision == "terminate":
                rel_id = (idx.get("impact", d["impact"]) or {})["rel"]
                r = dict(idx.get("relationship", rel_id) or {})
                r["term"] = 1
                idx.put("relationship", rel_id, r)
        elif type_ == "event.voided":
            self._apply_void(seq, d["seq"])
        else:
            apply = INDEX_UPDATES.get(type_)
            if apply is not None:
                apply(self, seq, type_, at, d)

    def _apply_void(self, by_seq: int, seq: int) -> None:
        self.flush()
        conn = self.conn
        conn.execute("INSERT INTO voided (seq, by_seq) VALUES (?, ?)", (seq, by_seq))
        type_, data = conn.execute("SELECT type, data FROM events WHERE seq = ?", (seq,)).fetchone()
        data = orjson.loads(data)
        idx = self.index
        if type_ == "party.added":
            idx.put("party", data["id"], None)
        elif type_ == "relationship.added":
            idx.put("relationship", data["id"], None)
        elif type_ == "impact.opened":
            idx.put("impact", data["id"], None)
        elif type_ == "party.updated" and "kind" in data:
            self._recompute_party(data["id"])
        elif type_ == "relationship.ended":
            r = dict(idx.get("relationship", data["id"]) or {})
            r["ended"] = 0
            idx.put("relationship", data["id"], r)
        elif type_ == "step.taken":
            if "id" in data:
                idx.put("step", data["id"], None)
            self._recompute_impact(data["impact"])
        elif type_ == "decision.made":
            self._recompute_impact(data["impact"])
            if data["decision"] == "terminate":
                rel_id = (idx.get("impact", data["impact"]) or {})["rel"]
                r = dict(idx.get("relationship", rel_id) or {})
                r["term"] = 0
                idx.put("relationship", rel_id, r)
        for update in VOID_UPDATES:
            update(self, by_seq, seq, type_, data)

    def _live_rows(self, subject: str) -> list[tuple[str, str, Any]]:
        return [
            (t, k, orjson.loads(d)) for t, k, d in self.conn.execute(
                "SELECT type, at_key, data FROM events WHERE subject = ? AND seq NOT IN "
                "(SELECT seq FROM voided) ORDER BY seq", (subject,))
        ]

    def _recompute_party(self, pid: str) -> None:
        p = dict(self.index.get("party", pid) or {})
        for _type, _key, d in self._live_rows("party:" + pid):
            if "kind" in d:
                p["kind"] = d["kind"]
        self.index.put("party", pid, p)

    def _recompute_impact(self, iid: str) -> None:
        i = dict(self.index.get("impact", iid) or {})
        i.update(closed=0, steps=0, first_step=None)
        for t, key, d in self._live_rows("impact:" + iid):
            if t == "step.taken":
                i["steps"] += 1
                if i["first_step"] is None or key < i["first_step"]:
                    i["first_step"] = key
            elif t == "decision.made" and d["decision"] == "close":
                i["closed"] = 1
        self.index.put("impact", iid, i)


class Ledger:
    """A ledger on an SQLite store. Use :func:`open_ledger`."""

    def __init__(self, store: Store):
        self.store = store

    @property
    def path(self) -> Path:
        return self.store.path

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------
    def append(self, events: Iterable[dict[str, Any] | Event], *, actor: str | None = None,
               where: Callable[[int], str | None] | None = None,
               progress: Callable[[int], None] | None = None,
               dry_run: bool = False,
               force_reason: Callable[[dict[str, Any], list[Any]], str | None] | None = None,
               bulk: bool = False,
               ) -> list[Event]:
        """Check and write ``events`` in one transaction: all of them or none.

        Events are dicts of the event format (``type``, ``at``, ``actor``, ``data``, and
        optionally the chain fields of an export) or :class:`Event` objects.
        ``actor`` is used for events without one. ``where(n)`` names the n-th event (from 1)
        in error messages, for example ``events.jsonl:3``. ``progress(n)`` is called every
        1,000 events. ``dry_run``: check everything exactly as a write would, then roll back.
        ``force_reason(data, failures)``: called when a decision fails the policy's gates; a
        reason returned records the decision as forced (``data.forced``) instead of refusing
        it (importers use it so that legal sees what was done outside the policy).
        Returns the events written, with their chain fields, when a plugin listens to
        ``event_recorded`` or on a dry run (else an empty list; see :attr:`last_count`).
        ``bulk``: many events (``load`` and importers say so): into a ledger of fewer than
        a few thousand events they are written faster (the table's indexes are built once).
        """
        numbered = ((n, _as_dict(item)) for n, item in enumerate(events, 1))
        return self._write(numbered, actor=actor, where=where, progress=progress,
                           dry_run=dry_run, force_reason=force_reason, bulk=bulk)

    def _write(self, numbered: Iterable[tuple[int, dict[str, Any]]], *, actor: str | None,
               where: Callable[[int], str | None] | None,
               progress: Callable[[int], None] | None = None,
               dry_run: bool = False,
               force_reason: Callable[[dict[str, Any], list[Any]], str | None] | None = None,
               bulk: bool = False) -> list[Event]:
        """:meth:`append` of ``(number, event)`` pairs: ``where`` is given the number."""
        actor = actor or default_actor()
        written: list[Event] = []
        try:
            with self.store.write() as conn, gc_paused():  # (no cycles: see gc_paused)
                writer = _Writer(self, conn, actor=actor, bulk=bulk)
                writer.keep_events = writer.keep_events or dry_run
                writer.force_reason = force_reason
                self._writer = writer
                try:
                    n = 0
                    add = writer.add
                    for n, (number, obj) in enumerate(numbered, 1):
                        add(obj, where, number)
                        if progress is not None and n % 1000 == 0:
                            progress(n)
                    writer.finish()
                    written = writer.written
                    self.last_count = n
                    self.last_head = (writer.head_seq, writer.head_hash)
                finally:
                    self._writer = None
                if dry_run:
                    raise _DryRun
        except _DryRun:
            return written
        self._notify(written)
        return written

    _writer: _Writer | None = None
    last_count = 0
    last_head: tuple[int, str] = (0, ZERO_HASH)

    def _notify(self, events: list[Event]) -> None:
        if not events:
            return
        calls = plugins.hook_calls("event_recorded")
        for event in events:
            for call in calls:
                try:
                    call(event=event, ledger=self)
                except (Exception, SystemExit) as exc:
                    print(f"plugin {call.plugin_name} failed in event_recorded: "
                          f"{exc or type(exc).__name__}", file=sys.stderr)

    def load(self, path: str | os.PathLike[str], *, actor: str | None = None,
             progress: Callable[[int], None] | None = None) -> int:
        """Append every line of a JSON Lines file atomically; returns how many were written."""
        name = str(path)
        self._write(read_lines(path), actor=actor, where=lambda n: f"{name}:{n}",
                    progress=progress, bulk=True)
        return self.last_count

    # -- reading ---------------------------------------------------------------------------
    def count(self) -> int:
        return self.store.count()

    def head(self) -> tuple[int, str]:
        return self.store.head()

    def _conn(self) -> sqlite3.Connection:
        return self._writer.conn if self._writer is not None else self.store.conn

    def voided_seqs(self, known_at: str | None = None) -> set[int]:
        if known_at is None:
            return {r[0] for r in self._conn().execute("SELECT seq FROM voided")}
        return {r[0] for r in self._conn().execute(
            "SELECT v.seq FROM voided v JOIN events e ON e.seq = v.by_seq WHERE e.recorded_at <= ?",
            (known_at,))}

    def first_day(self) -> date | None:
        row = self._conn().execute(
            "SELECT at_key FROM events WHERE type != 'policy.set' ORDER BY at_key LIMIT 1").fetchone()
        if row is None:
            row = self._conn().execute("SELECT at_key FROM events ORDER BY at_key LIMIT 1").fetchone()
        return date.fromisoformat(row[0][:10]) if row else None

    def state(self, as_of: date | None = None, known_at: str | None = None) -> State:
        """The state as of the end of UTC day ``as_of`` (None: everything), as known at
        ``known_at`` (an RFC 3339 UTC time as ``recorded_at`` is written; None: now)."""
        if known_at is not None:
            from .timeutil import parse_known_at

            known_at = parse_known_at(known_at)
        with self.store.read() as conn:
            voided = self.voided_seqs(known_at)
            clauses = []
            params: list[Any] = []
            if as_of is not None:
                clauses.append("at_key < ?")
                params.append(end_of_day_key(as_of))
            if known_at is not None:
                clauses.append("recorded_at <= ?")
                params.append(known_at)
            where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
            cur = conn.execute(
                f"SELECT seq, type, at, actor, data FROM events {where} ORDER BY at_key, seq",
                params)
            rows = (r for r in cur if r[0] not in voided) if voided else cur
            state = fold(rows, as_of=as_of, known_at=known_at)
            if as_of is not None:
                state = self._with_all_policies(state, conn, known_at)
        return state

    def _with_all_policies(self, state: State, conn: sqlite3.Connection,
                           known_at: str | None) -> State:
        """Keep the first policy.set even when dated after ``as_of`` (it governs before it)."""
        if state.policies:
            return state
        params: list[Any] = []
        clause = ""
        if known_at is not None:
            clause = "AND recorded_at <= ?"
            params.append(known_at)
        # (the partial index finds them; ORDER BY at_key would walk the whole time index)
        rows = conn.execute(
            f"SELECT at_key, seq, type, at, actor, data FROM events WHERE type = 'policy.set' "
            f"{clause}", params).fetchall()
        if not rows:
            return state
        row = min(rows)[1:]
        import attrs

        extra = fold([row])
        kept = attrs.evolve(state, policies=extra.policies)
        object.__setattr__(kept, "_latest", getattr(state, "_latest", None))  # (records' bound)
        return kept

    def _impact_state(self, impact_id: str, until_key: str, *,
                      conn: sqlite3.Connection | None = None) -> State:
        """A state holding one impact, its relationship and parties, up to ``until_key``
        inclusive (the decision gates' view of the ledger)."""
        conn = conn or self.store.conn
        voided = self.voided_seqs()
        row = conn.execute("SELECT info FROM entities WHERE kind = 'impact' AND id = ?",
                           (impact_id,)).fetchone()
        subjects = ["impact:" + impact_id]
        if row:
            rel_id = orjson.loads(row[0])["rel"]
            subjects.append("relationship:" + rel_id)
            rel = conn.execute("SELECT info FROM entities WHERE kind = 'relationship' AND id = ?",
                               (rel_id,)).fetchone()
            if rel:
                info = orjson.loads(rel[0])
                subjects += ["party:" + info["s"], "party:" + info["t"]]
        marks = ",".join("?" * len(subjects))
        rows = conn.execute(
            f"SELECT seq, type, at, actor, data, at_key FROM events WHERE subject IN ({marks}) "
            "AND at_key <= ?", [*subjects, until_key]).fetchall()
        rows += conn.execute(
            "SELECT seq, type, at, actor, data, at_key FROM events WHERE type = 'policy.set'"
        ).fetchall()
        rows.sort(key=lambda r: (r[5], r[0]))
        state = fold(r[:5] for r in rows
                     if r[0] not in voided and (r[5] <= until_key or r[1] == "policy.set"))
        return self._keep_first_policy(state, until_key)

    @staticmethod
    def _keep_first_policy(state: State, until_key: str) -> State:
        """Policies dated after ``until_key`` are dropped, except the first one, which also
        governs everything dated before it."""
        import attrs

        policies = [p for p in state.policies if at_key(p.at) <= until_key]
        if not policies and state.policies:
            policies = [state.policies[0]]
        return attrs.evolve(state, policies=tuple(policies))

    def policy_at(self, state: State, when: datetime, *,
                  registries: plugins.Registries | None = None) -> Any:
        """The policy in force at ``when`` with the step kinds plugins registered."""
        from .policy import Policy, default_policy

        record = state.policy_record_at(when)
        policy = Policy.from_content(record.content) if record else default_policy()
        reg = registries or plugins.registries()
        return policy.with_step_kinds(reg.step_rungs())

    def status(self, as_of: date | None = None, known_at: str | None = None, *,
               include_closed: bool = False, explain: bool = False) -> list[Any]:
        """The status of every open impact (DESIGN section 5), as the engine computes it.

        ``explain``: also compute each status's ``reasons`` and ``missing`` (as ``next``).
        """
        from . import engine, projection

        as_of = as_of or now_utc().date()
        # the collector paused throughout: a pass over the transient state costs as much as
        # folding it (the state is freed, by reference counts, before it resumes)
        with engine.gc_paused():
            statuses = None
            if known_at is None and not explain:
                # the stored projection, finished for the date: exactly the replay's answer
                statuses = projection.statuses(self, as_of, plugins.registries())
            if statuses is None:
                state = self.state(as_of=as_of, known_at=known_at)
                reg = plugins.registries()
                statuses = engine.evaluate(state, as_of, step_kinds=reg.step_rungs(),
                                           checks=reg.checks, explain=explain)
                del state
            return [s for s in statuses if include_closed or not s.closed]

    def status_of(self, impact_id: str, as_of: date | None = None,
                  known_at: str | None = None) -> Any:
        """The status of one impact with its reasons and what is missing (``leverage next``)."""
        from . import engine

        as_of = as_of or now_utc().date()
        with engine.gc_paused():  # (see status)
            state = self.state(as_of=as_of, known_at=known_at)
            if impact_id not in state.impacts:
                raise LeverageError(f"unknown impact {impact_id!r}" + (
                    f" as of {as_of}" if impact_id in self.state().impacts else ""))
            reg = plugins.registries()
            found = engine.status_of(state, impact_id, as_of, step_kinds=reg.step_rungs(),
                                     checks=reg.checks, explain=True)
            del state
            return found

    # -- export and verify -----------------------------------------------------------------
    def export(self, out: IO[bytes]) -> int:
        """Write every event as an export line; returns the number written."""
        n = 0
        write = out.write
        with self.store.read():
            for seq, recorded_at, prev, hash_, type_, at, actor, data in self.store.rows():
                write(export_line(seq=seq, recorded_at=recorded_at, prev=prev, hash=hash_,
                                  type=type_, at=at, actor=actor, data_json=data))
                write(b"\n")
                n += 1
        return n

    def iter_events(self, *, subject: str | None = None) -> Iterator[Event]:
        """Every event in seq order (voided ones included), as :class:`Event`."""
        with self.store.read() as conn:
            if subject is None:
                rows: Iterable[tuple[Any, ...]] = self.store.rows()
            else:
                rows = conn.execute(
                    "SELECT seq, recorded_at, prev, hash, type, at, actor, data FROM events "
                    "WHERE subject = ? ORDER BY seq", (subject,))
            for seq, recorded_at, prev, hash_, type_, at, actor, data in rows:
                yield Event(type_, at, actor, orjson.loads(data), seq, recorded_at, prev, hash_)

    def verify(self, expect: str | None = None) -> tuple[int, str]:
        """Check the chain; return (count, head hash) or raise :class:`ChainError`."""
        with self.store.read():
            return verify_rows(
                ((seq, ra, prev, h, t, at, actor, data.encode())
                 for seq, ra, prev, h, t, at, actor, data in self.store.rows()),
                expect=expect)


def verify_rows(rows: Iterable[tuple[int, str, str, str, str, str, str, bytes]], *,
                expect: str | None = None) -> tuple[int, str]:
    """Check seq continuity, prev links and hashes; ``data`` is canonical JSON bytes."""
    prev_hash = ZERO_HASH
    n = 0
    seen_expected = expect is None
    for seq, recorded_at, prev, hash_, type_, at, actor, data in rows:
        n += 1
        if seq != n:
            raise ChainError(f"bad seq {n}: found seq {seq} where {n} was expected "
                             "(an event deleted, inserted or reordered)", n)
        if prev != prev_hash:
            raise ChainError(f"bad seq {seq}: prev does not match the previous event's hash", seq)
        digest = event_hash(seq=seq, recorded_at=recorded_at, prev=prev, type=type_, at=at,
                            actor=actor, data_json=data)
        if digest != hash_:
            raise ChainError(f"bad seq {seq}: hash does not match the event (altered)", seq)
        prev_hash = hash_
        if not seen_expected and hash_ == expect:
            seen_expected = True
    if not seen_expected:
        raise ChainError(f"the expected head {expect} is not in the chain (rewritten?)")
    return n, prev_hash


def verify_file(path: str | os.PathLike[str], *, expect: str | None = None) -> tuple[int, str]:
    """Verify an export file."""
    name = str(path)

    def rows() -> Iterator[tuple[int, str, str, str, str, str, str, bytes]]:
        for lineno, obj in read_lines(path):
            try:
                check_line(obj)
            except ValidationError as exc:
                raise exc.located(f"{name}:{lineno}") from None
            if "hash" not in obj:
                raise ChainError(f"{name}:{lineno}: not an export line (no chain fields)")
            yield (obj["seq"], obj["recorded_at"], obj["prev"], obj["hash"], obj["type"],
                   obj["at"], obj.get("actor", ""), canonical(obj["data"]))

    return verify_rows(rows(), expect=expect)


def read_lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, Any]]:
    """Stream ``(line number, parsed JSON)`` from a JSON Lines file, refusing what is not."""
    name = str(path)
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise LeverageError(f"{name}: cannot read: {exc.strerror}") from None
    loads = orjson.loads
    any_line = False
    with fh:
        for lineno, raw in enumerate(fh, 1):
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if raw.isspace() or not raw:
                continue
            if b"\x00" in raw:
                raise LeverageError(f"{name}:{lineno}: binary data, not JSON Lines")
            try:
                obj = loads(raw)
            except orjson.JSONDecodeError as exc:
                reason = str(exc).split(":")[0]
                if lineno == 1 and (raw[:2] == b"PK" or raw[:4] == b"%PDF"):
                    reason = "binary data, not JSON Lines"
                raise LeverageError(f"{name}:{lineno}: invalid JSON: {reason}") from None
            any_line = True
            yield lineno, obj
    if not any_line:
        raise LeverageError(f"{name}: empty file: no events")


def _batched(cur: sqlite3.Cursor, size: int = 20000) -> Iterator[tuple[Any, ...]]:
    while True:
        chunk = cur.fetchmany(size)
        if not chunk:
            return
        yield from chunk


def _as_dict(item: dict[str, Any] | Event) -> dict[str, Any]:
    if isinstance(item, Event):
        out: dict[str, Any] = {"type": item.type, "at": item.at, "actor": item.actor,
                               "data": item.data}
        if item.hash is not None:
            out.update(seq=item.seq, recorded_at=item.recorded_at, prev=item.prev, hash=item.hash)
        return out
    return item


def default_actor() -> str:
    """``LEVERAGE_ACTOR``, else the operating-system user."""
    actor = os.environ.get("LEVERAGE_ACTOR")
    if actor:
        return actor
    try:
        import getpass

        return getpass.getuser()
    except Exception:
        return "unknown"


# Core event types beyond DESIGN section 3 register their checks, index updates and state
# handlers on import; importing them here makes every ledger, CLI or API, know them.
from . import grievances as _grievances  # noqa: E402,F401
