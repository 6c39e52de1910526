"""``leverage tos report``: the numbers of a transparency report (issue 6, item 6)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from test_tos_support import (
    LOG,
    SETUP,
    ingest,
    make_ledger,
    ok,
    row,
    run,
    tos_events,
    write_log,
)

from leverage.timeutil import day_of

pytestmark = pytest.mark.plugins("leverage_tos")


@pytest.fixture(scope="module")
def fixture_rows() -> list[dict[str, str]]:
    with open(LOG, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def fixture_db(tmp_path: Path) -> Path:
    db = make_ledger(tmp_path / "f.db", [json.loads(x) for x in SETUP.read_text().splitlines()])
    ok(ingest(db, LOG))
    return db


def report(db: Path, *args: str) -> dict:
    return json.loads(ok(run(db, "tos", "report", "--json", *args)).stdout)


def test_the_numbers_of_the_fixture_log(fixture_db: Path, fixture_rows: list[dict[str, str]]):
    numbers = report(fixture_db)
    assert numbers["actions"] == len(fixture_rows)
    assert numbers["by_rule"] == dict(sorted(Counter(r["rule"] for r in fixture_rows).items()))
    assert Counter(numbers["by_action"]) == Counter(r["action"] for r in fixture_rows)
    detection = Counter(r["detected_by"] or "unknown" for r in fixture_rows)
    assert numbers["detection"] == {"automated": detection["automated"], "human": detection["human"],
                                    "unknown": detection["unknown"]}
    assert numbers["reinstatements"] == sum(r["action"] == "reinstate" for r in fixture_rows)
    assert numbers["strikes"] == sum(r["action"] not in ("warning", "reinstate") for r in fixture_rows)
    assert numbers["accounts"] == len({r["account"] for r in fixture_rows})
    forced = sum(1 for e in tos_events(fixture_db) if e.data.get("forced"))
    assert numbers["forced"] == forced > 0
    for rule, by_action in numbers["by_rule_and_action"].items():
        assert sum(by_action.values()) == numbers["by_rule"][rule]
    for action, split in numbers["detection_by_action"].items():
        assert sum(split.values()) == numbers["by_action"][action]
    assert list(numbers["by_action"]) == [a for a in ("warning", "label", "downrank", "remove", "restrict",
                                                      "suspend", "ban", "reinstate") if a in numbers["by_action"]]


def test_from_and_to_are_inclusive_utc_days(fixture_db: Path, fixture_rows: list[dict[str, str]]):
    start, end = date(2024, 2, 1), date(2024, 3, 31)
    numbers = report(fixture_db, "--from", "2024-02-01", "--to", "2024-03-31")
    expected = [r for r in fixture_rows if start <= day_of(r["at"]) <= end]
    assert numbers["actions"] == len(expected)
    assert (numbers["from"], numbers["to"]) == ("2024-02-01", "2024-03-31")
    assert numbers["first"] >= "2024-02-01" and numbers["last"] <= "2024-03-31"


def test_a_day_at_the_edge(tmp_path: Path):
    db = make_ledger(tmp_path / "l.db")
    ok(ingest(db, write_log(tmp_path / "log.csv", [
        row(id="1", at="2024-03-31T23:59:59Z"), row(id="2", at="2024-04-01T00:30:00+02:00"),
        row(id="3", at="2024-04-01T00:00:00Z", action="remove", detected_by="human"),
    ])))
    march = report(db, "--to", "2024-03-31")
    assert march["actions"] == 2  # 00:30 +02:00 on 1 April is 22:30 UTC on 31 March
    april = report(db, "--from", "2024-04-01")
    assert april["actions"] == 1
    assert april["detection"] == {"automated": 0, "human": 1, "unknown": 0}


def test_voided_actions_are_not_counted(tmp_path: Path):
    db = make_ledger(tmp_path / "l.db")
    ok(ingest(db, write_log(tmp_path / "log.csv", [row(id="1"), row(id="2", at="2024-03-05")])))
    ok(run(db, "void", tos_events(db)[-1].seq, "--reason", "Logged twice by mistake"))
    assert report(db)["actions"] == 1


def test_an_empty_ledger(tmp_path: Path):
    db = make_ledger(tmp_path / "l.db")
    numbers = report(db)
    assert numbers["actions"] == 0 and numbers["by_rule"] == {}
    out = ok(run(db, "tos", "report")).stdout
    assert "0 actions on 0 accounts" in out


def test_the_human_output(fixture_db: Path):
    out = ok(run(fixture_db, "tos", "report", "--from", "2024-01-01", "--to", "2024-06-30")).stdout
    assert "Enforcement actions 2024-01-01 to 2024-06-30:" in out
    assert "By rule" in out and "By action" in out and "Detection:" in out
    assert "hateful-conduct" in out


def test_to_before_from_is_refused(fixture_db: Path):
    result = run(fixture_db, "tos", "report", "--from", "2024-03-01", "--to", "2024-02-01")
    assert result.exit_code != 0 and "before --from" in result.output
