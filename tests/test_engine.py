"""The escalation engine, rule by rule (DESIGN section 4) and the status shape (section 5).

Each table row builds a small state with :class:`engine_helpers.S` and checks values of the
status object. Impacts open on 2021-01-01 unless a row says otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from engine_helpers import S, d
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leverage.engine import (
    Finding,
    Status,
    check_gates,
    evaluate,
    missing_for,
    status_of,
)
from leverage.errors import LeverageError
from leverage.model import State
from leverage.policy import Policy, default_policy, resolve

Build = Callable[[S], S]


def status(build: Build, as_of: str = "2021-01-02", **kw: Any) -> dict[str, Any]:
    state = build(S.basic()).build()
    return status_of(state, "i1", d(as_of), **kw).to_next_dict()


def codes(result: dict[str, Any]) -> list[str]:
    return [f["code"] for f in result["findings"]]


def when(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


# -- rule 1: level ------------------------------------------------------------------------

LEVEL_ROWS = [
    # (id, build, level)
    ("scale 5", lambda s: s.impact("i1", scale=5), "critical"),
    ("scope 5", lambda s: s.impact("i1", scale=1, scope=5), "critical"),
    ("irremediability 4", lambda s: s.impact("i1", scale=1, irr=4), "high"),
    ("scale 3", lambda s: s.impact("i1", scale=3), "moderate"),
    ("all 2", lambda s: s.impact("i1", scale=2, scope=2, irr=2), "low"),
    ("life scale 4", lambda s: s.impact("i1", scale=4, rights=("life",)), "critical"),
    ("security scale 4",
     lambda s: s.impact("i1", scale=4, rights=("expression", "security-of-person")), "critical"),
    ("life scale 3", lambda s: s.impact("i1", scale=3, rights=("life",)), "moderate"),
    ("expression scale 4", lambda s: s.impact("i1", scale=4), "high"),
    ("latest severity",
     lambda s: s.impact("i1", scale=5).reassess("i1", "2021-01-02", scale=2), "low"),
    ("latest rights",
     lambda s: s.impact("i1", scale=4).reassess("i1", "2021-01-02", scale=4, rights=("life",)),
     "critical"),
]


@pytest.mark.parametrize(
    ("build", "level"), [r[1:] for r in LEVEL_ROWS], ids=[r[0] for r in LEVEL_ROWS]
)
def test_rule1_level(build, level):
    assert status(build)["level"] == level


# -- rule 2: days allowed -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scale", "due"),
    [(5, "2021-01-04"), (4, "2021-01-15"), (3, "2021-01-31"), (1, "2021-04-01")],
)
def test_rule2_days_allowed_per_level(scale, due):
    assert status(lambda s: s.impact("i1", scale=scale))["due"] == due


# -- rule 3: rung ---------------------------------------------------------------------------

RUNG_ROWS = [
    ("nothing done", lambda s: s.impact("i1"), "monitor"),
    ("dialogue", lambda s: s.impact("i1").step("i1", "dialogue", "2021-01-02"), "engage"),
    ("highest, not latest",
     lambda s: s.impact("i1").step("i1", "content-removal", "2021-01-02")
     .step("i1", "dialogue", "2021-01-03"), "enforce"),
    ("collective",
     lambda s: s.impact("i1").step("i1", "peer-collaboration", "2021-01-02"), "collective"),
    ("suspend decision",
     lambda s: s.impact("i1", scale=4).step("i1", "formal-notice", "2021-01-02")
     .decide("i1", "suspend", "2021-01-03"), "suspend"),
    ("reinstate returns to the highest step rung",
     lambda s: s.impact("i1", scale=4).step("i1", "warning-label", "2021-01-02")
     .step("i1", "dialogue", "2021-01-02").decide("i1", "suspend", "2021-01-03")
     .decide("i1", "reinstate", "2021-01-04"), "enforce"),
    ("reinstate without steps",
     lambda s: s.impact("i1", scale=5).decide("i1", "suspend", "2021-01-02")
     .decide("i1", "reinstate", "2021-01-03"), "monitor"),
    ("suspend again after reinstate",
     lambda s: s.impact("i1", scale=4).decide("i1", "suspend", "2021-01-02")
     .decide("i1", "reinstate", "2021-01-03").decide("i1", "suspend", "2021-01-04"), "suspend"),
    ("terminate",
     lambda s: s.impact("i1", scale=4).decide("i1", "suspend", "2021-01-02")
     .decide("i1", "terminate", "2021-01-03"), "terminate"),
    ("continue reaches no rung",
     lambda s: s.impact("i1").step("i1", "dialogue", "2021-01-02")
     .decide("i1", "continue", "2021-01-03"), "engage"),
    ("unknown step kind", lambda s: s.impact("i1").step("i1", "mystery", "2021-01-02"), "monitor"),
]


@pytest.mark.parametrize(
    ("build", "rung"), [r[1:] for r in RUNG_ROWS], ids=[r[0] for r in RUNG_ROWS]
)
def test_rule3_rung(build, rung):
    assert status(build, "2021-01-05")["rung"] == rung


def test_rule3_plugin_step_kinds():
    build = lambda s: s.impact("i1").step("i1", "account-ban", "2021-01-02")  # noqa: E731
    assert status(build)["rung"] == "monitor"
    assert status(build, step_kinds={"account-ban": "enforce"})["rung"] == "enforce"
    extra = default_policy().with_step_kinds({"account-ban": "notice"})
    assert status(build, policy_for=lambda when: extra)["rung"] == "notice"


# -- rule 4: due date -----------------------------------------------------------------------

DUE_ROWS = [
    ("opening", lambda s: s.impact("i1", scale=4, at="2021-01-01"), "2021-01-15"),
    ("latest step", lambda s: s.impact("i1", scale=4).step("i1", "dialogue", "2021-01-05"),
     "2021-01-19"),
    ("step deadline",
     lambda s: s.impact("i1", scale=4).step("i1", "dialogue", "2021-01-05", deadline="2021-01-09"),
     "2021-01-09"),
    ("deadline of the anchor step only",
     lambda s: s.impact("i1", scale=4)
     .step("i1", "dialogue", "2021-01-05", deadline="2021-01-09")
     .step("i1", "formal-notice", "2021-01-06"), "2021-01-20"),
    ("improved outcome restarts",
     lambda s: s.impact("i1", scale=4).step("i1", "dialogue", "2021-01-05")
     .outcome("i1", "improved", "2021-01-10"), "2021-01-24"),
    ("no-change does not restart",
     lambda s: s.impact("i1", scale=4).step("i1", "dialogue", "2021-01-05")
     .outcome("i1", "no-change", "2021-01-10"), "2021-01-19"),
    ("improved never shortens a deadline",
     lambda s: s.impact("i1", scale=4)
     .step("i1", "dialogue", "2021-01-05", deadline="2021-03-01")
     .outcome("i1", "improved", "2021-01-10"), "2021-03-01"),
    ("improved before the anchor step",
     lambda s: s.impact("i1", scale=4).outcome("i1", "improved", "2021-01-03")
     .step("i1", "dialogue", "2021-01-05"), "2021-01-19"),
    ("continue does not restart",
     lambda s: s.impact("i1", scale=4).step("i1", "dialogue", "2021-01-05")
     .decide("i1", "continue", "2021-01-10"), "2021-01-19"),
    ("suspend restarts",
     lambda s: s.impact("i1", scale=4).step("i1", "formal-notice", "2021-01-05")
     .decide("i1", "suspend", "2021-01-10"), "2021-01-24"),
    ("reinstate restarts",
     lambda s: s.impact("i1", scale=4).step("i1", "formal-notice", "2021-01-05")
     .decide("i1", "suspend", "2021-01-10").decide("i1", "reinstate", "2021-01-12"),
     "2021-01-26"),
    ("current level counts",
     lambda s: s.impact("i1", scale=4).step("i1", "dialogue", "2021-01-05")
     .reassess("i1", "2021-01-06", scale=5), "2021-01-08"),
    ("date-time anchors count in UTC days",
     lambda s: s.impact("i1", scale=5).step("i1", "dialogue", "2021-01-05T23:30:00-02:00"),
     "2021-01-09"),
    ("remediated", lambda s: s.impact("i1").step("i1", "dialogue", "2021-01-02")
     .outcome("i1", "remediated", "2021-01-03"), None),
    ("terminated", lambda s: s.impact("i1", scale=4).step("i1", "formal-notice", "2021-01-02")
     .decide("i1", "terminate", "2021-01-03"), None),
    ("closed", lambda s: s.impact("i1").decide("i1", "close", "2021-01-03"), None),
    ("relationship ended", lambda s: s.impact("i1").end("r1", "2021-01-03"), None),
]


@pytest.mark.parametrize(
    ("build", "due"), [r[1:] for r in DUE_ROWS], ids=[r[0] for r in DUE_ROWS]
)
def test_rule4_due(build, due):
    assert status(build, "2021-01-12")["due"] == due


# -- rule 5: overdue ------------------------------------------------------------------------

OVERDUE_ROWS = [
    ("on the due date", lambda s: s.impact("i1", scale=5), "2021-01-04", False),
    ("the day after", lambda s: s.impact("i1", scale=5), "2021-01-05", True),
    ("worsened", lambda s: s.impact("i1", scale=1).step("i1", "dialogue", "2021-01-02")
     .outcome("i1", "worsened", "2021-01-03"), "2021-01-03", True),
    ("worsened then a step", lambda s: s.impact("i1", scale=1)
     .outcome("i1", "worsened", "2021-01-03").step("i1", "formal-notice", "2021-01-04"),
     "2021-01-05", False),
    ("worsened then a decision", lambda s: s.impact("i1", scale=1)
     .outcome("i1", "worsened", "2021-01-03").decide("i1", "continue", "2021-01-04"),
     "2021-01-05", False),
    ("worsened then improved", lambda s: s.impact("i1", scale=1)
     .outcome("i1", "worsened", "2021-01-03").outcome("i1", "improved", "2021-01-04"),
     "2021-01-05", False),
    ("remediated is never overdue", lambda s: s.impact("i1", scale=5)
     .outcome("i1", "remediated", "2021-01-02"), "2021-06-01", False),
    ("closed is never overdue", lambda s: s.impact("i1", scale=5)
     .decide("i1", "close", "2021-01-02"), "2021-06-01", False),
]


@pytest.mark.parametrize(
    ("build", "as_of", "overdue"), [r[1:] for r in OVERDUE_ROWS], ids=[r[0] for r in OVERDUE_ROWS]
)
def test_rule5_overdue(build, as_of, overdue):
    result = status(build, as_of)
    assert result["overdue"] is overdue
    assert ("overdue" in codes(result)) is overdue


def test_rule5_remediated_stops_the_clock_and_names_close():
    result = status(lambda s: s.impact("i1", scale=5).step("i1", "dialogue", "2021-01-02")
                    .outcome("i1", "remediated", "2021-01-03"), "2021-02-01")
    assert (result["due"], result["overdue"], result["next"]) == (None, False, "close")


def test_rule5_a_step_after_remediation_restarts_the_clock():
    result = status(lambda s: s.impact("i1", scale=5).outcome("i1", "remediated", "2021-01-03")
                    .step("i1", "dialogue", "2021-01-04"), "2021-01-05")
    assert (result["due"], result["next"]) == ("2021-01-07", "suspend")


# -- rule 6: next ---------------------------------------------------------------------------

NEXT_ROWS = [
    ("no step: engage", lambda s: s.impact("i1", scale=3), "engage"),
    ("no step, low: engage", lambda s: s.impact("i1", scale=1), "engage"),
    ("no step, critical: notice", lambda s: s.impact("i1", scale=5), "notice"),
    ("critical below suspend: suspend",
     lambda s: s.impact("i1", scale=5).step("i1", "dialogue", "2021-01-02"), "suspend"),
    ("critical at enforce: suspend",
     lambda s: s.impact("i1", scale=5).step("i1", "content-removal", "2021-01-02"), "suspend"),
    ("critical suspended: terminate",
     lambda s: s.impact("i1", scale=5).decide("i1", "suspend", "2021-01-02"), "terminate"),
    ("high at engage: notice",
     lambda s: s.impact("i1", scale=4).step("i1", "dialogue", "2021-01-02"), "notice"),
    ("high at notice: enforce",
     lambda s: s.impact("i1", scale=4).step("i1", "formal-notice", "2021-01-02"), "enforce"),
    ("high at enforce, leverage unknown: suspend",
     lambda s: s.impact("i1", scale=4).step("i1", "warning-label", "2021-01-02"), "suspend"),
    ("high at collective: suspend",
     lambda s: s.impact("i1", scale=4).step("i1", "industry-initiative", "2021-01-02"), "suspend"),
    ("high suspended: terminate",
     lambda s: s.impact("i1", scale=4).decide("i1", "suspend", "2021-01-02"), "terminate"),
    ("moderate at notice: enforce",
     lambda s: s.impact("i1", scale=3).step("i1", "formal-notice", "2021-01-02"), "enforce"),
    ("moderate at enforce: continue (suspend is not proportionate)",
     lambda s: s.impact("i1", scale=3).step("i1", "warning-label", "2021-01-02"), "continue"),
    ("low at notice: continue (enforce is not proportionate)",
     lambda s: s.impact("i1", scale=1).step("i1", "formal-notice", "2021-01-02"), "continue"),
    ("low at engage: notice",
     lambda s: s.impact("i1", scale=1).step("i1", "dialogue", "2021-01-02"), "notice"),
    ("remediated: close", lambda s: s.impact("i1", scale=5)
     .outcome("i1", "remediated", "2021-01-02"), "close"),
    ("terminated: close", lambda s: s.impact("i1", scale=4)
     .decide("i1", "terminate", "2021-01-02"), "close"),
    ("relationship terminated by another impact: close",
     lambda s: s.impact("i1", scale=4).impact("i2", scale=5)
     .decide("i2", "terminate", "2021-01-02"),
     "close"),
    ("relationship ended: close",
     lambda s: s.impact("i1", scale=4).end("r1", "2021-01-02"), "close"),
    ("closed: none", lambda s: s.impact("i1", scale=4).decide("i1", "close", "2021-01-02"), None),
]


@pytest.mark.parametrize(
    ("build", "nxt"), [r[1:] for r in NEXT_ROWS], ids=[r[0] for r in NEXT_ROWS]
)
def test_rule6_next(build, nxt):
    assert status(build, "2021-01-03")["next"] == nxt


@pytest.mark.parametrize(
    ("leverage", "scale", "nxt"),
    [
        (1, 4, "collective"),
        (2, 3, "collective"),
        (2, 1, "collective"),  # collective is proportionate at every level
        (3, 4, "suspend"),
        (None, 4, "suspend"),  # unknown leverage is not low
        (5, 3, "continue"),  # suspend is not proportionate for a moderate impact
        (3, 1, "continue"),
    ],
)
def test_rule6_collective_only_when_leverage_is_low(leverage, scale, nxt):
    state = (S.basic(leverage=leverage).impact("i1", scale=scale)
             .step("i1", "contractual-remedy", "2021-01-02").build())
    assert status_of(state, "i1", d("2021-01-03")).next == nxt


def test_rule6_next_is_explained():
    result = status(lambda s: s.impact("i1", scale=3).step("i1", "warning-label", "2021-01-02"))
    messages = [r["message"] for r in result["reasons"]]
    assert messages[-1] == (
        "suspend is proportionate only for a high or more severe impact and this one is "
        "moderate: continue using leverage at enforce and reassess severity."
    )
    assert all(r["source"] for r in result["reasons"])


# -- rule 7: gates --------------------------------------------------------------------------


def gate_codes(
    build: Build, decision: str, *, profile: str = "ungp", at: str = "2021-03-01",
    actor: str = "ana", approved_by: str | None = "ben",
) -> list[str]:
    state = build(S.basic()).build()
    policy = Policy.from_content(resolve(profile)[1])
    data = {"decision": decision, "rationale": "r", "policy_refs": ["P1"]}
    if approved_by is not None:
        data["approved_by"] = approved_by
    found = check_gates(state, "i1", data, actor=actor, when=when(at), policy=policy)
    assert all(isinstance(f, Finding) and f.message and f.source for f in found)
    return [f.code for f in found]


def ready_to_terminate(s: S) -> S:
    return (s.impact("i1", scale=4).step("i1", "formal-notice", "2021-01-02")
            .assess("i1", "termination-impact", "exit-acceptable", "2021-01-05"))


UNGP_GATE_ROWS = [
    # (id, build, decision, extra kwargs, codes)
    ("suspend passes", lambda s: s.impact("i1", scale=4), "suspend", {}, []),
    ("suspend disproportionate", lambda s: s.impact("i1", scale=3), "suspend", {},
     ["disproportionate"]),
    ("suspend without approval", lambda s: s.impact("i1", scale=4), "suspend",
     {"approved_by": None}, ["missing-approval"]),
    ("suspend approved by the actor", lambda s: s.impact("i1", scale=4), "suspend",
     {"approved_by": " ANA "}, ["missing-approval"]),
    ("suspend approved by a blank", lambda s: s.impact("i1", scale=4), "suspend",
     {"approved_by": "  "}, ["missing-approval"]),
    ("terminate passes", ready_to_terminate, "terminate", {}, []),
    ("terminate without assessment",
     lambda s: s.impact("i1", scale=4).step("i1", "formal-notice", "2021-01-02"), "terminate", {},
     ["missing-termination-assessment"]),
    ("terminate, exit more severe",
     lambda s: ready_to_terminate(s).assess("i1", "termination-impact", "exit-more-severe",
                                            "2021-01-06"), "terminate", {}, ["exit-more-severe"]),
    ("terminate, the latest assessment counts",
     lambda s: s.impact("i1", scale=4).step("i1", "formal-notice", "2021-01-02")
     .assess("i1", "termination-impact", "exit-more-severe", "2021-01-04")
     .assess("i1", "termination-impact", "exit-acceptable", "2021-01-05"), "terminate", {}, []),
    ("terminate without a prior step",
     lambda s: s.impact("i1", scale=4).step("i1", "dialogue", "2021-01-02")
     .assess("i1", "termination-impact", "exit-acceptable", "2021-01-05"), "terminate", {},
     ["missing-prior-step"]),
    ("terminate, critical needs no prior step",
     lambda s: s.impact("i1", scale=5)
     .assess("i1", "termination-impact", "exit-acceptable", "2021-01-05"), "terminate", {}, []),
    ("terminate fails everything",
     lambda s: s.impact("i1", scale=2), "terminate", {"approved_by": None},
     ["disproportionate", "missing-approval", "missing-termination-assessment",
      "missing-prior-step"]),
    ("records after the decision do not count",
     lambda s: s.impact("i1", scale=4).step("i1", "formal-notice", "2021-01-02")
     .assess("i1", "termination-impact", "exit-acceptable", "2021-04-01"), "terminate", {},
     ["missing-termination-assessment"]),
    ("continue has no gates", lambda s: s.impact("i1", scale=1), "continue",
     {"approved_by": None}, []),
    ("close has no gates", lambda s: s.impact("i1", scale=1), "close", {"approved_by": None}, []),
]


@pytest.mark.parametrize(
    ("build", "decision", "kw", "expected"),
    [r[1:] for r in UNGP_GATE_ROWS], ids=[r[0] for r in UNGP_GATE_ROWS],
)
def test_rule7_ungp_gates(build, decision, kw, expected):
    assert gate_codes(build, decision, **kw) == expected


def test_rule7_gates_read_the_level_at_the_decision():
    build = lambda s: (  # noqa: E731
        s.impact("i1", scale=4).reassess("i1", "2021-04-01", scale=2)
    )
    assert gate_codes(build, "suspend", at="2021-03-01") == []
    assert gate_codes(build, "suspend", at="2021-04-02") == ["disproportionate"]


def with_plan(s: S, kind: str, deadline: str = "2021-02-01") -> S:
    return (s.impact("i1", scale=4).step("i1", "formal-notice", "2021-01-02")
            .step("i1", kind, "2021-01-03", deadline=deadline))


CSDDD_GATE_ROWS = [
    ("suspend passes",
     lambda s: with_plan(s, "enhanced-action-plan")
     .assess("i1", "termination-impact", "exit-acceptable", "2021-01-04")
     .assess("i1", "leverage", "promising", "2021-01-05"), "suspend", []),
    ("suspend without enhanced plan",
     lambda s: s.impact("i1", scale=4)
     .assess("i1", "termination-impact", "exit-acceptable", "2021-01-04")
     .assess("i1", "leverage", "promising", "2021-01-05"), "suspend", ["missing-enhanced-plan"]),
    ("suspend without termination-impact assessment",
     lambda s: with_plan(s, "enhanced-action-plan")
     .assess("i1", "leverage", "promising", "2021-01-05"), "suspend",
     ["missing-termination-assessment"]),
    ("suspend, exit more severe",
     lambda s: with_plan(s, "enhanced-action-plan")
     .assess("i1", "termination-impact", "exit-more-severe", "2021-01-04")
     .assess("i1", "leverage", "promising", "2021-01-05"), "suspend", ["exit-more-severe"]),
    ("suspend without promising leverage",
     lambda s: with_plan(s, "enhanced-action-plan")
     .assess("i1", "termination-impact", "exit-acceptable", "2021-01-04")
     .assess("i1", "leverage", "not-promising", "2021-01-05"), "suspend",
     ["missing-leverage-assessment"]),
    ("suspend disproportionate",
     lambda s: s.impact("i1", scale=3).step("i1", "enhanced-action-plan", "2021-01-03")
     .assess("i1", "termination-impact", "exit-acceptable", "2021-01-04")
     .assess("i1", "leverage", "promising", "2021-01-05"), "suspend", ["disproportionate"]),
    ("terminate after the plan failed",
     lambda s: with_plan(s, "enhanced-action-plan")
     .outcome("i1", "no-change", "2021-01-20")
     .assess("i1", "termination-impact", "exit-acceptable", "2021-01-04"), "terminate", []),
    ("terminate when leverage is not promising",
     lambda s: with_plan(s, "enhanced-action-plan", deadline="2021-12-01")
     .assess("i1", "leverage", "not-promising", "2021-01-05")
     .assess("i1", "termination-impact", "exit-acceptable", "2021-01-04"), "terminate", []),
    ("terminate before the plan's deadline",
     lambda s: with_plan(s, "enhanced-action-plan", deadline="2021-12-01")
     .assess("i1", "termination-impact", "exit-acceptable", "2021-01-04"), "terminate",
     ["enhanced-plan-not-failed"]),
    ("terminate after the plan improved things",
     lambda s: with_plan(s, "enhanced-action-plan")
     .outcome("i1", "improved", "2021-01-20")
     .assess("i1", "termination-impact", "exit-acceptable", "2021-01-04"), "terminate",
     ["enhanced-plan-not-failed"]),
    ("terminate without any plan",
     lambda s: s.impact("i1", scale=4).step("i1", "formal-notice", "2021-01-02")
     .assess("i1", "termination-impact", "exit-acceptable", "2021-01-04"), "terminate",
     ["enhanced-plan-not-failed"]),
    ("terminate needs a severe impact",
     lambda s: s.impact("i1", scale=3).step("i1", "enhanced-action-plan", "2021-01-03",
                                            deadline="2021-02-01")
     .assess("i1", "termination-impact", "exit-acceptable", "2021-01-04"), "terminate",
     ["disproportionate"]),
    ("terminate without termination-impact assessment",
     lambda s: with_plan(s, "enhanced-action-plan"), "terminate",
     ["missing-termination-assessment"]),
    ("terminate, exit more severe",
     lambda s: with_plan(s, "enhanced-action-plan")
     .assess("i1", "termination-impact", "exit-more-severe", "2021-01-04"), "terminate",
     ["exit-more-severe"]),
]


@pytest.mark.parametrize(
    ("build", "decision", "expected"),
    [r[1:] for r in CSDDD_GATE_ROWS], ids=[r[0] for r in CSDDD_GATE_ROWS],
)
def test_rule7_csddd_gates(build, decision, expected):
    assert gate_codes(build, decision, profile="csddd") == expected


def test_csddd_missing_approval():
    build = CSDDD_GATE_ROWS[0][1]
    assert gate_codes(build, "suspend", profile="csddd", approved_by=None) == ["missing-approval"]


LKSG_GATE_ROWS = [
    ("terminate passes",
     lambda s: with_plan(s.impact("i0", scale=1), "corrective-action-plan")
     .reassess("i1", "2021-01-03", scale=5)
     .assess("i1", "termination-impact", "exit-acceptable", "2021-01-04")
     .assess("i1", "leverage", "not-promising", "2021-01-05"), "terminate", []),
    ("terminate when not very serious",
     lambda s: with_plan(s, "corrective-action-plan")
     .assess("i1", "termination-impact", "exit-acceptable", "2021-01-04")
     .assess("i1", "leverage", "not-promising", "2021-01-05"), "terminate", ["not-very-serious"]),
    ("terminate before the plan's time elapsed",
     lambda s: with_plan(s, "corrective-action-plan", deadline="2021-12-01")
     .reassess("i1", "2021-01-03", scale=5)
     .assess("i1", "termination-impact", "exit-acceptable", "2021-01-04")
     .assess("i1", "leverage", "not-promising", "2021-01-05"), "terminate",
     ["plan-time-not-elapsed"]),
    ("terminate after the plan remedied",
     lambda s: with_plan(s, "corrective-action-plan")
     .reassess("i1", "2021-01-03", scale=5)
     .outcome("i1", "remediated", "2021-01-20")
     .assess("i1", "termination-impact", "exit-acceptable", "2021-01-04")
     .assess("i1", "leverage", "not-promising", "2021-01-05"), "terminate",
     ["plan-time-not-elapsed"]),
    ("terminate without a plan",
     lambda s: s.impact("i1", scale=5)
     .assess("i1", "termination-impact", "exit-acceptable", "2021-01-04")
     .assess("i1", "leverage", "not-promising", "2021-01-05"), "terminate",
     ["plan-time-not-elapsed"]),
    ("terminate while leverage is promising",
     lambda s: with_plan(s, "corrective-action-plan")
     .reassess("i1", "2021-01-03", scale=5)
     .assess("i1", "termination-impact", "exit-acceptable", "2021-01-04")
     .assess("i1", "leverage", "promising", "2021-01-05"), "terminate",
     ["missing-leverage-assessment"]),
    ("terminate without a leverage assessment",
     lambda s: with_plan(s, "corrective-action-plan")
     .reassess("i1", "2021-01-03", scale=5)
     .assess("i1", "termination-impact", "exit-acceptable", "2021-01-04"), "terminate",
     ["missing-leverage-assessment"]),
    ("terminate without termination-impact assessment",
     lambda s: with_plan(s, "corrective-action-plan")
     .reassess("i1", "2021-01-03", scale=5)
     .assess("i1", "leverage", "not-promising", "2021-01-05"), "terminate",
     ["missing-termination-assessment"]),
    ("suspend keeps the ungp gates", lambda s: s.impact("i1", scale=4), "suspend", []),
    ("suspend disproportionate", lambda s: s.impact("i1", scale=3), "suspend",
     ["disproportionate"]),
]


@pytest.mark.parametrize(
    ("build", "decision", "expected"),
    [r[1:] for r in LKSG_GATE_ROWS], ids=[r[0] for r in LKSG_GATE_ROWS],
)
def test_rule7_lksg_gates(build, decision, expected):
    assert gate_codes(build, decision, profile="lksg") == expected


def test_lksg_missing_approval():
    build = LKSG_GATE_ROWS[0][1]
    assert gate_codes(build, "terminate", profile="lksg", approved_by="Ana") == ["missing-approval"]


def test_gate_messages_cite_their_profile():
    state = S.basic().impact("i1", scale=3).build()
    lksg = Policy.from_content(resolve("lksg")[1])
    found = check_gates(state, "i1", {"decision": "terminate"}, actor="ana",
                        when=when("2021-02-01"), policy=lksg)
    by_code = {f.code: f for f in found}
    assert by_code["not-very-serious"].source == "LkSG §7(3)"
    assert "this impact is moderate" in by_code["not-very-serious"].message
    assert by_code["missing-approval"].message.startswith("A decision to terminate needs")


def test_check_gates_unknown_impact():
    state = S.basic().build()
    with pytest.raises(LeverageError, match="unknown impact 'nope'"):
        check_gates(state, "nope", {"decision": "suspend"}, actor="a", when=when("2021-01-01"),
                    policy=default_policy())


# -- missing ---------------------------------------------------------------------------------


def test_missing_for_assumes_a_second_approver():
    state = S.basic().impact("i1", scale=4).build()
    kw: dict[str, Any] = {"when": when("2021-02-01"), "policy": default_policy()}
    assert missing_for(state, "i1", "suspend", **kw) == []
    assert missing_for(state, "i1", "suspend", actor="ana", approved_by="ana", **kw) == [
        "missing-approval"
    ]
    assert missing_for(state, "i1", "terminate", **kw) == [
        "missing-termination-assessment", "missing-prior-step"
    ]
    assert missing_for(state, "i1", "engage", **kw) == []


def test_status_missing_lists_what_would_refuse_next():
    result = status(lambda s: s.impact("i1", scale=4).decide("i1", "suspend", "2021-01-02"),
                    "2021-01-03")
    assert result["next"] == "terminate"
    assert result["missing"] == ["missing-termination-assessment", "missing-prior-step"]
    result = status(lambda s: s.impact("i1", scale=4).step("i1", "dialogue", "2021-01-02"))
    assert (result["next"], result["missing"]) == ("notice", [])


# -- rule 8: findings -------------------------------------------------------------------------


def test_finding_overdue_message():
    result = status(lambda s: s.impact("i1", scale=5, at="2021-01-07")
                    .step("i1", "formal-notice", "2021-01-07"), "2021-01-14")
    assert result["findings"][0] == {
        "code": "overdue",
        "message": "Change was due by 2021-01-10 (3 days for a critical impact); "
        "it is 4 days overdue.",
        "source": "UNGP 19 commentary",
    }


def test_finding_overdue_deadline_and_worsened_messages():
    result = status(lambda s: s.impact("i1", scale=1)
                    .step("i1", "dialogue", "2021-01-02", deadline="2021-01-05"), "2021-01-06")
    assert result["findings"][0]["message"] == (
        "Change was due by 2021-01-05, the deadline set by the dialogue step of 2021-01-02; "
        "it is 1 day overdue."
    )
    result = status(lambda s: s.impact("i1", scale=1).outcome("i1", "worsened", "2021-01-03"),
                    "2021-01-04")
    assert result["findings"][0]["message"].startswith("The situation worsened on 2021-01-03")


FINDING_ROWS = [
    # (id, build, as_of, code expected?, code)
    ("lenient deadline",
     lambda s: s.impact("i1", scale=5).step("i1", "formal-notice", "2021-01-02",
                                            deadline="2021-01-06"),
     "2021-01-03", True, "lenient-deadline"),
    ("deadline within the time allowed",
     lambda s: s.impact("i1", scale=5).step("i1", "formal-notice", "2021-01-02",
                                            deadline="2021-01-05"),
     "2021-01-03", False, "lenient-deadline"),
    ("lenient by the level at the step's time",
     lambda s: s.impact("i1", scale=1).step("i1", "dialogue", "2021-01-02", deadline="2021-03-01")
     .reassess("i1", "2021-01-03", scale=5),
     "2021-01-03", False, "lenient-deadline"),
    ("disproportionate step", lambda s: s.impact("i1", scale=1)
     .step("i1", "content-removal", "2021-01-02"), "2021-01-03", True, "disproportionate"),
    ("proportionate step", lambda s: s.impact("i1", scale=3)
     .step("i1", "content-removal", "2021-01-02"), "2021-01-03", False, "disproportionate"),
    ("disproportionate by the level at its time",
     lambda s: s.impact("i1", scale=1).step("i1", "content-removal", "2021-01-02")
     .reassess("i1", "2021-01-03", scale=5), "2021-01-04", True, "disproportionate"),
    ("disproportionate decision", lambda s: s.impact("i1", scale=3)
     .decide("i1", "suspend", "2021-01-02"), "2021-01-03", True, "disproportionate"),
    ("review due (30 days)", lambda s: s.impact("i1", scale=4)
     .decide("i1", "suspend", "2021-01-02"), "2021-02-02", True, "review-due"),
    ("review not yet due", lambda s: s.impact("i1", scale=4)
     .decide("i1", "suspend", "2021-01-02"), "2021-02-01", False, "review-due"),
    ("review due (7 days if critical)", lambda s: s.impact("i1", scale=5)
     .decide("i1", "suspend", "2021-01-02"), "2021-01-10", True, "review-due"),
    ("an assessment is a review", lambda s: s.impact("i1", scale=5)
     .decide("i1", "suspend", "2021-01-02").assess("i1", "expert", "keep", "2021-01-08"),
     "2021-01-10", False, "review-due"),
    ("no review after reinstate", lambda s: s.impact("i1", scale=5)
     .decide("i1", "suspend", "2021-01-02").decide("i1", "reinstate", "2021-01-03"),
     "2021-03-10", False, "review-due"),
    ("reassessment due", lambda s: s.impact("i1", scale=1), "2022-01-02", True,
     "reassessment-due"),
    ("reassessment not yet due", lambda s: s.impact("i1", scale=1), "2022-01-01", False,
     "reassessment-due"),
    ("a reassessment restarts it", lambda s: s.impact("i1", scale=1)
     .reassess("i1", "2021-06-01", scale=1), "2022-01-02", False, "reassessment-due"),
    ("crucial relationship, next suspend",
     lambda s: s.rel("r1", "we", "acme", crucial=True).impact("i1", scale=5)
     .step("i1", "formal-notice", "2021-01-02"), "2021-01-03", True, "crucial-relationship"),
    ("crucial relationship, next notice",
     lambda s: s.rel("r1", "we", "acme", crucial=True).impact("i1", scale=4)
     .step("i1", "dialogue", "2021-01-02"), "2021-01-03", False, "crucial-relationship"),
    ("not crucial", lambda s: s.impact("i1", scale=5).step("i1", "formal-notice", "2021-01-02"),
     "2021-01-03", False, "crucial-relationship"),
    ("cause", lambda s: s.impact("i1", involvement="cause"), "2021-01-02", True,
     "cease-own-contribution"),
    ("contribute", lambda s: s.impact("i1", involvement="contribute"), "2021-01-02", True,
     "cease-own-contribution"),
    ("linked", lambda s: s.impact("i1", involvement="linked"), "2021-01-02", False,
     "cease-own-contribution"),
    ("forced decision", lambda s: s.impact("i1", scale=3)
     .decide("i1", "suspend", "2021-01-02", approved_by=None, forced="imminent harm"),
     "2021-01-03", True, "forced-decision"),
]


@pytest.mark.parametrize(
    ("build", "as_of", "present", "code"),
    [r[1:] for r in FINDING_ROWS], ids=[r[0] for r in FINDING_ROWS],
)
def test_rule8_findings(build, as_of, present, code):
    result = status(build, as_of)
    assert (code in codes(result)) is present, result["findings"]
    for f in result["findings"]:
        assert f["message"] and f["source"] and "{" not in f["message"]


def test_forced_decision_lists_the_codes_it_failed():
    result = status(lambda s: s.impact("i1", scale=3)
                    .decide("i1", "terminate", "2021-01-02", approved_by=None,
                            forced="court order"),
                    "2021-01-03")
    assert codes(result) == [
        "forced-decision", "disproportionate", "missing-approval",
        "missing-termination-assessment", "missing-prior-step",
    ]
    assert result["findings"][0]["message"] == (
        "The terminate decision of 2021-01-02 was recorded although it did not pass the "
        "policy's checks (disproportionate, missing-approval, missing-termination-assessment, "
        "missing-prior-step); reason given: court order"
    )


def test_forced_decision_is_judged_on_the_records_before_it():
    # an assessment recorded after the forced decision (same time, later seq) does not count
    result = status(lambda s: s.impact("i1", scale=4).step("i1", "formal-notice", "2021-01-02")
                    .decide("i1", "terminate", "2021-01-05", forced="urgent")
                    .assess("i1", "termination-impact", "exit-acceptable", "2021-01-05"),
                    "2021-01-06")
    assert codes(result) == ["forced-decision", "missing-termination-assessment"]
    # one recorded before it at the same time counts
    result = status(lambda s: s.impact("i1", scale=4).step("i1", "formal-notice", "2021-01-02")
                    .assess("i1", "termination-impact", "exit-acceptable", "2021-01-05")
                    .decide("i1", "terminate", "2021-01-05", forced="urgent"),
                    "2021-01-06")
    assert codes(result) == ["forced-decision"]
    assert "checks (none)" in result["findings"][0]["message"]


def test_forced_decision_uses_the_policy_at_its_time():
    state = (S.basic().policy("lksg", at="2020-01-01").policy("ungp", at="2021-02-01")
             .impact("i1", scale=4).step("i1", "formal-notice", "2021-01-02")
             .assess("i1", "termination-impact", "exit-acceptable", "2021-01-03")
             .decide("i1", "terminate", "2021-01-05", forced="urgent").build())
    found = [f.code for f in status_of(state, "i1", d("2021-03-01")).findings]
    assert found == [
        "forced-decision", "not-very-serious", "plan-time-not-elapsed",
        "missing-leverage-assessment",
    ]


def test_step_findings_use_the_policy_at_their_time():
    strict = resolve("ungp")[1].replace('"critical":3', '"critical":1')
    state = (S.basic().policy("ungp", at="2020-01-01", content=strict)
             .policy("ungp", at="2021-02-01")
             .impact("i1", scale=5)
             .step("i1", "formal-notice", "2021-01-02", deadline="2021-01-04")
             .step("i1", "formal-notice", "2021-03-02", deadline="2021-03-04").build())
    found = status_of(state, "i1", d("2021-03-03")).findings
    lenient = [f.message for f in found if f.code == "lenient-deadline"]
    assert len(lenient) == 1 and "2021-01-02" in lenient[0]


def test_policy_in_force_at_as_of_governs_the_status():
    slow = resolve("ungp")[1].replace('"critical":3', '"critical":10')
    state = (S.basic().policy("ungp", at="2020-01-01")
             .policy("ungp", at="2021-01-03", content=slow)
             .impact("i1", scale=5).build())
    assert status_of(state, "i1", d("2021-01-02")).due == d("2021-01-04")
    assert status_of(state, "i1", d("2021-01-03")).due == d("2021-01-11")


def test_first_policy_governs_earlier_times():
    # a terminate next needs lksg's gates even before the lksg policy was set
    state = (S.basic().policy("lksg", at="2022-01-01").impact("i1", scale=4)
             .decide("i1", "suspend", "2021-01-02").build())
    result = status_of(state, "i1", d("2021-01-03"))
    assert result.next == "terminate"
    assert "not-very-serious" in result.missing


# -- plugin checks ----------------------------------------------------------------------------


def test_plugin_checks_add_findings():
    seen: dict[str, Any] = {}

    def check(impact, state, policy, as_of):
        seen.update(impact=impact.id, as_of=as_of, policy=policy.name, state=type(state))
        return [{"code": "tos-appeal-open", "message": "An appeal is open.", "source": "ToS 4.2"}]

    def partial(impact):
        yield Finding("partial", f"Saw {impact.id}.", "test")

    result = status(lambda s: s.impact("i1"), checks=[("tos", check), ("p", partial)])
    assert codes(result)[-2:] == ["tos-appeal-open", "partial"]
    assert seen == {"impact": "i1", "as_of": d("2021-01-02"), "policy": "ungp", "state": State}


def test_plugin_error_names_the_plugin():
    def broken(**kw):
        raise RuntimeError("database\nunavailable")

    def bad_shape(**kw):
        return [{"code": "x"}]

    result = status(lambda s: s.impact("i1"), checks=[("acme-crm", broken), ("shape", bad_shape)])
    errors = [f for f in result["findings"] if f["code"] == "plugin-error"]
    assert len(errors) == 2
    assert errors[0]["message"] == (
        "The check of plugin acme-crm failed (RuntimeError: database unavailable); its findings "
        "are missing for this impact."
    )
    assert "shape" in errors[1]["message"] and "KeyError" in errors[1]["message"]


# -- the status object and evaluate -------------------------------------------------------------


def test_status_dict_has_the_contract_keys_in_order():
    result = status(lambda s: s.impact("i1"))
    assert list(result) == [
        "impact", "relationship", "party", "level", "rung", "due", "overdue", "next",
        "relationship_status", "findings", "reasons", "missing",
    ]
    state = S.basic().impact("i1").build()
    plain = evaluate(state, d("2021-01-02"))[0].to_dict()
    assert list(plain) == list(result)[:10]
    assert json.loads(json.dumps(plain)) == plain


def test_party_is_the_end_that_is_not_self():
    state = (S().party("we", "self").party("steel", "supplier").party("app", "client")
             .rel("r1", "steel", "we", "supplies").rel("r2", "we", "app", "hosts")
             .impact("i1", "r1").impact("i2", "r2").build())
    parties = {s.impact: s.party for s in evaluate(state, d("2021-01-02"))}
    assert parties == {"i1": "steel", "i2": "app"}


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda s: s.impact("i1"), "active"),
        (lambda s: s.impact("i1").impact("i2", scale=4).decide("i2", "suspend", "2021-01-02"),
         "suspended"),
        (lambda s: s.impact("i1").impact("i2", scale=4).decide("i2", "suspend", "2021-01-02")
         .decide("i2", "reinstate", "2021-01-03"), "active"),
        (lambda s: s.impact("i1").impact("i2", scale=4).decide("i2", "suspend", "2021-01-02")
         .decide("i2", "close", "2021-01-03"), "suspended"),
        (lambda s: s.impact("i1").impact("i2", scale=4).decide("i2", "terminate", "2021-01-02")
         .end("r1", "2021-01-03"), "terminated"),
        (lambda s: s.impact("i1").end("r1", "2021-01-03"), "ended"),
        (lambda s: s.impact("i1").end("r1", "2021-02-03"), "active"),
    ],
)
def test_relationship_status(build, expected):
    assert status(build, "2021-01-05")["relationship_status"] == expected


def test_evaluate_sorts_and_flags_closed():
    state = (S.basic()
             .impact("b-low", scale=1)
             .impact("a-high", scale=4)
             .impact("c-crit-late", scale=5, at="2020-12-01")
             .impact("d-closed", scale=5).decide("d-closed", "close", "2021-01-02")
             .impact("e-high-later", scale=4).step("e-high-later", "dialogue", "2021-01-03")
             .impact("f-later", scale=5, at="2021-02-01")
             .build())
    statuses = evaluate(state, d("2021-01-04"))
    assert [s.impact for s in statuses] == [
        "c-crit-late", "d-closed", "a-high", "e-high-later", "b-low",
    ]
    closed = statuses[1]
    assert closed.closed and closed.next is None and closed.due is None
    assert not any(s.closed for s in statuses if s.impact != "d-closed")
    assert all(s.reasons for s in statuses)
    quick = evaluate(state, d("2021-01-04"), explain=False)
    assert [s.to_dict() for s in quick] == [s.to_dict() for s in statuses]
    assert all(s.reasons == () and s.missing == () for s in quick)


def test_status_of_errors():
    state = S.basic().impact("i1", at="2021-02-01").build()
    with pytest.raises(LeverageError, match="unknown impact 'i9'"):
        status_of(state, "i9", d("2021-03-01"))
    with pytest.raises(LeverageError, match="impact i1 was not open by 2021-01-01"):
        status_of(state, "i1", d("2021-01-01"))


def test_status_value_object():
    s = Status("i", "r", "p", "low", "monitor", None, False, "engage", "active")
    assert s.to_next_dict()["due"] is None and s.to_next_dict()["reasons"] == []


# -- properties ---------------------------------------------------------------------------------

SEVERITY = st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5))
RIGHTS = st.lists(st.sampled_from(["life", "security-of-person", "expression", "labour"]),
                  max_size=2, unique=True).map(tuple)
PROFILES = st.sampled_from(["ungp", "csddd", "lksg"])


@given(SEVERITY, SEVERITY, RIGHTS, PROFILES)
def test_more_severe_is_never_given_more_days(a, b, rights, profile):
    low = tuple(min(x, y) for x, y in zip(a, b, strict=True))
    high = tuple(max(x, y) for x, y in zip(a, b, strict=True))
    policy = Policy.from_content(resolve(profile)[1])
    from leverage.model import Severity

    days_low = policy.days_for(policy.level_of(Severity(*low), rights))
    days_high = policy.days_for(policy.level_of(Severity(*high), rights))
    assert days_high <= days_low
    # and through the engine: the same history, a more severe impact, an earlier due date
    due: dict[str, date | None] = {}
    for name, sev in (("low", low), ("high", high)):
        state = (S.basic().impact("i1", scale=sev[0], scope=sev[1], irr=sev[2], rights=rights)
                 .step("i1", "dialogue", "2021-01-02").build())
        due[name] = status_of(state, "i1", d("2021-01-02"), explain=False).due
    assert due["high"] is not None and due["low"] is not None
    assert due["high"] <= due["low"]


DAY0 = date(2021, 1, 1)
KINDS = ["dialogue", "formal-notice", "warning-label", "peer-collaboration"]


@st.composite
def histories(draw: st.DrawFn, *, outcomes: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """A random history of one impact: (day offset, what, detail, extra) records."""
    events: list[tuple[Any, ...]] = []
    for _ in range(draw(st.integers(0, 6))):
        day = draw(st.integers(0, 60))
        what = draw(st.sampled_from(["step", "step", "outcome", "decision", "reassess", "assess"]))
        if what == "step":
            deadline = draw(st.one_of(st.none(), st.integers(0, 90)))
            events.append((day, "step", draw(st.sampled_from(KINDS)), deadline))
        elif what == "outcome":
            events.append((day, "outcome", draw(st.sampled_from(outcomes)), None))
        elif what == "decision":
            events.append((day, "decision", draw(st.sampled_from(
                ["continue", "suspend", "reinstate"])), None))
        elif what == "reassess":
            events.append((day, "reassess", draw(st.integers(1, 5)), None))
        else:
            events.append((day, "assess", draw(st.sampled_from(["expert", "leverage"])), None))
    return events


def build_history(
    events: list[tuple[Any, ...]], scale: int, leverage: int | None = None
) -> S:
    s = S.basic(leverage=leverage).impact("i1", scale=scale, at=DAY0.isoformat())
    for day, what, detail, extra in events:
        at = (DAY0 + timedelta(days=day)).isoformat()
        if what == "step":
            deadline = None
            if extra is not None:
                deadline = (DAY0 + timedelta(days=day + extra)).isoformat()
            s.step("i1", detail, at, deadline=deadline)
        elif what == "outcome":
            s.outcome("i1", detail, at)
        elif what == "decision":
            s.decide("i1", detail, at)
        elif what == "reassess":
            s.reassess("i1", at, scale=detail)
        else:
            s.assess("i1", detail, "promising" if detail == "leverage" else "noted", at)
    return s


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    histories(outcomes=("no-change", "worsened", "improved")),
    st.integers(1, 5),
    st.integers(0, 60),
    st.integers(0, 120),
)
def test_an_improvement_never_makes_an_impact_overdue_sooner(events, scale, day, as_of):
    """Remediation is terminal and left out: a later outcome reopens the clock by design."""
    day_as_of = DAY0 + timedelta(days=as_of)
    without = build_history(events, scale).build()
    with_improved = build_history([*events, (day, "outcome", "improved", None)], scale).build()
    before = status_of(without, "i1", day_as_of, explain=False)
    after = status_of(with_improved, "i1", day_as_of, explain=False)
    if after.overdue:
        assert before.overdue
    assert (before.due is None) == (after.due is None)
    if before.due is not None and after.due is not None:
        assert after.due >= before.due


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    histories(outcomes=("no-change", "worsened", "improved", "remediated")),
    st.integers(1, 5),
    st.sampled_from([None, 1, 2, 4]),
    st.integers(0, 90),
    PROFILES,
)
def test_status_as_of_a_date_ignores_later_records(events, scale, leverage, as_of, profile):
    day = DAY0 + timedelta(days=as_of)
    full = build_history(events, scale, leverage).policy(profile, at="2020-06-01")
    everything = full.build()
    only_until = full.build(upto=day)
    a = status_of(everything, "i1", day).to_next_dict()
    b = status_of(only_until, "i1", day).to_next_dict()
    assert a == b
    assert [s.to_dict() for s in evaluate(everything, day)] == [
        s.to_dict() for s in evaluate(only_until, day)
    ]
