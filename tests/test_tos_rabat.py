"""The Rabat Plan of Action's six-part test: ``leverage tos rabat``, its conclusions, and the
checks ``competing-rights-unassessed`` and ``disproportionate`` (issue 6, item 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from leverage_tos.checks import competing_rights
from test_tos_support import (
    codes,
    events,
    findings,
    ingest,
    make_ledger,
    ok,
    row,
    run,
    write_log,
)

from leverage.engine import evaluate
from leverage.model import Assessment, Decision, Impact, Relationship, Severity, State
from leverage.timeutil import parse_at

FACTORS = ("context", "speaker", "intent", "content", "extent", "likelihood")


pytestmark = pytest.mark.plugins("leverage_tos")


@pytest.fixture
def ledger_db(tmp_path: Path) -> Path:
    db = make_ledger(tmp_path / "l.db")
    ok(run(db, "impact", "open", "imp-1", "--rel", "rel-acme", "--right", "expression", "--right",
           "security-of-person", "--scale", "4", "--scope", "3", "--irremediability", "3",
           "--summary", "Forum threads calling for violence against journalists", "--at", "2024-01-01"))
    return db


def rabat(db: Path, impact: str = "imp-1", *extra: str, at: str = "2024-01-05", **values: str):
    args = []
    for factor in FACTORS:
        args += [f"--{factor}", values.get(factor, "met")]
    return run(db, "tos", "rabat", impact, *args, "--summary", "Six-part test of the threads", "--at", at,
               *extra)


def last_assessment(db: Path):
    return [e for e in events(db) if e.type == "assessment.recorded"][-1]


# -- the command --------------------------------------------------------------------------------
def test_all_six_met_is_incitement(ledger_db: Path):
    result = ok(rabat(ledger_db))
    e = last_assessment(ledger_db)
    assert e.data["kind"] == "rabat"
    assert e.data["conclusion"] == "incitement"
    assert e.data["findings"] == {f: "met" for f in FACTORS}
    assert e.at == "2024-01-05"
    assert "recorded rabat assessment of imp-1: incitement (all six parts met)" in result.stdout


@pytest.mark.parametrize("factor", FACTORS)
@pytest.mark.parametrize("value", ["not-met", "unclear"])
def test_any_part_not_met_is_below_the_threshold(ledger_db: Path, factor: str, value: str):
    result = ok(rabat(ledger_db, **{factor: value}))
    e = last_assessment(ledger_db)
    assert e.data["conclusion"] == "below-threshold"
    assert e.data["findings"][factor] == value
    assert f"{value}: {factor}" in result.stdout


def test_notes_and_experts_are_kept(ledger_db: Path):
    ok(rabat(ledger_db, "imp-1", "--note", "intent=Explicit call to gather armed",
             "--note", "extent=Shared 40,000 times", "--note", "intent=and repeated", "--expert", "Dr. Amal Haddad",
             intent="met", extent="met", likelihood="unclear"))
    e = last_assessment(ledger_db)
    assert e.data["findings"]["notes"] == {"intent": "Explicit call to gather armed and repeated",
                                           "extent": "Shared 40,000 times"}
    assert e.data["experts"] == ["Dr. Amal Haddad"]
    assert e.data["conclusion"] == "below-threshold"


@pytest.mark.parametrize(("note", "fragment"), [
    ("tone=Angry", "'tone' is not one of the six parts"),
    ("intent", "expected FACTOR=TEXT"),
    ("intent=  ", "expected FACTOR=TEXT"),
])
def test_a_bad_note_is_refused(ledger_db: Path, note: str, fragment: str):
    n = len(events(ledger_db))
    result = rabat(ledger_db, "imp-1", "--note", note)
    assert result.exit_code != 0
    assert fragment in result.output
    assert len(events(ledger_db)) == n


def test_a_bad_value_or_missing_part_is_refused(ledger_db: Path):
    result = rabat(ledger_db, intent="maybe")
    assert result.exit_code != 0 and "maybe" in result.output
    result = run(ledger_db, "tos", "rabat", "imp-1", "--context", "met", "--summary", "x")
    assert result.exit_code != 0 and "--speaker" in result.output


def test_an_unknown_impact(ledger_db: Path, assert_user_error):
    assert_user_error(rabat(ledger_db, "no-such-impact"), "unknown impact 'no-such-impact'")


# -- competing-rights-unassessed -----------------------------------------------------------------
def suspend(db: Path, at: str = "2024-01-10", decision: str = "suspend", impact: str = "imp-1"):
    return ok(run(db, "--actor", "ana", "decide", impact, "--decision", decision, "--rationale", "Threats",
                  "--policy-ref", "ToS 4.1", "--approved-by", "ben", "--at", at, "--force", "test"))


def test_a_suspension_without_a_rabat_assessment(ledger_db: Path):
    suspend(ledger_db)
    (finding,) = [f for f in findings(ledger_db, "imp-1", "2024-01-11")
                  if f["code"] == "competing-rights-unassessed"]
    assert finding["message"] == (
        "The suspend decision of 2024-01-10 restricts expression, but no Rabat six-part threshold "
        "assessment was recorded before it (`leverage tos rabat imp-1`).")
    assert "Rabat Plan of Action, A/HRC/22/17/Add.4, appendix para 29" in finding["source"]


def test_a_rabat_assessment_before_the_decision_answers_it(ledger_db: Path):
    ok(rabat(ledger_db, at="2024-01-09"))
    suspend(ledger_db)
    assert "competing-rights-unassessed" not in codes(ledger_db, "imp-1", "2024-01-11")


def test_a_rabat_assessment_after_the_decision_does_not(ledger_db: Path):
    suspend(ledger_db)
    ok(rabat(ledger_db, at="2024-01-12"))
    assert "competing-rights-unassessed" in codes(ledger_db, "imp-1", "2024-01-13")


def test_assembly_counts_too_and_other_rights_do_not(ledger_db: Path):
    for iid, right in (("imp-a", "assembly"), ("imp-p", "privacy")):
        ok(run(ledger_db, "impact", "open", iid, "--rel", "rel-beta", "--right", right, "--scale", "4",
               "--scope", "3", "--irremediability", "3", "--summary", "x", "--at", "2024-01-01"))
        suspend(ledger_db, impact=iid)
    assert "competing-rights-unassessed" in codes(ledger_db, "imp-a", "2024-01-11")
    assert "competing-rights-unassessed" not in codes(ledger_db, "imp-p", "2024-01-11")


def test_rights_as_they_were_at_the_decision(ledger_db: Path):
    ok(run(ledger_db, "impact", "reassess", "imp-1", "--summary", "Only privacy at stake", "--right", "privacy",
           "--at", "2024-01-08"))
    suspend(ledger_db)
    assert "competing-rights-unassessed" not in codes(ledger_db, "imp-1", "2024-01-11")


def test_an_ingested_ban_without_rabat(tmp_path: Path):
    db = make_ledger(tmp_path / "l.db")
    ok(ingest(db, write_log(tmp_path / "log.csv", [row(id="1", action="ban", rule="violent-incitement",
                                                       approved_by="ben")])))
    assert "competing-rights-unassessed" in codes(db, "tos:acme:violent-incitement", "2024-03-05")


# -- disproportionate: termination after below-threshold ----------------------------------------
def test_a_termination_after_a_below_threshold_conclusion(ledger_db: Path):
    ok(rabat(ledger_db, at="2024-01-09", intent="not-met"))
    suspend(ledger_db, decision="terminate")
    found = [f for f in findings(ledger_db, "imp-1", "2024-01-11") if f["code"] == "disproportionate"
             and f["source"] == "Rabat Plan of Action, A/HRC/22/17/Add.4, appendix para 29"]
    assert len(found) == 1
    assert "followed a Rabat assessment (2024-01-09) that concluded below-threshold" in found[0]["message"]
    assert "competing-rights-unassessed" not in codes(ledger_db, "imp-1", "2024-01-11")


def test_a_termination_after_an_incitement_conclusion(ledger_db: Path):
    ok(rabat(ledger_db, at="2024-01-09"))
    suspend(ledger_db, decision="terminate")
    assert not [f for f in findings(ledger_db, "imp-1", "2024-01-11") if f["code"] == "disproportionate"
                and "Rabat" in f["source"]]


def test_the_latest_assessment_before_the_termination_counts(ledger_db: Path):
    ok(rabat(ledger_db, at="2024-01-05", intent="not-met"))
    ok(rabat(ledger_db, at="2024-01-08"))
    suspend(ledger_db, decision="terminate")
    assert not [f for f in findings(ledger_db, "imp-1", "2024-01-11") if "Rabat" in f["source"]
                and f["code"] == "disproportionate"]


def test_a_suspension_after_below_threshold_is_not_flagged(ledger_db: Path):
    ok(rabat(ledger_db, at="2024-01-09", intent="not-met"))
    suspend(ledger_db)
    assert not [f for f in findings(ledger_db, "imp-1", "2024-01-11") if "Rabat" in f["source"]
                and f["code"] == "disproportionate"]


# -- the check on its own (the engine's plugin interface) ---------------------------------------
def _impact(decisions: tuple = (), assessments: tuple = ()) -> Impact:
    return Impact(id="i", relationship="r", rights=("expression",), summary="s",
                  severity=Severity(4, 4, 4), decisions=decisions, assessments=assessments,
                  opened_at="2024-01-01", opened_when=parse_at("2024-01-01"))


def _decision(decision: str, at: str, seq: int) -> Decision:
    return Decision(seq, at, parse_at(at), "ana", decision, "why", ("ref",), "ben")


def _rabat(conclusion: str, at: str, seq: int) -> Assessment:
    return Assessment(seq, at, parse_at(at), "ana", "rabat", conclusion, "s")


def test_the_check_reads_records_up_to_as_of_only():
    from datetime import date

    impact = _impact(decisions=(_decision("terminate", "2024-02-01", 3),),
                     assessments=(_rabat("below-threshold", "2024-01-15", 2),))
    assert [f["code"] for f in competing_rights(impact, date(2024, 2, 1))] == ["disproportionate"]
    assert competing_rights(impact, date(2024, 1, 31)) == []


def test_same_time_assessment_recorded_before_the_decision_counts():
    from datetime import date

    impact = _impact(decisions=(_decision("suspend", "2024-02-01", 3),),
                     assessments=(_rabat("incitement", "2024-02-01", 2),))
    assert competing_rights(impact, date(2024, 2, 1)) == []
    later = _impact(decisions=(_decision("suspend", "2024-02-01", 2),),
                    assessments=(_rabat("incitement", "2024-02-01", 3),))
    assert [f["code"] for f in competing_rights(later, date(2024, 2, 1))] == ["competing-rights-unassessed"]


def test_the_check_through_the_engine():
    from datetime import date

    state = State(as_of=None, known_at=None, parties={},
                  relationships={"r": Relationship("r", "a", "b", "hosts")},
                  impacts={"i": _impact(decisions=(_decision("suspend", "2024-02-01", 3),))})
    (status,) = evaluate(state, date(2024, 2, 2), checks=[("leverage_tos", competing_rights)])
    assert "competing-rights-unassessed" in [f.code for f in status.findings]
