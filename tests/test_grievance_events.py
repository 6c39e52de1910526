"""The grievance event types in the ledger: references, atomicity, voids, the state projection,
restores (docs/grievances.md). Written through the Python API and ``leverage load``."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from grievance_support import BASE, STEP_SEQ, SUSPEND_SEQ

from leverage import plugins
from leverage.errors import GateError, ValidationError
from leverage.grievances import Grievance, check, grievances_of, view
from leverage.ledger import open_ledger
from leverage.policy import Policy, default_policy, resolve

Event = dict[str, Any]



def filed(gid: str = "g1", at: str = "2021-01-11", actor: str = "ana", **data: Any) -> Event:
    body = {"id": gid, "kind": "complaint", "summary": "It hurts.", "channel": "web-form", **data}
    return {"type": "grievance.filed", "at": at, "actor": actor, "data": body}


def acked(gid: str = "g1", at: str = "2021-01-12", actor: str = "ana", **data: Any) -> Event:
    return {"type": "grievance.acknowledged", "at": at, "actor": actor, "data": {"id": gid, **data}}


def resolved(gid: str = "g1", at: str = "2021-01-20", actor: str = "cy", outcome: str = "upheld",
             **data: Any) -> Event:
    return {"type": "grievance.resolved", "at": at, "actor": actor,
            "data": {"id": gid, "outcome": outcome, "summary": "Decided.", **data}}


@pytest.fixture
def ledger(invoke, db: Path, load_events):
    assert invoke("init", "--at", "2021-01-01").exit_code == 0
    load_events(BASE)
    with open_ledger(db) as opened:
        yield opened


def count(ledger) -> int:
    return ledger.count()


# -- the projection ------------------------------------------------------------------------------

def test_each_event_is_projected_into_the_state(ledger):
    ledger.append([
        filed("g1", impact="i1", filed_by="Carla Client", confidential=True),
        acked("g1", summary="Receipt confirmed."),
        resolved("g1", outcome="partly-upheld", remedy="An apology."),
        filed("g2", at="2021-01-12", kind="appeal", decision=SUSPEND_SEQ, channel="e-mail"),
        filed("g3", at="2021-01-13", kind="concern", relationship="r1"),
        filed("g4", at="2021-01-13", party="acme"),
        filed("g5", at="2021-01-14", kind="concern"),
    ])
    book = grievances_of(ledger.state())
    assert [g.id for g in book] == ["g1", "g2", "g3", "g4", "g5"]
    g1 = book.get("g1")
    assert isinstance(g1, Grievance)
    assert (g1.kind, g1.channel, g1.filed_by, g1.confidential, g1.impact, g1.about) == (
        "complaint", "web-form", "Carla Client", True, "i1", "impact")
    assert g1.acknowledgement is not None and g1.acknowledgement.summary == "Receipt confirmed."
    assert g1.resolution is not None
    assert (g1.resolution.outcome, g1.resolution.remedy, g1.resolution.actor) == ("partly-upheld", "An apology.", "cy")
    assert book.get("g2").decision == SUSPEND_SEQ and book.get("g2").about == "decision"
    assert book.get("g3").about == "relationship" and book.get("g4").about == "party"
    assert book.get("g5").about == "general" and book.get("g5").confidential is False
    assert book.by_impact == {"i1": ("g1",)} and book.by_decision == {SUSPEND_SEQ: ("g2",)}


def test_the_state_as_of_a_day_and_as_known(ledger):
    ledger.append([filed(), acked(at="2021-01-15"), resolved(at="2021-01-25")])
    assert grievances_of(ledger.state(as_of=date(2021, 1, 10))).items == {}
    mid = grievances_of(ledger.state(as_of=date(2021, 1, 16))).get("g1")
    assert mid.acknowledgement is not None and mid.resolution is None
    recorded = [e.recorded_at for e in ledger.iter_events()]
    assert grievances_of(ledger.state(known_at=recorded[-4])).items == {}


def test_a_ledger_without_grievances_has_an_empty_book(ledger):
    book = grievances_of(ledger.state())
    assert len(book) == 0 and list(book) == [] and book.get("g1") is None


# -- references: one clear error, nothing written -------------------------------------------------

BAD: list[tuple[str, list[Event], str, str]] = [
    ("unknown impact", [filed(impact="nope")], "data.impact", "unknown impact 'nope'"),
    ("unknown relationship", [filed(relationship="nope")], "data.relationship", "unknown relationship 'nope'"),
    ("unknown party", [filed(party="nope")], "data.party", "unknown party 'nope'"),
    ("appeal of no event", [filed(kind="appeal", decision=999)], "data.decision", "no event with seq 999"),
    ("appeal of a step", [filed(kind="appeal", decision=STEP_SEQ)], "data.decision",
     f"event {STEP_SEQ} is a step.taken, not a decision.made"),
    ("appeal without decision", [filed(kind="appeal")], "data.decision", "an appeal names the decision"),
    ("complaint with decision", [filed(decision=SUSPEND_SEQ)], "data.decision", "only an appeal names a decision"),
    ("two targets", [filed(impact="i1", party="acme")], "data.party", "at most one of"),
    ("filed before the impact", [filed(at="2021-01-02", impact="i1")], "at", "before impact 'i1' was opened"),
    ("appeal before the decision", [filed(at="2021-01-09", kind="appeal", decision=SUSPEND_SEQ)], "at",
     "before the decision it appeals"),
    ("existing id", [filed(), filed(at="2021-01-12")], "data.id", "grievance 'g1' exists already"),
    ("ack of an unknown grievance", [acked("nope")], "data.id", "unknown grievance 'nope'"),
    ("ack twice", [filed(), acked(), acked(at="2021-01-13")], "data.id", "acknowledged already"),
    ("ack after the resolution", [filed(), resolved(at="2021-01-12"), acked(at="2021-01-13")], "data.id",
     "an acknowledgement comes before the resolution"),
    ("resolution of an unknown grievance", [resolved("nope")], "data.id", "unknown grievance 'nope'"),
    ("resolution twice", [filed(), resolved(), resolved(at="2021-01-21")], "data.id", "resolved already"),
    ("resolution before the filing", [filed(at="2021-01-15"), resolved(at="2021-01-14")], "at",
     "dated 2021-01-14, before grievance 'g1' was filed (2021-01-15)"),
    ("ack before the filing", [filed(at="2021-01-15"), acked(at="2021-01-14")], "at", "before grievance 'g1'"),
    ("resolution before the ack", [filed(), acked(at="2021-01-15"), resolved(at="2021-01-14")], "at",
     "before grievance 'g1' was acknowledged"),
]


@pytest.mark.parametrize(("events", "path", "fragment"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_references_are_refused_and_nothing_is_written(ledger, events, path, fragment):
    before = count(ledger)
    with pytest.raises(ValidationError) as info:
        ledger.append(copy.deepcopy(events))
    assert info.value.path == path
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)
    assert count(ledger) == before


def test_cross_field_rules_refused_by_the_ledger(ledger):
    # the lines of tests/test_schema_agreement.py CROSS_FIELD, which check_line lets through
    for data in ({"impact": "i1", "party": "acme"}, {"kind": "appeal", "relationship": "r1", "decision": 7},
                 {"kind": "appeal"}, {"decision": 4}):
        with pytest.raises(ValidationError):
            ledger.append([filed(**data)])
    assert grievances_of(ledger.state()).items == {}


def test_a_load_file_with_one_bad_line_writes_nothing(ledger, invoke, write_jsonl, assert_user_error):
    before = count(ledger)
    path = write_jsonl([filed(), acked(), resolved("nope")])
    assert_user_error(invoke("load", path), "events.jsonl:3: data.id: unknown grievance 'nope'")
    assert count(ledger) == before


def test_a_decision_and_its_appeal_in_one_write(ledger):
    ledger.append([
        {"type": "decision.made", "at": "2021-01-20", "actor": "ana",
         "data": {"impact": "i1", "decision": "continue", "rationale": "Keep at it.", "policy_refs": ["x"]}},
        filed("g9", at="2021-01-21", kind="appeal", decision=count(ledger) + 1),
    ])
    assert grievances_of(ledger.state()).get("g9").decision == count(ledger) - 1


def test_same_day_filing_is_ordered_after_what_it_refers_to(ledger):
    # an impact opened at 15:00 and a grievance dated that day (00:00): kept, ordered after it
    ledger.append([
        {"type": "impact.opened", "at": "2021-02-01T15:00:00Z", "actor": "ana",
         "data": {"id": "i2", "relationship": "r1", "rights": ["privacy"], "summary": "Leak.",
                  "severity": {"scale": 2, "scope": 2, "irremediability": 2}}},
        filed("g2", at="2021-02-01", impact="i2"),
    ])
    assert grievances_of(ledger.state(as_of=date(2021, 2, 1))).get("g2").impact == "i2"


# -- the independence gate in the ledger ------------------------------------------------------------

@pytest.mark.parametrize("reviewer", ["ana", " ANA ", "bo", "Bo  "])
def test_an_appeal_is_not_resolved_by_who_made_or_approved_the_decision(ledger, reviewer):
    ledger.append([filed(kind="appeal", decision=SUSPEND_SEQ)])
    before = count(ledger)
    with pytest.raises(GateError) as info:
        ledger.append([resolved(actor=reviewer)])
    assert info.value.codes == ["reviewer-not-independent"]
    assert "reviewer-not-independent" in str(info.value)
    assert count(ledger) == before


def test_an_independent_reviewer_and_a_withdrawal(ledger):
    ledger.append([filed("g1", kind="appeal", decision=SUSPEND_SEQ),
                   filed("g2", kind="appeal", decision=SUSPEND_SEQ)])
    ledger.append([resolved("g1", actor="cy", outcome="not-upheld")])
    ledger.append([resolved("g2", actor="ana", outcome="withdrawn")])  # the appellant withdrew
    book = grievances_of(ledger.state())
    assert book.get("g1").resolution.outcome == "not-upheld"
    assert book.get("g2").resolution.outcome == "withdrawn"


def test_a_complaint_may_be_resolved_by_anyone(ledger):
    ledger.append([filed(impact="i1"), resolved(actor="ana")])


# -- voids ------------------------------------------------------------------------------------------

def void(seq: int) -> Event:
    return {"type": "event.voided", "at": "2021-02-01", "actor": "ana", "data": {"seq": seq, "reason": "Mistake."}}


def test_voiding_an_acknowledgement_or_a_resolution(ledger):
    ledger.append([filed(), acked(), resolved(outcome="not-upheld")])
    ack_seq, res_seq = count(ledger) - 1, count(ledger)
    ledger.append([void(res_seq)])
    assert grievances_of(ledger.state()).get("g1").resolution is None
    ledger.append([resolved(outcome="upheld", at="2021-01-22")])  # may be resolved again
    ledger.append([void(ack_seq)])
    ledger.append([acked(at="2021-01-13")])  # and acknowledged again
    g = grievances_of(ledger.state()).get("g1")
    assert g.resolution.outcome == "upheld" and g.acknowledgement.at == "2021-01-13"


def test_voiding_a_filing_lets_the_id_be_filed_again(ledger):
    ledger.append([filed(impact="i1")])
    ledger.append([void(count(ledger))])
    assert grievances_of(ledger.state()).items == {}
    with pytest.raises(ValidationError, match="unknown grievance 'g1'"):
        ledger.append([acked()])
    ledger.append([filed(relationship="r1", at="2021-01-13")])
    assert grievances_of(ledger.state()).get("g1").about == "relationship"


def test_voiding_a_filing_with_a_later_acknowledgement_is_refused(ledger):
    ledger.append([filed(), acked()])
    filing = count(ledger) - 1
    with pytest.raises(ValidationError, match=f"would leave events {filing + 1} referring to nothing"):
        ledger.append([void(filing)])


def test_voiding_what_a_grievance_is_about_is_refused(ledger):
    ledger.append([
        {"type": "party.added", "at": "2021-01-05", "actor": "ana",
         "data": {"id": "solo", "name": "Solo Ltd", "kind": "other"}},
        filed("g1", at="2021-01-06", party="solo"),
    ])
    with pytest.raises(ValidationError, match="referring to nothing"):
        ledger.append([void(count(ledger) - 1)])


def test_voiding_an_appealed_decision_is_refused(ledger):
    ledger.append([filed(kind="appeal", decision=SUSPEND_SEQ)])
    with pytest.raises(ValidationError, match="referring to nothing"):
        ledger.append([void(SUSPEND_SEQ)])


def test_a_voided_decision_cannot_be_appealed(ledger):
    ledger.append([void(SUSPEND_SEQ)])
    with pytest.raises(ValidationError, match=f"decision {SUSPEND_SEQ} is voided"):
        ledger.append([filed(kind="appeal", decision=SUSPEND_SEQ)])


# -- export and restore -------------------------------------------------------------------------------

def test_restore_of_an_export_with_grievances_is_byte_identical(ledger, db, restored_copy):
    ledger.append([filed(impact="i1", filed_by="anonymous", confidential=True), acked(),
                   filed("g2", kind="appeal", decision=SUSPEND_SEQ), resolved("g2", outcome="upheld")])
    restored = restored_copy(db)
    with open_ledger(restored) as again:
        assert [g.id for g in grievances_of(again.state())] == ["g1", "g2"]


def test_a_fresh_process_reads_grievances_through_the_python_api(ledger, db):
    import subprocess
    import sys

    ledger.append([filed(impact="i1")])
    code = ("import json, sys\nfrom leverage.ledger import open_ledger\n"
            f"state = open_ledger({str(db)!r}).state()\n"
            "loaded = 'leverage.grievances' in sys.modules\n"
            "print(json.dumps([loaded, sorted(g.id for g in state.extra.get('grievances', {}).items.values())"
            " if loaded else []]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    loaded, ids = json.loads(proc.stdout)
    assert loaded
    assert ids == ["g1"]


def test_the_python_api_reads_grievances_once_the_core_is_loaded(ledger, db):
    ledger.append([filed(impact="i1")])
    plugins.reset()
    with open_ledger(db) as fresh:
        statuses = fresh.status(as_of=date(2021, 3, 1))
    [status] = [s for s in statuses if s.impact == "i1"]
    assert "grievance-unacknowledged" in {f.code for f in status.findings}


# -- the check, with policies stored before the grievance keys existed ------------------------------

def old_policy() -> Policy:
    doc = json.loads(resolve("ungp")[1])
    del doc["grievances"]
    for code in ("grievance-unacknowledged", "grievance-overdue", "reviewer-not-independent", "appeal-upheld"):
        del doc["findings"][code]
    doc["name"] = "old"
    return Policy.from_content(json.dumps(doc))


def test_a_policy_without_grievance_keys_uses_the_defaults(ledger):
    policy = old_policy()
    assert policy.grievances == default_policy().grievances
    ledger.append([filed(impact="i1")])
    state = ledger.state(as_of=date(2021, 1, 19))
    g = grievances_of(state).get("g1")
    v = view(g, date(2021, 1, 19), policy)
    assert [f.code for f in v.findings] == ["grievance-unacknowledged"]
    assert v.findings[0].source == "UNGP 31(c)"
    found = check(impact=state.impacts["i1"], state=state, policy=policy, as_of=date(2021, 1, 19))
    assert [f.code for f in found] == ["grievance-unacknowledged"]


def test_the_ledger_refuses_a_resolution_under_an_old_policy_too(ledger):
    import hashlib

    policy = old_policy()
    ledger.append([{"type": "policy.set", "at": "2021-01-05", "actor": "ana",
                    "data": {"name": "old", "sha256": hashlib.sha256(policy.content.encode()).hexdigest(),
                             "content": policy.content}}])
    ledger.append([filed(kind="appeal", decision=SUSPEND_SEQ)])
    with pytest.raises(GateError, match="must be resolved by someone who neither made nor approved"):
        ledger.append([resolved(actor="ana")])


def test_the_check_finds_nothing_without_grievances(ledger):
    # the promise leverage.engine.NEEDS_EXTRA stands for: the status projection relies on it
    assert check.needs_extra == ("grievances",)
    state = ledger.state(as_of=date(2022, 1, 1))
    assert "grievances" not in state.extra
    for policy in (default_policy(), old_policy()):
        assert check(impact=state.impacts["i1"], state=state, policy=policy, as_of=date(2022, 1, 1)) == []
