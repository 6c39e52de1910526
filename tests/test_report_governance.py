"""``leverage report governance``: the leadership report, one page (docs/reports.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest


def governance(invoke, *args: str) -> str:
    result = invoke("report", "governance", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def governance_json(invoke, *args: str) -> dict[str, Any]:
    return json.loads(governance(invoke, "--format", "json", *args))


def test_the_leadership_report_of_the_fixture(reports_db, invoke):
    r = governance_json(invoke, "--as-of", "2023-12-31")
    assert r["report"] == "governance" and r["as_of"] == "2023-12-31"
    assert r["summary"] == {"open_impacts": 5, "critical": 1, "high": 3, "overdue": 5, "awaiting_decision": 3,
                            "forced_decisions": 1, "reviews_due": 1, "crucial_at_risk": 1,
                            "grievances_overdue": 1}
    assert [x["impact"] for x in r["severe_impacts"]] == [
        "imp-veritas-incitement", "imp-orchid-labour", "imp-kestrel-assembly", "imp-bluewater-water"]
    assert r["severe_impacts"][0]["party_name"] == "Veritas Forum Ltd"
    assert {x["impact"]: x["next"] for x in r["awaiting_decision"]} == {
        "imp-veritas-incitement": "terminate", "imp-orchid-labour": "suspend", "imp-bluewater-water": "suspend"}
    assert r["forced_decisions"] == [{"impact": "imp-saffron-ads", "party": "saffron",
                                      "party_name": "Saffron Ads GmbH", "decision": "suspend",
                                      "date": "2023-05-10", "reason": "Order of the regulator"}]
    assert [x["impact"] for x in r["reviews_due"]] == ["imp-veritas-incitement"]
    assert r["reviews_due"][0]["message"].startswith("The suspend has not been reviewed since 2023-02-05")
    assert r["crucial_at_risk"] == [{"relationship": "rel-bluewater", "party": "bluewater",
                                     "party_name": "Bluewater Datacentre Oy", "relationship_status": "active",
                                     "impacts": ["imp-bluewater-water"], "next": ["suspend"]}]
    assert r["grievances_overdue"] == [{"grievance": "g-general-1", "kind": "concern", "filed": "2023-10-01",
                                        "status": "open", "impact": None, "acknowledge_by": "2023-10-08",
                                        "resolve_by": "2023-11-30",
                                        "codes": ["grievance-unacknowledged", "grievance-overdue"]}]


def test_as_of_an_earlier_day(reports_db, invoke):
    r = governance_json(invoke, "--as-of", "2023-07-25")
    s = r["summary"]
    assert s["open_impacts"] == 4 and s["grievances_overdue"] == 0
    # Kestrel was suspended on 2023-07-20 and its appeal, filed 2023-07-21, is not yet resolved
    assert {x["impact"] for x in r["severe_impacts"]} == {"imp-veritas-incitement", "imp-orchid-labour",
                                                          "imp-kestrel-assembly"}
    assert r["forced_decisions"][0]["date"] == "2023-05-10"
    later = governance_json(invoke, "--as-of", "2024-05-11")
    assert later["forced_decisions"] == []  # more than 365 days before


def test_an_upheld_appeal_waiting_for_reinstatement(reports_db, invoke):
    result = invoke("status", "--json", "--as-of", "2023-08-01")
    [kestrel] = [s for s in json.loads(result.stdout) if s["impact"] == "imp-kestrel-assembly"]
    assert "appeal-upheld" in [f["code"] for f in kestrel["findings"]]


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_rendered_one_page_names_no_person(reports_db, invoke, fmt):
    text = governance(invoke, "--as-of", "2023-12-31", "--format", fmt)
    for heading in ("Open critical and high impacts", "Overdue", "Decisions awaiting approval",
                    "Forced decisions", "Suspensions due for review", "Crucial relationships at risk",
                    "Grievances overdue"):
        assert heading in text
    assert "Veritas Forum Ltd" in text and "imp-bluewater-water" in text
    for person in ("ana.moreau", "bilal.okafor", "chen.liwei", "dana.ferreira", "Imelda", "Rana Haddad",
                   "Tomasz", "tester"):
        assert person.casefold() not in text.casefold()
    assert text.count("\n") < 120  # one page


def test_output_file_and_empty_ledger(invoke, tmp_path):
    assert invoke("init", "--at", "2023-01-01").exit_code == 0
    out = tmp_path / "board.md"
    result = invoke("report", "governance", "--as-of", "2023-12-31", "-o", out)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "0 open impacts" in text and "_None._" in text
