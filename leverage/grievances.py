"""Grievances and appeals: three event types of the core, their checks, their projection into
the state and the findings they give (UNGP 29 and 31, CSDDD Art. 14, Santa Clara Principles).

- ``grievance.filed``: a complaint, an appeal or a concern, received through a channel,
  about an impact, a relationship, a party, a decision (an appeal), or nothing in particular
  (a general complaint or concern: a grievance need not allege an abuse to be filed).
- ``grievance.acknowledged``: the receipt was confirmed to whoever filed it.
- ``grievance.resolved``: the outcome (``upheld``, ``partly-upheld``, ``not-upheld``,
  ``withdrawn``), with the remedy given.

Importing this module registers the event types (:func:`leverage.events.register_event_type`),
their reference checks and index updates (:data:`leverage.ledger.REFERENCE_CHECKS`,
:data:`leverage.ledger.INDEX_UPDATES`) and their state handlers
(:func:`leverage.state.register_handler`); ``leverage.core`` imports it, so every write
path (the CLI, ``load``, importers, ``Ledger.append``) knows them. The findings
``grievance-unacknowledged``, ``grievance-overdue`` and ``appeal-upheld`` reach an impact's
status through :func:`check`, which the core registers with ``register_checks``. The time
frames and the wording come from the policy (``[grievances]`` and ``findings.*``); a policy
stored before they existed uses the default profile's. See ``docs/grievances.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import attrs
import orjson

from .errors import GateError, ValidationError
from .events import Spec, boolean, one_of, positive_int, register_event_type, slug, text
from .ledger import INDEX_UPDATES, REFERENCE_CHECKS
from .state import FINISHERS, register_handler
from .timeutil import parse_at

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Finding
    from .model import Decision, Impact, State
    from .policy import Policy

__all__ = [
    "GRIEVANCE_KINDS",
    "GRIEVANCE_OUTCOMES",
    "Acknowledgement",
    "Grievance",
    "GrievanceView",
    "Grievances",
    "Resolution",
    "as_mapping",
    "check",
    "check_void",
    "apply_void",
    "grievances_of",
    "policy_at",
    "view",
]

from .vocab import GRIEVANCE_KINDS, GRIEVANCE_OUTCOMES  # noqa: E402

#: what a grievance may be about (at most one of them; ``decision`` only for an appeal)
TARGETS = ("impact", "relationship", "party", "decision")

FILED = "grievance.filed"
ACKNOWLEDGED = "grievance.acknowledged"
RESOLVED = "grievance.resolved"
EVENT_TYPES = (FILED, ACKNOWLEDGED, RESOLVED)


# -- the event format ---------------------------------------------------------------------------

SPECS: dict[str, Spec] = {
    FILED: Spec(
        {"id": slug, "kind": one_of(GRIEVANCE_KINDS), "summary": text, "channel": text},
        {"filed_by": text, "confidential": boolean, "impact": slug, "relationship": slug,
         "party": slug, "decision": positive_int},
    ),
    ACKNOWLEDGED: Spec({"id": slug}, {"summary": text}),
    RESOLVED: Spec(
        {"id": slug, "outcome": one_of(GRIEVANCE_OUTCOMES), "summary": text}, {"remedy": text},
    ),
}


def _subject(data: dict[str, Any]) -> str:
    return "grievance:" + data["id"]


# -- reference checks (the write path) ------------------------------------------------------------
# ``w`` is the ledger's write transaction (leverage.ledger._Writer): its index holds one entry
# of kind "grievance" per filed grievance, with the seq, ordering key and date of its filing,
# acknowledgement and resolution.

def _voided(w: Any, seq: int | None) -> bool:
    if seq is None:
        return False
    return w.conn.execute("SELECT 1 FROM voided WHERE seq = ?", (seq,)).fetchone() is not None


def _entry(w: Any, gid: str) -> dict[str, Any] | None:
    """The index entry of a live grievance (None if never filed or its filing is voided), its
    acknowledgement and resolution cleared if those are voided."""
    found = w.index.get("grievance", gid)
    if found is None or _voided(w, found["seq"]):
        return None
    entry = dict(found)
    for stage in ("ack", "resolved"):
        if _voided(w, entry.get(stage)):
            entry[stage] = entry[stage + "_key"] = entry[stage + "_at"] = None
    return entry


def _need_grievance(w: Any, gid: str) -> dict[str, Any]:
    entry = _entry(w, gid)
    if entry is None:
        raise ValidationError(f"unknown grievance {gid!r}", path="data.id")
    return entry


def _decision_row(w: Any, seq: int, *, live: bool = True) -> dict[str, Any]:
    """The ``decision.made`` with this seq (``live``: not voided): ``{key, at, actor, data}``."""
    w.flush()  # the decision may be in this very write, not yet in the table
    row = w.conn.execute("SELECT type, at, at_key, actor, data FROM events WHERE seq = ?",
                         (seq,)).fetchone()
    if row is None:
        raise ValidationError(f"no event with seq {seq}: an appeal names the seq of the decision.made "
                              "it appeals", path="data.decision")
    type_, at, key, actor, data = row
    if type_ != "decision.made":
        raise ValidationError(f"event {seq} is a {type_}, not a decision.made: only a decision can be "
                              "appealed", path="data.decision")
    if live and _voided(w, seq):
        raise ValidationError(f"decision {seq} is voided: there is nothing to appeal", path="data.decision")
    return {"key": key, "at": at, "actor": actor, "data": orjson.loads(data)}


def _same_person(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip().casefold() == b.strip().casefold()


def _check_filed(w: Any, type_: str, at: str, actor: str, d: dict[str, Any]) -> None:
    gid = d["id"]
    if _entry(w, gid) is not None:
        raise ValidationError(f"grievance {gid!r} exists already", path="data.id")
    targets = [t for t in TARGETS if t in d]
    if len(targets) > 1:
        raise ValidationError(
            f"a grievance is about at most one of impact, relationship, party and decision, not "
            f"{' and '.join(targets)}", path=f"data.{targets[1]}")
    kind = d["kind"]
    if kind == "appeal" and "decision" not in d:
        raise ValidationError("an appeal names the decision it appeals: the seq of its decision.made",
                              path="data.decision")
    if kind != "appeal" and "decision" in d:
        raise ValidationError(f"only an appeal names a decision (this grievance is a {kind})",
                              path="data.decision")
    if "impact" in d:
        impact = w._need("impact", d["impact"], "data.impact")
        w._not_before(at, impact, f"impact {d['impact']!r} was opened", "at")
    elif "relationship" in d:
        rel = w._need("relationship", d["relationship"], "data.relationship")
        w._not_before(at, rel, f"relationship {d['relationship']!r} was added", "at")
    elif "party" in d:
        party = w._need("party", d["party"], "data.party")
        w._not_before(at, party, f"party {d['party']!r} was added", "at")
    elif "decision" in d:
        decision = _decision_row(w, d["decision"])
        w._not_before(at, decision, f"the decision it appeals (seq {d['decision']}) was made", "at")


def _check_acknowledged(w: Any, type_: str, at: str, actor: str, d: dict[str, Any]) -> None:
    gid = d["id"]
    entry = _need_grievance(w, gid)
    w._not_before(at, entry, f"grievance {gid!r} was filed", "at")
    if entry["ack"] is not None:
        raise ValidationError(f"grievance {gid!r} is acknowledged already ({entry['ack_at']})", path="data.id")
    if entry["resolved"] is not None and w.key > entry["resolved_key"]:
        raise ValidationError(
            f"grievance {gid!r} was resolved on {entry['resolved_at']}: an acknowledgement comes before "
            "the resolution", path="data.id")


def _check_resolved(w: Any, type_: str, at: str, actor: str, d: dict[str, Any]) -> None:
    gid = d["id"]
    entry = _need_grievance(w, gid)
    w._not_before(at, entry, f"grievance {gid!r} was filed", "at")
    if entry["resolved"] is not None:
        raise ValidationError(f"grievance {gid!r} is resolved already ({entry['resolved_at']})", path="data.id")
    if entry["ack"] is not None:
        w._not_before(at, {"key": entry["ack_key"], "at": entry["ack_at"]},
                      f"grievance {gid!r} was acknowledged", "at")
    if entry["kind"] == "appeal" and d["outcome"] != "withdrawn" and entry.get("decision") is not None:
        decision = _decision_row(w, entry["decision"], live=False)
        made_by = decision["actor"]
        approved_by = decision["data"].get("approved_by")
        if _same_person(actor, made_by) or _same_person(actor, approved_by):
            policy = w.policy_at_key(w.key)  # in force at the event being written
            finding = _finding(policy, "reviewer-not-independent", grievance=gid,
                               decision=decision["data"]["decision"],
                               date=parse_at(decision["at"]).date().isoformat())
            raise GateError(f"grievance resolution refused: reviewer-not-independent: {finding.message}",
                            ["reviewer-not-independent"])


def _index_filed(w: Any, seq: int, type_: str, at: str, d: dict[str, Any]) -> None:
    w.index.put("grievance", d["id"], {
        "seq": seq, "key": w.key, "at": at, "kind": d["kind"], "decision": d.get("decision"),
        "ack": None, "ack_key": None, "ack_at": None,
        "resolved": None, "resolved_key": None, "resolved_at": None,
    })


def _index_stage(stage: str) -> Any:
    def update(w: Any, seq: int, type_: str, at: str, d: dict[str, Any]) -> None:
        entry = dict(w.index.get("grievance", d["id"]) or {})
        if not entry:
            return
        entry[stage], entry[stage + "_key"], entry[stage + "_at"] = seq, w.key, at
        w.index.put("grievance", d["id"], entry)

    return update


# -- voids ----------------------------------------------------------------------------------------
# The ledger's own void checks know the core's types only. These two functions are written for
# the hooks ``VOID_CHECKS`` / ``VOID_UPDATES`` proposed for leverage/ledger.py (see
# docs/grievances.md, "Voiding"); they are registered when the ledger offers them.

_LIVE = "seq NOT IN (SELECT seq FROM voided)"
_REFERRED_BY_FIELD = {"impact.opened": "impact", "relationship.added": "relationship", "party.added": "party"}


def check_void(w: Any, seq: int, type_: str, data: dict[str, Any]) -> None:
    """Refuse voiding event ``seq`` when a live grievance event would be left referring to
    nothing: a filing with a later acknowledgement or resolution, or the impact,
    relationship, party or decision a live grievance is about."""
    refs: list[Any] = []
    if type_ == FILED:
        refs = w.conn.execute(f"SELECT seq FROM events WHERE subject = ? AND seq != ? AND {_LIVE}",
                              (_subject(data), seq)).fetchall()
    elif type_ in _REFERRED_BY_FIELD:
        field = _REFERRED_BY_FIELD[type_]
        refs = w.conn.execute(
            f"SELECT seq FROM events WHERE type = '{FILED}' AND {_LIVE} AND "
            f"json_extract(data, '$.{field}') = ?", (data["id"],)).fetchall()
    elif type_ == "decision.made":
        refs = w.conn.execute(
            f"SELECT seq FROM events WHERE type = '{FILED}' AND {_LIVE} AND "
            "json_extract(data, '$.decision') = ?", (seq,)).fetchall()
    if refs:
        listed = ", ".join(str(r[0]) for r in sorted(refs)[:5])
        raise ValidationError(
            f"voiding event {seq} ({type_}) would leave events {listed} referring to nothing; "
            "void those first", path="data.seq")


def apply_void(w: Any, by_seq: int, seq: int, type_: str, data: dict[str, Any]) -> None:
    """Keep the writer's grievance index in step when event ``seq`` is voided."""
    if type_ == FILED:
        w.index.put("grievance", data["id"], None)
    elif type_ in (ACKNOWLEDGED, RESOLVED):
        stage = "ack" if type_ == ACKNOWLEDGED else "resolved"
        entry = dict(w.index.get("grievance", data["id"]) or {})
        if entry and entry.get(stage) == seq:
            entry[stage] = entry[stage + "_key"] = entry[stage + "_at"] = None
            w.index.put("grievance", data["id"], entry)


# -- the projection into the state -------------------------------------------------------------

@attrs.frozen
class Acknowledgement:
    seq: int
    at: str
    when: datetime
    actor: str
    summary: str | None = None


@attrs.frozen
class Resolution:
    seq: int
    at: str
    when: datetime
    actor: str
    outcome: str
    summary: str
    remedy: str | None = None


@attrs.frozen
class Grievance:
    """A grievance as filed, with its acknowledgement and resolution if any."""

    id: str
    kind: str
    summary: str
    channel: str
    filed_at: str
    when: datetime
    seq: int
    #: who recorded the filing (not who filed it: that is ``filed_by``)
    actor: str
    filed_by: str | None = None
    confidential: bool = False
    impact: str | None = None
    relationship: str | None = None
    party: str | None = None
    #: the seq of the decision.made an appeal is against
    decision: int | None = None
    attributes: dict[str, Any] = attrs.field(factory=dict)
    acknowledgement: Acknowledgement | None = None
    resolution: Resolution | None = None

    @property
    def about(self) -> str:
        """``impact``, ``relationship``, ``party``, ``decision`` or ``general``."""
        for target in TARGETS:
            if getattr(self, target) is not None:
                return target
        return "general"


@attrs.frozen
class Grievances:
    """Every grievance of a state, by id, with the indexes checks need."""

    items: dict[str, Grievance] = attrs.field(factory=dict)
    #: impact id -> ids of the grievances filed about that impact
    by_impact: dict[str, tuple[str, ...]] = attrs.field(factory=dict)
    #: decision seq -> ids of the appeals against it
    by_decision: dict[int, tuple[str, ...]] = attrs.field(factory=dict)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Grievance]:
        return iter(sorted(self.items.values(), key=lambda g: (g.when, g.seq)))

    def get(self, gid: str) -> Grievance | None:
        return self.items.get(gid)


_EMPTY = Grievances()


def _fold_filed(b: Any, seq: int, at: str, actor: str, d: dict[str, Any]) -> None:
    b.extra.setdefault("grievances", {})[d["id"]] = {
        "id": d["id"], "kind": d["kind"], "summary": d["summary"], "channel": d["channel"],
        "filed_at": at, "when": parse_at(at), "seq": seq, "actor": actor,
        "filed_by": d.get("filed_by"), "confidential": d.get("confidential", False),
        "impact": d.get("impact"), "relationship": d.get("relationship"), "party": d.get("party"),
        "decision": d.get("decision"), "attributes": dict(d.get("attributes") or {}),
        "acknowledgement": None, "resolution": None,
    }


def _live_filing(b: Any, gid: str, seq: int) -> dict[str, Any] | None:
    g = b.extra.get("grievances", {}).get(gid)
    # an acknowledgement or resolution is always recorded after the filing it refers to: one
    # with a smaller seq belongs to an earlier, voided filing of the same id
    return g if g is not None and g["seq"] < seq else None


def _fold_acknowledged(b: Any, seq: int, at: str, actor: str, d: dict[str, Any]) -> None:
    g = _live_filing(b, d["id"], seq)
    if g is not None and g["acknowledgement"] is None:
        g["acknowledgement"] = Acknowledgement(seq, at, parse_at(at), actor, d.get("summary"))


def _fold_resolved(b: Any, seq: int, at: str, actor: str, d: dict[str, Any]) -> None:
    g = _live_filing(b, d["id"], seq)
    if g is not None and g["resolution"] is None:
        g["resolution"] = Resolution(seq, at, parse_at(at), actor, d["outcome"], d["summary"], d.get("remedy"))


def _finish(raw: dict[str, dict[str, Any]]) -> Grievances:
    items = {gid: Grievance(**g) for gid, g in raw.items()}
    by_impact: dict[str, list[str]] = {}
    by_decision: dict[int, list[str]] = {}
    for g in sorted(items.values(), key=lambda g: (g.when, g.seq)):
        if g.impact is not None:
            by_impact.setdefault(g.impact, []).append(g.id)
        if g.decision is not None:
            by_decision.setdefault(g.decision, []).append(g.id)
    return Grievances(items, {k: tuple(v) for k, v in by_impact.items()},
                      {k: tuple(v) for k, v in by_decision.items()})


def grievances_of(state: State) -> Grievances:
    """The grievances of a state (empty when there are none)."""
    found = state.extra.get("grievances")
    return found if isinstance(found, Grievances) else _EMPTY


# -- time frames and findings -------------------------------------------------------------------

def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), UTC)


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _days_text(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def policy_at(state: State, when: datetime) -> Policy:
    """The policy in force at ``when`` (the first one governs before it; else the default)."""
    from .policy import Policy, default_policy

    record = state.policy_record_at(when)
    return Policy.from_content(record.content) if record is not None else default_policy()


def _finding(policy: Policy, code: str, variant: str = "message", **kw: Any) -> Finding:
    """A finding worded by ``policy``, or by the default profile when the policy does not word
    the grievance findings (a policy stored before they existed)."""
    from .engine import Finding
    from .policy import PolicyError, default_policy

    try:
        return Finding(code, policy.message(code, variant, **kw), policy.source(code))
    except PolicyError:
        policy = default_policy()
        return Finding(code, policy.message(code, variant, **kw), policy.source(code))


def decisions_by_seq(state: State) -> dict[int, tuple[str, Decision]]:
    """Every decision of the state: seq -> (impact id, decision)."""
    return {d.seq: (impact.id, d) for impact in state.impacts.values() for d in impact.decisions}


@attrs.frozen
class GrievanceView:
    """A grievance as of a day: its stage, its time frames and its findings."""

    grievance: Grievance
    as_of: date
    #: ``open`` (not acknowledged), ``acknowledged`` or ``resolved``, as of the day
    status: str
    acknowledgement: Acknowledgement | None
    resolution: Resolution | None
    acknowledge_by: date
    resolve_by: date
    #: the impact it concerns: the one it is about, or the one whose decision it appeals
    impact: str | None
    #: for an appeal: the decision appealed (None if it is not in the state)
    appealed: Decision | None
    findings: tuple[Finding, ...]

    @property
    def overdue(self) -> bool:
        return any(f.code in ("grievance-unacknowledged", "grievance-overdue") for f in self.findings)


def view(grievance: Grievance, as_of: date, policy: Policy,
         appealed: tuple[str, Decision] | None = None) -> GrievanceView | None:
    """The grievance as of the end of ``as_of`` under ``policy`` (None if filed later).

    ``appealed`` is ``(impact id, decision)`` of the decision an appeal is against.
    """
    cutoff = _end_of(as_of)
    if grievance.when >= cutoff:
        return None
    ack = grievance.acknowledgement
    ack = ack if ack is not None and ack.when < cutoff else None
    res = grievance.resolution
    res = res if res is not None and res.when < cutoff else None
    times = policy.grievances
    filed = _day(grievance.when)
    decision = appealed[1] if appealed is not None else None
    appealed_type = decision.decision if decision is not None else None
    acknowledge_by = filed + timedelta(days=times.acknowledge)
    resolve_days = times.resolve_days(appealed_type)
    resolve_by = filed + timedelta(days=resolve_days)
    findings: list[Finding] = []
    if res is None and ack is None and as_of > acknowledge_by:
        findings.append(_finding(
            policy, "grievance-unacknowledged", grievance=grievance.id, kind=grievance.kind,
            filed=filed.isoformat(), days=_days_text(times.acknowledge), due=acknowledge_by.isoformat(),
            late=_days_text((as_of - acknowledge_by).days)))
    if res is None and as_of > resolve_by:
        common = {"grievance": grievance.id, "filed": filed.isoformat(), "days": _days_text(resolve_days),
                  "due": resolve_by.isoformat(), "late": _days_text((as_of - resolve_by).days)}
        if appealed_type is not None and appealed_type in times.appeal_decisions:
            findings.append(_finding(policy, "grievance-overdue", "appeal", decision=appealed_type, **common))
        else:
            findings.append(_finding(policy, "grievance-overdue", kind=grievance.kind, **common))
    status = "resolved" if res is not None else "acknowledged" if ack is not None else "open"
    impact = grievance.impact if grievance.impact is not None else (appealed[0] if appealed else None)
    return GrievanceView(grievance, as_of, status, ack, res, acknowledge_by, resolve_by, impact, decision,
                         tuple(findings))


def views(state: State, as_of: date, policy: Policy | None = None) -> list[GrievanceView]:
    """Every grievance filed by the end of ``as_of``, as of that day, in filing order; the
    policy in force at the end of the day judges the time frames unless one is given."""
    book = grievances_of(state)
    if not book:
        return []
    policy = policy or policy_at(state, _end_of(as_of) - timedelta(microseconds=1))
    decisions = decisions_by_seq(state) if book.by_decision else {}
    out = []
    for g in book:
        v = view(g, as_of, policy, decisions.get(g.decision) if g.decision is not None else None)
        if v is not None:
            out.append(v)
    return out


def upheld_appeal(impact: Impact, book: Grievances, as_of: date) -> tuple[Grievance, Decision] | None:
    """The upheld appeal against the suspension the impact is under (as of the end of
    ``as_of``, from the impact's records), if any: reinstatement is ready."""
    cutoff = _end_of(as_of)
    latest: Decision | None = None
    for d in impact.decisions:
        if d.when < cutoff and d.decision in ("suspend", "reinstate"):
            latest = d
    if latest is None or latest.decision != "suspend":
        return None
    for gid in book.by_decision.get(latest.seq, ()):
        g = book.items[gid]
        res = g.resolution
        if g.kind == "appeal" and res is not None and res.when < cutoff and res.outcome == "upheld":
            return g, latest
    return None


def check(impact: Impact, state: State, policy: Policy, as_of: date) -> list[Finding]:
    """The engine check (``register_checks``): the grievance findings of an impact's status.

    ``grievance-unacknowledged`` and ``grievance-overdue`` for each grievance about the impact
    or appealing one of its decisions; ``appeal-upheld`` when an appeal against the suspension
    the impact is under was upheld.
    """
    book = grievances_of(state)
    if not book:
        return []
    ids = list(book.by_impact.get(impact.id, ()))
    decisions = {d.seq: d for d in impact.decisions}
    for seq in decisions:
        ids.extend(book.by_decision.get(seq, ()))
    out: list[Finding] = []
    for g in sorted((book.items[i] for i in dict.fromkeys(ids)), key=lambda g: (g.when, g.seq)):
        appealed = decisions.get(g.decision) if g.decision is not None else None
        v = view(g, as_of, policy, (impact.id, appealed) if appealed is not None else None)
        if v is not None:
            out.extend(v.findings)
    upheld = upheld_appeal(impact, book, as_of)
    if upheld is not None:
        g, decision = upheld
        assert g.resolution is not None
        out.append(_finding(policy, "appeal-upheld", grievance=g.id, decision=decision.decision,
                            date=_day(decision.when).isoformat(),
                            resolved=_day(g.resolution.when).isoformat(), impact=impact.id))
    return out


#: the promise of leverage.engine.NEEDS_EXTRA: on a state without grievances the check finds
#: nothing, so ``leverage status`` need not build the state for it while the log has none
check.needs_extra = ("grievances",)  # type: ignore[attr-defined]


# -- registration (once, at import) ------------------------------------------------------------

def _register() -> None:
    checks = {FILED: _check_filed, ACKNOWLEDGED: _check_acknowledged, RESOLVED: _check_resolved}
    updates = {FILED: _index_filed, ACKNOWLEDGED: _index_stage("ack"), RESOLVED: _index_stage("resolved")}
    handlers = {FILED: _fold_filed, ACKNOWLEDGED: _fold_acknowledged, RESOLVED: _fold_resolved}
    for name in EVENT_TYPES:
        register_event_type(name, SPECS[name], subject=_subject)
        REFERENCE_CHECKS[name] = checks[name]
        INDEX_UPDATES[name] = updates[name]
        register_handler(name, handlers[name])
    FINISHERS["grievances"] = _finish
    from . import ledger

    # the hooks for voids, when the ledger offers them (docs/grievances.md, "Voiding")
    void_checks = getattr(ledger, "VOID_CHECKS", None)
    if isinstance(void_checks, list):
        void_checks.append(check_void)
    void_updates = getattr(ledger, "VOID_UPDATES", None)
    if isinstance(void_updates, list):
        void_updates.append(apply_void)


_register()


def as_mapping(v: GrievanceView) -> dict[str, Any]:
    """The JSON object of ``leverage grievance list --json`` (internal: names and text kept)."""
    g = v.grievance
    return {
        "id": g.id,
        "kind": g.kind,
        "status": v.status,
        "filed_at": g.filed_at,
        "channel": g.channel,
        "summary": g.summary,
        "filed_by": g.filed_by,
        "confidential": g.confidential,
        "impact": g.impact,
        "relationship": g.relationship,
        "party": g.party,
        "decision": g.decision,
        "appealed": None if v.appealed is None else {
            "impact": v.impact, "decision": v.appealed.decision, "at": v.appealed.at},
        "linked_impact": v.impact,
        "acknowledged_at": v.acknowledgement.at if v.acknowledgement else None,
        "resolved_at": v.resolution.at if v.resolution else None,
        "outcome": v.resolution.outcome if v.resolution else None,
        "remedy": v.resolution.remedy if v.resolution else None,
        "acknowledge_by": v.acknowledge_by.isoformat(),
        "resolve_by": v.resolve_by.isoformat(),
        "overdue": v.overdue,
        "findings": [f.to_dict() for f in v.findings],
    }
