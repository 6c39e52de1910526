"""The recording and listing commands, through the CLI.

Each recording command writes exactly one event, stamped with ``--actor`` and ``--at``,
prints what it wrote, and a refused command writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from leverage import __version__, open_ledger
from leverage.core import CORE_STEP_KINDS

SCHEMA_FILE = Path(__file__).parent.parent / "schemas" / "event.schema.json"
RFC3339_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z\Z")


@pytest.fixture
def record(invoke, sample_db, events_of):
    """``record(*args) -> (result, new_event)``: run a command against the sample ledger and
    check that it wrote exactly one event after the existing ones."""

    def _record(*args: Any) -> tuple[Any, dict[str, Any]]:
        before = events_of(sample_db)
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        after = events_of(sample_db)
        assert len(after) == len(before) + 1, "a recording command writes exactly one event"
        assert after[:-1] == before, "earlier events are never changed"
        return result, after[-1]

    return _record


@pytest.fixture
def refused(invoke, sample_db, events_of, assert_user_error):
    """``refused(*args, fragments=...)``: a user error that writes nothing."""

    def _refused(*args: Any, fragments: tuple[str, ...] = ()) -> str:
        before = events_of(sample_db)
        line = assert_user_error(invoke(*args), *fragments)
        assert events_of(sample_db) == before, "a refused command writes nothing"
        return line

    return _refused


def check_printed(result, type_: str, subject: str, seq: int, at: str, actor: str) -> None:
    assert result.stdout.strip() == f"recorded {type_} {subject} (seq {seq}, at {at}, by {actor})"


# -- parties ---------------------------------------------------------------------------------

def test_party_add_all_options(record):
    result, event = record(
        "--actor", "bob", "party", "add", "newco", "--name", "New Co Ltd", "--kind", "supplier",
        "--country", "BD", "--sector", "Textiles", "--external-id", "salesforce=001XYZ",
        "--external-id", "hubspot=42", "--at", "2021-02-01")
    assert event["type"] == "party.added"
    assert event["actor"] == "bob"
    assert event["at"] == "2021-02-01"
    assert event["seq"] == 12
    assert event["data"] == {"id": "newco", "name": "New Co Ltd", "kind": "supplier",
                             "country": "BD", "sector": "Textiles",
                             "external_ids": {"salesforce": "001XYZ", "hubspot": "42"}}
    check_printed(result, "party.added", "newco", 12, "2021-02-01", "bob")


def test_party_add_defaults_actor_from_env_and_at_to_now(record):
    start = datetime.now(UTC).replace(microsecond=0)
    _, event = record("party", "add", "newco", "--name", "New Co", "--kind", "customer")
    assert event["actor"] == "tester"  # LEVERAGE_ACTOR
    assert event["data"] == {"id": "newco", "name": "New Co", "kind": "customer"}
    assert RFC3339_Z.match(event["at"]), event["at"]
    at = datetime.fromisoformat(event["at"].replace("Z", "+00:00"))
    assert start - timedelta(seconds=1) <= at <= datetime.now(UTC) + timedelta(seconds=1)


def test_party_add_rfc3339_at_kept_verbatim(record):
    _, event = record("party", "add", "newco", "--name", "New Co", "--kind", "other",
                      "--at", "2021-02-01T09:30:00+02:00")
    assert event["at"] == "2021-02-01T09:30:00+02:00"


def test_party_add_duplicate_refused(refused):
    line = refused("party", "add", "acme", "--name", "Acme again", "--kind", "client",
                   fragments=("data.id", "acme", "exists already"))
    assert line.startswith("Error: ")


def test_party_add_bad_kind_refused(refused):
    refused("party", "add", "newco", "--name", "N", "--kind", "alien", fragments=("--kind",))


def test_party_add_bad_id_refused(refused):
    refused("party", "add", "--name", "N", "--kind", "client", "--", "-x",
            fragments=("'-x' is not an id",))


def test_party_add_bad_date_refused(refused):
    refused("party", "add", "newco", "--name", "N", "--kind", "client", "--at", "2021-02-30",
            fragments=("--at", "2021-02-30"))


def test_party_add_at_out_of_range_refused(refused):
    # 9999-12-31T23:00-05:00 is in year 10000 UTC: not a time the ledger can order.
    refused("party", "add", "newco", "--name", "N", "--kind", "client",
            "--at", "9999-12-31T23:00:00-05:00", fragments=("--at",))
    refused("party", "add", "newco", "--name", "N", "--kind", "client",
            "--at", "0001-01-01T00:00:00+01:00", fragments=("--at",))


def test_ids_are_unique_per_kind_only(record):
    # a relationship and a step may share an id with a party or an impact
    _, event = record("rel", "add", "acme", "--source", "we", "--target", "north-dc",
                      "--type", "other", "--at", "2021-02-01")
    assert event["data"]["id"] == "acme"


def test_step_id_is_unique_across_impacts(invoke, refused, sample_db):
    assert invoke("impact", "open", "imp-2", "--rel", "rel-dc", "--right", "labour",
                  "--scale", "1", "--scope", "1", "--irremediability", "1", "--summary", "S",
                  "--at", "2021-02-01").exit_code == 0
    refused("step", "add", "imp-2", "--kind", "dialogue", "--summary", "S", "--id", "step-1",
            fragments=("data.id", "step 'step-1' exists already"))


def test_default_actor_is_the_os_user(record, monkeypatch):
    import getpass

    monkeypatch.delenv("LEVERAGE_ACTOR")
    _, event = record("party", "add", "newco", "--name", "N", "--kind", "other")
    assert event["actor"] == getpass.getuser()


def test_party_add_bad_external_id_refused(refused):
    refused("party", "add", "newco", "--name", "N", "--kind", "client",
            "--external-id", "no-equals-sign", fragments=("--external-id", "SYSTEM=ID"))


def test_party_add_without_a_ledger_refused_and_creates_nothing(invoke, db, assert_user_error):
    assert_user_error(invoke("party", "add", "acme", "--name", "A", "--kind", "client"),
                      "no ledger here")
    assert not db.exists()


def test_party_update(record, invoke):
    result, event = record("--actor", "bob", "party", "update", "acme", "--name", "Acme Group",
                           "--kind", "partner", "--external-id", "hubspot=7",
                           "--at", "2021-02-02")
    assert (event["type"], event["actor"], event["at"]) == ("party.updated", "bob", "2021-02-02")
    assert event["data"] == {"id": "acme", "name": "Acme Group", "kind": "partner",
                             "external_ids": {"hubspot": "7"}}
    check_printed(result, "party.updated", "acme", 12, "2021-02-02", "bob")
    parties = {p["id"]: p for p in json.loads(invoke("party", "list", "--json").stdout)}
    assert parties["acme"]["name"] == "Acme Group"
    assert parties["acme"]["kind"] == "partner"
    assert parties["acme"]["external_ids"] == {"hubspot": "7"}
    assert parties["acme"]["country"] == "FR"  # unchanged fields stay


def test_party_update_nothing_refused(refused):
    refused("party", "update", "acme", fragments=("nothing to update",))


def test_party_update_unknown_refused(refused):
    refused("party", "update", "ghost", "--name", "G", fragments=("data.id", "unknown party"))


def test_party_list_json(invoke, sample_db):
    result = invoke("party", "list", "--json")
    assert result.exit_code == 0, result.output
    parties = json.loads(result.stdout)
    assert [p["id"] for p in parties] == ["acme", "north-dc", "peer-host", "we"]
    acme = parties[0]
    assert acme["name"] == "Acme Media SARL"
    assert acme["kind"] == "client"
    assert acme["external_ids"] == {"salesforce": "0015g00000XyZ"}
    assert parties[2]["attributes"] == {"source": {"system": "crm", "row": 3}}


def test_party_list_as_of(invoke, sample_db):
    result = invoke("party", "list", "--json", "--as-of", "2020-12-31")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_party_list_table(invoke, sample_db):
    result = invoke("party", "list")
    assert result.exit_code == 0, result.output
    for text in ("acme", "Acme Media SARL", "north-dc", "peer-host", "we", "supplier"):
        assert text in result.stdout


# -- relationships ---------------------------------------------------------------------------

def test_rel_add_all_options(record):
    result, event = record(
        "--actor", "bob", "rel", "add", "rel-peer", "--source", "we", "--target", "peer-host",
        "--type", "partners-with", "--crucial", "--leverage", "2", "--since", "2020-03-01",
        "--contract", "C-7", "--at", "2021-02-01")
    assert (event["type"], event["actor"], event["at"]) == (
        "relationship.added", "bob", "2021-02-01")
    assert event["data"] == {"id": "rel-peer", "source": "we", "target": "peer-host",
                             "type": "partners-with", "crucial": True, "leverage": 2,
                             "since": "2020-03-01", "contract": "C-7"}
    check_printed(result, "relationship.added", "rel-peer", 12, "2021-02-01", "bob")


def test_rel_add_minimal_is_not_crucial(record, invoke):
    _, event = record("rel", "add", "rel-2", "--source", "acme", "--target", "peer-host",
                      "--type", "other", "--at", "2021-02-01")
    assert event["data"] == {"id": "rel-2", "source": "acme", "target": "peer-host",
                             "type": "other"}
    rels = {r["id"]: r for r in json.loads(invoke("rel", "list", "--json").stdout)}
    assert rels["rel-2"]["crucial"] is False
    assert rels["rel-2"]["status"] == "active"


def test_rel_add_unknown_party_refused(refused):
    refused("rel", "add", "rel-x", "--source", "we", "--target", "ghost", "--type", "hosts",
            fragments=("data.target", "unknown party 'ghost'"))


def test_rel_add_bad_leverage_refused(refused):
    refused("rel", "add", "rel-x", "--source", "we", "--target", "acme", "--type", "hosts",
            "--leverage", "6", fragments=("--leverage",))


def test_rel_update(record, invoke):
    result, event = record("--actor", "bob", "rel", "update", "rel-dc", "--not-crucial",
                           "--leverage", "5", "--at", "2021-02-03")
    assert (event["type"], event["actor"], event["at"]) == (
        "relationship.updated", "bob", "2021-02-03")
    assert event["data"] == {"id": "rel-dc", "crucial": False, "leverage": 5}
    check_printed(result, "relationship.updated", "rel-dc", 12, "2021-02-03", "bob")
    rels = {r["id"]: r for r in json.loads(invoke("rel", "list", "--json").stdout)}
    assert rels["rel-dc"]["crucial"] is False
    assert rels["rel-dc"]["leverage"] == 5


def test_rel_update_nothing_refused(refused):
    refused("rel", "update", "rel-dc", fragments=("nothing to update",))


def test_rel_end(record, invoke):
    result, event = record("--actor", "bob", "rel", "end", "rel-dc", "--reason",
                           "Contract expired.", "--at", "2021-03-01")
    assert (event["type"], event["actor"], event["at"]) == (
        "relationship.ended", "bob", "2021-03-01")
    assert event["data"] == {"id": "rel-dc", "reason": "Contract expired."}
    check_printed(result, "relationship.ended", "rel-dc", 12, "2021-03-01", "bob")
    rels = {r["id"]: r for r in json.loads(invoke("rel", "list", "--json").stdout)}
    assert rels["rel-dc"]["status"] == "ended"
    assert rels["rel-dc"]["ended_reason"] == "Contract expired."
    before = {r["id"]: r for r in json.loads(
        invoke("rel", "list", "--json", "--as-of", "2021-02-28").stdout)}
    assert before["rel-dc"]["status"] == "active"


def test_rel_end_twice_refused(invoke, refused, sample_db):
    assert invoke("rel", "end", "rel-dc", "--reason", "Expired.", "--at", "2021-03-01"
                  ).exit_code == 0
    refused("rel", "end", "rel-dc", "--reason", "Again.", fragments=("ended already",))


def test_rel_list_table(invoke, sample_db):
    result = invoke("rel", "list")
    assert result.exit_code == 0, result.output
    for text in ("rel-acme", "rel-dc", "hosts", "supplies", "active"):
        assert text in result.stdout


# -- impacts ---------------------------------------------------------------------------------

def test_impact_open_all_options(record):
    result, event = record(
        "--actor", "bob", "impact", "open", "imp-2", "--rel", "rel-dc", "--right", "labour",
        "--right", "health", "--right", "labour", "--scale", "3", "--scope", "2",
        "--irremediability", "4", "--summary", "Unpaid overtime at the datacenter.",
        "--likelihood", "2", "--involvement", "contribute", "--status", "potential",
        "--affected", "night shift", "--at", "2021-02-04")
    assert (event["type"], event["actor"], event["at"]) == ("impact.opened", "bob", "2021-02-04")
    assert event["data"] == {
        "id": "imp-2", "relationship": "rel-dc", "rights": ["labour", "health"],
        "summary": "Unpaid overtime at the datacenter.",
        "severity": {"scale": 3, "scope": 2, "irremediability": 4},
        "likelihood": 2, "involvement": "contribute", "status": "potential",
        "affected": ["night shift"]}
    check_printed(result, "impact.opened", "imp-2", 12, "2021-02-04", "bob")


def test_impact_open_minimal(record, invoke):
    _, event = record("impact", "open", "imp-2", "--rel", "rel-dc", "--right", "labour",
                      "--scale", "1", "--scope", "1", "--irremediability", "1",
                      "--summary", "Minor.", "--at", "2021-02-04")
    assert event["data"] == {"id": "imp-2", "relationship": "rel-dc", "rights": ["labour"],
                             "summary": "Minor.",
                             "severity": {"scale": 1, "scope": 1, "irremediability": 1}}
    impacts = {i["id"]: i for i in json.loads(invoke("impact", "list", "--json").stdout)}
    assert impacts["imp-2"]["involvement"] == "linked"  # the defaults of DESIGN section 3
    assert impacts["imp-2"]["status"] == "actual"


def test_impact_open_unknown_relationship_refused(refused):
    refused("impact", "open", "imp-2", "--rel", "ghost", "--right", "labour", "--scale", "1",
            "--scope", "1", "--irremediability", "1", "--summary", "S",
            fragments=("data.relationship", "unknown relationship 'ghost'"))


def test_impact_open_scale_out_of_range_refused(refused):
    refused("impact", "open", "imp-2", "--rel", "rel-dc", "--right", "labour", "--scale", "7",
            "--scope", "1", "--irremediability", "1", "--summary", "S",
            fragments=("--scale",))


def test_impact_reassess(record, invoke):
    result, event = record("--actor", "bob", "impact", "reassess", "imp-1", "--summary",
                           "Threats now target named people.", "--scale", "5", "--scope", "3",
                           "--irremediability", "4", "--likelihood", "5", "--at", "2021-02-05")
    assert (event["type"], event["actor"], event["at"]) == (
        "impact.reassessed", "bob", "2021-02-05")
    assert event["data"] == {"id": "imp-1", "summary": "Threats now target named people.",
                             "severity": {"scale": 5, "scope": 3, "irremediability": 4},
                             "likelihood": 5}
    check_printed(result, "impact.reassessed", "imp-1", 12, "2021-02-05", "bob")
    imp = json.loads(invoke("impact", "list", "--json").stdout)[0]
    assert imp["severity"] == {"scale": 5, "scope": 3, "irremediability": 4}
    assert [a["seq"] for a in imp["assessments_of_severity"]] == [7, 12]


def test_impact_reassess_partial_severity_refused(refused):
    refused("impact", "reassess", "imp-1", "--summary", "S", "--scale", "5",
            fragments=("--scale", "--scope", "--irremediability"))


def test_impact_list_json(invoke, sample_db):
    result = invoke("impact", "list", "--json")
    assert result.exit_code == 0, result.output
    [imp] = json.loads(result.stdout)
    assert imp["id"] == "imp-1"
    assert imp["relationship"] == "rel-acme"
    assert [s["kind"] for s in imp["steps"]] == ["dialogue", "formal-notice"]
    assert imp["steps"][0]["with"] == ["peer-host"]
    assert imp["steps"][0]["deadline"] == "2021-01-20"
    assert [o["outcome"] for o in imp["outcomes"]] == ["improved"]
    assert [a["conclusion"] for a in imp["assessments"]] == ["exit-acceptable"]
    assert imp["decisions"] == []


def test_impact_list_table(invoke, sample_db):
    result = invoke("impact", "list")
    assert result.exit_code == 0, result.output
    assert "imp-1" in result.stdout and "rel-acme" in result.stdout


# -- steps and outcomes ----------------------------------------------------------------------

def test_step_add_all_options(record):
    result, event = record(
        "--actor", "bob", "step", "add", "imp-1", "--kind", "corrective-action-plan",
        "--summary", "Plan agreed: moderation within 24 h.", "--id", "step-3",
        "--deadline", "2021-02-20", "--with", "peer-host", "--policy-ref", "ToS 4.2",
        "--policy-ref", "UNGP 19", "--at", "2021-02-06")
    assert (event["type"], event["actor"], event["at"]) == ("step.taken", "bob", "2021-02-06")
    assert event["data"] == {"impact": "imp-1", "kind": "corrective-action-plan",
                             "summary": "Plan agreed: moderation within 24 h.", "id": "step-3",
                             "deadline": "2021-02-20", "with": ["peer-host"],
                             "policy_refs": ["ToS 4.2", "UNGP 19"]}
    check_printed(result, "step.taken", "step-3", 12, "2021-02-06", "bob")


def test_step_add_minimal(record):
    result, event = record("step", "add", "imp-1", "--kind", "dialogue", "--summary",
                           "Follow-up call.", "--at", "2021-02-06")
    assert event["data"] == {"impact": "imp-1", "kind": "dialogue", "summary": "Follow-up call."}
    assert "step.taken imp-1" in result.stdout


def test_step_add_unknown_kind_refused(refused):
    refused("step", "add", "imp-1", "--kind", "carpet-bombing", "--summary", "S",
            fragments=("data.kind", "unknown step kind"))


def test_step_add_unknown_impact_refused(refused):
    refused("step", "add", "ghost", "--kind", "dialogue", "--summary", "S",
            fragments=("data.impact", "unknown impact 'ghost'"))


def test_step_add_deadline_before_step_refused(refused):
    refused("step", "add", "imp-1", "--kind", "dialogue", "--summary", "S",
            "--deadline", "2021-02-01", "--at", "2021-02-06", fragments=("data.deadline",))


def test_step_add_unknown_peer_refused(refused):
    refused("step", "add", "imp-1", "--kind", "peer-collaboration", "--summary", "S",
            "--with", "ghost", fragments=("data.with[0]", "unknown party 'ghost'"))


def test_step_outcome(record):
    result, event = record("--actor", "bob", "step", "outcome", "imp-1", "--outcome",
                           "worsened", "--summary", "New threads appeared.", "--step", "step-1",
                           "--at", "2021-02-07")
    assert (event["type"], event["actor"], event["at"]) == ("step.outcome", "bob", "2021-02-07")
    assert event["data"] == {"impact": "imp-1", "outcome": "worsened",
                             "summary": "New threads appeared.", "step": "step-1"}
    check_printed(result, "step.outcome", "imp-1", 12, "2021-02-07", "bob")


def test_step_outcome_unknown_step_refused(refused):
    refused("step", "outcome", "imp-1", "--outcome", "improved", "--summary", "S",
            "--step", "step-9", fragments=("data.step", "unknown step 'step-9'"))


def test_step_kinds_json(invoke):
    result = invoke("step", "kinds", "--json")
    assert result.exit_code == 0, result.output
    kinds = {k["kind"]: k for k in json.loads(result.stdout)}
    for rung, names in CORE_STEP_KINDS.items():
        for name in names:
            assert kinds[name]["rung"] == rung
            assert kinds[name]["owner"] == "leverage"
            assert kinds[name]["description"]
    assert kinds["dialogue"]["rung"] == "engage"
    assert kinds["formal-notice"]["rung"] == "notice"
    assert kinds["withhold-business"]["rung"] == "enforce"
    assert kinds["multi-stakeholder"]["rung"] == "collective"
    assert "suspend" not in kinds and "terminate" not in kinds  # decisions, not steps


def test_step_kinds_table(invoke):
    result = invoke("step", "kinds")
    assert result.exit_code == 0, result.output
    assert "dialogue" in result.stdout and "engage" in result.stdout


# -- assessments and decisions ---------------------------------------------------------------

def test_assess(record):
    result, event = record("--actor", "bob", "assess", "imp-1", "--kind", "stakeholder",
                           "--conclusion", "Journalists ask us to keep pressing Acme.",
                           "--summary", "Interviews with 6 journalists.", "--expert", "Dr. A",
                           "--expert", "Mx. B", "--at", "2021-02-08")
    assert (event["type"], event["actor"], event["at"]) == (
        "assessment.recorded", "bob", "2021-02-08")
    assert event["data"] == {"impact": "imp-1", "kind": "stakeholder",
                             "conclusion": "Journalists ask us to keep pressing Acme.",
                             "summary": "Interviews with 6 journalists.",
                             "experts": ["Dr. A", "Mx. B"]}
    check_printed(result, "assessment.recorded", "imp-1", 12, "2021-02-08", "bob")


def test_assess_bad_conclusion_refused(refused):
    refused("assess", "imp-1", "--kind", "leverage", "--conclusion", "maybe", "--summary", "S",
            fragments=("data.conclusion", "promising"))


def test_decide_continue(record, invoke):
    result, event = record("--actor", "bob", "decide", "imp-1", "--decision", "continue",
                           "--rationale", "The notice is working; keep engaging.",
                           "--policy-ref", "UNGP 19", "--policy-ref", "ToS 4.2",
                           "--at", "2021-02-09")
    assert (event["type"], event["actor"], event["at"]) == ("decision.made", "bob", "2021-02-09")
    assert event["data"] == {"impact": "imp-1", "decision": "continue",
                             "rationale": "The notice is working; keep engaging.",
                             "policy_refs": ["UNGP 19", "ToS 4.2"]}
    check_printed(result, "decision.made", "imp-1", 12, "2021-02-09", "bob")
    imp = json.loads(invoke("impact", "list", "--json").stdout)[0]
    assert [d["decision"] for d in imp["decisions"]] == ["continue"]


def test_decide_close_makes_the_impact_final(record, refused):
    _, event = record("--actor", "bob", "decide", "imp-1", "--decision", "close",
                      "--rationale", "Remediated: the forum is moderated.",
                      "--policy-ref", "UNGP 22", "--at", "2021-02-10")
    assert event["data"]["decision"] == "close"
    refused("step", "add", "imp-1", "--kind", "dialogue", "--summary", "S",
            "--at", "2021-02-11", fragments=("imp-1", "closed"))


def test_decide_requires_a_policy_ref(refused):
    refused("decide", "imp-1", "--decision", "continue", "--rationale", "R",
            fragments=("--policy-ref",))


def test_decide_suspend_without_approval_refused(refused):
    line = refused("--actor", "bob", "decide", "imp-1", "--decision", "suspend",
                   "--rationale", "No change.", "--policy-ref", "ToS 4.2",
                   "--at", "2021-02-10", fragments=("missing-approval",))
    assert "--force" in line


def test_decide_suspend_approved_by_oneself_refused(refused):
    refused("--actor", "bob", "decide", "imp-1", "--decision", "suspend",
            "--rationale", "No change.", "--policy-ref", "ToS 4.2",
            "--approved-by", " Bob ", "--at", "2021-02-10", fragments=("missing-approval",))


def test_decide_terminate_without_requirements_refused(invoke, refused, sample_db):
    # A fresh impact: no termination assessment, no prior step, no second approver.
    assert invoke("impact", "open", "imp-2", "--rel", "rel-acme", "--right", "privacy",
                  "--scale", "4", "--scope", "4", "--irremediability", "3",
                  "--summary", "Leaked data.", "--at", "2021-02-01").exit_code == 0
    refused("--actor", "bob", "decide", "imp-2", "--decision", "terminate",
            "--rationale", "Exit.", "--policy-ref", "UNGP 19", "--at", "2021-02-10",
            fragments=("missing-approval", "missing-termination-assessment",
                       "missing-prior-step"))


def test_decide_forced_is_recorded_with_its_reason(record):
    _, event = record("--actor", "bob", "decide", "imp-1", "--decision", "suspend",
                      "--rationale", "Imminent risk to life.", "--policy-ref", "ToS 4.2",
                      "--force", "Approver unreachable; risk to life.", "--at", "2021-02-10")
    assert event["data"]["decision"] == "suspend"
    assert event["data"]["forced"] == "Approver unreachable; risk to life."


# -- voids -----------------------------------------------------------------------------------

def test_void(record, invoke):
    result, event = record("--actor", "carla", "void", "10", "--reason",
                           "Outcome entered for the wrong impact.")
    assert (event["type"], event["actor"]) == ("event.voided", "carla")
    assert event["data"] == {"seq": 10, "reason": "Outcome entered for the wrong impact."}
    assert RFC3339_Z.match(event["at"])
    assert result.stdout.startswith("recorded event.voided 10 (seq 12,")
    imp = json.loads(invoke("impact", "list", "--json").stdout)[0]
    assert imp["outcomes"] == []  # treated as never having happened
    log = invoke("log", "--json")
    assert len(log.stdout.splitlines()) == 12  # ... but it stays in the log


def test_void_unknown_seq_refused(refused):
    refused("void", "99", "--reason", "R", fragments=("data.seq", "no event with seq 99"))


def test_void_seq_zero_refused(refused):
    refused("void", "0", "--reason", "R", fragments=("SEQ",))


# -- the audit trail, schemas, plugins, policy -----------------------------------------------

def test_log_table(invoke, sample_db):
    assert invoke("void", "8", "--reason", "Wrong call.").exit_code == 0
    result = invoke("log")
    assert result.exit_code == 0, result.output
    for text in ("party.added", "relationship.added", "impact.opened", "step.taken",
                 "step.outcome", "assessment.recorded", "event.voided", "ana", "ben",
                 "[voided]"):
        assert text in result.stdout, text


def test_log_json_prints_export_lines(invoke, sample_db, export_bytes):
    result = invoke("log", "--json")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == export_bytes(sample_db)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["seq"] for e in lines] == list(range(1, 12))
    assert set(lines[0]) == {"seq", "recorded_at", "prev", "hash", "type", "at", "actor", "data"}


def test_log_impact_json(invoke, sample_db):
    result = invoke("log", "--impact", "imp-1", "--json")
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["seq"] for e in events] == [7, 8, 9, 10, 11]
    assert {e["type"] for e in events} == {"impact.opened", "step.taken", "step.outcome",
                                           "assessment.recorded"}


def test_schema_list(invoke):
    result = invoke("schema")
    assert result.exit_code == 0, result.output
    names = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert "event" in names


def test_schema_event(invoke):
    result = invoke("schema", "event")
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema == json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_unknown_refused(invoke, assert_user_error):
    assert_user_error(invoke("schema", "nope"), "no schema 'nope'", "event")


def test_plugins_json(invoke):
    result = invoke("plugins", "--json")
    assert result.exit_code == 0, result.output
    plugins = json.loads(result.stdout)
    core = plugins[0]
    assert core["name"] == "leverage"
    assert core["version"] == __version__
    assert core["status"] == "loaded"
    assert {"register_commands", "register_step_kinds", "register_policies"} <= set(core["hooks"])
    for p in plugins:
        assert {"name", "version", "hooks", "status"} <= set(p)


def test_plugins_table(invoke):
    result = invoke("plugins")
    assert result.exit_code == 0, result.output
    assert "leverage" in result.stdout and "register_commands" in result.stdout


def test_init_writes_one_policy_event(invoke, db, events_of):
    result = invoke("--actor", "ana", "init", "--at", "2021-01-01")
    assert result.exit_code == 0, result.output
    assert "created ledger" in result.stdout and "ungp" in result.stdout
    [event] = events_of(db)
    assert (event["seq"], event["type"], event["actor"], event["at"]) == (
        1, "policy.set", "ana", "2021-01-01")
    data = event["data"]
    assert data["name"] == "ungp"
    assert data["sha256"] == hashlib.sha256(data["content"].encode()).hexdigest()


def test_policy_show(invoke, db):
    assert invoke("init", "--at", "2021-01-01").exit_code == 0
    result = invoke("policy", "show")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("policy ungp (seq 1, in force from 2021-01-01")
    shown = json.loads(invoke("policy", "show", "--json").stdout)
    ledger = open_ledger(db)
    [record] = ledger.state().policies
    ledger.close()
    assert shown["name"] == "ungp"
    assert shown["sha256"] == record.sha256
    assert shown["seq"] == 1
    assert shown["content"] == json.loads(record.content)


def test_policy_set_and_show_as_of(invoke, db, events_of):
    assert invoke("init", "--at", "2021-01-01").exit_code == 0
    result = invoke("--actor", "bob", "policy", "set", "csddd", "--at", "2021-06-01")
    assert result.exit_code == 0, result.output
    events = events_of(db)
    assert len(events) == 2
    assert (events[1]["type"], events[1]["actor"], events[1]["at"]) == (
        "policy.set", "bob", "2021-06-01")
    assert events[1]["data"]["name"] == "csddd"
    now = json.loads(invoke("policy", "show", "--json").stdout)
    assert now["name"] == "csddd"
    before = json.loads(invoke("policy", "show", "--json", "--as-of", "2021-03-01").stdout)
    assert before["name"] == "ungp"


def test_policy_show_without_policy_refused(invoke, sample_db, assert_user_error):
    assert_user_error(invoke("policy", "show"), "no policy")
