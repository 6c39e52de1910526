"""Shared data of the grievance tests (no tests here): a ledger with an impact, a step and a
suspension to file grievances and appeals about."""

from __future__ import annotations

from typing import Any

Event = dict[str, Any]

#: loaded after ``leverage init --at 2021-01-01`` (seq 1): the seqs are 2 to 7
BASE: list[Event] = [
    {"type": "party.added", "at": "2021-01-01", "actor": "ana",
     "data": {"id": "we", "name": "We Host GmbH", "kind": "self"}},
    {"type": "party.added", "at": "2021-01-01", "actor": "ana",
     "data": {"id": "acme", "name": "Acme Media SARL", "kind": "client"}},
    {"type": "relationship.added", "at": "2021-01-02", "actor": "ana",
     "data": {"id": "r1", "source": "we", "target": "acme", "type": "hosts"}},
    {"type": "impact.opened", "at": "2021-01-03", "actor": "ana",
     "data": {"id": "i1", "relationship": "r1", "rights": ["expression"], "summary": "Threats.",
              "severity": {"scale": 4, "scope": 3, "irremediability": 3}}},
    {"type": "step.taken", "at": "2021-01-04", "actor": "ana",
     "data": {"impact": "i1", "kind": "formal-notice", "summary": "Notice."}},
    {"type": "decision.made", "at": "2021-01-10", "actor": "ana",
     "data": {"impact": "i1", "decision": "suspend", "rationale": "No change.",
              "policy_refs": ["ToS 4.2"], "approved_by": "Bo"}},
]
STEP_SEQ = 6
SUSPEND_SEQ = 7
