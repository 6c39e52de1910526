"""Notices under the Santa Clara Principles (``leverage tos notice``): every required element,
in Markdown, plain text and JSON (issue 6, item 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_tos_support import (
    ingest,
    make_ledger,
    ok,
    row,
    run,
    write_log,
)

RULE_TEXT = ("You may not promote hatred, discrimination or hostility against people on the basis of a "
             "protected characteristic.")


pytestmark = pytest.mark.plugins("leverage_tos")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    db = make_ledger(tmp_path / "l.db")
    ok(ingest(db, write_log(tmp_path / "enforcement.csv", [
        row(id="T-1", action="label", at="2024-03-04T10:00:00Z", detected_by="automated",
            reason="Post calling a religious minority vermin", evidence="https://forum.example/p/1",
            moderator="ana"),
        row(id="T-2", action="remove", at="2024-03-06T15:30:00Z", detected_by="human",
            reason="Repost of the same slur after the label", evidence="https://forum.example/p/2",
            moderator="ben"),
        row(id="T-3", action="suspend", at="2024-03-08T09:00:00Z", detected_by="",
            reason="Third breach within a week", evidence="", moderator="chidi", approved_by="dana"),
        row(id="T-4", action="reinstate", at="2024-03-12T09:00:00Z", reason="Appeal upheld",
            evidence="", moderator="emre", approved_by="dana"),
    ])))
    return db


IMPACT = "tos:acme:hateful-conduct"


def notice(db: Path, *args: str) -> str:
    return ok(run(db, "tos", "notice", IMPACT, *args)).stdout


def test_the_notice_names_every_element(db: Path):
    text = notice(db, "--step", "T-2")
    # which content or conduct, with the evidence
    assert "Repost of the same slur after the label" in text
    assert "https://forum.example/p/2" in text
    # which rule, with its text
    assert "Hateful conduct" in text and "hateful-conduct" in text
    assert RULE_TEXT in text
    assert "Terms of Service section 4.2" in text
    # the action and what it changes
    assert "removal of content (remove)" in text
    assert "The content is removed and is no longer available on the service." in text
    # when
    assert "2024-03-06T15:30:00Z" in text
    # whether detection was automated
    assert "detected by a person" in text and "not by automated means" in text
    # the deadline for change (the engine's due date: high level, 14 days from the step)
    assert "change by 2024-03-20" in text
    # how and until when to appeal
    assert "https://wehost.example/appeals" in text
    assert "until 2024-03-20 (14 days after the action)" in text
    assert "not involved in the first decision" in text
    # to whom, and never who moderated
    assert "Acme Media SARL" in text and "u-100" in text
    assert "ben" not in text.replace("benefit", "")


def test_the_default_is_the_latest_restricting_or_not(db: Path):
    text = notice(db)
    assert "reinstatement of the account" in text
    assert "nothing to appeal" in text


def test_automated_detection_and_a_label(db: Path):
    text = notice(db, "--step", "tos:T-1", "--format", "text")
    assert "detected by automated means" in text
    assert "warning label" in text
    assert text.startswith("Notice of enforcement action: warning label on content\n=====")


def test_a_suspension_notice(db: Path):
    text = notice(db, "--step", "T-3")
    assert "suspension of the account" in text
    assert "How the content or conduct was detected was not recorded." in text
    assert "Evidence: none was recorded with this action." in text
    assert "change by 2024-03-22" in text  # high: 14 days from the suspension
    assert "until 2024-03-22" in text


def test_markdown_structure(db: Path):
    text = notice(db, "--step", "T-2", "--format", "md")
    assert text.startswith("# Notice of enforcement action: removal of content\n")
    for heading in ("## What we acted on", "## The rule", "## What we did and what it changes",
                    "## How it was detected", "## Deadline for change", "## How to appeal"):
        assert heading in text
    assert f"> {RULE_TEXT}" in text
    assert "- **To:** Acme Media SARL (account `u-100`)" in text


def test_json(db: Path):
    data = json.loads(notice(db, "--step", "T-2", "--format", "json"))
    assert data["impact"] == IMPACT
    assert data["account"] == {"party": "acme", "name": "Acme Media SARL", "account": "u-100"}
    assert data["action"]["action"] == "remove"
    assert data["action"]["recorded_as"] == "step content-removal"
    assert data["action"]["at"] == "2024-03-06T15:30:00Z"
    assert data["conduct"] == {"summary": "Repost of the same slur after the label",
                               "evidence": ["https://forum.example/p/2"]}
    assert data["rule"]["text"] == RULE_TEXT
    assert data["detection"]["automated"] is False
    assert data["deadline"]["due"] == "2024-03-20"
    assert data["deadline"]["level"] == "high"
    assert data["appeal"]["until"] == "2024-03-20"
    assert data["appeal"]["channel"] == "https://wehost.example/appeals"
    assert data["reference"] == {"file": "enforcement.csv", "line": 3, "seq": data["reference"]["seq"],
                                 "id": "T-2", "step": "tos:T-2"}


def test_a_ban_has_no_deadline_but_an_appeal(tmp_path: Path):
    db = make_ledger(tmp_path / "l.db")
    ok(ingest(db, write_log(tmp_path / "log.csv", [row(id="B", action="ban", rule="violent-incitement",
                                                       approved_by="ben")])))
    data = json.loads(ok(run(db, "tos", "notice", "tos:acme:violent-incitement", "--format", "json")).stdout)
    assert data["deadline"]["due"] is None
    assert "no deadline for change applies" in data["deadline"]["text"]
    assert data["appeal"]["until"] == "2024-03-18"


def test_the_rule_as_it_stood_at_the_action(db: Path, tmp_path: Path):
    from test_tos_support import RULES

    changed = tmp_path / "rules.toml"
    changed.write_text(RULES.read_text().replace("You may not promote hatred", "Do not promote hatred"))
    ok(ingest(db, write_log(tmp_path / "later.csv", [row(id="T-9", at="2024-04-01")]), rules=changed))
    assert RULE_TEXT in notice(db, "--step", "T-2")
    assert "Do not promote hatred" in notice(db, "--step", "T-9")


def test_unknown_action_or_impact(db: Path, assert_user_error):
    assert_user_error(run(db, "tos", "notice", IMPACT, "--step", "T-77"), "has no ingested action 'T-77'")
    assert_user_error(run(db, "tos", "notice", "nope"), "unknown impact 'nope'")
    ok(run(db, "impact", "open", "manual", "--rel", "rel-beta", "--right", "expression", "--scale", "2",
           "--scope", "2", "--irremediability", "2", "--summary", "x", "--at", "2024-01-01"))
    assert_user_error(run(db, "tos", "notice", "manual"), "no enforcement action ingested")
