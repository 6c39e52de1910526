"""The escalation engine: status, next step, findings and decision gates (DESIGN 4 and 5).

The engine is pure: it reads a :class:`~leverage.model.State`, the :class:`~leverage.policy.Policy`
in force at each moment and a date, and returns values. It does no I/O and reads no clock.

- :func:`evaluate` gives one :class:`Status` per impact, sorted as ``leverage status`` prints.
- :func:`status_of` gives the status of one impact, with ``reasons`` and ``missing`` for
  ``leverage next``.
- :func:`check_gates` tells which gates a decision about to be written fails.
- :func:`missing_for` lists the gate codes that would refuse a decision now.

Every number, rung name and sentence comes from the policy; this module holds the rules of
DESIGN section 4 and the implementation of each named gate check (:data:`GATES`).
"""

from __future__ import annotations

import inspect
import sys
import weakref
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import attrs

from .errors import LeverageError
from .gcpause import gc_paused
from .model import Assessment, Decision, Impact, Outcome, Severity, State, Step
from .policy import LEVEL_INDEX, Policy, default_policy
from .timeutil import parse_at

__all__ = [
    "GATES",
    "Finding",
    "GateInput",
    "Status",
    "check_gates",
    "evaluate",
    "missing_for",
    "status_of",
]

#: ``(when) -> Policy``: the policy in force at a moment.
PolicyFor = Callable[[datetime], Policy]
#: ``(owner name, check)``: a check registered by a plugin.
NamedCheck = tuple[str, Callable[..., Any]]
#: a check ready to call: (owner, check, the keyword arguments it accepts or None for all,
#: its ``applies_to`` predicate or None)
_Prepared = tuple[str, Callable[..., Any], frozenset[str] | None, Callable[[Impact], Any] | None]

#: A check registered with ``register_checks`` may carry this attribute, a tuple of names
#: of ``State.extra`` projections (``check.needs_extra = ("grievances",)``): its promise
#: that on a state whose ``extra`` holds none of them it returns no findings and does not
#: fail, for any impact, policy and date. ``leverage status`` then skips building the state
#: for it while no event of the log folds into ``State.extra`` (see leverage.projection).
NEEDS_EXTRA = "needs_extra"

#: A check registered with ``register_checks`` may carry this attribute, a predicate
#: ``applies_to(impact) -> bool`` that reads only that impact's own records (``check.applies_to
#: = lambda impact: bool(impact.decisions)``). The engine then calls the check only on the
#: impacts for which it is true, and the ``state`` the check is given holds at least every
#: impact for which it is true (with their relationships, the parties at their ends and the
#: policies), not necessarily the others: ``leverage status`` folds just those from the log
#: instead of all of it (see leverage.projection). A predicate that raises counts as true.
APPLIES_TO = "applies_to"

_MAX_SEQ = sys.maxsize


_ONE_MICROSECOND = timedelta(microseconds=1)


@attrs.frozen
class Finding:
    """Something the user should know or do about an impact, with the rule it rests on."""

    code: str
    message: str
    source: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "source": self.source}

    def to_reason(self) -> dict[str, str]:
        """The ``{message, source}`` form used for ``reasons``."""
        return {"message": self.message, "source": self.source}


@attrs.frozen
class Status:
    """The status of one impact as of a date (DESIGN section 5)."""

    impact: str
    relationship: str
    party: str
    level: str
    rung: str
    due: date | None
    overdue: bool
    next: str | None
    relationship_status: str
    findings: tuple[Finding, ...] = ()
    #: why level, rung, due and next are what they are (``leverage next``)
    reasons: tuple[Finding, ...] = ()
    #: gate codes that would refuse the decision ``next`` names, if it were made now
    missing: tuple[str, ...] = ()
    closed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``leverage status --json``, keys in contract order."""
        return {
            "impact": self.impact,
            "relationship": self.relationship,
            "party": self.party,
            "level": self.level,
            "rung": self.rung,
            "due": self.due.isoformat() if self.due is not None else None,
            "overdue": self.overdue,
            "next": self.next,
            "relationship_status": self.relationship_status,
            "findings": [{"code": f.code, "message": f.message, "source": f.source}
                         for f in self.findings],  # (each f.to_dict(), inlined)
        }

    def to_next_dict(self) -> dict[str, Any]:
        """The JSON object of ``leverage next --json``: the status plus reasons and missing."""
        out = self.to_dict()
        out["reasons"] = [r.to_reason() for r in self.reasons]
        out["missing"] = list(self.missing)
        return out


# --------------------------------------------------------------------------------------
# Time, records and policies.

_Key = tuple[datetime, int]


def _key(record: Any) -> _Key:
    return (record.when, record.seq)


def _end_of(day: date) -> datetime:
    """The first instant after ``day`` (UTC): ``as_of`` means the end of that day."""
    return datetime.combine(day + timedelta(days=1), time(0), UTC)


def _day(moment: datetime) -> date:
    """The UTC calendar day of an instant."""
    if moment.tzinfo is UTC or moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(UTC).date()


def _days_text(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _opened_when(impact: Impact) -> datetime:
    return impact.opened_when if impact.opened_when is not None else parse_at(impact.opened_at)


_RECORD_FIELDS = ("assessments_of_severity", "steps", "outcomes", "assessments", "decisions")


def _cut(impact: Impact, cutoff: datetime) -> Impact | None:
    """``impact`` with only the records before ``cutoff``; None if opened at or after it."""
    if _opened_when(impact) >= cutoff:
        return None
    changes: dict[str, Any] = {}
    for name in _RECORD_FIELDS:
        records = getattr(impact, name)
        if records and max(r.when for r in records) >= cutoff:
            changes[name] = tuple(r for r in records if r.when < cutoff)
    return attrs.evolve(impact, **changes) if changes else impact


def _before(impact: Impact, limit: _Key) -> Impact:
    """``impact`` with only the records ordered before ``limit`` (``(when, seq)``)."""
    changes: dict[str, Any] = {}
    for name in _RECORD_FIELDS:
        records = getattr(impact, name)
        kept = tuple(r for r in records if (r.when, r.seq) < limit)
        if len(kept) != len(records):
            changes[name] = kept
    return attrs.evolve(impact, **changes) if changes else impact


def _severity_before(impact: Impact, limit: _Key | None = None) -> tuple[Severity, tuple[str, ...]]:
    """Severity and rights of the latest assessment ordered before ``limit`` (all: None)."""
    severity, rights = impact.severity, impact.rights
    for r in impact.assessments_of_severity:
        if limit is not None and (r.when, r.seq) > limit:
            break
        severity, rights = r.severity, r.rights
    return severity, rights


class _Policies:
    """The policy in force at each moment, each parsed once."""

    def __init__(
        self,
        state: State,
        policy_for: PolicyFor | None,
        step_kinds: Mapping[str, str] | None,
    ) -> None:
        self._extra = dict(step_kinds or {})
        self._given = policy_for
        self._cache: dict[datetime, Policy] = {}
        self._whens: list[datetime] = []
        self._list: list[Policy] = []
        self._const: Policy | None = None
        if policy_for is not None:
            return
        records = sorted(state.policies, key=_key)
        if not records:
            self._const = self._with_kinds(default_policy())
            return
        policies = [self._with_kinds(Policy.from_content(r.content)) for r in records]
        if all(p is policies[0] for p in policies):
            self._const = policies[0]
            return
        self._whens = [r.when for r in records]
        self._list = policies

    def _with_kinds(self, policy: Policy) -> Policy:
        return policy.with_step_kinds(self._extra) if self._extra else policy

    @property
    def const(self) -> Policy | None:
        """The policy in force at every moment, when there is one."""
        return self._const

    def at(self, when: datetime) -> Policy:
        if self._const is not None:
            return self._const
        if self._given is not None:
            found = self._cache.get(when)
            if found is None:
                found = self._cache[when] = self._with_kinds(self._given(when))
            return found
        i = bisect_right(self._whens, when) - 1
        return self._list[max(i, 0)]


# --------------------------------------------------------------------------------------
# Gates (rule 7 and the profiles' checks). Each check is implemented once and named in the
# policy's ``gates`` table; it returns the findings of what is missing.


@attrs.frozen
class GateInput:
    """What a gate check reads: the impact as of the decision (records before it)."""

    state: State
    impact: Impact
    policy: Policy
    decision: str
    data: Mapping[str, Any]
    actor: str | None
    when: datetime
    level: str

    def finding(self, code: str, variant: str = "message", **kw: Any) -> Finding:
        kw.setdefault("decision", self.decision)
        kw.setdefault("level", self.level)
        return Finding(code, self.policy.message(code, variant, **kw), self.policy.source(code))


def _latest_assessment(impact: Impact, kind: str) -> Assessment | None:
    for a in reversed(impact.assessments):
        if a.kind == kind:
            return a
    return None


def _disproportionate_decision(
    policy: Policy, decision: str, when: datetime, level: str
) -> Finding | None:
    rung = policy.decision_rung(decision)
    if rung is None or policy.proportionate(rung, level):
        return None
    lowest = policy.ladder.proportionate[rung]
    message = policy.message(
        "disproportionate", "decision",
        decision=decision, date=_day(when).isoformat(), rung=rung, level=level, min_level=lowest,
    )
    return Finding("disproportionate", message, policy.source("disproportionate"))


def _gate_proportionate(g: GateInput) -> list[Finding]:
    found = _disproportionate_decision(g.policy, g.decision, g.when, g.level)
    return [found] if found is not None else []


def _same_person(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def _gate_second_approval(g: GateInput) -> list[Finding]:
    approver = g.data.get("approved_by")
    if not isinstance(approver, str) or not approver.strip():
        return [g.finding("missing-approval")]
    if g.actor is not None and _same_person(approver, g.actor):
        return [g.finding("missing-approval")]
    return []


def _gate_termination_assessment(g: GateInput) -> list[Finding]:
    latest = _latest_assessment(g.impact, "termination-impact")
    if latest is None:
        return [g.finding("missing-termination-assessment")]
    if latest.conclusion == "exit-more-severe":
        return [g.finding("exit-more-severe", date=_day(latest.when).isoformat())]
    if latest.conclusion != "exit-acceptable":
        return [g.finding("missing-termination-assessment")]
    return []


def _gate_prior_step(g: GateInput) -> list[Finding]:
    params = g.policy.checks.prior_step
    if params is None or g.level in params.unless_levels:
        return []
    lowest = g.policy.rung_index(params.min_rung)
    for step in g.impact.steps:
        rung = g.policy.rung_of(step.kind)
        if rung is not None and g.policy.rung_index(rung) >= lowest:
            return []
    return [g.finding("missing-prior-step", rung=params.min_rung)]


def _gate_enhanced_plan(g: GateInput) -> list[Finding]:
    params = g.policy.checks.enhanced_plan
    if params is None or any(s.kind == params.step_kind for s in g.impact.steps):
        return []
    return [g.finding("missing-enhanced-plan", kind=params.step_kind)]


def _plan_failed(g: GateInput, step_kind: str, remedies: tuple[str, ...]) -> bool:
    """The latest ``step_kind`` step's time ran out (as of the decision) without a remedy.

    The plan's time is its deadline, else its date plus the days of the current level.
    """
    plan = None
    for step in reversed(g.impact.steps):
        if step.kind == step_kind:
            plan = step
            break
    if plan is None:
        return False
    end = plan.deadline or _day(plan.when) + timedelta(days=g.policy.days_for(g.level))
    if not _day(g.when) > end:
        return False
    after = _key(plan)
    return not any(o.outcome in remedies and _key(o) > after for o in g.impact.outcomes)


def _leverage_concludes(g: GateInput, conclusion: str) -> bool:
    latest = _latest_assessment(g.impact, "leverage")
    return latest is not None and latest.conclusion == conclusion


def _gate_enhanced_plan_failed(g: GateInput) -> list[Finding]:
    params = g.policy.checks.enhanced_plan_failed
    if params is None:
        return []
    if _plan_failed(g, params.step_kind, params.remedy_outcomes):
        return []
    if _leverage_concludes(g, "not-promising"):
        return []
    return [g.finding("enhanced-plan-not-failed", kind=params.step_kind)]


def _gate_plan_time_elapsed(g: GateInput) -> list[Finding]:
    params = g.policy.checks.plan_time_elapsed
    if params is None or _plan_failed(g, params.step_kind, params.remedy_outcomes):
        return []
    return [g.finding("plan-time-not-elapsed", kind=params.step_kind)]


def _gate_leverage_promising(g: GateInput) -> list[Finding]:
    if _leverage_concludes(g, "promising"):
        return []
    return [g.finding("missing-leverage-assessment", conclusion="promising")]


def _gate_leverage_not_promising(g: GateInput) -> list[Finding]:
    if _leverage_concludes(g, "not-promising"):
        return []
    return [g.finding("missing-leverage-assessment", conclusion="not-promising")]


def _gate_very_serious(g: GateInput) -> list[Finding]:
    params = g.policy.checks.very_serious
    if params is None or LEVEL_INDEX[g.level] >= LEVEL_INDEX[params.min_level]:
        return []
    return [g.finding("not-very-serious", min_level=params.min_level)]


#: gate check name (as written in a policy's ``gates``) -> its implementation.
GATES: dict[str, Callable[[GateInput], list[Finding]]] = {
    "proportionate": _gate_proportionate,
    "second-approval": _gate_second_approval,
    "termination-assessment": _gate_termination_assessment,
    "prior-step": _gate_prior_step,
    "enhanced-plan": _gate_enhanced_plan,
    "enhanced-plan-failed": _gate_enhanced_plan_failed,
    "leverage-promising": _gate_leverage_promising,
    "leverage-not-promising": _gate_leverage_not_promising,
    "very-serious": _gate_very_serious,
    "plan-time-elapsed": _gate_plan_time_elapsed,
}


def _run_gates(g: GateInput) -> list[Finding]:
    out: list[Finding] = []
    for name in g.policy.gate_checks(g.decision):
        out.extend(GATES[name](g))
    return _dedupe(out)


def _dedupe(findings: Iterable[Finding]) -> list[Finding]:
    seen: set[tuple[str, str]] = set()
    out: list[Finding] = []
    for f in findings:
        k = (f.code, f.message)
        if k not in seen:
            seen.add(k)
            out.append(f)
    return out


def _impact(state: State, impact_id: str) -> Impact:
    try:
        return state.impacts[impact_id]
    except KeyError:
        raise LeverageError(f"unknown impact {impact_id!r}") from None


def _gate_input(
    state: State,
    impact: Impact,
    decision: str,
    data: Mapping[str, Any],
    actor: str | None,
    when: datetime,
    policy: Policy,
) -> GateInput:
    severity, rights = _severity_before(impact)
    level = policy.level_of(severity, rights)
    return GateInput(state, impact, policy, decision, data, actor, when, level)


def check_gates(
    state: State,
    impact_id: str,
    decision: Mapping[str, Any],
    *,
    actor: str,
    when: datetime,
    policy: Policy,
) -> list[Finding]:
    """The gates a decision about to be written fails (an empty list: it may be written).

    ``decision`` is the ``decision.made`` event's ``data``; ``state`` is the ledger as of the
    decision's ``at`` (only the impact's records at or before ``when`` are read).
    """
    name = decision.get("decision")
    if not isinstance(name, str) or not policy.gate_checks(name):
        return []
    impact = _before(_impact(state, impact_id), (when, _MAX_SEQ))
    return _run_gates(_gate_input(state, impact, name, decision, actor, when, policy))


def missing_for(
    state: State,
    impact_id: str,
    decision_name: str,
    *,
    actor: str | None = None,
    approved_by: str | None = None,
    when: datetime,
    policy: Policy,
) -> list[str]:
    """The gate codes that would refuse ``decision_name`` if it were made at ``when``.

    A second approver is assumed to be present unless ``approved_by`` is given.
    """
    if not policy.gate_checks(decision_name):
        return []
    impact = _before(_impact(state, impact_id), (when, _MAX_SEQ))
    data = {"decision": decision_name, "approved_by": approved_by}
    g = _gate_input(state, impact, decision_name, data, actor, when, policy)
    codes: list[str] = []
    for f in _run_gates(g):
        if f.code == "missing-approval" and approved_by is None:
            continue
        if f.code not in codes:
            codes.append(f.code)
    return codes


# --------------------------------------------------------------------------------------
# Status of one impact (rules 1-6 and 8).
#
# A status is computed in two parts: the *core* (:class:`_Core`: level, rung, due, next,
# relationship status and the findings that do not depend on the as-of date), then the
# *finish* (:func:`_finish`: overdue, review-due and reassessment-due for the as-of date,
# plus the plugins' findings). The core of an impact is the same for every as-of date on or
# after its records (and the policies' and relationship's events), which is what lets
# :mod:`leverage.projection` keep cores in the store and finish them for today.


class _Context:
    """What every status of one evaluation shares."""

    __slots__ = ("state", "as_of", "cutoff", "policies", "policy", "rel_status", "checks",
                 "explain", "tables", "parties", "memo")

    def __init__(
        self,
        *,
        state: State,
        as_of: date,
        cutoff: datetime,
        policies: _Policies,
        policy: Policy,
        rel_status: Mapping[str, str],
        checks: Sequence[_Prepared],
        explain: bool,
    ) -> None:
        self.state = state
        self.as_of = as_of
        self.cutoff = cutoff
        self.policies = policies
        self.policy = policy
        self.rel_status = rel_status
        self.checks = checks
        #: render reasons and compute missing gate codes (``leverage next``)
        self.explain = explain
        self.tables = _tables(policy)
        #: relationship id -> counterparty (each asked once)
        self.parties: dict[str, str] = {}
        #: the dated findings made so far (see _finish)
        self.memo: dict[tuple[Any, ...], Finding] = {}


class _Tables:
    """Lookups of one policy that the status of every impact asks for, made once per policy
    object (the answers are the policy's own; a kind or rung it cannot resolve is left out
    and asked of the policy, which raises as it always did)."""

    __slots__ = ("policy", "kind_index", "_initial_index", "rungs", "proportionate", "days",
                 "deltas", "sources", "review_rung", "every", "__weakref__")

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._initial_index: int | None = None
        self.kind_index: dict[str, int] = {}
        for kind, rung in policy.step_kinds.items():
            try:
                self.kind_index[kind] = policy.rung_index(rung)
            except LeverageError:
                pass
        self.rungs = policy.ladder.rungs
        #: (rung, level) -> proportionate, filled on first use
        self.proportionate: dict[tuple[str, str], bool] = {}
        #: level -> days allowed (and as a timedelta), filled on first use
        self.days: dict[str, int] = {}
        self.deltas: dict[str, timedelta] = {}
        #: finding code -> source, filled on first use
        self.sources: dict[str, str] = {}
        self.review_rung = policy.review.rung
        self.every = policy.reassessment.days

    @property
    def initial_index(self) -> int:
        """The index of the rung an impact starts on."""
        found = self._initial_index
        if found is None:
            found = self._initial_index = self.policy.rung_index(self.policy.ladder.initial)
        return found

    def step_index(self, kind: str) -> int | None:
        """The rung index a step of ``kind`` reaches (None: the policy has no such kind)."""
        found = self.kind_index.get(kind)
        if found is not None:
            return found
        rung = self.policy.rung_of(kind)
        return None if rung is None else self.policy.rung_index(rung)

    def is_proportionate(self, rung: str, level: str) -> bool:
        key = (rung, level)
        found = self.proportionate.get(key)
        if found is None:
            found = self.proportionate[key] = self.policy.proportionate(rung, level)
        return found

    def days_for(self, level: str) -> int:
        found = self.days.get(level)
        if found is None:
            found = self.days[level] = self.policy.days_for(level)
        return found

    def allowed(self, level: str) -> timedelta:
        """``timedelta(days=self.days_for(level))``."""
        found = self.deltas.get(level)
        if found is None:
            found = self.deltas[level] = timedelta(days=self.days_for(level))
        return found

    def finding(self, code: str, variant: str = "message", **kw: Any) -> Finding:
        """``_finding(policy, code, variant, **kw)`` with the source looked up once."""
        message = self.policy.message(code, variant, **kw)
        source = self.sources.get(code)
        if source is None:
            source = self.sources[code] = self.policy.source(code)
        return Finding(code, message, source)


_TABLES: weakref.WeakKeyDictionary[Policy, _Tables] = weakref.WeakKeyDictionary()


def _tables(policy: Policy) -> _Tables:
    found = _TABLES.get(policy)
    if found is None:
        found = _TABLES[policy] = _Tables(policy)
    return found


def relationship_statuses(
    state: State, impacts: Iterable[Impact] | None = None, cutoff: datetime | None = None
) -> dict[str, str]:
    """``terminated``, ``suspended``, ``ended`` or ``active`` for each relationship (DESIGN
    section 5), in one pass over ``impacts`` (default: all of the state's); a relationship
    counts as ended only when it ended before ``cutoff`` (default: whenever)."""
    if impacts is None:
        impacts = state.impacts.values()
    terminated: set[str] = set()
    suspended: set[str] = set()
    for impact in impacts:
        if not impact.decisions:
            continue
        last = None
        for d in impact.decisions:
            if d.decision == "terminate":
                terminated.add(impact.relationship)
            elif d.decision in ("suspend", "reinstate"):
                last = d.decision
        if last == "suspend":
            suspended.add(impact.relationship)
    out: dict[str, str] = {}
    for rid, rel in state.relationships.items():
        if rid in terminated:
            out[rid] = "terminated"
        elif rid in suspended:
            out[rid] = "suspended"
        elif rel.ended_at is not None and (cutoff is None or parse_at(rel.ended_at) < cutoff):
            out[rid] = "ended"
        else:
            out[rid] = "active"
    return out


def applies(predicate: Callable[[Impact], Any] | None, impact: Impact) -> bool:
    """Whether a check with ``predicate`` (:data:`APPLIES_TO`) is called on ``impact``."""
    if predicate is None:
        return True
    try:
        return bool(predicate(impact))
    except Exception:  # the check itself is called, and reports its own failure
        return True


def applies_to_of(check: Callable[..., Any]) -> Callable[[Impact], Any] | None:
    """The check's :data:`APPLIES_TO` predicate, or None (it applies to every impact)."""
    predicate = getattr(check, APPLIES_TO, None)
    return predicate if callable(predicate) else None


def _prepare_checks(checks: Iterable[NamedCheck]) -> list[_Prepared]:
    """Each check with the keyword arguments it accepts (None: all of them) and its
    ``applies_to`` predicate."""
    out: list[_Prepared] = []
    names = {"impact", "state", "policy", "as_of"}
    for owner, check in checks:
        accepted: frozenset[str] | None
        try:
            params = inspect.signature(check).parameters.values()
        except (TypeError, ValueError):
            accepted = None
        else:
            if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
                accepted = None
            else:
                accepted = frozenset(p.name for p in params if p.name in names)
        out.append((owner, check, accepted, applies_to_of(check)))
    return out


def _as_finding(item: Any) -> Finding:
    if isinstance(item, Finding):
        return item
    if isinstance(item, Mapping):
        return Finding(str(item["code"]), str(item["message"]), str(item["source"]))
    return Finding(str(item.code), str(item.message), str(item.source))


def _plugin_findings(ctx: _Context, impact: Impact) -> list[Finding]:
    out: list[Finding] = []
    for owner, check, accepted, predicate in ctx.checks:
        if predicate is not None and not applies(predicate, impact):
            continue
        args = {"impact": impact, "state": ctx.state, "policy": ctx.policy, "as_of": ctx.as_of}
        if accepted is not None:
            args = {k: v for k, v in args.items() if k in accepted}
        try:
            result = check(**args)
            found = [_as_finding(item) for item in (result or ())]
        except Exception as exc:  # a plugin's failure must not stop the status table
            error = " ".join(f"{type(exc).__name__}: {exc}".split())
            message = ctx.policy.message("plugin-error", owner=owner, error=error)
            out.append(Finding("plugin-error", message, ctx.policy.source("plugin-error")))
        else:
            out.extend(found)
    return out


def _record_findings(ctx: _Context, impact: Impact) -> list[Finding]:
    """Findings about individual steps and decisions, each judged by the policy and level
    in force at its own time: lenient-deadline, disproportionate, forced-decision."""
    steps, decisions = impact.steps, impact.decisions
    if not steps and not decisions:
        return []
    out: list[Finding] = []
    records: Sequence[Step | Decision]
    if decisions:
        records = [*steps, *decisions]
        if steps:
            records.sort(key=_key)
    else:
        records = steps
    # The severity in force before each record: the assessment before the first one ordered
    # after it (``_severity_before``), found by walking forward while records are in order.
    assessed = impact.assessments_of_severity
    keys = [(r.when, r.seq) for r in assessed]
    n = len(keys)
    j = 0
    previous: _Key | None = None
    levels: dict[tuple[int, int], str] = {}
    const = ctx.policies.const  # one policy for every moment (the usual case)
    policy = const if const is not None else ctx.policy
    tables = ctx.tables if policy is ctx.policy else _tables(policy)
    for record in records:
        when = record.when
        limit = (when, record.seq)
        if previous is not None and limit < previous:
            j = 0
        previous = limit
        while j < n and not keys[j] > limit:
            j += 1
        if const is None:
            policy = ctx.policies.at(when)
            tables = ctx.tables if policy is ctx.policy else _tables(policy)
        level = levels.get((id(policy), j))
        if level is None:
            if j:
                r = assessed[j - 1]
                level = policy.level_of(r.severity, r.rights)
            else:
                level = policy.level_of(impact.severity, impact.rights)
            levels[(id(policy), j)] = level
        if isinstance(record, Step):
            kind = record.kind
            rung = policy.step_kinds.get(kind)  # policy.rung_of(kind)
            if rung is None:
                continue
            deadline = record.deadline
            proportionate = tables.proportionate.get((rung, level))
            if proportionate is None:
                proportionate = tables.is_proportionate(rung, level)
            if not proportionate:
                out.append(tables.finding(
                    "disproportionate",
                    kind=kind, date=_day(when).isoformat(), rung=rung, level=level,
                    min_level=policy.ladder.proportionate[rung],
                ))
            if deadline is not None:
                day = when.date() if when.tzinfo is UTC else _day(when)
                allowed = day + tables.allowed(level)
                if deadline > allowed:
                    out.append(tables.finding(
                        "lenient-deadline",
                        kind=kind, date=day.isoformat(),
                        deadline=deadline.isoformat(), days=_days_text(tables.days_for(level)),
                        level=level, allowed=allowed.isoformat(),
                    ))
            continue
        if record.forced:
            g = GateInput(
                ctx.state, _before(impact, _key(record)), policy, record.decision,
                {"decision": record.decision, "approved_by": record.approved_by},
                record.actor, when, level,
            )
            failed = _run_gates(g)
            codes = ", ".join(dict.fromkeys(f.code for f in failed)) or "none"
            out.append(tables.finding(
                "forced-decision",
                decision=record.decision, date=_day(when).isoformat(),
                reason=record.forced, codes=codes,
            ))
            out.extend(failed)
        if policy.decision_rung(record.decision) is None:
            continue  # (what _disproportionate_decision checks first)
        found = _disproportionate_decision(policy, record.decision, when, level)
        if found is not None:
            out.append(found)
    return out


def _finding(policy: Policy, code: str, variant: str = "message", **kw: Any) -> Finding:
    return Finding(code, policy.message(code, variant, **kw), policy.source(code))


#: a reason to render if asked: (code, variant, placeholders)
_Why = tuple[str, str, dict[str, Any]]


@attrs.frozen
class _Rung:
    index: int
    name: str
    why: _Why | None
    #: the impact reached the rung of the ``terminate`` decision
    terminated: bool


def _rung(policy: Policy, impact: Impact, explain: bool = True) -> _Rung:
    """Rule 3: the highest rung reached by steps and decisions; a reinstate undoes the
    suspension (back to the highest step rung); a terminate is final."""
    tables = _tables(policy)
    step_i, step_by = -1, None
    for step in impact.steps:
        i = tables.step_index(step.kind)
        if i is not None and i >= step_i:
            step_i, step_by = i, step
    decision_i, decision_by = -1, None
    terminated = False
    for d in impact.decisions:
        if terminated:
            break
        if d.decision == "reinstate":
            decision_i, decision_by = -1, None
            continue
        rung = policy.decision_rung(d.decision)
        if rung is not None:
            decision_i, decision_by = policy.rung_index(rung), d
            terminated = d.decision == "terminate"
    initial_i = tables.initial_index
    index = max(initial_i, step_i, decision_i)
    name = tables.rungs[index]
    why: _Why | None = None
    if not explain:
        pass
    elif decision_by is not None and index == decision_i:
        why = ("rung", "decision", {"rung": name, "decision": decision_by.decision,
                                    "date": _day(decision_by.when).isoformat()})
    elif step_by is not None and index == step_i:
        why = ("rung", "message", {"rung": name, "kind": step_by.kind,
                                   "date": _day(step_by.when).isoformat()})
    else:
        why = ("rung", "none", {"rung": name})
    return _Rung(index, name, why, terminated)


@attrs.frozen
class _Due:
    due: date
    why: _Why | None
    #: the step whose deadline the due date is (the overdue message names it), else None
    deadline_of: Step | None
    #: the days allowed for the level (the overdue message names them otherwise)
    days: int


def _due(policy: Policy, impact: Impact, level: str, explain: bool = True) -> _Due:
    """Rule 4 for an impact on which something is still due (rule 5 is :func:`_finish`'s)."""
    days = _tables(policy).days_for(level)
    # the anchor: the latest step or suspend/reinstate decision (else the opening)
    base: Step | Decision | None = impact.steps[-1] if impact.steps else None
    for d in reversed(impact.decisions):
        if d.decision in ("suspend", "reinstate"):
            if base is None or _key(d) > _key(base):
                base = d
            break
    why: _Why | None = None
    deadline_of: Step | None = None
    if isinstance(base, Step) and base.deadline is not None:
        due = base.deadline
        deadline_of = base
        if explain:
            why = ("due", "deadline", {"due": due.isoformat(), "kind": base.kind,
                                       "date": _day(base.when).isoformat()})
    else:
        start = _day(base.when) if base is not None else _day(_opened_when(impact))
        due = start + timedelta(days=days)
        if explain:
            common = {"due": due.isoformat(), "days": _days_text(days), "level": level,
                      "date": start.isoformat()}
            if isinstance(base, Step):
                why = ("due", "message", {**common, "kind": base.kind})
            elif isinstance(base, Decision):
                why = ("due", "decision", {**common, "decision": base.decision})
            else:
                why = ("due", "opened", common)
    # an improvement after the anchor restarts the clock, never shortening a deadline given
    outcomes = impact.outcomes
    if outcomes:
        base_key = _key(base) if base is not None else (_opened_when(impact), impact.seq)
        for o in reversed(outcomes):
            if o.outcome == "improved":
                if _key(o) > base_key:
                    start = _day(o.when)
                    restarted = start + timedelta(days=days)
                    if restarted >= due:
                        due = restarted
                        deadline_of = None
                        if explain:
                            why = ("due", "improved", {
                                "due": due.isoformat(), "days": _days_text(days),
                                "level": level, "date": start.isoformat()})
                break
    return _Due(due, why, deadline_of, days)


def _next(
    policy: Policy, rung: _Rung, level: str, leverage: int | None
) -> tuple[str, _Why]:
    """Rule 6 for an impact still being worked on (not closed, remediated or ended)."""
    named: str | None = None
    why: _Why
    urgent = policy.next.urgent
    tables = _tables(policy)
    if rung.index == tables.initial_index:
        named = policy.next.first_step[level]
        why = ("next-first-step", "message", {"next": named, "level": level})
    elif level in urgent.levels and rung.index < policy.rung_index(urgent.rung):
        named = urgent.rung
        why = ("next-urgent", "message", {"next": named, "level": level, "rung": rung.name})
    else:
        optional = policy.ladder.low_leverage.rung
        low = policy.low_leverage(leverage)
        for candidate in tables.rungs[rung.index + 1 :]:
            if candidate == optional and not low:
                continue
            named = candidate
            break
        if named is None:
            return "continue", ("next-continue", "top", {"rung": rung.name})
        if named == optional:
            why = ("next-collective", "message",
                   {"next": named, "leverage": leverage, "rung": rung.name})
        else:
            why = ("next-escalate", "message", {"next": named, "rung": rung.name})
    if not tables.is_proportionate(named, level):
        return "continue", ("next-continue", "message", {
            "named": named, "level": level, "rung": rung.name,
            "min_level": policy.ladder.proportionate[named],
        })
    return named, why


class _Core:
    """The part of an impact's status that does not depend on the as-of date (valid for every
    as-of date on or after the impact's records and the policies' and relationship's events).

    ``due`` is None when nothing more is due; then ``deadline``, ``days``, ``worsened``,
    ``review`` and ``reassess`` are unused.
    """

    __slots__ = ("impact", "relationship", "party", "level", "rung", "due", "next",
                 "relationship_status", "closed", "deadline", "days", "worsened", "review",
                 "reassess", "findings", "whys")

    def __init__(
        self,
        impact: str,
        relationship: str,
        party: str,
        level: str,
        rung: str,
        due: date | None,
        next: str | None,
        relationship_status: str,
        closed: bool,
        deadline: tuple[str, str] | None,
        days: int,
        worsened: Finding | None,
        review: tuple[date, int] | None,
        reassess: tuple[date, int] | None,
        findings: tuple[Finding, ...],
        whys: list[_Why] | None = None,
    ) -> None:
        self.impact = impact
        self.relationship = relationship
        self.party = party
        self.level = level
        self.rung = rung
        self.due = due
        self.next = next
        self.relationship_status = relationship_status
        self.closed = closed
        #: (kind, date) of the step whose deadline ``due`` is; None: the days of the level
        self.deadline = deadline
        self.days = days
        #: the ``overdue`` finding of a worsened outcome nothing followed (when not late)
        self.worsened = worsened
        #: (since, days allowed) when the rung is the review rung
        self.review = review
        #: (last assessed, days allowed)
        self.reassess = reassess
        #: crucial-relationship, cease-own-contribution and the record findings, in order
        self.findings = findings
        #: reasons to render (``explain`` only)
        self.whys = whys

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Core):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self.__slots__ if k != "whys")

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "_Core(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"


def _core(ctx: _Context, impact: Impact) -> _Core:
    """Rules 1-6 and the findings of rule 8 that do not depend on the as-of date."""
    policy = ctx.policy
    tables = ctx.tables
    explain = ctx.explain
    whys: list[_Why] | None = [] if explain else None
    rel_id = impact.relationship
    relationship = ctx.state.relationships.get(rel_id)
    party = ctx.parties.get(rel_id)
    if party is None:
        party = ctx.parties[rel_id] = (
            ctx.state.counterparty(relationship) if relationship is not None else "")
    rel_status = ctx.rel_status.get(rel_id, "active")

    # Rule 1: the level, from the latest severity.
    assessed = impact.assessments_of_severity
    if assessed:
        severity, rights = assessed[-1].severity, assessed[-1].rights
    else:
        severity, rights = impact.severity, impact.rights
    level = policy.level_of(severity, rights)
    if whys is not None:
        rule = policy.level_rule(severity, rights)
        if rule is not None:
            touched = ", ".join(r for r in rights if r in rule.rights)
            whys.append(("level-rights", "message",
                         {"level": level, "rights": touched, "scale": severity.scale}))
        else:
            whys.append(("level", "message", {
                "level": level, "scale": severity.scale, "scope": severity.scope,
                "irremediability": severity.irremediability, "worst": severity.worst,
            }))

    # Rule 3: the rung.
    rung = _rung(policy, impact, explain)
    if whys is not None and rung.why is not None:
        whys.append(rung.why)

    # Outcomes: `remediated` stops the clock, `worsened` makes it overdue at once.
    decisions = impact.decisions
    closed_by = None
    for d in decisions:
        if d.decision == "close":
            closed_by = d
            break
    remediated = False
    worsened: Outcome | None = None
    last_outcome = impact.outcomes[-1] if impact.outcomes else None
    if last_outcome is not None:
        after_outcome = _key(last_outcome)
        step_after = bool(impact.steps) and _key(impact.steps[-1]) > after_outcome
        remediated = last_outcome.outcome == "remediated" and not step_after
        if last_outcome.outcome == "worsened" and not step_after:
            if not (decisions and _key(decisions[-1]) > after_outcome):
                worsened = last_outcome

    # Rule 6 first branch: nothing more is due (closed, remediated, terminated, ended).
    nxt: str | None
    due: date | None = None
    deadline: tuple[str, str] | None = None
    days = 0
    worsened_finding: Finding | None = None
    if closed_by is not None:
        nxt = None
        if whys is not None:
            whys.append(("closed", "message", {"date": _day(closed_by.when).isoformat()}))
    elif remediated and last_outcome is not None:
        nxt = "close"
        if whys is not None:
            whys.append(("close-remediated", "message",
                         {"date": _day(last_outcome.when).isoformat()}))
    elif rung.terminated or rel_status == "terminated":
        nxt = "close"
        if whys is not None:
            whys.append(("close-terminated", "message", {"relationship": rel_id}))
    elif rel_status == "ended":
        nxt = "close"
        if whys is not None:
            ended_at = relationship.ended_at if relationship is not None else None
            whys.append(("close-ended", "message", {
                "relationship": rel_id,
                "date": _day(parse_at(ended_at)).isoformat() if ended_at else "",
            }))
    else:
        # Rules 4 and 5: due and overdue; rule 6: the next rung.
        timing = _due(policy, impact, level, explain)
        due, days = timing.due, timing.days
        if timing.deadline_of is not None:
            deadline = (timing.deadline_of.kind, _day(timing.deadline_of.when).isoformat())
        if worsened is not None:
            worsened_finding = tables.finding(
                "overdue", "worsened", date=_day(worsened.when).isoformat())
        if whys is not None and timing.why is not None:
            whys.append(timing.why)
        leverage = relationship.leverage if relationship is not None else None
        nxt, why = _next(policy, rung, level, leverage)
        if whys is not None:
            whys.append(why)
    live = due is not None

    # Rule 8: the findings that do not depend on the as-of date.
    review: tuple[date, int] | None = None
    reassess: tuple[date, int] | None = None
    findings: list[Finding] = []
    if live:
        if rung.name == tables.review_rung:
            candidates = [_key(r[-1]) for r in (impact.assessments, decisions) if r]
            if candidates:
                review = (_day(max(candidates)[0]), policy.review_days_for(level))
        last_assessed = _day(assessed[-1].when if assessed else _opened_when(impact))
        reassess = (last_assessed, tables.every)
        if nxt is not None and relationship is not None and relationship.crucial and (
            policy.rung_decision(nxt) is not None
        ):
            findings.append(tables.finding("crucial-relationship", relationship=rel_id, next=nxt))
        if impact.involvement in ("cause", "contribute"):
            findings.append(tables.finding("cease-own-contribution",
                                           involvement=impact.involvement))
    findings.extend(_record_findings(ctx, impact))
    return _Core(
        impact.id, rel_id, party, level, rung.name, due, nxt, rel_status, closed_by is not None,
        deadline, days, worsened_finding, review, reassess,
        tuple(_dedupe(findings)) if len(findings) > 1 else tuple(findings), whys,
    )


#: codes of the findings that depend on the as-of date (:func:`_finish` adds them)
_DATED_CODES = frozenset({"overdue", "review-due", "reassessment-due"})


def _finish(
    core: _Core,
    as_of: date,
    policy: Policy,
    extra: Sequence[Finding] = (),
    reasons: tuple[Finding, ...] = (),
    missing: tuple[str, ...] = (),
    memo: dict[tuple[Any, ...], Finding] | None = None,
) -> Status:
    """The status of ``core`` as of ``as_of``: rule 5 (overdue) and the findings of rule 8
    that depend on the date, then the static findings, then ``extra`` (the plugins').

    ``memo`` keeps the dated findings made for one ``as_of`` and ``policy`` (a finding is a
    value: statuses may share one); many impacts share a due date and a level.
    """
    dated: list[Finding] = []
    due = core.due
    overdue = False
    if due is not None:
        if memo is None:
            memo = {}
        if as_of > due:
            overdue = True
            key: tuple[Any, ...] = ("overdue", due, core.deadline, core.days, core.level)
            found = memo.get(key)
            if found is None:
                late = _days_text((as_of - due).days)
                tables = _tables(policy)
                if core.deadline is not None:
                    kind, day = core.deadline
                    found = tables.finding("overdue", "deadline", due=due.isoformat(),
                                           kind=kind, date=day, late=late)
                else:
                    found = tables.finding("overdue", due=due.isoformat(),
                                           days=_days_text(core.days), level=core.level,
                                           late=late)
                memo[key] = found
            dated.append(found)
        elif core.worsened is not None:
            overdue = True
            dated.append(core.worsened)
        if core.review is not None:
            since, allowed = core.review
            review_due = since + timedelta(days=allowed)
            if as_of > review_due:
                key = ("review-due", since, allowed, core.level, core.rung)
                found = memo.get(key)
                if found is None:
                    found = memo[key] = _tables(policy).finding(
                        "review-due", since=since.isoformat(), days=_days_text(allowed),
                        level=core.level, late=_days_text((as_of - review_due).days),
                        rung=core.rung,
                    )
                dated.append(found)
        if core.reassess is not None:
            last_assessed, every = core.reassess
            reassess_due = last_assessed + timedelta(days=every)
            if as_of > reassess_due:
                key = ("reassessment-due", last_assessed, every)
                found = memo.get(key)
                if found is None:
                    found = memo[key] = _tables(policy).finding(
                        "reassessment-due", since=last_assessed.isoformat(),
                        days=_days_text(every), late=_days_text((as_of - reassess_due).days),
                    )
                dated.append(found)
    static = core.findings
    # The static findings are deduplicated already (by _core); the dated ones have distinct
    # codes no static finding has (checked): then nothing needs deduplicating, unless the
    # plugins added findings.
    if extra:
        findings = tuple(_dedupe([*dated, *static, *extra]))
    elif not dated:
        findings = static
    elif static and any(f.code in _DATED_CODES for f in static):
        findings = tuple(_dedupe([*dated, *static]))
    else:
        findings = (*dated, *static)
    return Status(
        impact=core.impact,
        relationship=core.relationship,
        party=core.party,
        level=core.level,
        rung=core.rung,
        due=due,
        overdue=overdue,
        next=core.next,
        relationship_status=core.relationship_status,
        findings=findings,
        reasons=reasons,
        missing=missing,
        closed=core.closed,
    )


def _explanation(ctx: _Context, impact: Impact, core: _Core) -> tuple[tuple[Finding, ...], tuple[str, ...]]:
    """``reasons`` and ``missing`` of a status (``leverage next``)."""
    policy = ctx.policy
    nxt = core.next
    reasons = tuple(_finding(policy, code, variant, **kw) for code, variant, kw in core.whys or ())
    missing: tuple[str, ...] = ()
    decision_next = policy.rung_decision(nxt) if nxt is not None else None
    gated = decision_next or (nxt if nxt in ("continue", "close") else None)
    if gated is not None and policy.gate_checks(gated):
        when = ctx.cutoff - _ONE_MICROSECOND
        g = _gate_input(ctx.state, impact, gated, {"decision": gated}, None, when, policy)
        missing = tuple(dict.fromkeys(
            f.code for f in _run_gates(g) if f.code != "missing-approval"
        ))
    return reasons, missing


def _status(ctx: _Context, impact: Impact) -> Status:
    core = _core(ctx, impact)
    extra = _plugin_findings(ctx, impact) if ctx.checks else ()
    if ctx.explain:
        reasons, missing = _explanation(ctx, impact, core)
        return _finish(core, ctx.as_of, ctx.policy, extra, reasons, missing, ctx.memo)
    return _finish(core, ctx.as_of, ctx.policy, extra, memo=ctx.memo)


def _sort_key(s: Status) -> tuple[bool, int, bool, date, str]:
    return (not s.overdue, -LEVEL_INDEX[s.level], s.due is None, s.due or date.min, s.impact)


def _context(
    state: State,
    as_of: date,
    impacts: list[Impact],
    policy_for: PolicyFor | None,
    checks: Iterable[NamedCheck],
    step_kinds: Mapping[str, str] | None,
    explain: bool,
) -> _Context:
    cutoff = _end_of(as_of)
    policies = _Policies(state, policy_for, step_kinds)
    return _Context(
        state=state,
        as_of=as_of,
        cutoff=cutoff,
        policies=policies,
        policy=policies.at(cutoff - _ONE_MICROSECOND),
        rel_status=relationship_statuses(state, impacts, cutoff),
        checks=_prepare_checks(checks),
        explain=explain,
    )


def _cut_all(state: State, cutoff: datetime) -> list[Impact]:
    """Every impact of ``state`` opened before ``cutoff``, with its records before it."""
    latest = getattr(state, "_latest", None)
    if latest is not None and latest < cutoff:
        return list(state.impacts.values())  # nothing at or after the cutoff: nothing to cut
    out = []
    for impact in state.impacts.values():
        cut = _cut(impact, cutoff)
        if cut is not None:
            out.append(cut)
    return out


def evaluate(
    state: State,
    as_of: date,
    *,
    policy_for: PolicyFor | None = None,
    checks: Iterable[NamedCheck] = (),
    step_kinds: Mapping[str, str] | None = None,
    explain: bool = True,
) -> list[Status]:
    """One :class:`Status` per impact opened by the end of ``as_of`` (closed ones included,
    flagged ``closed``), sorted: overdue first, then level (critical first), then due (none
    last), then impact id.

    Only records dated by the end of ``as_of`` are read, so the result does not change when
    later records are added. ``policy_for(when)`` gives the policy in force at a moment
    (default: the state's ``policy.set`` records, else the default profile); the policy at
    the end of ``as_of`` governs the status, the policy at each step's or decision's own time
    judges that record. ``checks`` are ``(owner, check)`` pairs of plugin checks;
    ``step_kinds`` adds plugin step kinds (kind -> rung) to every policy. With
    ``explain=False`` the statuses carry no ``reasons`` and ``missing``: ``leverage status``
    needs neither, and leaving them out halves the time on a large ledger.
    """
    with gc_paused():
        impacts = _cut_all(state, _end_of(as_of))
        ctx = _context(state, as_of, impacts, policy_for, checks, step_kinds, explain)
        statuses = [_status(ctx, impact) for impact in impacts]
        statuses.sort(key=_sort_key)
        return statuses


def status_of(
    state: State,
    impact_id: str,
    as_of: date,
    *,
    policy_for: PolicyFor | None = None,
    checks: Iterable[NamedCheck] = (),
    step_kinds: Mapping[str, str] | None = None,
    explain: bool = True,
) -> Status:
    """The :class:`Status` of one impact as of ``as_of`` (see :func:`evaluate`)."""
    cutoff = _end_of(as_of)
    impact = _cut(_impact(state, impact_id), cutoff)
    if impact is None:
        raise LeverageError(f"impact {impact_id} was not open by {as_of.isoformat()}")
    siblings = [
        c
        for i in state.impacts.values()
        if i.relationship == impact.relationship and (c := _cut(i, cutoff)) is not None
    ]
    ctx = _context(state, as_of, siblings, policy_for, checks, step_kinds, explain)
    return _status(ctx, impact)


def cores(
    state: State,
    as_of: date,
    *,
    impact_ids: Iterable[str] | None = None,
    step_kinds: Mapping[str, str] | None = None,
) -> tuple[Policy, list[_Core]]:
    """The policy in force at the end of ``as_of`` and the as-of-independent part of the
    status of each impact of ``state`` (``impact_ids``: of those only), for a state none of
    whose records is dated after ``as_of`` (:mod:`leverage.projection` stores them)."""
    with gc_paused():
        impacts = _cut_all(state, _end_of(as_of))
        ctx = _context(state, as_of, impacts, None, (), step_kinds, False)
        if impact_ids is not None:
            wanted = set(impact_ids)
            impacts = [i for i in impacts if i.id in wanted]
        return ctx.policy, [_core(ctx, impact) for impact in impacts]


def policy_at_end_of(state: State, as_of: date, step_kinds: Mapping[str, str] | None = None) -> Policy:
    """The policy that governs statuses as of ``as_of`` (with plugin step kinds)."""
    cutoff = _end_of(as_of)
    return _Policies(state, None, step_kinds).at(cutoff - _ONE_MICROSECOND)


def finish_cores(
    cores: Iterable[_Core],
    as_of: date,
    policy: Policy,
    *,
    state: State | None = None,
    checks: Iterable[NamedCheck] = (),
    step_kinds: Mapping[str, str] | None = None,
) -> list[Status]:
    """The statuses of ``cores`` (see :func:`cores`) as of ``as_of``, sorted as
    :func:`evaluate` sorts them; with ``checks``, each impact's plugin findings are those
    the checks give on ``state`` (the state the cores were computed from, or a fold of the
    same log), called in the order :func:`evaluate` calls them. When every check declares
    :data:`APPLIES_TO`, ``state`` may hold only the impacts some check applies to (cores of
    other impacts get no plugin findings). Raises :class:`ProjectionMismatch` when ``state``
    holds an impact without a core, or lacks one a check without ``applies_to`` needs."""
    checks = list(checks)
    with gc_paused():
        if checks:
            if state is None:
                raise ProjectionMismatch("checks need the state")
            impacts = _cut_all(state, _end_of(as_of))
            ctx = _context(state, as_of, impacts, None, checks, step_kinds, False)
            partial = all(prepared[3] is not None for prepared in ctx.checks)
            by_id = {core.impact: core for core in cores}
            found: dict[str, list[Finding]] = {}
            for impact in impacts:
                if impact.id not in by_id:
                    raise ProjectionMismatch(f"no core for impact {impact.id}")
                found[impact.id] = _plugin_findings(ctx, impact)
            if not partial and len(found) != len(by_id):
                raise ProjectionMismatch("the state and the cores hold different impacts")
            none: list[Finding] = []
            statuses = [_finish(core, as_of, ctx.policy, found.get(core.impact, none),
                                memo=ctx.memo) for core in by_id.values()]
        else:
            memo: dict[tuple[Any, ...], Finding] = {}
            statuses = [_finish(core, as_of, policy, memo=memo) for core in cores]
        statuses.sort(key=_sort_key)
        return statuses


class ProjectionMismatch(LeverageError):
    """Stored cores that do not match the state they are finished with (replay instead)."""
