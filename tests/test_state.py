"""The state derived from the log: as of a date (business time ``at``, end of the UTC day), as
known at a moment (``recorded_at``), with voided events left out."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from leverage import open_ledger
from leverage.ledger import Ledger
from leverage.model import Relationship

Event = dict[str, Any]


def ev(type_: str, at: str, actor: str = "ana", **data: Any) -> Event:
    return {"type": type_, "at": at, "actor": actor, "data": data}


def party(id_: str, at: str, kind: str = "supplier", **extra: Any) -> Event:
    return ev("party.added", at, **{"id": id_, "name": f"Party {id_}", "kind": kind, **extra})


@pytest.fixture
def ledger(db: Path, sample_events: list[Event]):
    led = open_ledger(db, create=True)
    led.append(sample_events)
    yield led
    led.close()


def last_recorded_at(led: Ledger) -> str:
    *_, last = led.iter_events()
    assert last.recorded_at is not None
    return last.recorded_at


def append_later(led: Ledger, events: list[Event]) -> None:
    """Append in a new batch, recorded strictly after the previous one."""
    before = last_recorded_at(led)
    time.sleep(0.002)
    led.append(events)
    assert last_recorded_at(led) > before


# -- as of (business time) -------------------------------------------------------------------

def test_as_of_is_the_end_of_the_utc_day(ledger):
    ledger.append([
        party("late-local", "2021-01-10T23:30:00-02:00"),  # 2021-01-11 01:30 UTC
        party("early-local", "2021-01-11T01:00:00+02:00"),  # 2021-01-10 23:00 UTC
        party("last-instant", "2021-01-10T23:59:59.999999Z"),
        party("next-day", "2021-01-11"),
    ])
    on_10 = set(ledger.state(as_of=date(2021, 1, 10)).parties)
    on_11 = set(ledger.state(as_of=date(2021, 1, 11)).parties)
    assert {"early-local", "last-instant"} <= on_10
    assert "late-local" not in on_10 and "next-day" not in on_10
    assert {"late-local", "next-day"} <= on_11


def test_as_of_cli_agrees(ledger, invoke):
    ledger.append([party("late-local", "2021-01-10T23:30:00-02:00")])
    ids = [p["id"] for p in json.loads(
        invoke("party", "list", "--json", "--as-of", "2021-01-10").stdout)]
    assert "late-local" not in ids
    ids = [p["id"] for p in json.loads(
        invoke("party", "list", "--json", "--as-of", "2021-01-11").stdout)]
    assert "late-local" in ids


def test_as_of_the_last_representable_day(ledger, invoke):
    last, everything = ledger.state(as_of=date(9999, 12, 31)), ledger.state()
    assert (last.parties, last.relationships, last.impacts) == (
        everything.parties, everything.relationships, everything.impacts)
    result = invoke("party", "list", "--json", "--as-of", "9999-12-31")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 4


def test_as_of_keeps_what_had_happened_by_then(ledger):
    s = ledger.state(as_of=date(2021, 1, 7))
    assert set(s.parties) == {"we", "acme", "north-dc", "peer-host"}
    assert set(s.relationships) == {"rel-acme", "rel-dc"}
    assert s.impacts["imp-1"].steps == ()
    s = ledger.state(as_of=date(2021, 1, 21))
    assert [st.id for st in s.impacts["imp-1"].steps] == ["step-1", "step-2"]
    assert s.impacts["imp-1"].outcomes == ()
    assert ledger.state(as_of=date(2020, 12, 31)).parties == {}
    everything = ledger.state()
    assert len(everything.impacts["imp-1"].assessments) == 1
    assert everything.head_seq == 11


def test_back_dated_events_fold_in_business_time(ledger):
    # Recorded later but happened earlier: the name of 2021-01-10 is the current one.
    ledger.append([ev("party.updated", "2021-01-10", id="acme", name="Acme Tenth")])
    ledger.append([ev("party.updated", "2021-01-05", id="acme", name="Acme Fifth")])
    assert ledger.state().parties["acme"].name == "Acme Tenth"
    assert ledger.state(as_of=date(2021, 1, 7)).parties["acme"].name == "Acme Fifth"


def test_equal_at_is_ordered_by_seq(ledger):
    ledger.append([ev("party.updated", "2021-01-10", id="acme", name="First"),
                   ev("party.updated", "2021-01-10", id="acme", name="Second")])
    assert ledger.state().parties["acme"].name == "Second"


# -- known at (recording time) ---------------------------------------------------------------

def test_known_at_filters_on_recorded_at(ledger):
    known = last_recorded_at(ledger)
    append_later(ledger, [ev("party.updated", "2021-01-05", id="acme", name="Acme Group"),
                          party("newco", "2021-01-03")])
    then = ledger.state(known_at=known)
    now = ledger.state()
    assert then.parties["acme"].name == "Acme Media SARL"
    assert "newco" not in then.parties
    assert now.parties["acme"].name == "Acme Group"
    assert "newco" in now.parties
    # both clocks together
    both = ledger.state(as_of=date(2021, 1, 4), known_at=known)
    assert both.parties["acme"].name == "Acme Media SARL"
    assert ledger.state(known_at="2000-01-01T00:00:00.000000Z").parties == {}


# -- voids -----------------------------------------------------------------------------------

def test_voided_events_are_left_out(ledger):
    ledger.append([ev("event.voided", "2021-02-01", seq=8, reason="The call never happened.")])
    state = ledger.state()
    assert [s.id for s in state.impacts["imp-1"].steps] == ["step-2"]
    assert ledger.voided_seqs() == {8}
    assert [e.seq for e in ledger.iter_events()] == list(range(1, 13))  # still in the log


def test_void_of_a_party_update_restores_the_earlier_value(ledger):
    ledger.append([ev("party.updated", "2021-01-10", id="acme", kind="partner",
                      name="Acme Wrong")])
    assert ledger.state().parties["acme"].kind == "partner"
    ledger.append([ev("event.voided", "2021-01-11", seq=12, reason="Wrong party.")])
    acme = ledger.state().parties["acme"]
    assert (acme.name, acme.kind) == ("Acme Media SARL", "client")
    # the index behind reference checks agrees: acme is a client again, and a relationship
    # can still be added to it
    ledger.append([ev("relationship.added", "2021-01-12", id="rel-2", source="acme",
                      target="peer-host", type="other")])


def test_void_applies_whatever_its_own_at(ledger):
    # A mistake was always a mistake: a void dated later still removes the event from
    # every earlier as-of view.
    ledger.append([ev("event.voided", "2021-06-01", seq=8, reason="Never happened.")])
    assert ledger.state(as_of=date(2021, 1, 9)).impacts["imp-1"].steps == ()


def test_void_applies_only_from_when_it_was_recorded(ledger):
    known = last_recorded_at(ledger)
    append_later(ledger, [ev("event.voided", "2021-02-01", seq=8, reason="Never happened.")])
    assert len(ledger.state(known_at=known).impacts["imp-1"].steps) == 2
    assert ledger.voided_seqs(known_at=known) == set()
    assert len(ledger.state().impacts["imp-1"].steps) == 1


def test_voided_party_can_be_added_again(ledger):
    ledger.append([party("typo-co", "2021-02-01")])
    ledger.append([ev("event.voided", "2021-02-01", seq=12, reason="Typo.")])
    assert "typo-co" not in ledger.state().parties
    ledger.append([party("typo-co", "2021-02-02", kind="customer")])
    assert ledger.state().parties["typo-co"].kind == "customer"


# -- parties and relationships ---------------------------------------------------------------

def test_party_updated_changes_fields(ledger):
    ledger.append([ev("party.updated", "2021-02-01", id="acme", name="Acme Group",
                      country="BE", external_ids={"hubspot": "9"},
                      attributes={"tier": "gold"})])
    acme = ledger.state().parties["acme"]
    assert acme.name == "Acme Group"
    assert acme.country == "BE"
    assert acme.sector == "Media"  # not named: unchanged
    assert acme.kind == "client"
    assert acme.external_ids == {"hubspot": "9"}  # replaced
    assert acme.attributes == {"tier": "gold"}
    old = ledger.state(as_of=date(2021, 1, 31)).parties["acme"]
    assert (old.name, old.country) == ("Acme Media SARL", "FR")


def test_relationship_updated_and_ended(ledger):
    ledger.append([ev("relationship.updated", "2021-02-01", id="rel-dc", crucial=False,
                      leverage=2),
                   ev("relationship.ended", "2021-03-01", id="rel-dc", reason="Moved to cloud.")])
    s = ledger.state()
    rel = s.relationships["rel-dc"]
    assert (rel.crucial, rel.leverage, rel.ended, rel.ended_reason) == (
        False, 2, True, "Moved to cloud.")
    assert s.relationship_status("rel-dc") == "ended"
    before = ledger.state(as_of=date(2021, 2, 28))
    assert before.relationship_status("rel-dc") == "active"
    assert before.relationships["rel-dc"].leverage == 2


def test_impact_reassessed_keeps_its_history(ledger):
    ledger.append([ev("impact.reassessed", "2021-02-01", id="imp-1", summary="Worse.",
                      severity={"scale": 5, "scope": 4, "irremediability": 5},
                      status="actual")])
    imp = ledger.state().impacts["imp-1"]
    assert imp.severity.worst == 5
    assert imp.summary == "Worse."
    assert [r.seq for r in imp.assessments_of_severity] == [7, 12]
    assert [r.seq for r in imp.reassessments] == [12]
    assert ledger.state(as_of=date(2021, 1, 31)).impacts["imp-1"].severity.worst == 4


def test_counterparty_is_the_end_that_is_not_self(ledger):
    ledger.append([ev("relationship.added", "2021-02-01", id="rel-peer", source="acme",
                      target="peer-host", type="partners-with")])
    s = ledger.state()
    assert s.counterparty(s.relationships["rel-acme"]) == "acme"  # we -> acme
    assert s.counterparty(s.relationships["rel-dc"]) == "north-dc"  # north-dc -> we
    assert s.counterparty(s.relationships["rel-peer"]) == "peer-host"  # neither: the target


def test_counterparty_pure():
    from leverage.model import Party, State

    parties = {"we": Party("we", "We", "self"), "a": Party("a", "A", "client"),
               "b": Party("b", "B", "supplier")}
    s = State(None, None, parties, {}, {})
    assert s.counterparty(Relationship("r1", "we", "a", "hosts")) == "a"
    assert s.counterparty(Relationship("r2", "b", "we", "supplies")) == "b"
    assert s.counterparty(Relationship("r3", "a", "b", "other")) == "b"


# -- relationship status ---------------------------------------------------------------------

SUSPEND = dict(decision="suspend", rationale="No change after notice.",
               policy_refs=["ToS 4.2"], approved_by="carla")


def decision(at: str, **data: Any) -> Event:
    return ev("decision.made", at, actor="ben", impact="imp-1", **data)


def test_relationship_status_active(ledger):
    s = ledger.state()
    assert s.relationship_status("rel-acme") == "active"
    assert s.relationship_status("rel-dc") == "active"


def test_relationship_status_suspended_and_reinstated(ledger):
    ledger.append([decision("2021-02-01", **SUSPEND)])
    assert ledger.state().relationship_status("rel-acme") == "suspended"
    assert ledger.state(as_of=date(2021, 1, 31)).relationship_status("rel-acme") == "active"
    ledger.append([decision("2021-02-15", decision="reinstate", rationale="Fixed.",
                            policy_refs=["ToS 4.2"], approved_by="carla")])
    assert ledger.state().relationship_status("rel-acme") == "active"
    assert ledger.state(as_of=date(2021, 2, 10)).relationship_status("rel-acme") == "suspended"


def test_relationship_status_suspended_before_ended(ledger):
    ledger.append([decision("2021-02-01", **SUSPEND),
                   ev("relationship.ended", "2021-02-02", id="rel-acme", reason="Expired.")])
    assert ledger.state().relationship_status("rel-acme") == "suspended"


def test_relationship_status_terminated(ledger):
    ledger.append([decision("2021-02-01", decision="terminate", rationale="Exit.",
                            policy_refs=["UNGP 19"], approved_by="carla"),
                   ev("relationship.ended", "2021-02-02", id="rel-acme", reason="Exit done.")])
    s = ledger.state()
    assert s.relationship_status("rel-acme") == "terminated"
    assert s.relationship_status("rel-dc") == "active"  # other relationships unaffected


def test_voided_terminate_is_reversed(ledger):
    ledger.append([decision("2021-02-01", decision="terminate", rationale="Exit.",
                            policy_refs=["UNGP 19"], approved_by="carla")])
    ledger.append([ev("event.voided", "2021-02-02", seq=12, reason="Wrong impact.")])
    assert ledger.state().relationship_status("rel-acme") == "active"


def test_relationship_status_precedence_pure():
    """terminated > suspended > ended > active, across all impacts of a relationship."""
    from leverage.state import fold

    base = [
        (1, "party.added", "2021-01-01", "a", {"id": "we", "name": "We", "kind": "self"}),
        (2, "party.added", "2021-01-01", "a", {"id": "x", "name": "X", "kind": "client"}),
        (3, "relationship.added", "2021-01-01", "a",
         {"id": "r", "source": "we", "target": "x", "type": "hosts"}),
    ]
    sev = {"scale": 4, "scope": 4, "irremediability": 4}

    def impact(seq: int, iid: str) -> tuple[Any, ...]:
        return (seq, "impact.opened", "2021-01-02", "a",
                {"id": iid, "relationship": "r", "rights": ["privacy"], "summary": "S",
                 "severity": sev})

    def dec(seq: int, iid: str, what: str) -> tuple[Any, ...]:
        return (seq, "decision.made", f"2021-01-{seq:02d}", "a",
                {"impact": iid, "decision": what, "rationale": "R", "policy_refs": ["P"]})

    ended = (30, "relationship.ended", "2021-01-30", "a", {"id": "r", "reason": "Done."})
    imps = [impact(4, "i1"), impact(5, "i2")]
    assert fold(base + imps).relationship_status("r") == "active"
    assert fold(base + imps + [ended]).relationship_status("r") == "ended"
    suspended = [dec(10, "i1", "suspend")]
    assert fold(base + imps + suspended + [ended]).relationship_status("r") == "suspended"
    reinstated = suspended + [dec(11, "i1", "reinstate")]
    assert fold(base + imps + reinstated + [ended]).relationship_status("r") == "ended"
    other = suspended + [dec(12, "i2", "suspend"), dec(13, "i1", "reinstate")]
    assert fold(base + imps + other).relationship_status("r") == "suspended"
    terminated = suspended + [dec(14, "i2", "terminate")]
    assert fold(base + imps + terminated + [ended]).relationship_status("r") == "terminated"


def test_reinstate_after_suspend(ledger):
    ledger.append([decision("2021-02-10", **SUSPEND)])
    ledger.append([decision("2021-02-20", decision="reinstate", rationale="Fixed.",
                            policy_refs=["ToS 4.2"], approved_by="carla")])
    s = ledger.state()
    assert [d.decision for d in s.impacts["imp-1"].decisions] == ["suspend", "reinstate"]
    assert s.relationship_status("rel-acme") == "active"
