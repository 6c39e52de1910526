"""leverage tos ingest refuses bad input with one line naming the file and line, and writes
nothing (issue 6, "Bad input")."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tos_support import (
    RULES,
    count,
    ingest,
    make_ledger,
    ok,
    row,
    write_log,
)

pytestmark = pytest.mark.plugins("leverage_tos")


@pytest.fixture
def ledger_db(tmp_path: Path) -> Path:
    return make_ledger(tmp_path / "l.db")


GOOD = row(id="g1", at="2024-03-01T10:00:00Z")


@pytest.mark.parametrize(("bad", "fragments"), [
    pytest.param(row(rule="no-such-rule"), ["log.csv:3", "rule: unknown rule 'no-such-rule'",
                                            "rules.toml lists: doxxing, election-misinformation"],
                 id="unknown rule"),
    pytest.param(row(action="shadowban"), ["log.csv:3", "action: unknown action 'shadowban'",
                                           "known: warning, label"], id="unknown action"),
    pytest.param(row(account="u-999"), ["log.csv:3", "account 'u-999' resolves to no party",
                                        "--external-id tos=u-999"], id="account resolves to no party"),
    pytest.param(row(account="delta"), ["log.csv:3", "account delta has no relationship with a self party"],
                 id="no relationship"),
    pytest.param(row(account="epsilon"), ["log.csv:3", "several relationships",
                                          "rel-eps-1, rel-eps-2"], id="several relationships"),
    pytest.param(row(at="2020-05-31"), ["log.csv:3", "dated 2020-05-31, before the relationship rel-acme",
                                        "began (2020-06-01)"], id="before the relationship began"),
    pytest.param(row(account="beta", at="2020-12-31T23:59:59Z"),
                 ["log.csv:3", "before the relationship rel-beta", "was recorded in the ledger (2021-01-01)"],
                 id="before the relationship was recorded"),
    pytest.param(row(at="04/03/2024"), ["log.csv:3", "at: must be a date"], id="bad date"),
    pytest.param(row(detected_by="ai"), ["log.csv:3", "detected_by: must be automated or human"],
                 id="bad detection"),
    pytest.param(row(account=""), ["log.csv:3", "account: is required"], id="missing account"),
    pytest.param(row(impact="no-such-impact"), ["log.csv:3", "impact: unknown impact 'no-such-impact'"],
                 id="unknown impact"),
    pytest.param(row(impact="bad id!"), ["log.csv:3", "impact: 'bad id!' is not an impact id"],
                 id="bad impact id"),
    pytest.param(row(action="reinstate"), ["log.csv:3", "reinstate: impact tos:acme:hateful-conduct is not "
                                           "suspended"], id="reinstate without suspension"),
    pytest.param(row(id="g1", reason="Changed"), ["log.csv:3", "action 'g1' was ingested already (log.csv:2)",
                                                  "different content"], id="same id, other content"),
])
def test_a_bad_row_is_refused_with_file_and_line(ledger_db: Path, tmp_path: Path, assert_user_error, bad,
                                                 fragments):
    before = count(ledger_db)
    log = write_log(tmp_path / "log.csv", [GOOD, bad])
    assert_user_error(ingest(ledger_db, log), *fragments)
    assert count(ledger_db) == before


def test_the_same_id_with_other_content_in_a_later_ingest(ledger_db: Path, tmp_path: Path, assert_user_error):
    ok(ingest(ledger_db, write_log(tmp_path / "first.csv", [GOOD])))
    before = count(ledger_db)
    changed = write_log(tmp_path / "second.csv", [row(id="g1", at="2024-03-01T10:00:00Z", action="remove")])
    assert_user_error(ingest(ledger_db, changed), "second.csv:2", "action 'g1' was ingested already "
                      "(first.csv:2) with different content")
    assert count(ledger_db) == before


def test_a_reinstatement_names_where_the_suspension_is(ledger_db: Path, tmp_path: Path, assert_user_error):
    log = write_log(tmp_path / "log.csv", [
        row(id="1", action="suspend", approved_by="ben"),
        row(id="2", action="reinstate", rule="spam", at="2024-03-09", approved_by="ben"),
    ])
    assert_user_error(ingest(ledger_db, log), "log.csv:3", "tos:acme:spam is not suspended",
                      "the suspension is on tos:acme:hateful-conduct")


def test_no_decision_after_a_ban(ledger_db: Path, tmp_path: Path, assert_user_error):
    log = write_log(tmp_path / "log.csv", [
        row(id="1", action="ban", rule="violent-incitement", approved_by="ben"),
        row(id="2", action="suspend", at="2024-03-09", approved_by="ben"),
    ])
    assert_user_error(ingest(ledger_db, log), "log.csv:3", "relationship rel-acme with account acme was "
                      "terminated (ban) at 2024-03-04T10:00:00Z")


def test_an_impact_of_another_account(ledger_db: Path, tmp_path: Path, assert_user_error):
    ok(ingest(ledger_db, write_log(tmp_path / "a.csv", [row(id="1", account="beta")])))
    log = write_log(tmp_path / "b.csv", [row(id="2", impact="tos:beta:hateful-conduct")])
    assert_user_error(ingest(ledger_db, log), "b.csv:2", "impact 'tos:beta:hateful-conduct' is about "
                      "relationship rel-beta, which account acme is not part of")


# -- the log file's shape ---------------------------------------------------------------------
@pytest.mark.parametrize(("text", "fragments"), [
    pytest.param("id,at,account,action,rule,colour\n", ["log.csv:1", "unknown column 'colour'"],
                 id="unknown column"),
    pytest.param("id,at,account,rule\n", ["log.csv:1", "missing column 'action'"], id="missing column"),
    pytest.param("at,account,action,rule,at\n", ["log.csv:1", "column 'at' appears twice"], id="twice"),
    pytest.param("at,account,action,rule\n2024-03-01,u-100,label,spam,extra\n",
                 ["log.csv:2", "5 cells, but the header names 4 columns"], id="too many cells"),
    pytest.param("", ["log.csv", "empty file"], id="empty"),
])
def test_a_bad_csv_file(ledger_db: Path, tmp_path: Path, assert_user_error, text, fragments):
    log = tmp_path / "log.csv"
    log.write_text(text)
    assert_user_error(ingest(ledger_db, log), *fragments)


@pytest.mark.parametrize(("line", "fragments"), [
    pytest.param('{"account": "u-100", "action": "label", "rule": "spam", "at": "2024-03-01", "colour": 1}',
                 ["log.jsonl:2", "unknown column 'colour'"], id="unknown key"),
    pytest.param('{"account": "u-100", "action": "label", "rule": "spam", "at": 20240301}',
                 ["log.jsonl:2", "at: must be text"], id="number"),
    pytest.param('["u-100", "label"]', ["log.jsonl:2", "a row must be a JSON object"], id="array"),
    pytest.param('{"account": "u-100",', ["log.jsonl:2", "invalid JSON"], id="broken"),
    pytest.param('{"account": "u-100", "action": "label", "rule": "spam", "at": "2024-03-01", "evidence": [1]}',
                 ["log.jsonl:2", "evidence: a list of evidence must hold non-empty text only"], id="evidence"),
])
def test_a_bad_json_lines_file(ledger_db: Path, tmp_path: Path, assert_user_error, line, fragments):
    log = tmp_path / "log.jsonl"
    log.write_text('{"account": "u-100", "action": "label", "rule": "spam", "at": "2024-03-01"}\n' + line + "\n")
    assert_user_error(ingest(ledger_db, log), *fragments)


def test_a_missing_log_file(ledger_db: Path, tmp_path: Path, assert_user_error):
    assert_user_error(ingest(ledger_db, tmp_path / "nope.jsonl"), "nope.jsonl", "cannot read")


# -- the rules file ---------------------------------------------------------------------------
def _rules_with(tmp_path: Path, old: str, new: str) -> Path:
    text = RULES.read_text()
    assert old in text, old
    path = tmp_path / "rules.toml"
    path.write_text(text.replace(old, new, 1))
    return path


def _line_of(path: Path, fragment: str) -> int:
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if fragment in line:
            return n
    raise AssertionError(fragment)


@pytest.mark.parametrize(("old", "new", "at_line", "fragments"), [
    pytest.param("severity = { scale = 4, scope = 3, irremediability = 3 }",
                 "severity = { scale = 7, scope = 3, irremediability = 3 }", "scale = 7",
                 ["rule[1].severity.scale: 7 is greater than the maximum of 5"], id="out of range"),
    pytest.param('rights = ["non-discrimination", "expression"]', 'rights = ["non-discrimination", "speech"]',
                 '"speech"', ["rule[1].rights[1]: 'speech' is not one of: life"], id="unknown right"),
    pytest.param("egregious = true", 'egregious = "yes"', 'egregious = "yes"',
                 ["rule[0].egregious: 'yes' is not of type 'boolean'"], id="wrong type"),
    pytest.param("days = 14", "dayz = 14", "dayz", ["appeal.dayz: unknown key"], id="unknown key"),
    pytest.param('id = "spam"', 'id = "spam:bulk"', 'id = "spam:bulk"',
                 ["rule[4].id: 'spam:bulk' is not a rule id"], id="bad rule id"),
    pytest.param('id = "spam"', 'id = "doxxing"', '[[rule]]', ["rule[4].id: 'doxxing' is listed twice"],
                 id="repeated rule id"),
    pytest.param("suspend = 3 ", "suspend = 1 ", "suspend = 1", ["strikes.suspend: 1 is below strikes.restrict"],
                 id="suspend below restrict"),
    pytest.param('channel = "https://wehost.example/appeals"', "", "[appeal]", ["appeal.channel: missing"],
                 id="missing channel"),
    pytest.param('title = "Hateful conduct"', 'title = "Hateful conduct', 'title = "Hateful conduct',
                 ["invalid TOML"], id="invalid TOML"),
])
def test_a_rules_file_failing_its_schema(ledger_db: Path, tmp_path: Path, assert_user_error, old, new, at_line,
                                         fragments):
    rules = _rules_with(tmp_path, old, new)
    log = write_log(tmp_path / "log.csv", [GOOD])
    before = count(ledger_db)
    line_no = _line_of(rules, at_line) if at_line != "[[rule]]" else [
        n for n, x in enumerate(rules.read_text().splitlines(), 1) if x.startswith("[[rule]]")][4] + 1
    line = assert_user_error(ingest(ledger_db, log, rules=rules), f"rules.toml:{line_no}:", *fragments)
    assert str(rules) in line
    assert count(ledger_db) == before


def test_the_rules_file_must_list_rules(ledger_db: Path, tmp_path: Path, assert_user_error):
    rules = tmp_path / "rules.toml"
    rules.write_text('[appeal]\nchannel = "mailto:appeals@example.com"\ndays = 7\n')
    assert_user_error(ingest(ledger_db, write_log(tmp_path / "log.csv", [GOOD]), rules=rules),
                      "rules.toml:1:", "rule: missing")


def test_a_missing_rules_file(ledger_db: Path, tmp_path: Path, assert_user_error):
    assert_user_error(ingest(ledger_db, write_log(tmp_path / "log.csv", [GOOD]), rules=tmp_path / "none.toml"),
                      "none.toml", "cannot read the rules file")


def test_a_tos_id_of_several_parties(tmp_path: Path, assert_user_error):
    from test_tos_support import SMALL

    twin = {"type": "party.added", "at": "2020-01-01", "actor": "ana",
            "data": {"id": "acme-twin", "name": "Acme Twin", "kind": "client", "external_ids": {"tos": "u-100"}}}
    db = make_ledger(tmp_path / "l.db", [*SMALL, twin])
    assert_user_error(ingest(db, write_log(tmp_path / "log.csv", [GOOD])), "log.csv:2",
                      "account 'u-100' is the tos id of several parties (acme, acme-twin)")


def test_a_changed_tos_id_is_followed(tmp_path: Path):
    from test_tos_support import SMALL, tos_events

    update = {"type": "party.updated", "at": "2022-01-01", "actor": "ana",
              "data": {"id": "gamma", "external_ids": {"tos": "u-301"}}}
    db = make_ledger(tmp_path / "l.db", [*SMALL, update])
    ok(ingest(db, write_log(tmp_path / "log.csv", [row(account="u-301")])))
    assert tos_events(db)[0].data["impact"] == "tos:gamma:hateful-conduct"
