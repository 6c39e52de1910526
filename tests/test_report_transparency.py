"""``leverage report transparency``: the numbers against a ledger whose figures are known, the
published JSON Schema, redaction in every format, escaping, the period (docs/reports.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from leverage.reports import median_days, party_label

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "reports" / "ledger.jsonl"
SCHEMA = json.loads((ROOT / "schemas" / "transparency-report.schema.json").read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
FORMATS = ("md", "html", "json")
YEAR = ("--from", "2023-01-01", "--to", "2023-12-31")


def report(invoke, *args: str) -> str:
    result = invoke("report", "transparency", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def report_json(invoke, *args: str) -> dict[str, Any]:
    data = json.loads(report(invoke, "--format", "json", *args))
    errors = [f"{e.json_path}: {e.message}" for e in VALIDATOR.iter_errors(data)]
    assert errors == []
    return data


# -- the fixture's known figures (tests/fixtures/reports/README.md) ---------------------------------

def test_the_numbers_of_the_fixture_year(reports_db, invoke):
    r = report_json(invoke, *YEAR)
    assert (r["report"], r["redacted"], r["period"]) == ("transparency", True, {"from": "2023-01-01",
                                                                                "to": "2023-12-31"})
    assert r["policy"]["name"] == "ungp" and r["ledger"]["events"] == 56
    assert r["impacts"] == {
        "opened": 6,
        "by_level": {"low": 0, "moderate": 2, "high": 3, "critical": 1},
        "by_right": {"life": 0, "security-of-person": 1, "expression": 2, "assembly": 1, "privacy": 1,
                     "non-discrimination": 1, "participation": 0, "labour": 1, "health": 1, "other": 0},
        "open_at_end": 5,
        "open_at_end_by_level": {"low": 0, "moderate": 1, "high": 3, "critical": 1},
    }
    assert r["steps"] == {
        "total": 9,
        "by_kind": {"content-removal": 1, "corrective-action-plan": 1, "dialogue": 2, "formal-notice": 2,
                    "information-request": 1, "peer-collaboration": 1, "warning-label": 1},
        "by_rung": {"engage": 3, "notice": 2, "enforce": 3, "collective": 1},
    }
    d = r["decisions"]
    assert d["total"] == 7 and d["forced"] == 1 and d["second_approval"] == 3
    assert d["by_type"] == {"continue": 1, "suspend": 3, "terminate": 0, "reinstate": 2, "close": 1}
    assert d["policy_refs"]["suspend"] == {"AUP §7": 1, "AUP §9": 1, "Partner Code 2.1": 1, "ToS 4.2": 1}
    assert d["policy_refs"]["continue"] == {"Supplier Code §3.1 & §3.4": 1}
    assert d["by_level"]["suspend"] == {"low": 0, "moderate": 1, "high": 1, "critical": 1}
    assert d["by_right"]["suspend"] == {"assembly": 1, "expression": 2, "non-discrimination": 1,
                                        "security-of-person": 1}
    assert [(e["date"], e["decision"], e["level"], e["forced"], e["second_approval"]) for e in d["escalations"]] == [
        ("2023-02-05", "suspend", "critical", False, True),
        ("2023-05-10", "suspend", "moderate", True, True),
        ("2023-05-26", "reinstate", "moderate", False, False),
        ("2023-07-20", "suspend", "high", False, True),
        ("2023-08-02", "reinstate", "high", False, False),
    ]
    # first steps after 1, 2, 2, 2, 4, 9 days; first decisions after 4, 9, 19, 50 days
    assert r["timeliness"] == {"first_steps": 6, "median_days_to_first_step": 2,
                               "first_decisions": 4, "median_days_to_first_decision": 14}
    g = r["grievances"]
    assert (g["filed"], g["confidential"], g["resolved"], g["open_at_end"]) == (6, 1, 5, 1)
    assert g["by_channel"] == {"email": 2, "hotline": 2, "web-form": 2}
    assert g["about"] == {"impact": 1, "relationship": 1, "party": 1, "decision": 2, "general": 1}
    assert g["appeals_against"] == {"continue": 0, "suspend": 2, "terminate": 0, "reinstate": 0, "close": 0}
    assert g["by_outcome"] == {"upheld": 1, "partly-upheld": 2, "not-upheld": 1, "withdrawn": 1}
    assert g["median_days_to_resolution"] == 15  # 9, 11, 15, 20, 30
    assert g["by_kind"] == {
        "complaint": {"filed": 3, "resolved": 3, "median_days_to_resolution": 20,
                      "by_outcome": {"upheld": 0, "partly-upheld": 2, "not-upheld": 0, "withdrawn": 1}},
        "appeal": {"filed": 2, "resolved": 2, "median_days_to_resolution": 10,
                   "by_outcome": {"upheld": 1, "partly-upheld": 0, "not-upheld": 1, "withdrawn": 0}},
        "concern": {"filed": 1, "resolved": 0, "median_days_to_resolution": None,
                    "by_outcome": {"upheld": 0, "partly-upheld": 0, "not-upheld": 0, "withdrawn": 0}},
    }
    assert g["acknowledgement"] == {"in_time": 5, "late": 1, "pending": 0}
    assert g["resolution"] == {"in_time": 5, "late": 1, "pending": 0}
    assert len(g["items"]) == 5  # the confidential one is only counted
    assert [(i["filed"], i["kind"], i["status"], i["outcome"], i["days_to_resolution"]) for i in g["items"]] == [
        ("2023-02-06", "appeal", "resolved", "not-upheld", 9),
        ("2023-03-05", "complaint", "resolved", "partly-upheld", 30),
        ("2023-07-21", "appeal", "resolved", "upheld", 11),
        ("2023-10-01", "concern", "open", None, None),
        ("2023-10-05", "complaint", "resolved", "withdrawn", 15),
    ]
    assert r["reinstatements"] == {"total": 2, "after_upheld_appeal": 1}


def test_a_shorter_period(reports_db, invoke):
    r = report_json(invoke, "--from", "2023-07-01", "--to", "2023-08-31")
    assert r["impacts"]["opened"] == 1 and r["impacts"]["by_level"]["high"] == 1
    assert r["impacts"]["open_at_end"] == 4  # veritas, orchid, wexler, kestrel (saffron closed)
    assert r["steps"]["total"] == 1
    assert r["decisions"]["by_type"] == {"continue": 0, "suspend": 1, "terminate": 0, "reinstate": 1, "close": 0}
    assert r["timeliness"] == {"first_steps": 1, "median_days_to_first_step": 2,
                               "first_decisions": 1, "median_days_to_first_decision": 19}
    g = r["grievances"]
    assert (g["filed"], g["resolved"], g["median_days_to_resolution"]) == (1, 2, 15.5)  # wexler 20, kestrel 11
    assert g["by_kind"]["complaint"]["resolved"] == 1 and g["by_kind"]["appeal"]["filed"] == 1
    assert r["reinstatements"] == {"total": 1, "after_upheld_appeal": 1}


def test_pending_time_frames_at_the_end_of_the_period(reports_db, invoke):
    g = report_json(invoke, "--from", "2023-10-01", "--to", "2023-10-04")["grievances"]
    assert g["filed"] == 1 and g["acknowledgement"] == {"in_time": 0, "late": 0, "pending": 1}
    g = report_json(invoke, "--from", "2023-10-01", "--to", "2023-10-09")["grievances"]
    assert g["acknowledgement"] == {"in_time": 1, "late": 1, "pending": 0}
    assert g["resolution"] == {"in_time": 0, "late": 0, "pending": 2}


def test_an_empty_ledger(invoke):
    assert invoke("init", "--at", "2023-01-01").exit_code == 0
    r = report_json(invoke, "--to", "2023-12-31")
    assert r["impacts"]["opened"] == 0 and r["grievances"]["median_days_to_resolution"] is None
    assert r["period"]["from"] is None
    for fmt in ("md", "html"):
        assert "Transparency report" in report(invoke, "--to", "2023-12-31", "--format", fmt)


# -- redaction ---------------------------------------------------------------------------------------

def _fixture_events() -> list[dict[str, Any]]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]


def secrets() -> tuple[set[str], set[str], set[str], set[str]]:
    """(names of parties that are not public, ids of parties and cases, people's names, public
    party names) of the fixture."""
    parties: set[str] = set()
    ids: set[str] = set()
    people: set[str] = {"tester"}
    public: set[str] = set()
    for e in _fixture_events():
        d = e["data"]
        people.add(e["actor"])
        people.update(d.get("experts", []))
        for key in ("approved_by", "filed_by"):
            if d.get(key) and d[key] != "anonymous":
                people.add(d[key])
        if e["type"] == "party.added":
            (public if d.get("attributes", {}).get("public") is True else parties).add(d["name"])
        if e["type"] in ("party.added", "relationship.added", "impact.opened", "grievance.filed") or (
                e["type"] == "step.taken" and "id" in d):
            ids.add(d["id"])
    return parties, ids, people, public


def tokens(names: set[str]) -> set[str]:
    """Each name and each of its words of 5 letters or more (so "Jonas Wexler" is searched as
    "jonas wexler", "jonas" and "wexler"), but the words of sectors."""
    out = set()
    for name in names:
        out.add(name.casefold())
        out.update(w.casefold() for w in re.split(r"[^A-Za-z]+", name) if len(w) >= 5)
    return out - SECTOR_WORDS


#: words of the parties' sectors, shown by design ("Orchid Textiles Pvt" is in "Textiles")
SECTOR_WORDS = {w.casefold() for e in _fixture_events() for w in re.split(r"[^A-Za-z]+", e["data"].get("sector", ""))
                if w} | {"forum"}


def leaks(text: str, names: set[str], *, whole: bool = False) -> list[str]:
    low = text.casefold()
    return sorted(t for t in ({n.casefold() for n in names} if whole else tokens(names)) if t in low)


def test_the_secret_list_covers_the_fixture():
    parties, ids, people, public = secrets()
    assert {"Veritas Forum Ltd", "Jonas Wexler", "Saffron Ads GmbH", "Nordlicht Hosting AG"} <= parties
    assert {"veritas", "kp-01", "g-wexler-data", "imp-veritas-incitement", "rel-veritas", "orchid-cap"} <= ids
    assert {"ana.moreau", "dana.ferreira", "chen.liwei", "Dr. Imelda Sarkisian", "Rana Haddad",
            "Tomasz Wielgosz", "Jonas Wexler"} <= people
    assert public == {"Kestrel Payments BV"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_redacted_report_names_no_party_and_no_person(reports_db, invoke, fmt):
    text = report(invoke, *YEAR, "--format", fmt)
    parties, ids, people, public = secrets()
    assert leaks(text, parties) == []
    assert leaks(text, ids, whole=True) == []
    assert leaks(text, people) == []
    assert "Kestrel Payments BV" in text  # attributes.public = true
    assert "UNREDACTED" not in text
    for word in ("satire", "passports", "apology", "Order of the regulator", "journalists", "village"):
        assert word.casefold() not in text.casefold()  # no free text about cases


@pytest.mark.parametrize("fmt", FORMATS)
def test_unredacted_report_says_so_at_the_top_and_still_names_no_person(reports_db, invoke, fmt):
    text = report(invoke, *YEAR, "--format", fmt, "--unredacted")
    head = text[:400] if fmt != "html" else text[text.index("<body>"):text.index("<body>") + 300]
    assert "UNREDACTED - FOR INTERNAL USE ONLY" in head
    _parties, _ids, people, _public = secrets()
    people -= {"Jonas Wexler"}  # a customer who is a person: a party, named when unredacted
    assert leaks(text, people) == []
    for name in ("Veritas Forum Ltd", "Orchid Textiles Pvt", "Saffron Ads GmbH", "imp-veritas-incitement"):
        assert name in text
    assert "g-wexler-data" in text  # the confidential grievance is listed internally


def test_unredacted_json(reports_db, invoke):
    r = report_json(invoke, *YEAR, "--unredacted")
    assert r["redacted"] is False and r["notice"].startswith("UNREDACTED")
    assert list(r)[:3] == ["report", "redacted", "notice"]
    assert len(r["grievances"]["items"]) == 6
    [wexler] = [i for i in r["grievances"]["items"] if i["id"] == "g-wexler-data"]
    assert wexler["confidential"] is True
    assert wexler["about"]["party"] == {"kind": "customer", "sector": None, "country": "AT", "public": False,
                                        "name": "Jonas Wexler", "id": "wexler"}
    assert r["decisions"]["escalations"][0]["impact"] == "imp-veritas-incitement"


def test_party_labels():
    from leverage.model import Party

    secret = Party("acme", "Acme Media", "client", "FR", "Media")
    assert party_label(secret, redacted=True) == {"kind": "client", "sector": "Media", "country": "FR",
                                                 "public": False}
    named = Party("kp", "Kestrel", "partner", attributes={"public": True})
    assert party_label(named, redacted=True)["name"] == "Kestrel" and "id" not in party_label(named, redacted=True)
    almost = Party("sa", "Saffron", "client", attributes={"public": "yes"})  # only true makes a party public
    assert "name" not in party_label(almost, redacted=True)
    assert party_label(secret, redacted=False)["id"] == "acme"
    assert party_label(None, redacted=True) is None


# -- escaping ----------------------------------------------------------------------------------------

HOSTILE = [
    {"type": "party.added", "at": "2023-01-02", "actor": "ana",
     "data": {"id": "we", "name": "We", "kind": "self"}},
    {"type": "party.added", "at": "2023-01-02", "actor": "ana",
     "data": {"id": "x", "name": "<b>X</b>", "kind": "client", "sector": "<script>alert(1)</script>",
              "country": "A|B", "attributes": {"public": True}}},
    {"type": "relationship.added", "at": "2023-01-03", "actor": "ana",
     "data": {"id": "r", "source": "we", "target": "x", "type": "hosts"}},
    {"type": "impact.opened", "at": "2023-01-04", "actor": "ana",
     "data": {"id": "i", "relationship": "r", "rights": ["expression"], "summary": "s",
              "severity": {"scale": 4, "scope": 4, "irremediability": 4}}},
    {"type": "step.taken", "at": "2023-01-05", "actor": "ana",
     "data": {"impact": "i", "kind": "formal-notice", "summary": "s"}},
    {"type": "decision.made", "at": "2023-01-06", "actor": "ana",
     "data": {"impact": "i", "decision": "suspend", "rationale": "r", "approved_by": "bo",
              "policy_refs": ["<img src=x onerror=alert(1)> & \"ToS\" | *bold* [link](http://e.org)"]}},
    {"type": "grievance.filed", "at": "2023-01-07", "actor": "ana",
     "data": {"id": "g", "kind": "complaint", "summary": "s", "channel": "<i>form</i>", "impact": "i"}},
]


def test_html_escapes_everything(invoke, load_events):
    assert invoke("init", "--at", "2023-01-01").exit_code == 0
    load_events(HOSTILE)
    text = report(invoke, "--to", "2023-12-31", "--format", "html")
    assert "<script>" not in text and "<img" not in text and "<b>X" not in text and "<i>form" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;ToS&quot;" in text
    assert "&lt;i&gt;form&lt;/i&gt;" in text
    md = report(invoke, "--to", "2023-12-31", "--format", "md")
    assert re.search(r"(?<!\\)<", md) is None  # every < is escaped
    assert r'\<img src=x onerror=alert(1)\> & "ToS"' in md
    assert r"A\|B" in md and r"\*bold\*" in md and r"\[link\](http://e.org)" in md
    for line in md.splitlines():
        if line.startswith("| 2023-01-06"):
            assert line.count(" | ") == 7  # the | in a cell does not split it
    data = report_json(invoke, "--to", "2023-12-31")
    assert data["decisions"]["escalations"][0]["policy_refs"][0].startswith("<img")  # JSON keeps the text


# -- the command -------------------------------------------------------------------------------------

def test_output_file(reports_db, invoke, tmp_path):
    out = tmp_path / "report.html"
    result = invoke("report", "transparency", *YEAR, "--format", "html", "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and f"wrote {out}" in result.stderr
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_bad_period(reports_db, invoke, assert_user_error):
    assert_user_error(invoke("report", "transparency", "--from", "2023-05-01", "--to", "2023-04-01"),
                      "2023-05-01 is after the end of the period (2023-04-01)")
    assert_user_error(invoke("report", "transparency", "--to", "2023-02-30"), "2023-02-30")
    assert_user_error(invoke("report", "transparency", "--format", "pdf"), "pdf")


def test_unwritable_output(reports_db, invoke, assert_user_error, tmp_path):
    assert_user_error(invoke("report", "transparency", "-o", tmp_path / "no" / "such" / "dir.md"), "cannot write")


def test_the_schema_is_published(invoke, reports_db):
    result = invoke("schema", "transparency-report")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["title"] == "leverage transparency report"
    Draft202012Validator.check_schema(SCHEMA)


def test_the_schema_refuses_a_name_where_none_may_be():
    # every party label must carry kind, sector, country and public; unknown keys are refused
    bad = {"kind": "client", "sector": None, "country": None, "public": False, "email": "a@b.c"}
    party_schema = {**SCHEMA["$defs"]["party"], "$defs": SCHEMA["$defs"]}
    assert not Draft202012Validator(party_schema).is_valid(bad)


@pytest.mark.parametrize(("values", "expected"), [([], None), ([3], 3), ([1, 2], 1.5), ([1, 3], 2),
                                                   ([5, 1, 9], 5), ([0, 0, 1, 30], 0.5)])
def test_median_days(values, expected):
    assert median_days(values) == expected
    assert type(median_days(values)) is type(expected)
