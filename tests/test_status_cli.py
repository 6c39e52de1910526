"""`leverage status` and `leverage next` from the command line: the contract's JSON, its
order, CSV, time travel on both clocks, and the decision gates on every path."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest

from leverage.ledger import open_ledger

SEV_CRITICAL = {"scale": 5, "scope": 4, "irremediability": 5}
SEV_HIGH = {"scale": 4, "scope": 2, "irremediability": 2}
SEV_LOW = {"scale": 2, "scope": 1, "irremediability": 1}


def ev(type_, at, **data):
    return {"type": type_, "at": at, "actor": "ana", "data": data}


BASE = [
    ev("party.added", "2021-01-01", id="we", name="We", kind="self"),
    ev("party.added", "2021-01-01", id="a", name="=HYPERLINK(\"http://x\")", kind="client"),
    ev("party.added", "2021-01-01", id="b", name="B", kind="client"),
    ev("relationship.added", "2021-01-01", id="we-a", source="we", target="a", type="hosts"),
    ev("relationship.added", "2021-01-01", id="b-we", source="b", target="we", type="supplies"),
    ev("impact.opened", "2021-01-04", id="crit", relationship="we-a", rights=["life"],
       summary="Violence", severity=SEV_CRITICAL),
    ev("impact.opened", "2021-01-04", id="high", relationship="b-we", rights=["labour"],
       summary="Overtime", severity=SEV_HIGH),
    ev("impact.opened", "2021-01-04", id="low", relationship="we-a", rights=["privacy"],
       summary="Cookies", severity=SEV_LOW),
    ev("step.taken", "2021-01-05", impact="high", kind="dialogue", summary="Call"),
]


@pytest.fixture
def ledger_db(invoke, db, write_jsonl):
    assert invoke("init", "--at", "2020-12-31").exit_code == 0
    result = invoke("load", write_jsonl(BASE, "base.jsonl"))
    assert result.exit_code == 0, result.output
    return db


def status(invoke, *args):
    result = invoke("status", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_status_json_has_the_contract_fields_and_order(invoke, ledger_db):
    rows = status(invoke, "--as-of", "2021-01-10")
    assert [r["impact"] for r in rows] == ["crit", "high", "low"]  # overdue first, then level
    assert list(rows[0]) == ["impact", "relationship", "party", "level", "rung", "due", "overdue",
                             "next", "relationship_status", "findings"]
    crit = rows[0]
    assert (crit["party"], crit["level"], crit["rung"], crit["due"], crit["overdue"], crit["next"]) == (
        "a", "critical", "monitor", "2021-01-07", True, "notice")
    high = rows[1]
    assert high["party"] == "b"  # the end that is not `self`, whichever direction
    assert (high["rung"], high["due"], high["overdue"], high["next"]) == ("engage", "2021-01-19", False, "notice")
    assert rows[2]["due"] == "2021-04-04"  # 90 days for a low impact
    assert all({"code", "message", "source"} <= set(f) for r in rows for f in r["findings"])


def test_status_overdue_filter_and_all(invoke, ledger_db):
    assert [r["impact"] for r in status(invoke, "--as-of", "2021-01-10", "--overdue")] == ["crit"]
    assert invoke("decide", "low", "--decision", "close", "--rationale", "Fixed",
                  "--policy-ref", "P1", "--at", "2021-01-08").exit_code == 0
    assert "low" not in [r["impact"] for r in status(invoke, "--as-of", "2021-01-10")]
    closed = [r for r in status(invoke, "--as-of", "2021-01-10", "--all") if r["impact"] == "low"]
    assert closed and closed[0]["next"] is None and closed[0]["due"] is None


def test_status_csv_is_safe_in_a_spreadsheet(invoke, ledger_db):
    result = invoke("status", "--csv", "--as-of", "2021-01-10")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:3] == ["impact", "relationship", "party"]
    assert [r[0] for r in rows[1:]] == ["crit", "high", "low"]
    for row in rows[1:]:
        for cell in row:
            assert not cell or cell[0] not in "=+-@", cell


def test_status_table_marks_overdue_rows(invoke, ledger_db):
    result = invoke("status", "--as-of", "2021-01-10")
    assert result.exit_code == 0
    line = next(li for li in result.stdout.splitlines() if "crit" in li)
    assert "OVERDUE" in line


def test_as_of_before_the_first_event_is_refused(invoke, ledger_db):
    result = invoke("status", "--as-of", "2020-06-01")
    assert result.exit_code == 1
    assert "before the ledger's first event" in result.output


def test_status_as_of_a_date_does_not_change_when_later_events_are_appended(invoke, ledger_db):
    before = status(invoke, "--as-of", "2021-01-10")
    assert invoke("step", "add", "crit", "--kind", "formal-notice", "--summary", "Notice",
                  "--at", "2021-01-11").exit_code == 0
    assert status(invoke, "--as-of", "2021-01-10") == before
    after = status(invoke, "--as-of", "2021-01-11")
    assert next(r for r in after if r["impact"] == "crit")["rung"] == "notice"


def test_known_at_answers_what_the_ledger_knew_then(invoke, ledger_db):
    then = [e.recorded_at for e in open_ledger(ledger_db).iter_events()][-1]
    before = status(invoke, "--as-of", "2021-01-10", "--known-at", then)
    time.sleep(0.01)
    # a back-dated step recorded later changes the answer as of 2021-01-10 ...
    assert invoke("step", "add", "crit", "--kind", "formal-notice", "--summary", "Notice",
                  "--at", "2021-01-06").exit_code == 0
    now = status(invoke, "--as-of", "2021-01-10")
    assert next(r for r in now if r["impact"] == "crit")["rung"] == "notice"
    # ... but not what the ledger knew at the earlier moment
    assert status(invoke, "--as-of", "2021-01-10", "--known-at", then) == before


def test_next_gives_reasons_with_sources_and_what_is_missing(invoke, ledger_db):
    result = invoke("next", "crit", "--as-of", "2021-01-10", "--json")
    assert result.exit_code == 0, result.output
    obj = json.loads(result.stdout)
    assert obj["next"] == "notice"
    assert obj["reasons"] and all(r["message"] and r["source"] for r in obj["reasons"])
    assert isinstance(obj["missing"], list)
    text = invoke("next", "crit", "--as-of", "2021-01-10")
    assert text.exit_code == 0
    assert "OVERDUE" in text.stdout and "why:" in text.stdout


def test_next_of_an_unknown_impact_is_one_error_line(invoke, ledger_db):
    result = invoke("next", "nope")
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "nope" in result.output


def test_suspend_refused_lists_each_missing_code_and_writes_nothing(invoke, ledger_db):
    count = open_ledger(ledger_db).count()
    result = invoke("decide", "low", "--decision", "suspend", "--rationale", "r",
                    "--policy-ref", "P", "--at", "2021-01-06")
    assert result.exit_code == 1
    assert "disproportionate" in result.output and "missing-approval" in result.output
    assert open_ledger(ledger_db).count() == count


def test_force_records_the_decision_and_the_status_shows_it(invoke, ledger_db):
    result = invoke("decide", "low", "--decision", "suspend", "--rationale", "r", "--policy-ref", "P",
                    "--at", "2021-01-06", "--force", "Court order")
    assert result.exit_code == 0, result.output
    low = next(r for r in status(invoke, "--as-of", "2021-01-10") if r["impact"] == "low")
    codes = [f["code"] for f in low["findings"]]
    assert "forced-decision" in codes and "disproportionate" in codes


def test_gates_apply_on_load_too(invoke, ledger_db, write_jsonl):
    count = open_ledger(ledger_db).count()
    bad = [ev("decision.made", "2021-01-06", impact="crit", decision="terminate", rationale="r",
              policy_refs=["P"], approved_by="ben")]
    result = invoke("load", write_jsonl(bad, "bad.jsonl"))
    assert result.exit_code == 1
    assert "bad.jsonl:1" in result.output and "missing-termination-assessment" in result.output
    assert open_ledger(ledger_db).count() == count


def test_decision_on_a_closed_impact_is_refused(invoke, ledger_db):
    assert invoke("decide", "low", "--decision", "close", "--rationale", "Fixed",
                  "--policy-ref", "P1", "--at", "2021-01-08").exit_code == 0
    result = invoke("decide", "low", "--decision", "continue", "--rationale", "x",
                    "--policy-ref", "P1", "--at", "2021-01-09")
    assert result.exit_code == 1 and "closed" in result.output


def test_policy_set_changes_the_answer_from_its_date(invoke, ledger_db, tmp_path):
    policy = tmp_path / "strict.toml"
    policy.write_text('extends = "ungp"\nname = "strict"\n[days]\nlow = 10\nmoderate = 7\n'
                      'high = 5\ncritical = 2\n', encoding="utf-8")
    assert invoke("policy", "set", str(policy), "--at", "2021-02-01").exit_code == 0
    low_before = next(r for r in status(invoke, "--as-of", "2021-01-10") if r["impact"] == "low")
    assert low_before["due"] == "2021-04-04"
    low_after = next(r for r in status(invoke, "--as-of", "2021-02-02") if r["impact"] == "low")
    assert low_after["due"] == "2021-01-14"  # the new policy in force: 10 days for low
    assert low_after["overdue"] is True


def test_a_policy_file_failing_its_schema_is_one_error_line(invoke, ledger_db, tmp_path):
    policy = tmp_path / "bad.toml"
    policy.write_text('extends = "ungp"\n[days]\ncritical = "soon"\n', encoding="utf-8")
    count = open_ledger(ledger_db).count()
    result = invoke("policy", "set", str(policy))
    assert result.exit_code == 1
    assert "days.critical" in result.output and result.output.strip().count("\n") == 0
    assert open_ledger(ledger_db).count() == count


def test_a_policy_set_whose_content_is_not_a_policy_is_refused(invoke, ledger_db, write_jsonl):
    import hashlib

    count = open_ledger(ledger_db).count()
    content = '{"name": "broken"}'
    bad = [ev("policy.set", "2021-01-06", name="broken", content=content,
              sha256=hashlib.sha256(content.encode()).hexdigest())]
    result = invoke("load", write_jsonl(bad, "bad-policy.jsonl"))
    assert result.exit_code == 1 and "bad-policy.jsonl:1" in result.output
    wrong_hash = [ev("policy.set", "2021-01-06", name="x", content=content, sha256="0" * 64)]
    result = invoke("load", write_jsonl(wrong_hash, "bad-hash.jsonl"))
    assert result.exit_code == 1 and "data.sha256" in result.output
    assert open_ledger(ledger_db).count() == count
