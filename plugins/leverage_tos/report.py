"""The numbers a transparency report publishes (``leverage tos report``), from the ledger alone.

Counts the ingested enforcement actions dated in ``[from, to]`` (UTC days, both included)
that are not voided: by rule, by action, automated versus human detection, reinstatements,
and the suspensions and bans recorded outside the policy's gates (forced).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from leverage.model import State

from .actions import ACTIONS, NOT_STRIKES


def report(state: State, date_from: date | None, date_to: date | None) -> dict[str, Any]:
    by_rule: Counter[str] = Counter()
    titles: dict[str, str] = {}
    by_action: Counter[str] = Counter()
    by_rule_action: dict[str, Counter[str]] = {}
    detection: Counter[str] = Counter()
    detection_by_action: dict[str, Counter[str]] = {}
    accounts: set[str] = set()
    forced = 0
    total = 0
    first: date | None = None
    last: date | None = None
    for impact in state.impacts.values():
        every: list[Any] = [*impact.steps, *impact.decisions]
        records = [r for r in every if "tos" in r.attributes]
        if not records:
            continue
        rel = state.relationships.get(impact.relationship)
        party = state.counterparty(rel) if rel is not None else ""
        for record in records:
            day = record.when.date()
            if (date_from is not None and day < date_from) or (date_to is not None and day > date_to):
                continue
            tos = record.attributes["tos"]
            action = str(tos.get("action", ""))
            rule = tos.get("rule") or {}
            rid = str(rule.get("id", ""))
            titles.setdefault(rid, str(rule.get("title", "")))
            total += 1
            by_rule[rid] += 1
            by_action[action] += 1
            by_rule_action.setdefault(rid, Counter())[action] += 1
            how = tos.get("detected_by") or "unknown"
            detection[how] += 1
            detection_by_action.setdefault(action, Counter())[how] += 1
            accounts.add(party)
            if getattr(record, "forced", None):
                forced += 1
            first = day if first is None or day < first else first
            last = day if last is None or day > last else last
    order = {a: i for i, a in enumerate(ACTIONS)}

    def actions_sorted(counter: Counter[str]) -> dict[str, int]:
        return {a: counter[a] for a in sorted(counter, key=lambda a: (order.get(a, 99), a))}

    return {
        "from": date_from.isoformat() if date_from else None,
        "to": date_to.isoformat() if date_to else None,
        "first": first.isoformat() if first else None,
        "last": last.isoformat() if last else None,
        "actions": total,
        "accounts": len(accounts),
        "strikes": sum(n for a, n in by_action.items() if a not in NOT_STRIKES),
        "by_rule": {r: by_rule[r] for r in sorted(by_rule)},
        "rule_titles": {r: titles[r] for r in sorted(titles)},
        "by_action": actions_sorted(by_action),
        "by_rule_and_action": {r: actions_sorted(by_rule_action[r]) for r in sorted(by_rule_action)},
        "detection": {k: detection.get(k, 0) for k in ("automated", "human", "unknown")},
        "detection_by_action": {a: {k: detection_by_action[a].get(k, 0)
                                    for k in ("automated", "human", "unknown")}
                                for a in actions_sorted(by_action)},
        "reinstatements": by_action.get("reinstate", 0),
        "forced": forced,
    }
