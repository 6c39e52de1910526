"""The public transparency report and the leadership (governance) report (docs/reports.md).

Both are computed from a :class:`~leverage.model.State` into a plain JSON value (the
transparency report's shape is published as ``schemas/transparency-report.schema.json``),
then rendered as Markdown, HTML or JSON by :func:`render`. Pure functions: no I/O, no clock.

Redaction (the transparency report, by default): a party appears by kind, sector and country
unless it carries ``attributes.public = true``; ids of parties, relationships, impacts and
grievances never appear; no free text written about a case (summaries, rationales, remedies,
reasons) and no person's name (actors, approvers, experts, complainants) appears, in either
mode; confidential grievances are only counted. ``redacted=False`` (``--unredacted``, for
internal use) adds party names and case ids and lists confidential grievances, and says so
at the top.
"""

from __future__ import annotations

import html
import json
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from . import __version__
from .grievances import (
    GRIEVANCE_KINDS,
    GRIEVANCE_OUTCOMES,
    Grievance,
    decisions_by_seq,
    grievances_of,
    policy_at,
    views,
)
from .vocab import DECISIONS, LEVELS, RIGHTS

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Status
    from .model import Decision, Impact, Party, State
    from .policy import Policy

FORMATS = ("md", "html", "json")
ESCALATIONS = ("suspend", "terminate", "reinstate")
ABOUT = ("impact", "relationship", "party", "decision", "general")
#: the governance report lists the forced decisions of this many days up to its date
FORCED_DAYS = 365

REDACTED_NOTICE = ("Redacted for publication: parties appear by kind, sector and country unless they "
                   "agreed to be named; no person is named; confidential grievances are only counted.")
UNREDACTED_NOTICE = ("UNREDACTED - FOR INTERNAL USE ONLY: this report names parties and cases and lists "
                     "confidential grievances. Do not publish it.")
_ONE_MICROSECOND = timedelta(microseconds=1)


# -- helpers ----------------------------------------------------------------------------------

def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), UTC)


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def median_days(values: Iterable[int]) -> float | int | None:
    """The median of whole days (a half day when the count is even); None for no values."""
    items = list(values)
    if not items:
        return None
    m = statistics.median(items)
    return int(m) if float(m).is_integer() else float(m)


def _counts(counter: Counter[str], keys: Sequence[str] = ()) -> dict[str, int]:
    """Every key of ``keys`` (zero included) in order, then the others sorted."""
    out = {k: counter.get(k, 0) for k in keys}
    for k in sorted(counter):
        if k not in out:
            out[k] = counter[k]
    return out


class _Policies:
    """The policy in force at each moment, with the plugins' step kinds."""

    def __init__(self, state: State, step_kinds: Mapping[str, str] | None):
        self.state = state
        self.extra = dict(step_kinds or {})
        self.cache: dict[str, Policy] = {}

    def at(self, when: datetime) -> Policy:
        record = self.state.policy_record_at(when)
        key = record.sha256 if record is not None else ""
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = policy_at(self.state, when).with_step_kinds(self.extra)
        return found


def _level(policies: _Policies, impact: Impact, when: datetime) -> str:
    return policies.at(when).level_of(impact.severity_at(when), impact.rights_at(when))


def party_label(party: Party | None, *, redacted: bool) -> dict[str, Any] | None:
    """A party as a report shows it: kind, sector and country; the name only when the party
    is public (``attributes.public = true``) or the report is unredacted; the id only when
    unredacted."""
    if party is None:
        return None
    public = party.attributes.get("public") is True
    out: dict[str, Any] = {"kind": party.kind, "sector": party.sector, "country": party.country,
                           "public": public}
    if public or not redacted:
        out["name"] = party.name
    if not redacted:
        out["id"] = party.id
    return out


def _counterparty_label(state: State, rel_id: str | None, redacted: bool) -> dict[str, Any] | None:
    rel = state.relationships.get(rel_id) if rel_id is not None else None
    if rel is None:
        return None
    return party_label(state.parties.get(state.counterparty(rel)), redacted=redacted)


def _header(kind: str, state: State, at: datetime, *, redacted: bool,
            ledger_head: tuple[int, str] | None) -> dict[str, Any]:
    record = state.policy_record_at(at)
    return {
        "report": kind,
        "redacted": redacted,
        "notice": REDACTED_NOTICE if redacted else UNREDACTED_NOTICE,
        "generated_by": f"leverage {__version__}",
        "policy": {"name": record.name, "sha256": record.sha256} if record is not None else None,
        "ledger": {"events": ledger_head[0], "head": ledger_head[1]} if ledger_head else None,
    }


# -- the transparency report ---------------------------------------------------------------------

def transparency(state: State, *, date_from: date | None, date_to: date, redacted: bool = True,
                 step_kinds: Mapping[str, str] | None = None,
                 ledger_head: tuple[int, str] | None = None) -> dict[str, Any]:
    """The public transparency report of the records dated from ``date_from`` (None: the
    beginning) to ``date_to``, UTC days, both included (UNGP 21; Santa Clara Principles).

    ``state`` holds the ledger as of the end of ``date_to`` (later records are ignored
    anyway). ``step_kinds`` adds plugins' step kinds (kind -> rung).
    """
    cutoff = _end_of(date_to)
    end = cutoff - _ONE_MICROSECOND

    def in_period(when: datetime) -> bool:
        day = _day(when)
        return (date_from is None or day >= date_from) and day <= date_to

    policies = _Policies(state, step_kinds)
    end_policy = policies.at(end)
    impacts = [i for i in state.impacts.values() if i.opened_when is not None and i.opened_when < cutoff]
    impacts.sort(key=lambda i: (i.opened_when, i.seq))

    # impacts
    opened_level: Counter[str] = Counter()
    opened_right: Counter[str] = Counter()
    open_level: Counter[str] = Counter()
    opened = 0
    for impact in impacts:
        level = _level(policies, impact, end)
        if in_period(impact.opened_when):  # type: ignore[arg-type]
            opened += 1
            opened_level[level] += 1
            for right in impact.rights_at(end):
                opened_right[right] += 1
        if not any(d.decision == "close" and d.when < cutoff for d in impact.decisions):
            open_level[level] += 1

    # steps
    by_kind: Counter[str] = Counter()
    by_rung: Counter[str] = Counter()
    for impact in impacts:
        for step in impact.steps:
            if in_period(step.when):
                by_kind[step.kind] += 1
                by_rung[policies.at(step.when).rung_of(step.kind) or "other"] += 1

    # decisions
    by_type: Counter[str] = Counter()
    refs: dict[str, Counter[str]] = {d: Counter() for d in DECISIONS}
    by_level: dict[str, Counter[str]] = {d: Counter() for d in DECISIONS}
    by_right: dict[str, Counter[str]] = {d: Counter() for d in DECISIONS}
    forced = approved = 0
    items: list[tuple[tuple[datetime, int], dict[str, Any]]] = []
    for impact in impacts:
        for d in impact.decisions:
            if not in_period(d.when):
                continue
            by_type[d.decision] += 1
            level = _level(policies, impact, d.when)
            rights = impact.rights_at(d.when)
            by_level.setdefault(d.decision, Counter())[level] += 1
            for right in rights:
                by_right.setdefault(d.decision, Counter())[right] += 1
            for ref in d.policy_refs:
                refs.setdefault(d.decision, Counter())[ref] += 1
            forced += bool(d.forced)
            approved += bool(d.approved_by and d.approved_by.strip())
            if d.decision in ESCALATIONS:
                rel = state.relationships.get(impact.relationship)
                item: dict[str, Any] = {
                    "date": _day(d.when).isoformat(),
                    "decision": d.decision,
                    "party": _counterparty_label(state, impact.relationship, redacted),
                    "relationship_type": rel.type if rel is not None else None,
                    "rights": list(rights),
                    "level": level,
                    "policy_refs": list(dict.fromkeys(d.policy_refs)),
                    "forced": bool(d.forced),
                    "second_approval": bool(d.approved_by and d.approved_by.strip()),
                }
                if not redacted:
                    item["impact"] = impact.id
                items.append(((d.when, d.seq), item))
    items.sort(key=lambda pair: pair[0])

    # timeliness: opening to the first step / first decision, for those dated in the period
    to_step: list[int] = []
    to_decision: list[int] = []
    for impact in impacts:
        opened_day = _day(impact.opened_when)  # type: ignore[arg-type]
        if impact.steps:
            first = min(impact.steps, key=lambda s: (s.when, s.seq))
            if in_period(first.when):
                to_step.append((_day(first.when) - opened_day).days)
        if impact.decisions:
            first_d = min(impact.decisions, key=lambda d: (d.when, d.seq))
            if in_period(first_d.when):
                to_decision.append((_day(first_d.when) - opened_day).days)

    return {
        **_header("transparency", state, end, redacted=redacted, ledger_head=ledger_head),
        "period": {"from": date_from.isoformat() if date_from else None, "to": date_to.isoformat()},
        "impacts": {
            "opened": opened,
            "by_level": _counts(opened_level, LEVELS),
            "by_right": _counts(opened_right, RIGHTS),
            "open_at_end": sum(open_level.values()),
            "open_at_end_by_level": _counts(open_level, LEVELS),
        },
        "steps": {
            "total": sum(by_kind.values()),
            "by_kind": _counts(by_kind),
            "by_rung": _counts(by_rung, [r for r in end_policy.ladder.rungs
                                         if r != end_policy.ladder.initial
                                         and end_policy.rung_decision(r) is None]),
        },
        "decisions": {
            "total": sum(by_type.values()),
            "by_type": _counts(by_type, DECISIONS),
            "forced": forced,
            "second_approval": approved,
            "policy_refs": {k: _counts(v) for k, v in refs.items()},
            "by_level": {k: _counts(v, LEVELS) for k, v in by_level.items()},
            "by_right": {k: _counts(v) for k, v in by_right.items()},
            "escalations": [item for _key, item in items],
        },
        "timeliness": {
            "first_steps": len(to_step),
            "median_days_to_first_step": median_days(to_step),
            "first_decisions": len(to_decision),
            "median_days_to_first_decision": median_days(to_decision),
        },
        "grievances": _grievance_section(state, policies, in_period, date_to, cutoff, redacted),
        "reinstatements": _reinstatements(state, impacts, in_period),
    }


def _about(state: State, g: Grievance, decisions: Mapping[int, tuple[str, Decision]],
           policies: _Policies, end: datetime, redacted: bool) -> dict[str, Any]:
    about = g.about
    out: dict[str, Any] = {"type": about}
    if about == "impact":
        impact = state.impacts.get(g.impact or "")
        if impact is not None:
            out["rights"] = list(impact.rights_at(end))
            out["level"] = _level(policies, impact, end)
            out["party"] = _counterparty_label(state, impact.relationship, redacted)
        if not redacted:
            out["impact"] = g.impact
    elif about == "relationship":
        rel = state.relationships.get(g.relationship or "")
        out["relationship_type"] = rel.type if rel is not None else None
        out["party"] = _counterparty_label(state, g.relationship, redacted)
    elif about == "party":
        out["party"] = party_label(state.parties.get(g.party or ""), redacted=redacted)
    elif about == "decision":
        found = decisions.get(g.decision) if g.decision is not None else None
        if found is not None:
            impact_id, decision = found
            impact = state.impacts[impact_id]
            out["decision"] = decision.decision
            out["party"] = _counterparty_label(state, impact.relationship, redacted)
            if not redacted:
                out["impact"] = impact_id
    return out


def _grievance_section(state: State, policies: _Policies, in_period: Any, date_to: date,
                       cutoff: datetime, redacted: bool) -> dict[str, Any]:
    book = grievances_of(state)
    decisions = decisions_by_seq(state) if book.by_decision else {}
    end = cutoff - _ONE_MICROSECOND
    kinds: dict[str, dict[str, Any]] = {}
    filed: Counter[str] = Counter()
    resolved_kind: Counter[str] = Counter()
    outcomes: dict[str, Counter[str]] = {k: Counter() for k in GRIEVANCE_KINDS}
    days_kind: dict[str, list[int]] = {k: [] for k in GRIEVANCE_KINDS}
    channels: Counter[str] = Counter()
    about: Counter[str] = Counter()
    against: Counter[str] = Counter()
    ack_stats: Counter[str] = Counter()
    res_stats: Counter[str] = Counter()
    confidential = open_at_end = 0
    items: list[dict[str, Any]] = []
    for g in book:
        if g.when >= cutoff:
            continue
        ack = g.acknowledgement if g.acknowledgement and g.acknowledgement.when < cutoff else None
        res = g.resolution if g.resolution and g.resolution.when < cutoff else None
        if res is None:
            open_at_end += 1
        filed_day = _day(g.when)
        appealed = decisions.get(g.decision) if g.decision is not None else None
        if res is not None and in_period(res.when):
            resolved_kind[g.kind] += 1
            outcomes[g.kind][res.outcome] += 1
            days_kind[g.kind].append((_day(res.when) - filed_day).days)
        if not in_period(g.when):
            continue
        filed[g.kind] += 1
        channels[g.channel] += 1
        about[g.about] += 1
        confidential += g.confidential
        if g.kind == "appeal":
            against[appealed[1].decision if appealed else "unknown"] += 1
        # timeliness under the policy in force at the filing
        times = policies.at(g.when).grievances
        first = min((s.when for s in (ack, res) if s is not None), default=None)
        ack_due = filed_day + timedelta(days=times.acknowledge)
        ack_stats[_timely(first, ack_due, date_to)] += 1
        res_due = filed_day + timedelta(days=times.resolve_days(appealed[1].decision if appealed else None))
        res_stats[_timely(res.when if res else None, res_due, date_to)] += 1
        if g.confidential and redacted:
            continue
        item: dict[str, Any] = {
            "kind": g.kind,
            "filed": filed_day.isoformat(),
            "channel": g.channel,
            "about": _about(state, g, decisions, policies, end, redacted),
            "status": "resolved" if res else "acknowledged" if ack else "open",
            "outcome": res.outcome if res else None,
            "days_to_resolution": (_day(res.when) - filed_day).days if res else None,
        }
        if not redacted:
            item["id"] = g.id
            item["confidential"] = g.confidential
        items.append(item)
    for kind in GRIEVANCE_KINDS:
        kinds[kind] = {
            "filed": filed.get(kind, 0),
            "resolved": resolved_kind.get(kind, 0),
            "by_outcome": _counts(outcomes[kind], GRIEVANCE_OUTCOMES),
            "median_days_to_resolution": median_days(days_kind[kind]),
        }
    all_outcomes: Counter[str] = Counter()
    for c in outcomes.values():
        all_outcomes.update(c)
    return {
        "filed": sum(filed.values()),
        "confidential": confidential,
        "by_channel": _counts(channels),
        "about": _counts(about, ABOUT),
        "appeals_against": _counts(against, DECISIONS),
        "resolved": sum(resolved_kind.values()),
        "by_outcome": _counts(all_outcomes, GRIEVANCE_OUTCOMES),
        "median_days_to_resolution": median_days(d for v in days_kind.values() for d in v),
        "by_kind": kinds,
        "acknowledgement": _counts(ack_stats, ("in_time", "late", "pending")),
        "resolution": _counts(res_stats, ("in_time", "late", "pending")),
        "open_at_end": open_at_end,
        "items": items,
    }


def _timely(done: datetime | None, due: date, date_to: date) -> str:
    if done is not None:
        return "in_time" if _day(done) <= due else "late"
    return "late" if date_to > due else "pending"


def _reinstatements(state: State, impacts: list[Impact], in_period: Any) -> dict[str, int]:
    book = grievances_of(state)
    total = after_appeal = 0
    for impact in impacts:
        ordered = sorted(impact.decisions, key=lambda d: (d.when, d.seq))
        suspension: Decision | None = None
        for d in ordered:
            if d.decision == "suspend":
                suspension = d
            elif d.decision == "reinstate":
                if in_period(d.when):
                    total += 1
                    if suspension is not None and any(
                            (g := book.items[gid]).kind == "appeal" and g.resolution is not None
                            and g.resolution.outcome == "upheld" and g.resolution.when <= d.when
                            for gid in book.by_decision.get(suspension.seq, ())):
                        after_appeal += 1
                suspension = None
    return {"total": total, "after_upheld_appeal": after_appeal}


# -- the governance (leadership) report ----------------------------------------------------------

def governance(state: State, statuses: Sequence[Status], *, as_of: date,
               ledger_head: tuple[int, str] | None = None) -> dict[str, Any]:
    """One page for senior leadership (GP 19: responsibility at the right level): the open
    critical and high impacts, what is overdue, decisions awaiting approval or forced,
    suspensions due for review, crucial relationships at risk, grievances overdue.

    ``statuses`` are the open impacts' statuses as of ``as_of`` computed with ``explain``
    (for ``missing``). An internal report: it names parties and cases, never people.
    """
    cutoff = _end_of(as_of)
    end = cutoff - _ONE_MICROSECOND
    policy = policy_at(state, end)

    def party_name(pid: str) -> str | None:
        p = state.parties.get(pid)
        return p.name if p is not None else None

    def row(s: Status) -> dict[str, Any]:
        return {"impact": s.impact, "party": s.party, "party_name": party_name(s.party),
                "level": s.level, "rung": s.rung, "due": s.due.isoformat() if s.due else None,
                "overdue": s.overdue, "next": s.next, "relationship_status": s.relationship_status}

    open_ = [s for s in statuses if not s.closed]
    severe = [row(s) for s in open_ if s.level in ("critical", "high")]
    overdue = [row(s) for s in open_ if s.overdue]
    awaiting = [{**row(s), "missing": list(s.missing)} for s in open_
                if s.next is not None and policy.rung_decision(s.next) is not None]
    since = as_of - timedelta(days=FORCED_DAYS)
    forced = []
    for impact in sorted(state.impacts.values(), key=lambda i: i.id):
        rel = state.relationships.get(impact.relationship)
        pid = state.counterparty(rel) if rel is not None else ""
        for d in impact.decisions:
            if d.forced and d.when < cutoff and _day(d.when) > since:
                forced.append({"impact": impact.id, "party": pid, "party_name": party_name(pid),
                               "decision": d.decision, "date": _day(d.when).isoformat(), "reason": d.forced})
    forced.sort(key=lambda f: (f["date"], f["impact"]))
    reviews = [{**row(s), "message": f.message} for s in open_ for f in s.findings if f.code == "review-due"]
    crucial: dict[str, dict[str, Any]] = {}
    for s in open_:
        rel = state.relationships.get(s.relationship)
        if rel is None or not rel.crucial:
            continue
        at_risk = (s.level in ("critical", "high") or s.relationship_status == "suspended"
                   or any(f.code == "crucial-relationship" for f in s.findings))
        if not at_risk:
            continue
        entry = crucial.setdefault(s.relationship, {
            "relationship": s.relationship, "party": s.party, "party_name": party_name(s.party),
            "relationship_status": s.relationship_status, "impacts": [], "next": []})
        entry["impacts"].append(s.impact)
        if s.next is not None and s.next not in entry["next"]:
            entry["next"].append(s.next)
    grievances = []
    for v in views(state, as_of):
        if v.overdue:
            grievances.append({
                "grievance": v.grievance.id, "kind": v.grievance.kind,
                "filed": _day(v.grievance.when).isoformat(), "status": v.status, "impact": v.impact,
                "acknowledge_by": v.acknowledge_by.isoformat(), "resolve_by": v.resolve_by.isoformat(),
                "codes": [f.code for f in v.findings]})
    crucial_rows = [crucial[k] for k in sorted(crucial)]
    return {
        **_header("governance", state, end, redacted=False, ledger_head=ledger_head),
        "notice": "Internal: for senior leadership. It names parties and cases, not people.",
        "as_of": as_of.isoformat(),
        "summary": {
            "open_impacts": len(open_),
            "critical": sum(s.level == "critical" for s in open_),
            "high": sum(s.level == "high" for s in open_),
            "overdue": len(overdue),
            "awaiting_decision": len(awaiting),
            "forced_decisions": len(forced),
            "reviews_due": len(reviews),
            "crucial_at_risk": len(crucial_rows),
            "grievances_overdue": len(grievances),
        },
        "severe_impacts": severe,
        "overdue": overdue,
        "awaiting_decision": awaiting,
        "forced_decisions": forced,
        "reviews_due": reviews,
        "crucial_at_risk": crucial_rows,
        "grievances_overdue": grievances,
    }


# -- rendering ----------------------------------------------------------------------------------
# A report becomes a list of blocks, written as Markdown or HTML with every value escaped.

Block = tuple[Any, ...]


def _party_text(label: Mapping[str, Any] | None) -> str:
    if not label:
        return "-"
    details = ", ".join(str(label[k]) for k in ("sector", "country") if label.get(k))
    kind = str(label.get("kind") or "party")
    text = f"{kind} ({details})" if details else kind
    if label.get("name"):
        text = f"{label['name']}: {text}"
    return text


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _num(value: Any) -> str:
    return "-" if value is None else str(value)


def _map_rows(mapping: Mapping[str, Any]) -> list[list[str]]:
    return [[str(k), _num(v)] for k, v in mapping.items()]


def _about_text(about: Mapping[str, Any]) -> str:
    kind = about.get("type", "general")
    if kind == "general":
        return "general"
    parts = [str(kind)]
    if about.get("impact"):
        parts.append(str(about["impact"]))
    if about.get("decision"):
        parts.append(f"({about['decision']})")
    if about.get("rights"):
        parts.append("on " + ", ".join(about["rights"]))
    if about.get("level"):
        parts.append(f"[{about['level']}]")
    if "party" in about:
        parts.append("- " + _party_text(about["party"]))
    return " ".join(parts)


def _transparency_blocks(r: Mapping[str, Any]) -> list[Block]:
    period = r["period"]
    blocks: list[Block] = [("notice", r["notice"]), ("h1", "Transparency report")]
    span = f"{period['from'] or 'the first record'} to {period['to']}"
    meta = [f"Period: {span} (UTC days, both included)."]
    if r.get("policy"):
        meta.append(f"Policy in force at the end: {r['policy']['name']} (sha256 {r['policy']['sha256']}).")
    if r.get("ledger"):
        meta.append(f"Ledger: {r['ledger']['events']} events, head hash {r['ledger']['head']} "
                    "(leverage verify --expect HASH proves that nothing before it was rewritten).")
    blocks.append(("p", " ".join(meta)))
    i = r["impacts"]
    blocks += [
        ("h2", "Human-rights impacts"),
        ("p", f"{_n(i['opened'], 'impact')} opened in the period; {i['open_at_end']} open at its end."),
        ("table", ["level", "opened", "open at end"],
         [[lvl, _num(i["by_level"].get(lvl)), _num(i["open_at_end_by_level"].get(lvl))] for lvl in i["by_level"]]),
        ("table", ["right", "impacts opened"], _map_rows(i["by_right"])),
    ]
    s = r["steps"]
    blocks += [
        ("h2", "Leverage steps"),
        ("p", f"{_n(s['total'], 'step')} taken in the period."),
        ("table", ["rung", "steps"], _map_rows(s["by_rung"])),
        ("table", ["kind", "steps"], _map_rows(s["by_kind"])),
    ]
    d = r["decisions"]
    refs = [[t, ref, str(n)] for t, c in d["policy_refs"].items() for ref, n in c.items()]
    levels = [[t, ", ".join(f"{lvl} {n}" for lvl, n in c.items() if n)] for t, c in d["by_level"].items()
              if any(c.values())]
    rights = [[t, ", ".join(f"{right} {n}" for right, n in c.items())] for t, c in d["by_right"].items() if c]
    blocks += [
        ("h2", "Decisions"),
        ("p", f"{_n(d['total'], 'decision')} in the period; {d['second_approval']} approved by a second person; "
              f"{d['forced']} recorded outside the policy's checks (forced)."),
        ("table", ["decision", "count"], _map_rows(d["by_type"])),
        ("h3", "Policies cited"),
        ("table", ["decision", "policy reference", "times cited"], refs),
        ("h3", "Reasons in aggregate: severity and rights at the time of the decision"),
        ("table", ["decision", "impact level"], levels),
        ("table", ["decision", "rights concerned"], rights),
        ("h3", "Suspensions, terminations and reinstatements"),
        ("table", ["date", "decision", "party", "relationship", "rights", "level", "policies", "approval"]
         + (["impact"] if not r["redacted"] else []),
         [[e["date"], e["decision"], _party_text(e["party"]), _num(e["relationship_type"]),
           ", ".join(e["rights"]), e["level"], "; ".join(e["policy_refs"]),
           "forced" if e["forced"] else "second person" if e["second_approval"] else "-"]
          + ([_num(e.get("impact"))] if not r["redacted"] else []) for e in d["escalations"]]),
    ]
    t = r["timeliness"]
    blocks += [
        ("h2", "Timeliness"),
        ("table", ["measure", "impacts", "median days"],
         [["from opening to the first step", str(t["first_steps"]), _num(t["median_days_to_first_step"])],
          ["from opening to the first decision", str(t["first_decisions"]),
           _num(t["median_days_to_first_decision"])]]),
    ]
    g = r["grievances"]
    blocks += [
        ("h2", "Grievances and appeals"),
        ("p", f"{g['filed']} filed in the period ({g['confidential']} confidential, only counted); "
              f"{g['resolved']} resolved in the period, median {_num(g['median_days_to_resolution'])} days "
              f"from filing to resolution; {g['open_at_end']} open at the end of the period."),
        ("table", ["kind", "filed", "resolved", *GRIEVANCE_OUTCOMES, "median days to resolution"],
         [[k, str(v["filed"]), str(v["resolved"]), *(str(v["by_outcome"][o]) for o in GRIEVANCE_OUTCOMES),
           _num(v["median_days_to_resolution"])] for k, v in g["by_kind"].items()]),
        ("table", ["stage", "in time", "late", "pending"],
         [["acknowledgement", *(str(g["acknowledgement"][k]) for k in ("in_time", "late", "pending"))],
          ["resolution", *(str(g["resolution"][k]) for k in ("in_time", "late", "pending"))]]),
        ("table", ["about", "filed"], _map_rows(g["about"])),
        ("table", ["appeals against", "filed"], _map_rows(g["appeals_against"])),
        ("table", ["channel", "filed"], _map_rows(g["by_channel"])),
        ("h3", "Grievances filed in the period" + ("" if not r["redacted"] else " (confidential ones left out)")),
        ("table", (["id"] if not r["redacted"] else []) + ["filed", "kind", "channel", "about", "status",
                                                          "outcome", "days to resolution"],
         [([_num(item.get("id")) + (" (confidential)" if item.get("confidential") else "")]
           if not r["redacted"] else [])
          + [item["filed"], item["kind"], item["channel"], _about_text(item["about"]), item["status"],
             _num(item["outcome"]), _num(item["days_to_resolution"])] for item in g["items"]]),
    ]
    re_ = r["reinstatements"]
    blocks += [
        ("h2", "Reinstatements"),
        ("p", f"{_n(re_['total'], 'reinstatement')} in the period, {re_['after_upheld_appeal']} of them after "
              "an upheld appeal."),
        ("p", f"Generated by {r['generated_by']}."),
    ]
    return blocks


def _governance_blocks(r: Mapping[str, Any]) -> list[Block]:
    s = r["summary"]
    policy = f" under policy {r['policy']['name']}" if r.get("policy") else ""

    def impacts_table(rows: Sequence[Mapping[str, Any]], extra: Sequence[str] = ()) -> Block:
        return ("table", ["impact", "party", "level", "rung", "due", "next", "relationship", *extra],
                [[x["impact"], _num(x["party_name"] or x["party"]), x["level"], x["rung"],
                  _num(x["due"]) + (" OVERDUE" if x["overdue"] else ""), _num(x["next"]),
                  x["relationship_status"], *(_extra(x, e) for e in extra)] for x in rows])

    return [
        ("notice", r["notice"]),
        ("h1", f"Human-rights leverage: leadership report as of {r['as_of']}"),
        ("p", f"{s['open_impacts']} open impacts{policy}: {s['critical']} critical, {s['high']} high; "
              f"{s['overdue']} overdue; {s['awaiting_decision']} awaiting a suspend or terminate decision; "
              f"{s['forced_decisions']} forced decisions; {s['reviews_due']} suspensions due for review; "
              f"{s['crucial_at_risk']} crucial relationships at risk; {s['grievances_overdue']} grievances "
              "overdue."),
        ("h2", "Open critical and high impacts"), impacts_table(r["severe_impacts"]),
        ("h2", "Overdue"), impacts_table(r["overdue"]),
        ("h2", "Decisions awaiting approval (suspend or terminate named next)"),
        impacts_table(r["awaiting_decision"], ["missing"]),
        ("h2", "Forced decisions (the last 365 days)"),
        ("table", ["impact", "party", "decision", "date", "reason"],
         [[x["impact"], _num(x["party_name"] or x["party"]), x["decision"], x["date"], x["reason"]]
          for x in r["forced_decisions"]]),
        ("h2", "Suspensions due for review"), impacts_table(r["reviews_due"], ["message"]),
        ("h2", "Crucial relationships at risk"),
        ("table", ["relationship", "party", "status", "impacts", "next"],
         [[x["relationship"], _num(x["party_name"] or x["party"]), x["relationship_status"],
           ", ".join(x["impacts"]), ", ".join(x["next"])] for x in r["crucial_at_risk"]]),
        ("h2", "Grievances overdue"),
        ("table", ["grievance", "kind", "filed", "status", "impact", "acknowledge by", "resolve by", "findings"],
         [[x["grievance"], x["kind"], x["filed"], x["status"], _num(x["impact"]), x["acknowledge_by"],
           x["resolve_by"], ", ".join(x["codes"])] for x in r["grievances_overdue"]]),
        ("p", f"Generated by {r['generated_by']}."),
    ]


def _extra(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "-"
    return _num(value)


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|#"})


def md_escape(value: Any) -> str:
    """Text safe in a Markdown paragraph or table cell: markup characters escaped, one line."""
    return " ".join(str(value).split()).translate(_MD_SPECIAL)


def _markdown(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "notice":
            out.append(f"**{md_escape(block[1])}**")
        elif kind in ("h1", "h2", "h3"):
            out.append("#" * int(kind[1]) + " " + md_escape(block[1]))
        elif kind == "p":
            out.append(md_escape(block[1]))
        elif kind == "table":
            headers, rows = block[1], block[2]
            if not rows:
                out.append("_None._")
                continue
            lines = ["| " + " | ".join(md_escape(h) for h in headers) + " |",
                     "|" + "---|" * len(headers)]
            lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
            out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


_CSS = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
        "color:#222}table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #ccc;"
        "padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f4f4f4}"
        ".notice{border:2px solid #b00;padding:.5rem 1rem;font-weight:bold}"
        ".notice.redacted{border-color:#888;font-weight:normal}")


def _html(blocks: Sequence[Block], title: str, redacted: bool) -> str:
    e = html.escape
    body: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "notice":
            css = "notice redacted" if redacted else "notice"
            body.append(f'<p class="{css}">{e(str(block[1]))}</p>')
        elif kind in ("h1", "h2", "h3"):
            body.append(f"<{kind}>{e(str(block[1]))}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{e(str(block[1]))}</p>")
        elif kind == "table":
            headers, rows = block[1], block[2]
            if not rows:
                body.append("<p><em>None.</em></p>")
                continue
            head = "".join(f"<th>{e(str(h))}</th>" for h in headers)
            cells = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in rows)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>")
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def render(report: Mapping[str, Any], fmt: str) -> str:
    """``report`` (from :func:`transparency` or :func:`governance`) as ``md``, ``html`` or
    ``json`` text."""
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    if report["report"] == "transparency":
        blocks = _transparency_blocks(report)
        title = "Transparency report" + ("" if report["redacted"] else " (UNREDACTED)")
    else:
        blocks = _governance_blocks(report)
        title = f"Leadership report as of {report['as_of']}"
    if fmt == "md":
        return _markdown(blocks)
    if fmt == "html":
        return _html(blocks, title, bool(report.get("redacted")))
    raise ValueError(f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})")
