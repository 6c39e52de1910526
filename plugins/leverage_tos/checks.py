"""The checks this plugin adds to every impact's status (``register_checks``).

- ``strike-threshold``: the account's strikes reach a threshold (or an egregious breach) and
  the recommended measure is stronger than the one in force. Reported on the impact of the
  account's latest counting strike.
- ``competing-rights-unassessed``: a suspension or termination on an impact whose rights
  (at the time) include expression or assembly, with no ``rabat`` assessment before it.
- ``disproportionate``: a termination after a ``rabat`` assessment that concluded
  ``below-threshold`` (the latest one before it).

Each reads the state it is given and nothing else; records dated after ``as_of`` are ignored.
Each declares ``applies_to`` (see ``leverage.engine.APPLIES_TO``): the strike check applies to
impacts with an ingested action, the Rabat checks to impacts with a suspension or termination,
so ``leverage status`` folds only those impacts for them, not the whole log.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from leverage.model import Impact, State

from .strikes import SOURCE as STRIKE_SOURCE
from .strikes import index_of, party_of

COMPETING_RIGHTS = ("expression", "assembly")
RABAT_SOURCE = "Rabat Plan of Action, A/HRC/22/17/Add.4, appendix para 29"
COMPETING_SOURCE = "B-Tech note on GP19 (2021); Rabat Plan of Action, A/HRC/22/17/Add.4, appendix para 29"
_MEASURES = {"restrict": "a feature restriction", "suspend": "a suspension"}


def _has_tos(impact: Impact) -> bool:
    return any("tos" in s.attributes for s in impact.steps) or any(
        "tos" in d.attributes for d in impact.decisions)


def strike_threshold(impact: Impact, state: State, as_of: date) -> list[dict[str, str]]:
    """``strike-threshold`` on the impact of the account's latest counting strike."""
    if not _has_tos(impact):
        return []
    party = party_of(state, impact)
    if party is None:
        return []
    summary = index_of(state).summary(party, as_of)
    latest = summary.latest
    if latest is None or latest.impact != impact.id or not summary.due:
        return []
    assert summary.recommendation is not None
    in_force = f"the strongest measure in force is {summary.in_force}" if summary.in_force else (
        "no measure is in force")
    message = (f"Account {party}: {summary.reason()} The strike policy recommends "
               f"{_MEASURES[summary.recommendation]}; {in_force} "
               f"(`leverage tos strikes {party}`).")
    return [{"code": "strike-threshold", "message": message, "source": STRIKE_SOURCE}]


def _restricts(impact: Impact) -> bool:
    return any(d.decision in ("suspend", "terminate") for d in impact.decisions)


def competing_rights(impact: Impact, as_of: date) -> list[dict[str, str]]:
    """``competing-rights-unassessed`` and ``disproportionate`` (Rabat six-part test)."""
    if not impact.decisions:
        return []
    out: list[dict[str, str]] = []
    rabats = [a for a in impact.assessments if a.kind == "rabat" and a.when.date() <= as_of]
    for d in impact.decisions:
        if d.decision not in ("suspend", "terminate"):
            continue
        day = d.when.date()
        if day > as_of:
            continue
        key = (d.when, d.seq)
        before = [a for a in rabats if (a.when, a.seq) < key]
        touched = [r for r in impact.rights_at(d.when) if r in COMPETING_RIGHTS]
        if touched and not before:
            out.append({
                "code": "competing-rights-unassessed",
                "message": (f"The {d.decision} decision of {day} restricts {' and '.join(touched)}, "
                            "but no Rabat six-part threshold assessment was recorded before it "
                            f"(`leverage tos rabat {impact.id}`)."),
                "source": COMPETING_SOURCE,
            })
        if d.decision == "terminate" and before and before[-1].conclusion == "below-threshold":
            latest = before[-1]
            out.append({
                "code": "disproportionate",
                "message": (f"The terminate decision of {day} followed a Rabat assessment "
                            f"({latest.when.date()}) that concluded below-threshold: not all six "
                            "parts of the test were met, so lower-tier measures (label, reduced "
                            "reach, removal) fit, not termination."),
                "source": RABAT_SOURCE,
            })
    return out


# the strike index reads the actions of every impact this applies to (and nothing else)
strike_threshold.applies_to = _has_tos  # type: ignore[attr-defined]
competing_rights.applies_to = _restricts  # type: ignore[attr-defined]


def all_checks() -> list[Any]:
    return [strike_threshold, competing_rights]
