"""``leverage grievance file | ack | resolve | list``, the time frames at their edges, the
findings on the grievance and on the linked impact's status, the independence gate and the
upheld appeal that makes reinstatement ready (docs/grievances.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import grievance_support
import pytest
from grievance_support import STEP_SEQ, SUSPEND_SEQ

Event = dict[str, Any]

#: the grievance tests' ledger and a decision to continue meanwhile: seqs 2 to 8
BASE: list[Event] = [
    *grievance_support.BASE,
    {"type": "decision.made", "at": "2021-01-10", "actor": "ana",
     "data": {"impact": "i1", "decision": "continue", "rationale": "Meanwhile, keep talking.",
              "policy_refs": ["ToS 4.2"]}},
]
CONTINUE_SEQ = 8


@pytest.fixture
def ledger_db(invoke, db: Path, load_events) -> Path:
    assert invoke("init", "--at", "2021-01-01").exit_code == 0
    load_events(BASE)
    return db


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def listed(invoke, *args: str) -> list[dict[str, Any]]:
    return json.loads(ok(invoke("grievance", "list", "--json", *args)))


def status_of(invoke, impact: str, as_of: str) -> dict[str, Any]:
    rows = json.loads(ok(invoke("status", "--json", "--all", "--as-of", as_of)))
    [row] = [r for r in rows if r["impact"] == impact]
    return row


def codes(findings: list[dict[str, Any]]) -> list[str]:
    return [f["code"] for f in findings]


def file_(invoke, gid: str = "g1", *args: str, at: str = "2021-01-11"):
    return invoke("grievance", "file", gid, "--kind", "complaint", "--summary", "It hurts.",
                  "--channel", "web-form", "--at", at, *args)


# -- the commands ----------------------------------------------------------------------------------

def test_file_ack_resolve_and_list(ledger_db, invoke, events_of):
    out = ok(file_(invoke, "g1", "--impact", "i1", "--filed-by", "Carla Client", "--confidential"))
    assert out == "recorded grievance.filed g1 (seq 9, at 2021-01-11, by tester)\n"
    ok(invoke("grievance", "ack", "g1", "--summary", "Receipt confirmed.", "--at", "2021-01-12"))
    ok(invoke("--actor", "cy", "grievance", "resolve", "g1", "--outcome", "partly-upheld", "--summary",
              "Threads removed.", "--remedy", "An apology.", "--at", "2021-01-20"))
    last = events_of(ledger_db)[-3:]
    assert [e["type"] for e in last] == ["grievance.filed", "grievance.acknowledged", "grievance.resolved"]
    assert last[0]["data"] == {"id": "g1", "kind": "complaint", "summary": "It hurts.", "channel": "web-form",
                               "impact": "i1", "filed_by": "Carla Client", "confidential": True}
    assert last[1]["data"] == {"id": "g1", "summary": "Receipt confirmed."}
    assert last[2]["data"] == {"id": "g1", "outcome": "partly-upheld", "summary": "Threads removed.",
                               "remedy": "An apology."}
    assert last[2]["actor"] == "cy"
    [row] = listed(invoke, "--as-of", "2021-02-01")
    assert row == {
        "id": "g1", "kind": "complaint", "status": "resolved", "filed_at": "2021-01-11", "channel": "web-form",
        "summary": "It hurts.", "filed_by": "Carla Client", "confidential": True, "impact": "i1",
        "relationship": None, "party": None, "decision": None, "appealed": None, "linked_impact": "i1",
        "acknowledged_at": "2021-01-12", "resolved_at": "2021-01-20", "outcome": "partly-upheld",
        "remedy": "An apology.", "acknowledge_by": "2021-01-18", "resolve_by": "2021-03-12", "overdue": False,
        "findings": [],
    }


def test_each_target_and_the_table(ledger_db, invoke):
    ok(file_(invoke, "g-rel", "--relationship", "r1"))
    ok(file_(invoke, "g-party", "--party", "acme"))
    ok(file_(invoke, "g-general"))
    ok(invoke("grievance", "file", "g-appeal", "--kind", "appeal", "--summary", "Reinstate us.",
              "--channel", "e-mail", "--decision", SUSPEND_SEQ, "--at", "2021-01-11"))
    rows = {r["id"]: r for r in listed(invoke, "--as-of", "2021-01-12")}
    assert rows["g-rel"]["relationship"] == "r1" and rows["g-rel"]["linked_impact"] is None
    assert rows["g-party"]["party"] == "acme"
    assert rows["g-general"]["impact"] is None and rows["g-general"]["relationship"] is None
    assert rows["g-appeal"]["decision"] == SUSPEND_SEQ
    assert rows["g-appeal"]["appealed"] == {"impact": "i1", "decision": "suspend", "at": "2021-01-10"}
    assert rows["g-appeal"]["linked_impact"] == "i1"
    assert rows["g-appeal"]["resolve_by"] == "2021-01-25"  # 14 days: an appeal against a suspension
    table = ok(invoke("grievance", "list", "--as-of", "2021-01-12"))
    for text in ("g-appeal", "decision 7 (suspend of i1)", "relationship r1", "party acme", "general"):
        assert text in table


def test_list_open_and_as_of(ledger_db, invoke):
    ok(file_(invoke, "g1", at="2021-01-11"))
    ok(file_(invoke, "g2", at="2021-01-15"))
    ok(invoke("grievance", "resolve", "g1", "--outcome", "not-upheld", "--summary", "No.", "--at", "2021-01-20"))
    assert [r["id"] for r in listed(invoke, "--as-of", "2021-01-12")] == ["g1"]
    assert [r["id"] for r in listed(invoke, "--as-of", "2021-01-25")] == ["g1", "g2"]
    assert [r["id"] for r in listed(invoke, "--as-of", "2021-01-25", "--open")] == ["g2"]
    assert [r["status"] for r in listed(invoke, "--as-of", "2021-01-19")] == ["open", "open"]
    assert listed(invoke, "--as-of", "2021-01-10") == []


def test_open_impact_from_a_complaint(ledger_db, invoke, events_of):
    out = ok(file_(invoke, "g7", "--relationship", "r1", "--open-impact", "i7", "--right", "privacy",
                   "--right", "health", "--scale", "3", "--scope", "2", "--irremediability", "2",
                   "--likelihood", "4", "--status", "potential"))
    assert out.splitlines() == [
        "recorded impact.opened i7 (seq 9, at 2021-01-11, by tester)",
        "recorded grievance.filed g7 (seq 10, at 2021-01-11, by tester)",
    ]
    opened, filed = events_of(ledger_db)[-2:]
    assert opened["data"] == {"id": "i7", "relationship": "r1", "rights": ["privacy", "health"],
                               "summary": "It hurts.", "severity": {"scale": 3, "scope": 2, "irremediability": 2},
                               "likelihood": 4, "status": "potential", "attributes": {"grievance": "g7"}}
    assert filed["data"]["impact"] == "i7" and "relationship" not in filed["data"]
    assert opened["recorded_at"] == filed["recorded_at"]  # one write
    [row] = listed(invoke, "--as-of", "2021-01-12")
    assert row["impact"] == "i7"
    assert status_of(invoke, "i7", "2021-01-12")["level"] == "moderate"


def test_open_impact_with_its_own_summary(ledger_db, invoke, events_of):
    ok(file_(invoke, "g7", "--relationship", "r1", "--open-impact", "i7", "--right", "privacy", "--scale", "2",
             "--scope", "2", "--irremediability", "2", "--impact-summary", "Data leak."))
    assert events_of(ledger_db)[-2]["data"]["summary"] == "Data leak."


@pytest.mark.parametrize(("args", "fragment"), [
    (["--open-impact", "i7", "--right", "privacy", "--scale", "2", "--scope", "2", "--irremediability", "2"],
     "--open-impact needs --relationship"),
    (["--relationship", "r1", "--open-impact", "i7", "--right", "privacy"],
     "--open-impact needs --scale, --scope, --irremediability"),
    (["--relationship", "r1", "--open-impact", "i7", "--scale", "2", "--scope", "2", "--irremediability", "2"],
     "--open-impact needs --right"),
    (["--relationship", "r1", "--scale", "2"], "--scale describes the impact to open"),
    (["--relationship", "nope", "--open-impact", "i7", "--right", "privacy", "--scale", "2", "--scope", "2",
      "--irremediability", "2"], "unknown relationship 'nope'"),
    (["--relationship", "r1", "--open-impact", "i1", "--right", "privacy", "--scale", "2", "--scope", "2",
      "--irremediability", "2"], "impact 'i1' exists already"),
])
def test_open_impact_refusals(ledger_db, invoke, assert_user_error, events_of, args, fragment):
    before = len(events_of(ledger_db))
    assert_user_error(file_(invoke, "g7", *args), fragment)
    assert len(events_of(ledger_db)) == before


def test_open_impact_is_not_for_an_appeal(ledger_db, invoke, assert_user_error):
    assert_user_error(
        invoke("grievance", "file", "g7", "--kind", "appeal", "--summary", "x", "--channel", "c", "--decision",
               SUSPEND_SEQ, "--relationship", "r1", "--open-impact", "i7", "--right", "privacy", "--scale", "2",
               "--scope", "2", "--irremediability", "2"),
        "not an appeal")


# -- bad input: one line, exit 1, nothing written -------------------------------------------------

BAD = [
    (["grievance", "file", "g9", "--kind", "complaint", "--summary", "x", "--channel", "c", "--impact", "nope"],
     "unknown impact 'nope'"),
    (["grievance", "file", "g9", "--kind", "complaint", "--summary", "x", "--channel", "c", "--party", "nope"],
     "unknown party 'nope'"),
    (["grievance", "file", "g9", "--kind", "complaint", "--summary", "x", "--channel", "c", "--relationship",
      "nope"], "unknown relationship 'nope'"),
    (["grievance", "file", "g9", "--kind", "appeal", "--summary", "x", "--channel", "c", "--decision", STEP_SEQ],
     "is a step.taken, not a decision.made: only a decision can be appealed"),
    (["grievance", "file", "g9", "--kind", "appeal", "--summary", "x", "--channel", "c", "--decision", 99],
     "no event with seq 99"),
    (["grievance", "file", "g9", "--kind", "appeal", "--summary", "x", "--channel", "c"],
     "an appeal names the decision it appeals"),
    (["grievance", "file", "g9", "--kind", "complaint", "--summary", "x", "--channel", "c", "--impact", "i1",
      "--party", "acme"], "at most one of impact, relationship, party and decision"),
    (["grievance", "resolve", "nope", "--outcome", "upheld", "--summary", "x"], "unknown grievance 'nope'"),
    (["grievance", "ack", "nope", "--summary", "x"], "unknown grievance 'nope'"),
    (["grievance", "resolve", "g1", "--outcome", "upheld", "--summary", "x", "--at", "2021-01-10"],
     "dated 2021-01-10, before grievance 'g1' was filed (2021-01-11)"),
    (["grievance", "resolve", "g-done", "--outcome", "upheld", "--summary", "x"],
     "grievance 'g-done' is resolved already"),
    (["grievance", "file", "g1", "--kind", "complaint", "--summary", "x", "--channel", "c"],
     "grievance 'g1' exists already"),
    (["grievance", "file", "g9", "--kind", "objection", "--summary", "x", "--channel", "c"], "objection"),
    (["grievance", "resolve", "g1", "--outcome", "rejected", "--summary", "x"], "rejected"),
    (["grievance", "file", "g 9", "--kind", "complaint", "--summary", "x", "--channel", "c"], "is not an id"),
    (["grievance", "file", "g9", "--kind", "complaint", "--summary", " ", "--channel", "c"],
     "data.summary: must be non-empty text"),
]


@pytest.mark.parametrize(("args", "fragment"), BAD, ids=[" ".join(map(str, b[0][:2])) + f" {i}"
                                                         for i, b in enumerate(BAD)])
def test_bad_input(ledger_db, invoke, assert_user_error, events_of, args, fragment):
    ok(file_(invoke, "g1"))
    ok(file_(invoke, "g-done"))
    ok(invoke("grievance", "resolve", "g-done", "--outcome", "withdrawn", "--summary", "x", "--at", "2021-01-12"))
    before = len(events_of(ledger_db))
    assert_user_error(invoke(*args), fragment)
    assert len(events_of(ledger_db)) == before


def test_commands_need_a_ledger(invoke, assert_user_error, tmp_path):
    assert_user_error(invoke("grievance", "list", db_path=tmp_path / "none.db"), "none.db")


# -- time frames at their edges --------------------------------------------------------------------

def test_acknowledgement_frame_edges(ledger_db, invoke):
    ok(file_(invoke, "g1", "--impact", "i1", at="2021-02-01"))
    assert listed(invoke, "--as-of", "2021-02-08")[0]["findings"] == []  # day 7: still in time
    [row] = listed(invoke, "--as-of", "2021-02-09")  # day 8
    assert codes(row["findings"]) == ["grievance-unacknowledged"] and row["overdue"] is True
    assert row["findings"][0]["message"] == (
        "The complaint g1 filed on 2021-02-01 has not been acknowledged: acknowledgement was due within "
        "7 days (by 2021-02-08); it is 1 day overdue.")
    assert row["findings"][0]["source"] == "UNGP 31(c)"
    ok(invoke("grievance", "ack", "g1", "--summary", "Late.", "--at", "2021-02-10"))
    assert listed(invoke, "--as-of", "2021-02-10")[0]["findings"] == []
    assert codes(listed(invoke, "--as-of", "2021-02-09")[0]["findings"]) == ["grievance-unacknowledged"]


def test_resolution_frame_edges(ledger_db, invoke):
    ok(file_(invoke, "g1", "--impact", "i1", at="2021-02-01"))
    ok(invoke("grievance", "ack", "g1", "--summary", "ok", "--at", "2021-02-02"))
    assert listed(invoke, "--as-of", "2021-04-02")[0]["findings"] == []  # day 60
    [row] = listed(invoke, "--as-of", "2021-04-03")  # day 61
    assert codes(row["findings"]) == ["grievance-overdue"]
    assert "resolution was due within 60 days (by 2021-04-02); it is 1 day overdue" in row["findings"][0]["message"]


def test_a_resolution_also_acknowledges(ledger_db, invoke):
    ok(file_(invoke, "g1", at="2021-02-01"))
    ok(invoke("grievance", "resolve", "g1", "--outcome", "upheld", "--summary", "x", "--at", "2021-02-05"))
    assert listed(invoke, "--as-of", "2021-06-01")[0]["findings"] == []


@pytest.mark.parametrize(("decision", "days"), [(SUSPEND_SEQ, 14), (CONTINUE_SEQ, 60)])
def test_appeal_frames_by_the_decision_appealed(ledger_db, invoke, decision, days):
    ok(invoke("grievance", "file", "a1", "--kind", "appeal", "--summary", "x", "--channel", "c", "--decision",
              decision, "--at", "2021-02-01"))
    ok(invoke("grievance", "ack", "a1", "--summary", "ok", "--at", "2021-02-01"))
    from datetime import date, timedelta

    due = date(2021, 2, 1) + timedelta(days=days)
    assert listed(invoke, "--as-of", due.isoformat())[0]["findings"] == []
    [row] = listed(invoke, "--as-of", (due + timedelta(days=1)).isoformat())
    assert codes(row["findings"]) == ["grievance-overdue"]
    if days == 14:
        assert row["findings"][0]["message"].startswith("Appeal a1 against the suspend decision, filed on 2021-02-01")
        assert "appeals against a suspend decision are resolved within 14 days" in row["findings"][0]["message"]


def test_time_frames_come_from_the_policy(ledger_db, invoke, tmp_path):
    policy = tmp_path / "fast.toml"
    policy.write_text('extends = "ungp"\n[grievances]\nacknowledge = 2\nresolve = 10\n'
                      '[findings.grievance-overdue]\nsource = "Our procedure §4"\n', encoding="utf-8")
    ok(invoke("policy", "set", str(policy), "--at", "2021-01-05"))
    ok(file_(invoke, "g1", at="2021-02-01"))
    assert listed(invoke, "--as-of", "2021-02-03")[0]["findings"] == []
    assert codes(listed(invoke, "--as-of", "2021-02-04")[0]["findings"]) == ["grievance-unacknowledged"]
    [row] = listed(invoke, "--as-of", "2021-02-12")
    assert codes(row["findings"]) == ["grievance-unacknowledged", "grievance-overdue"]
    assert row["findings"][1]["source"] == "Our procedure §4"
    assert "within 10 days" in row["findings"][1]["message"]


def test_a_policy_with_a_bad_grievance_key_is_refused(ledger_db, invoke, tmp_path, assert_user_error):
    policy = tmp_path / "bad.toml"
    policy.write_text('extends = "ungp"\n[grievances]\nacknowlege = 2\n', encoding="utf-8")
    assert_user_error(invoke("policy", "set", str(policy)), "grievances.acknowlege: unknown key")


# -- findings on the linked impact's status --------------------------------------------------------

def test_findings_on_the_linked_impact(ledger_db, invoke):
    ok(file_(invoke, "g1", "--impact", "i1", at="2021-02-01"))
    ok(file_(invoke, "g-rel", "--relationship", "r1", at="2021-02-01"))
    assert "grievance-unacknowledged" not in codes(status_of(invoke, "i1", "2021-02-08")["findings"])
    found = codes(status_of(invoke, "i1", "2021-02-09")["findings"])
    assert found.count("grievance-unacknowledged") == 1  # the relationship's grievance is not the impact's
    nxt = json.loads(ok(invoke("next", "i1", "--as-of", "2021-02-09", "--json")))
    assert "grievance-unacknowledged" in codes(nxt["findings"])


def test_an_appeal_shows_on_the_impact_of_its_decision(ledger_db, invoke):
    ok(invoke("grievance", "file", "a1", "--kind", "appeal", "--summary", "x", "--channel", "c", "--decision",
              SUSPEND_SEQ, "--at", "2021-01-11"))
    found = [f for f in status_of(invoke, "i1", "2021-01-26")["findings"] if f["code"].startswith("grievance")]
    assert codes(found) == ["grievance-unacknowledged", "grievance-overdue"]


# -- the independence gate ---------------------------------------------------------------------------

@pytest.mark.parametrize("reviewer", ["ana", "ANA", " ana ", "bo", "BO "])
def test_reviewer_not_independent_is_refused(ledger_db, invoke, assert_user_error, events_of, reviewer):
    ok(invoke("grievance", "file", "a1", "--kind", "appeal", "--summary", "x", "--channel", "c", "--decision",
              SUSPEND_SEQ, "--at", "2021-01-11"))
    before = len(events_of(ledger_db))
    line = assert_user_error(
        invoke("--actor", reviewer, "grievance", "resolve", "a1", "--outcome", "upheld", "--summary", "x",
               "--at", "2021-01-15"),
        "grievance resolution refused: reviewer-not-independent",
        "must be resolved by someone who neither made nor approved that decision")
    assert "--force" not in line
    assert len(events_of(ledger_db)) == before


def test_an_independent_reviewer_resolves_the_appeal(ledger_db, invoke):
    ok(invoke("grievance", "file", "a1", "--kind", "appeal", "--summary", "x", "--channel", "c", "--decision",
              SUSPEND_SEQ, "--at", "2021-01-11"))
    out = ok(invoke("--actor", "cy", "grievance", "resolve", "a1", "--outcome", "not-upheld", "--summary", "x",
                    "--at", "2021-01-15"))
    assert "by cy" in out


# -- an upheld appeal against a suspension: reinstatement is ready ---------------------------------------

def test_appeal_upheld_makes_reinstatement_ready(ledger_db, invoke):
    ok(invoke("grievance", "file", "a1", "--kind", "appeal", "--summary", "x", "--channel", "c", "--decision",
              SUSPEND_SEQ, "--at", "2021-01-11"))
    ok(invoke("--actor", "cy", "grievance", "resolve", "a1", "--outcome", "upheld", "--summary", "Off-boarded.",
              "--at", "2021-01-15"))
    assert "appeal-upheld" not in codes(status_of(invoke, "i1", "2021-01-14")["findings"])
    row = status_of(invoke, "i1", "2021-01-15")
    [finding] = [f for f in row["findings"] if f["code"] == "appeal-upheld"]
    assert finding["message"] == (
        "Appeal a1 against the suspend decision of 2021-01-10 was upheld on 2021-01-15: reinstatement is ready "
        "(leverage decide i1 --decision reinstate).")
    assert finding["source"] == "UNGP 22 and 31; Santa Clara Principles 2.0 (appeal)"
    assert row["relationship_status"] == "suspended"
    ok(invoke("--actor", "dee", "decide", "i1", "--decision", "reinstate", "--rationale", "Appeal upheld.",
              "--policy-ref", "ToS 4.2", "--at", "2021-01-16"))
    assert "appeal-upheld" not in codes(status_of(invoke, "i1", "2021-01-16")["findings"])
    assert "appeal-upheld" in codes(status_of(invoke, "i1", "2021-01-15")["findings"])


@pytest.mark.parametrize(("decision", "outcome"), [(SUSPEND_SEQ, "not-upheld"), (SUSPEND_SEQ, "partly-upheld"),
                                                    (CONTINUE_SEQ, "upheld")])
def test_no_appeal_upheld_otherwise(ledger_db, invoke, decision, outcome):
    ok(invoke("grievance", "file", "a1", "--kind", "appeal", "--summary", "x", "--channel", "c", "--decision",
              decision, "--at", "2021-01-11"))
    ok(invoke("--actor", "cy", "grievance", "resolve", "a1", "--outcome", outcome, "--summary", "x",
              "--at", "2021-01-15"))
    assert "appeal-upheld" not in codes(status_of(invoke, "i1", "2021-01-20")["findings"])


def test_help_of_the_grievance_commands(runner):
    from leverage.cli import cli

    for path in (["grievance"], ["grievance", "file"], ["grievance", "ack"], ["grievance", "resolve"],
                 ["grievance", "list"]):
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0 and result.stdout.startswith("Usage: "), result.output
