"""The state derived from the event log as of a date and as known at a moment.

Events are folded in business-time order (``at``, then ``seq``). ``as_of`` keeps the events
whose ``at`` falls on or before that UTC day; ``known_at`` keeps the events recorded at or
before that moment. A void applies whatever its own ``at`` (a mistake was always a mistake),
but only from the moment it was recorded.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

import orjson

from .model import (
    Assessment,
    Decision,
    Impact,
    Outcome,
    Party,
    PolicyRecord,
    Reassessment,
    Relationship,
    Severity,
    State,
    Step,
)
from .timeutil import parse_at, parse_date

_PARTY_KEYS = ("name", "kind", "country", "sector", "external_ids")
_REL_KEYS = ("type", "crucial", "leverage", "since", "contract")

Row = tuple[int, str, str, str, Any]  # seq, type, at, actor, data (dict or JSON text)


class StateBuilder:
    """Folds events (already filtered and in business-time order) into a :class:`State`."""

    def __init__(self) -> None:
        self.parties: dict[str, dict[str, Any]] = {}
        self.relationships: dict[str, dict[str, Any]] = {}
        self.impacts: dict[str, dict[str, Any]] = {}
        self.policies: list[PolicyRecord] = []
        self.head_seq = 0
        #: projections of event types added by core modules (e.g. "grievances"); frozen
        #: into ``State.extra`` by ``build`` through ``FINISHERS``
        self.extra: dict[str, Any] = {}
        #: ``at`` -> its instant, for this fold (most ``at`` values repeat or are unique;
        #: ``parse_at``'s bounded cache misses on large ledgers); deadlines -> dates
        self._whens: dict[str, datetime] = {}
        self._dates: dict[str, date] = {}
        #: a handler of a type core modules added ran (it may keep instants of its own)
        self._foreign = False

    def when(self, at: str) -> datetime:
        """``parse_at(at)`` (the same value), memoised for this fold."""
        found = self._whens.get(at)
        if found is None:
            found = self._whens[at] = _parse_stored_at(at)
        return found

    def apply(self, seq: int, type_: str, at: str, actor: str, data: dict[str, Any]) -> None:
        if seq > self.head_seq:
            self.head_seq = seq
        handler = _HANDLERS.get(type_)
        if handler is not None:
            if type_ not in _CORE_TYPES:
                self._foreign = True
            handler(self, seq, at, actor, data)

    def build(self, *, as_of: date | None = None, known_at: str | None = None) -> State:
        parties = {pid: Party(**p) for pid, p in self.parties.items()}
        relationships = {rid: Relationship(**r) for rid, r in self.relationships.items()}
        impacts = {}
        for iid, i in self.impacts.items():
            impacts[iid] = Impact(
                id=iid, relationship=i["relationship"], rights=i["rights"], summary=i["summary"],
                severity=i["severity"], likelihood=i["likelihood"], involvement=i["involvement"],
                status=i["status"], affected=i["affected"], attributes=i["attributes"],
                opened_at=i["opened_at"], opened_when=i["opened_when"], opened_by=i["opened_by"],
                seq=i["seq"], assessments_of_severity=tuple(i["history"]),
                steps=tuple(i["steps"]), outcomes=tuple(i["outcomes"]),
                assessments=tuple(i["assessments"]), decisions=tuple(i["decisions"]),
            )
        policies = tuple(sorted(self.policies, key=lambda p: (p.when, p.seq)))
        extra = {name: FINISHERS[name](value) if name in FINISHERS else value
                 for name, value in self.extra.items()}
        state = State(
            as_of=as_of, known_at=known_at, parties=parties, relationships=relationships,
            impacts=impacts, policies=policies, head_seq=self.head_seq, extra=extra,
        )
        if self._whens and not self._foreign:
            # every record's instant went through self.when: none is later than this
            object.__setattr__(state, "_latest", max(self._whens.values()))
        return state


_DAY_AT = re.compile(r"\d{4}-\d{2}-\d{2}\Z", re.ASCII)
_UTC_SECOND_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\Z", re.ASCII)


def _parse_stored_at(at: str) -> datetime:
    """``parse_at(at)`` with fast paths for the two shapes most ``at`` values have (a date,
    a UTC date-time to the second with ``Z``); anything else goes through ``parse_at``."""
    try:
        n = len(at)
        if n == 10:
            if _DAY_AT.match(at):
                return datetime(int(at[:4]), int(at[5:7]), int(at[8:]), tzinfo=UTC)
        elif n == 20 and _UTC_SECOND_AT.match(at):
            moment = datetime.fromisoformat(at)
            if moment.tzinfo is UTC:
                return moment
    except (ValueError, TypeError):
        pass
    return parse_at(at)


#: Severity values are immutable: one object per (scale, scope, irremediability).
_SEVERITIES: dict[tuple[int, int, int], Severity] = {}


def _attrs(data: dict[str, Any]) -> dict[str, Any]:
    return data.get("attributes") or {}


def _policy_set(b: StateBuilder, seq: int, at: str, actor: str, d: dict[str, Any]) -> None:
    b.policies.append(PolicyRecord(seq, at, b.when(at), actor, d["name"], d["sha256"], d["content"]))


def _party_added(b: StateBuilder, seq: int, at: str, actor: str, d: dict[str, Any]) -> None:
    b.parties[d["id"]] = {
        "id": d["id"], "name": d["name"], "kind": d["kind"], "country": d.get("country"),
        "sector": d.get("sector"), "external_ids": d.get("external_ids") or {},
        "attributes": _attrs(d), "added_at": at, "seq": seq,
    }  # (nested dicts are replaced below, never changed in place: Party copies them)


def _party_updated(b: StateBuilder, seq: int, at: str, actor: str, d: dict[str, Any]) -> None:
    p = b.parties.get(d["id"])
    if p is None:  # updated before it was added in business time: nothing to update yet
        return
    for key in _PARTY_KEYS:
        if key in d:
            p[key] = d[key]
    if "attributes" in d:
        p["attributes"] = {**p["attributes"], **d["attributes"]}


def _rel_added(b: StateBuilder, seq: int, at: str, actor: str, d: dict[str, Any]) -> None:
    b.relationships[d["id"]] = {
        "id": d["id"], "source": d["source"], "target": d["target"], "type": d["type"],
        "crucial": d.get("crucial", False), "leverage": d.get("leverage"),
        "since": d.get("since"), "contract": d.get("contract"),
        "attributes": _attrs(d), "added_at": at, "seq": seq,
        "ended_at": None, "ended_reason": None,
    }


def _rel_updated(b: StateBuilder, seq: int, at: str, actor: str, d: dict[str, Any]) -> None:
    r = b.relationships.get(d["id"])
    if r is None:
        return
    for key in _REL_KEYS:
        if key in d:
            r[key] = d[key]
    if "attributes" in d:
        r["attributes"] = {**r["attributes"], **d["attributes"]}


def _rel_ended(b: StateBuilder, seq: int, at: str, actor: str, d: dict[str, Any]) -> None:
    r = b.relationships.get(d["id"])
    if r is not None and r["ended_at"] is None:
        r["ended_at"] = at
        r["ended_reason"] = d["reason"]


def _severity(d: dict[str, Any]) -> Severity:
    key = (d["scale"], d["scope"], d["irremediability"])
    found = _SEVERITIES.get(key)
    if found is None:
        found = Severity(*key)
        if type(key[0]) is int and type(key[1]) is int and type(key[2]) is int:
            _SEVERITIES[key] = found
    return found


def _impact_opened(b: StateBuilder, seq: int, at: str, actor: str, d: dict[str, Any]) -> None:
    when = b.when(at)
    severity = _severity(d["severity"])
    rights = tuple(d["rights"])
    status = d.get("status", "actual")
    likelihood = d.get("likelihood")
    b.impacts[d["id"]] = {
        "relationship": d["relationship"], "rights": rights, "summary": d["summary"],
        "severity": severity, "likelihood": likelihood,
        "involvement": d.get("involvement", "linked"), "status": status,
        "affected": tuple(d.get("affected") or ()), "attributes": dict(_attrs(d)),
        "opened_at": at, "opened_when": when, "opened_by": actor, "seq": seq,
        "history": [Reassessment(seq, at, when, actor, d["summary"], severity, likelihood,
                                 status, rights)],
        "steps": [], "outcomes": [], "assessments": [], "decisions": [],
    }


def _impact_reassessed(b: StateBuilder, seq: int, at: str, actor: str, d: dict[str, Any]) -> None:
    i = b.impacts.get(d["id"])
    if i is None:
        return
    if "severity" in d:
        i["severity"] = _severity(d["severity"])
    for key in ("likelihood", "status"):
        if key in d:
            i[key] = d[key]
    if "rights" in d:
        i["rights"] = tuple(d["rights"])
    i["summary"] = d["summary"]
    i["history"].append(Reassessment(seq, at, b.when(at), actor, d["summary"], i["severity"],
                                     i["likelihood"], i["status"], i["rights"]))


def _step(b: StateBuilder, seq: int, at: str, actor: str, d: dict[str, Any]) -> None:
    i = b.impacts.get(d["impact"])
    if i is None:
        return
    deadline = d.get("deadline")
    day = None
    if deadline:
        day = b._dates.get(deadline)
        if day is None:
            day = b._dates[deadline] = parse_date(deadline)
    i["steps"].append(Step(
        seq, at, b._whens.get(at) or b.when(at), actor, d["kind"], d["summary"], d.get("id"),
        day, tuple(d.get("with") or ()), tuple(d.get("policy_refs") or ()),
        d.get("attributes") or {},
    ))


def _outcome(b: StateBuilder, seq: int, at: str, actor: str, d: dict[str, Any]) -> None:
    i = b.impacts.get(d["impact"])
    if i is None:
        return
    i["outcomes"].append(Outcome(seq, at, b._whens.get(at) or b.when(at), actor, d["outcome"],
                                 d["summary"], d.get("step"), d.get("attributes") or {}))


def _assessment(b: StateBuilder, seq: int, at: str, actor: str, d: dict[str, Any]) -> None:
    i = b.impacts.get(d["impact"])
    if i is None:
        return
    i["assessments"].append(Assessment(
        seq, at, b.when(at), actor, d["kind"], d["conclusion"], d["summary"],
        tuple(d.get("experts") or ()), d.get("findings") or {}, _attrs(d),
    ))


def _decision(b: StateBuilder, seq: int, at: str, actor: str, d: dict[str, Any]) -> None:
    i = b.impacts.get(d["impact"])
    if i is None:
        return
    i["decisions"].append(Decision(
        seq, at, b.when(at), actor, d["decision"], d["rationale"], tuple(d["policy_refs"]),
        d.get("approved_by"), d.get("forced"), _attrs(d),
    ))


_HANDLERS = {
    "policy.set": _policy_set,
    "party.added": _party_added,
    "party.updated": _party_updated,
    "relationship.added": _rel_added,
    "relationship.updated": _rel_updated,
    "relationship.ended": _rel_ended,
    "impact.opened": _impact_opened,
    "impact.reassessed": _impact_reassessed,
    "step.taken": _step,
    "step.outcome": _outcome,
    "assessment.recorded": _assessment,
    "decision.made": _decision,
}


#: How ``StateBuilder.extra`` entries become ``State.extra`` values, by name.
FINISHERS: dict[str, Any] = {}


def register_handler(event_type: str, handler: Any) -> None:
    """Fold events of a type added by a core module: ``handler(builder, seq, at, actor,
    data)``; keep what it builds in ``builder.extra`` (and register a finisher)."""
    _HANDLERS[event_type] = handler


#: The event types folded by this module's own handlers (the rest: core modules').
_CORE_TYPES = frozenset(_HANDLERS)


def fold(rows: Iterable[Row], *, as_of: date | None = None, known_at: str | None = None) -> State:
    """Build a state from rows ``(seq, type, at, actor, data)`` in business-time order.

    The cyclic garbage collector is paused meanwhile: the fold makes millions of objects
    and no cycles, and the collector's passes over them cost a third of the time.
    """
    builder = StateBuilder()
    loads = orjson.loads
    handlers = _HANDLERS
    core = _CORE_TYPES
    extended = len(handlers) > len(core)
    head = 0
    paused = gc.isenabled()
    gc.disable()
    try:
        for seq, type_, at, actor, data in rows:
            if seq > head:
                head = seq
            handler = handlers.get(type_)
            if handler is None:
                continue
            if type(data) is not dict:
                data = loads(data)
            if extended and type_ not in core:
                builder._foreign = True
            handler(builder, seq, at, actor, data)
        if head > builder.head_seq:
            builder.head_seq = head
        return builder.build(as_of=as_of, known_at=known_at)
    finally:
        if paused:
            gc.enable()
