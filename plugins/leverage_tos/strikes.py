"""Strikes against an account, read from the ledger alone (``attributes.tos`` of the steps
and decisions that ingests wrote).

The rules, as docs/tos.md states them:

- every action but ``warning`` and ``reinstate`` is a strike against the account (the party),
  whatever the rule and the impact it was recorded on;
- a strike dated on UTC day D counts on every day A with D <= A < D + window_days: with the
  default 90 days, a strike of 1 January counts up to and including 31 March (day 89) and has
  expired on 1 April (day 90). Each strike keeps the window of the rules it was ingested
  under;
- a ``reinstate`` lifts the measures in force and clears the strikes before it (platforms
  remove a strike when an appeal succeeds): only strikes after the latest reinstatement count;
- ``restrict`` or more strikes recommend a feature restriction, ``suspend`` or more a
  suspension (the thresholds of the latest action); a strike under an ``egregious`` rule
  recommends suspension at once;
- the measure in force is the strongest action since the latest reinstatement, counting a
  suspension or ban until it is lifted and any other strike while it counts. A recommendation
  is *due* when it is stronger than the measure in force.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from leverage.model import State

from .actions import NOT_STRIKES, RANKS, RECOMMENDATIONS
from .rules import DEFAULT_RESTRICT, DEFAULT_SUSPEND, DEFAULT_WINDOW_DAYS

SOURCE = "Santa Clara Principles; platform strike policies (Google Ads, YouTube)"


@attrs.frozen
class Action:
    """One enforcement action on an account, as an ingest recorded it."""

    party: str
    impact: str
    seq: int
    at: str
    when: datetime
    day: date
    action: str
    rule: str
    egregious: bool
    strike: bool
    window_days: int
    restrict: int
    suspend: int
    line: int | None = None
    file: str | None = None
    row_id: str | None = None

    @property
    def expires(self) -> date:
        """The first day on which the strike no longer counts."""
        return self.day + timedelta(days=self.window_days)

    def counts_on(self, as_of: date) -> bool:
        return self.strike and self.day <= as_of < self.expires

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "at": self.at, "action": self.action, "rule": self.rule, "impact": self.impact,
            "seq": self.seq, "egregious": self.egregious,
            "last_day": (self.expires - timedelta(days=1)).isoformat(),
            "expires": self.expires.isoformat(),
        }
        if self.row_id is not None:
            out["id"] = self.row_id
        if self.file is not None:
            out["source"] = f"{self.file}:{self.line}"
        return out


@attrs.frozen
class Summary:
    party: str
    as_of: date
    active: tuple[Action, ...]
    expired: tuple[Action, ...]
    cleared: tuple[Action, ...]
    window_days: int
    restrict: int
    suspend: int
    recommendation: str | None
    in_force: str | None
    reinstated: Action | None

    @property
    def count(self) -> int:
        return len(self.active)

    @property
    def egregious(self) -> tuple[Action, ...]:
        return tuple(a for a in self.active if a.egregious)

    @property
    def due(self) -> bool:
        """The recommendation is stronger than the measure in force."""
        if self.recommendation is None:
            return False
        return RANKS.get(self.in_force or "warning", 0) < RECOMMENDATIONS[self.recommendation]

    @property
    def latest(self) -> Action | None:
        return self.active[-1] if self.active else None

    def reason(self) -> str:
        """Why the recommendation is what it is, in one sentence."""
        strikes = _n(self.count, "strike")
        window = f"within {self.window_days} days"
        thresholds = f"restrict at {self.restrict}, suspend at {self.suspend}"
        if self.egregious:
            first = self.egregious[0]
            return (f"The egregious breach of rule {first.rule} on {first.day} ({first.action}) "
                    f"recommends suspension at once ({strikes} {window}; {thresholds}).")
        if self.recommendation is None:
            return f"{strikes} {window}: below the thresholds ({thresholds})."
        measure = "suspension" if self.recommendation == "suspend" else "feature restriction"
        return f"{strikes} {window} reach the threshold for a {measure} ({thresholds})."

    def to_dict(self) -> dict[str, Any]:
        return {
            "party": self.party, "as_of": self.as_of.isoformat(), "strikes": self.count,
            "window_days": self.window_days,
            "thresholds": {"restrict": self.restrict, "suspend": self.suspend},
            "egregious": bool(self.egregious), "recommendation": self.recommendation,
            "in_force": self.in_force, "due": self.due, "reason": self.reason(),
            "active": [a.to_dict() for a in self.active],
            "cleared": [a.to_dict() for a in self.cleared],
            "expired": [a.to_dict() for a in self.expired],
            "reinstated_at": self.reinstated.at if self.reinstated else None,
        }


def _n(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _int(value: Any, default: int) -> int:
    return value if type(value) is int and value >= 1 else default


def actions_of(state: State) -> dict[str, list[Action]]:
    """Every ingested action of ``state``, by party (the account), in time order."""
    out: dict[str, list[Action]] = {}
    rels = state.relationships
    for impact in state.impacts.values():
        every: list[Any] = [*impact.steps, *impact.decisions]
        records = [r for r in every if "tos" in r.attributes]
        if not records:
            continue
        rel = rels.get(impact.relationship)
        party = state.counterparty(rel) if rel is not None else ""
        bucket = out.setdefault(party, [])
        for record in records:
            bucket.append(_action(party, impact.id, record))
    for actions in out.values():
        actions.sort(key=lambda a: (a.when, a.seq))
    return out


def _action(party: str, impact: str, record: Any) -> Action:
    tos = record.attributes["tos"]
    rule = tos.get("rule") if isinstance(tos.get("rule"), dict) else {}
    strikes = tos.get("strikes") if isinstance(tos.get("strikes"), dict) else {}
    action = str(tos.get("action", ""))
    strike = tos.get("strike")
    return Action(
        party=party, impact=impact, seq=record.seq, at=record.at, when=record.when,
        day=record.when.date(), action=action, rule=str(rule.get("id", "")),
        egregious=rule.get("egregious") is True,
        strike=strike if isinstance(strike, bool) else action not in NOT_STRIKES,
        window_days=_int(strikes.get("window_days"), DEFAULT_WINDOW_DAYS),
        restrict=_int(strikes.get("restrict"), DEFAULT_RESTRICT),
        suspend=_int(strikes.get("suspend"), DEFAULT_SUSPEND),
        line=tos.get("line") if type(tos.get("line")) is int else None,
        file=tos.get("file") if isinstance(tos.get("file"), str) else None,
        row_id=tos.get("row_id") if isinstance(tos.get("row_id"), str) else None,
    )


def summarize(party: str, actions: Iterable[Action], as_of: date) -> Summary:
    """The strikes of ``party`` as of the end of UTC day ``as_of``."""
    upto = [a for a in actions if a.day <= as_of]
    reinstated: Action | None = None
    start = 0
    for i, a in enumerate(upto):
        if a.action == "reinstate":
            reinstated, start = a, i + 1
    before, after = upto[:start], upto[start:]
    active = tuple(a for a in after if a.counts_on(as_of))
    cleared = tuple(a for a in before if a.counts_on(as_of))
    expired = tuple(a for a in upto if a.strike and as_of >= a.expires)
    latest = upto[-1] if upto else None
    window = latest.window_days if latest else DEFAULT_WINDOW_DAYS
    restrict = latest.restrict if latest else DEFAULT_RESTRICT
    suspend = latest.suspend if latest else DEFAULT_SUSPEND
    recommendation: str | None = None
    if any(a.egregious for a in active) or len(active) >= suspend:
        recommendation = "suspend"
    elif len(active) >= restrict:
        recommendation = "restrict"
    in_force: str | None = None
    best = -1
    for a in after:
        lasting = a.action in ("suspend", "ban")
        if (lasting or a.counts_on(as_of)) and RANKS.get(a.action, 0) >= best:
            best, in_force = RANKS.get(a.action, 0), a.action
    return Summary(party, as_of, active, expired, cleared, window, restrict, suspend,
                   recommendation, in_force, reinstated)


class _Index:
    """The actions of one state by party, and the summaries asked for (per as-of date)."""

    def __init__(self, state: State):
        self.actions = actions_of(state)
        self.summaries: dict[tuple[str, date], Summary] = {}

    def summary(self, party: str, as_of: date) -> Summary:
        key = (party, as_of)
        found = self.summaries.get(key)
        if found is None:
            found = self.summaries[key] = summarize(party, self.actions.get(party, ()), as_of)
        return found


_last: list[Any] = [None, None]


def _forget(ref: Any) -> None:
    if _last[0] is ref:
        _last[0] = _last[1] = None


def index_of(state: State) -> _Index:
    """The index of ``state``, built once however many impacts the engine checks (and
    dropped with the state)."""
    ref = _last[0]
    if ref is not None and ref() is state:
        return _last[1]
    index = _Index(state)
    try:
        _last[0] = weakref.ref(state, _forget)
        _last[1] = index
    except TypeError:  # pragma: no cover - a state that cannot be weakly referenced
        _last[0] = _last[1] = None
    return index


def party_of(state: State, impact: Any) -> str | None:
    rel = state.relationships.get(impact.relationship)
    return state.counterparty(rel) if rel is not None else None
