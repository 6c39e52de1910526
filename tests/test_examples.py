"""The bundled examples load and tell the story their READMEs tell."""

from __future__ import annotations

import json
from pathlib import Path

from leverage.cli import cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _statuses(invoke, day: str) -> dict[str, dict]:
    result = invoke("status", "--as-of", day, "--json", "--all")
    assert result.exit_code == 0, result.output
    return {r["impact"]: r for r in json.loads(result.stdout)}


def _codes(status: dict) -> list[str]:
    return [f["code"] for f in status["findings"]]


def test_platform_hosting_walkthrough(runner, db):
    def invoke(*args: str):
        return runner.invoke(cli, ["--db", str(db), *args])

    assert invoke("init", "--at", "2019-01-01").exit_code == 0
    result = invoke("load", str(EXAMPLES / "platform-hosting" / "events.jsonl"))
    assert result.exit_code == 0, result.output

    jan9 = _statuses(invoke, "2021-01-09")
    v = jan9["chatter-violence"]
    assert (v["level"], v["rung"], v["due"], v["overdue"], v["next"]) == (
        "critical", "notice", "2021-01-09", False, "suspend")
    d = jan9["chatter-data"]
    assert (d["level"], d["rung"], d["due"], d["next"]) == ("moderate", "engage", "2021-01-22", "notice")
    assert "cease-own-contribution" in _codes(d)

    jan12 = _statuses(invoke, "2021-01-12")
    v = jan12["chatter-violence"]
    assert (v["rung"], v["due"], v["next"], v["relationship_status"]) == (
        "suspend", "2021-01-13", "terminate", "suspended")
    assert jan12["chatter-data"]["relationship_status"] == "suspended"

    feb10 = _statuses(invoke, "2021-02-10")
    v = feb10["chatter-violence"]
    assert (v["level"], v["rung"], v["next"], v["relationship_status"]) == (
        "moderate", "enforce", "continue", "active")
    assert _codes(v) == ["lenient-deadline"]
    assert feb10["chatter-data"]["next"] is None  # closed

    nxt = json.loads(invoke("next", "chatter-violence", "--as-of", "2021-01-09", "--json").stdout)
    assert nxt["next"] == "suspend" and nxt["missing"] == []
    assert all(r["source"] for r in nxt["reasons"])


def test_supply_chain_termination_passes_the_lksg_gates(runner, db, tmp_path):
    def invoke(*args: str):
        return runner.invoke(cli, ["--db", str(db), *args])

    assert invoke("init", "--policy", "lksg", "--at", "2022-01-01").exit_code == 0
    src = EXAMPLES / "supply-chain" / "events.jsonl"
    result = invoke("load", str(src))
    assert result.exit_code == 0, result.output
    status = _statuses(invoke, "2022-04-20")["mill-forced-labour"]
    assert (status["rung"], status["next"], status["relationship_status"]) == (
        "terminate", "close", "terminated")

    # Without the leverage assessment, the same termination is refused and nothing written.
    other = tmp_path / "other.db"
    lines = [line for line in src.read_text(encoding="utf-8").splitlines()
             if '"kind":"leverage"' not in line]
    bad = tmp_path / "no-leverage-assessment.jsonl"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert runner.invoke(cli, ["--db", str(other), "init", "--policy", "lksg",
                               "--at", "2022-01-01"]).exit_code == 0
    before = runner.invoke(cli, ["--db", str(other), "export"]).stdout
    refused = runner.invoke(cli, ["--db", str(other), "load", str(bad)])
    assert refused.exit_code == 1
    assert "missing-leverage-assessment" in refused.output
    assert runner.invoke(cli, ["--db", str(other), "export"]).stdout == before
