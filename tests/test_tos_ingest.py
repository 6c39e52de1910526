"""leverage tos ingest: the realistic fixture log, each mapping, attributes, forced decisions,
idempotent re-ingest, dry runs and JSON output (issue 6, items 1-2)."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from test_tos_support import (
    LOG,
    RULES,
    SETUP,
    count,
    events,
    ingest,
    make_ledger,
    ok,
    row,
    run,
    status,
    tos_events,
    write_log,
)

from leverage.ledger import open_ledger

pytestmark = pytest.mark.plugins("leverage_tos")


@pytest.fixture
def ledger_db(tmp_path: Path) -> Path:
    return make_ledger(tmp_path / "l.db")


def fixture_rows() -> list[dict[str, str]]:
    with open(LOG, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# -- the realistic fixture log ---------------------------------------------------------------
@pytest.fixture
def fixture_db(tmp_path: Path) -> Path:
    db = make_ledger(tmp_path / "fixture.db", [json.loads(line) for line in SETUP.read_text().splitlines()])
    ok(ingest(db, LOG))
    return db


def test_the_fixture_log_is_ingested_row_by_row(fixture_db: Path):
    rows = fixture_rows()
    written = tos_events(fixture_db)
    assert len(rows) >= 300
    assert len(written) == len(rows)
    by_line = {e.data["attributes"]["tos"]["line"]: e for e in written}
    assert sorted(by_line) == list(range(2, len(rows) + 2))
    kinds = {"warning": "tos-warning", "label": "warning-label", "downrank": "reduced-distribution",
             "remove": "content-removal", "restrict": "feature-restriction", "suspend": "suspend",
             "ban": "terminate", "reinstate": "reinstate"}
    for line, r in enumerate(rows, 2):
        e = by_line[line]
        tos = e.data["attributes"]["tos"]
        assert tos["action"] == r["action"]
        assert (e.data.get("kind") or e.data.get("decision")) == kinds[r["action"]]
        assert e.at == r["at"]
        assert e.actor == (r["moderator"] or "tester")
        assert tos.get("row_id") == (r["id"] or None)
        assert tos["rule"]["id"] == r["rule"]
        account = r["account"]
        party = account if account.startswith("cust-") else f"cust-{int(account[1:]) - 7000:02d}"
        assert e.data["impact"] == f"tos:{party}:{r['rule']}"
    impacts = {e.data["id"] for e in events(fixture_db) if e.type == "impact.opened"}
    assert impacts == {e.data["impact"] for e in written}
    with open_ledger(fixture_db) as ledger:
        ledger.verify()


def test_the_fixture_log_gives_statuses_without_plugin_errors(fixture_db: Path):
    statuses = status(fixture_db, "2024-07-01")
    assert len(statuses) > 100
    all_codes = Counter(f["code"] for s in statuses for f in s["findings"])
    assert "plugin-error" not in all_codes
    assert all_codes["strike-threshold"] > 0
    assert all_codes["forced-decision"] > 0


def test_the_fixture_log_again_writes_nothing(fixture_db: Path):
    before = count(fixture_db)
    result = ok(ingest(fixture_db, LOG))
    assert count(fixture_db) == before
    assert "nothing new to write" in result.stdout
    assert f"({len(fixture_rows())} ingested already)" in result.stdout


# -- each mapping ----------------------------------------------------------------------------
@pytest.mark.parametrize(("action", "event_type", "field", "value"), [
    ("warning", "step.taken", "kind", "tos-warning"),
    ("label", "step.taken", "kind", "warning-label"),
    ("downrank", "step.taken", "kind", "reduced-distribution"),
    ("remove", "step.taken", "kind", "content-removal"),
    ("restrict", "step.taken", "kind", "feature-restriction"),
    ("suspend", "decision.made", "decision", "suspend"),
    ("ban", "decision.made", "decision", "terminate"),
    ("reinstate", "decision.made", "decision", "reinstate"),
])
def test_each_action_maps_onto_the_core(ledger_db: Path, tmp_path: Path, action: str, event_type: str,
                                        field: str, value: str):
    rows = [row(id="a1", action=action, approved_by="ben")]
    if action == "reinstate":
        rows.insert(0, row(id="a0", action="suspend", approved_by="ben", at="2024-03-01T10:00:00Z"))
    ok(ingest(ledger_db, write_log(tmp_path / "log.csv", rows)))
    last = tos_events(ledger_db)[-1]
    assert last.type == event_type
    assert last.data[field] == value
    assert last.data["impact"] == "tos:acme:hateful-conduct"


def test_a_step_carries_what_notices_and_reports_need(ledger_db: Path, tmp_path: Path):
    log = write_log(tmp_path / "enforcement-2024.csv",
                    [row(id="T-9", approved_by="ben", evidence="https://forum.example/p/77")])
    ok(ingest(ledger_db, log))
    (e,) = tos_events(ledger_db)
    assert e.data["summary"] == "Slur-laden post"
    assert e.data["id"] == "tos:T-9"
    assert e.data["policy_refs"] == ["ToS: hateful-conduct", "Terms of Service section 4.2"]
    tos = e.data["attributes"]["tos"]
    assert tos["rule"] == {
        "id": "hateful-conduct", "title": "Hateful conduct", "egregious": False,
        "ref": "Terms of Service section 4.2",
        "text": "You may not promote hatred, discrimination or hostility against people on the basis "
                "of a protected characteristic.",
    }
    assert tos["appeal"]["channel"] == "https://wehost.example/appeals"
    assert tos["appeal"]["days"] == 14
    assert tos["strikes"] == {"window_days": 90, "restrict": 2, "suspend": 3}
    assert tos["file"] == "enforcement-2024.csv"
    assert tos["line"] == 2
    assert tos["row_id"] == "T-9"
    assert len(tos["row_hash"]) == 64
    assert tos["detected_by"] == "automated"
    assert tos["evidence"] == "https://forum.example/p/77"
    assert tos["moderator"] == "ana"
    assert tos["approved_by"] == "ben"
    assert tos["strike"] is True
    assert tos["account"] == "u-100"
    assert "warning label" in tos["effect"]


def test_the_rule_text_is_kept_as_it_stood(ledger_db: Path, tmp_path: Path):
    ok(ingest(ledger_db, write_log(tmp_path / "a.csv", [row(id="1")])))
    changed = tmp_path / "rules-2025.toml"
    changed.write_text(RULES.read_text().replace("You may not promote hatred", "You must not promote hatred"))
    ok(ingest(ledger_db, write_log(tmp_path / "b.csv", [row(id="2", at="2024-03-05")]), rules=changed))
    first, second = tos_events(ledger_db)
    assert first.data["attributes"]["tos"]["rule"]["text"].startswith("You may not")
    assert second.data["attributes"]["tos"]["rule"]["text"].startswith("You must not")


def test_a_decision_carries_rationale_refs_and_approver(ledger_db: Path, tmp_path: Path):
    log = write_log(tmp_path / "log.csv", [row(id="s1", action="suspend", moderator="dana",
                                               approved_by="emre", reason="Repeated slurs")])
    ok(ingest(ledger_db, log))
    (e,) = tos_events(ledger_db)
    assert e.actor == "dana"
    assert e.data["rationale"] == "Repeated slurs"
    assert e.data["policy_refs"] == ["ToS: hateful-conduct", "Terms of Service section 4.2"]
    assert e.data["approved_by"] == "emre"
    assert "forced" not in e.data  # high severity, approved by a second person: passes the gates


def test_the_actor_is_the_moderator_else_the_cli_actor(ledger_db: Path, tmp_path: Path):
    log = write_log(tmp_path / "log.csv", [row(id="1", moderator="ana"), row(id="2", moderator="",
                                                                             at="2024-03-05")])
    ok(run(ledger_db, "--actor", "ts-import", "tos", "ingest", log, "--rules", RULES))
    opened = [e for e in events(ledger_db) if e.type == "impact.opened"]
    assert [e.actor for e in opened] == ["ts-import"]
    assert [e.actor for e in tos_events(ledger_db)] == ["ana", "ts-import"]


def test_a_missing_reason_gets_a_generated_summary(ledger_db: Path, tmp_path: Path):
    ok(ingest(ledger_db, write_log(tmp_path / "log.csv", [row(id="1", reason="")])))
    (e,) = tos_events(ledger_db)
    assert e.data["summary"] == "Warning label under rule hateful-conduct (Hateful conduct)."


def test_the_impact_is_opened_once_with_the_rules_rights_and_severity(ledger_db: Path, tmp_path: Path):
    log = write_log(tmp_path / "log.csv", [
        row(id="1", at="2024-03-04T10:00:00Z"), row(id="2", action="remove", at="2024-03-06"),
        row(id="3", rule="violent-incitement", action="remove", at="2024-03-07T08:00:00+02:00"),
    ])
    ok(ingest(ledger_db, log))
    opened = [e for e in events(ledger_db) if e.type == "impact.opened"]
    assert [e.data["id"] for e in opened] == ["tos:acme:hateful-conduct", "tos:acme:violent-incitement"]
    hate, incite = opened
    assert hate.at == "2024-03-04T10:00:00Z"
    assert hate.data["relationship"] == "rel-acme"
    assert hate.data["rights"] == ["non-discrimination", "expression"]
    assert hate.data["severity"] == {"scale": 4, "scope": 3, "irremediability": 3}
    assert incite.data["rights"] == ["life", "security-of-person", "expression", "assembly"]
    assert "Acme Media SARL" in hate.data["summary"]


def test_accounts_resolve_by_party_id_or_tos_id(ledger_db: Path, tmp_path: Path):
    log = write_log(tmp_path / "log.csv", [row(id="1", account="u-100"), row(id="2", account="beta"),
                                          row(id="3", account="acme")])
    ok(ingest(ledger_db, log))
    assert [e.data["impact"] for e in tos_events(ledger_db)] == [
        "tos:acme:hateful-conduct", "tos:beta:hateful-conduct", "tos:acme:hateful-conduct"]


def test_a_row_naming_an_impact_attaches_to_it(ledger_db: Path, tmp_path: Path):
    ok(run(ledger_db, "impact", "open", "acme-forum-2024", "--rel", "rel-acme", "--right", "expression",
           "--scale", "4", "--scope", "3", "--irremediability", "3", "--summary", "Forum threads",
           "--at", "2024-01-01"))
    ok(ingest(ledger_db, write_log(tmp_path / "log.csv", [row(id="1", impact="acme-forum-2024")])))
    (e,) = tos_events(ledger_db)
    assert e.data["impact"] == "acme-forum-2024"
    assert not [x for x in events(ledger_db) if x.type == "impact.opened" and x.data["id"].startswith("tos:")]


# -- forced decisions ------------------------------------------------------------------------
def test_a_suspension_failing_the_gates_is_recorded_as_forced_with_file_and_line(ledger_db: Path,
                                                                               tmp_path: Path):
    log = write_log(tmp_path / "log.csv", [row(id="1", action="remove"),
                                          row(id="2", action="suspend", at="2024-03-05T09:00:00Z")])
    result = ok(ingest(ledger_db, log))
    decision = tos_events(ledger_db)[-1]
    assert decision.data["decision"] == "suspend"
    assert "log.csv:3" in decision.data["forced"]
    assert "missing-approval" in decision.data["forced"]
    assert "note: log.csv:3: suspend recorded as forced (fails missing-approval)" in result.stderr
    assert "1 forced" in result.stdout
    found = [f for s in status(ledger_db, "2024-03-06") for f in s["findings"] if f["code"] == "forced-decision"]
    assert len(found) == 1


def test_a_ban_failing_the_gates_is_recorded_as_forced(ledger_db: Path, tmp_path: Path):
    log = write_log(tmp_path / "bans.jsonl", [row(id="b1", action="ban", rule="violent-incitement",
                                                 approved_by="ben")])
    ok(ingest(ledger_db, log))
    (decision,) = tos_events(ledger_db)
    assert decision.data["decision"] == "terminate"
    assert "bans.jsonl:1" in decision.data["forced"]
    assert "missing-termination-assessment" in decision.data["forced"]


def test_a_suspension_of_a_moderate_case_is_forced_as_disproportionate(ledger_db: Path, tmp_path: Path):
    log = write_log(tmp_path / "log.csv", [row(id="1", action="suspend", rule="spam", approved_by="ben")])
    ok(ingest(ledger_db, log))
    assert "disproportionate" in tos_events(ledger_db)[0].data["forced"]


# -- idempotency ------------------------------------------------------------------------------
def test_ingesting_again_skips_rows_and_writes_only_new_ones(ledger_db: Path, tmp_path: Path):
    rows = [row(id="1"), row(id="2", action="remove", at="2024-03-05")]
    log = write_log(tmp_path / "log.csv", rows)
    ok(ingest(ledger_db, log))
    before = count(ledger_db)
    ok(ingest(ledger_db, log))
    assert count(ledger_db) == before
    write_log(log, [*rows, row(id="3", action="restrict", at="2024-03-06")])
    result = ok(ingest(ledger_db, log))
    assert count(ledger_db) == before + 1
    assert "3 rows (2 ingested already); wrote 1 event" in result.stdout


def test_rows_without_id_are_known_by_their_content(ledger_db: Path, tmp_path: Path):
    rows = [row(), row(action="remove", at="2024-03-05")]
    log = write_log(tmp_path / "log.csv", rows)
    ok(ingest(ledger_db, log))
    before = count(ledger_db)
    ok(ingest(ledger_db, write_log(tmp_path / "same.jsonl", rows)))  # same content, other format
    assert count(ledger_db) == before
    ok(ingest(ledger_db, write_log(log, [row(reason="Another slur")])))
    assert count(ledger_db) == before + 1
    steps = tos_events(ledger_db)
    assert steps[0].data["id"].startswith("tos:") and len(steps[0].data["id"]) == 20


def test_a_repeated_row_in_one_file_is_written_once(ledger_db: Path, tmp_path: Path):
    other = "Another slur"  # a row without id is known by its content, so it differs from row 1
    log = write_log(tmp_path / "log.csv", [row(id="1"), row(id="1"), row(reason=other), row(reason=other)])
    result = ok(ingest(ledger_db, log))
    assert len(tos_events(ledger_db)) == 2
    assert "(2 ingested already)" in result.stdout


def test_a_voided_row_is_not_ingested_again(ledger_db: Path, tmp_path: Path):
    log = write_log(tmp_path / "log.csv", [row(id="1"), row(id="2", action="remove", at="2024-03-05")])
    ok(ingest(ledger_db, log))
    seq = tos_events(ledger_db)[-1].seq
    ok(run(ledger_db, "void", seq, "--reason", "Entered in error"))
    before = count(ledger_db)
    ok(ingest(ledger_db, log))
    assert count(ledger_db) == before


# -- dry run, JSON, formats, order ------------------------------------------------------------
def test_dry_run_prints_the_events_and_writes_nothing(ledger_db: Path, tmp_path: Path):
    before = count(ledger_db)
    log = write_log(tmp_path / "log.csv", [row(id="1"), row(id="2", action="suspend", at="2024-03-05")])
    result = ok(ingest(ledger_db, log, "--dry-run"))
    assert count(ledger_db) == before
    assert "dry run: log.csv: 2 rows; would write 3 events (1 impact opened, 1 step, 1 decision, 1 forced)" \
        in result.stdout
    assert "tos:acme:hateful-conduct" in result.stdout
    assert "suspend -> suspend (forced)" in result.stdout


def test_json_prints_the_events_that_load_would_write(ledger_db: Path, tmp_path: Path):
    log = write_log(tmp_path / "log.csv", [row(id="1"), row(id="2", action="suspend", at="2024-03-05")])
    copy = tmp_path / "copy.db"
    shutil.copyfile(ledger_db, copy)
    result = ok(ingest(ledger_db, log, "--json", "--dry-run"))
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [x["type"] for x in lines] == ["impact.opened", "step.taken", "decision.made"]
    assert "log.csv:3" in lines[2]["data"]["forced"]
    assert "would write 3 events" in result.stderr
    # the JSON Lines are the event format: `leverage load` of them equals an ingest
    (tmp_path / "events.jsonl").write_text(result.stdout)
    ok(run(copy, "load", tmp_path / "events.jsonl"))
    ok(ingest(ledger_db, log, "--json"))
    mine = [(e.type, e.at, e.actor, e.data) for e in events(ledger_db)]
    loaded = [(e.type, e.at, e.actor, e.data) for e in events(copy)]
    assert mine == loaded


def test_csv_and_json_lines_give_the_same_events(tmp_path: Path):
    rows = [row(id="1"), row(id="2", action="remove", at="2024-03-05", evidence="https://x.example/1")]
    a = make_ledger(tmp_path / "a.db")
    b = make_ledger(tmp_path / "b.db")
    ok(ingest(a, write_log(tmp_path / "log.csv", rows)))
    ok(ingest(b, write_log(tmp_path / "log.jsonl", rows)))

    def comparable(db: Path) -> list[tuple]:
        out = []
        for e in tos_events(db):
            tos = dict(e.data["attributes"]["tos"])
            tos.pop("file"), tos.pop("line")
            out.append((e.type, e.at, e.actor, tos, e.data.get("summary")))
        return out

    assert comparable(a) == comparable(b)


def test_the_format_is_sniffed_without_an_extension(ledger_db: Path, tmp_path: Path):
    jsonl = write_log(tmp_path / "log.jsonl", [row(id="1")]).rename(tmp_path / "export1")
    ok(ingest(ledger_db, jsonl))
    csv_file = write_log(tmp_path / "log.csv", [row(id="2", at="2024-03-05")]).rename(tmp_path / "export2")
    ok(ingest(ledger_db, csv_file))
    assert len(tos_events(ledger_db)) == 2


def test_a_log_newest_first_is_written_in_time_order(ledger_db: Path, tmp_path: Path):
    rows = [row(id="3", action="reinstate", at="2024-03-09T10:00:00Z", approved_by="ben"),
            row(id="2", action="suspend", at="2024-03-08T10:00:00Z", approved_by="ben"),
            row(id="1", action="remove", at="2024-03-07")]
    ok(ingest(ledger_db, write_log(tmp_path / "log.csv", rows)))
    written = tos_events(ledger_db)
    assert [e.data["attributes"]["tos"]["row_id"] for e in written] == ["1", "2", "3"]
    assert [e.data["attributes"]["tos"]["line"] for e in written] == [4, 3, 2]
    (opened,) = [e for e in events(ledger_db) if e.type == "impact.opened"]
    assert opened.at == "2024-03-07"


def test_the_whole_ingest_is_one_transaction(ledger_db: Path, tmp_path: Path, assert_user_error):
    before = count(ledger_db)
    log = write_log(tmp_path / "log.csv", [row(id="1"), row(id="2", at="2024-03-05"),
                                          row(id="3", rule="no-such-rule", at="2024-03-06")])
    assert_user_error(ingest(ledger_db, log), "log.csv:4", "unknown rule 'no-such-rule'")
    assert count(ledger_db) == before
