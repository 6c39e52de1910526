"""The leverage_tos plugin's wiring, its schemas (and their agreement with the code), the
shipped example and the fixture's generator (issue 6, items 1-2; issue 4's wiring)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from leverage_tos.logfile import make_row
from leverage_tos.rules import load_rules, validator
from test_tos_support import (
    FIXTURES,
    LOG,
    RULES,
    SETUP,
    ingest,
    make_ledger,
    ok,
    run,
    status,
)

from leverage import plugins

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "tos"
PACKAGE = ROOT / "plugins" / "leverage_tos"
SCHEMAS = ROOT / "schemas"


pytestmark = pytest.mark.plugins("leverage_tos")


def test_the_plugin_is_loaded_with_its_hooks(tmp_path: Path):
    listed = json.loads(ok(run(tmp_path / "x.db", "plugins", "--json")).stdout)
    (mine,) = [p for p in listed if p["name"] == "leverage_tos"]
    assert mine["status"] == "loaded"
    assert {"register_commands", "register_checks", "register_schemas"} <= set(mine["hooks"])


def test_the_tos_group_and_its_commands(tmp_path: Path):
    out = ok(run(tmp_path / "x.db", "tos", "--help")).stdout
    for name in ("ingest", "strikes", "rabat", "notice", "report"):
        assert name in out
    for name in ("ingest", "strikes", "rabat", "notice", "report"):
        assert ok(run(tmp_path / "x.db", "tos", name, "--help")).stdout.startswith("Usage: ")


def test_the_plugin_disabled_leaves_no_trace(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("LEVERAGE_LOAD_PLUGINS", "")
    plugins.reset()
    result = run(tmp_path / "x.db", "tos", "--help")
    assert result.exit_code != 0


@pytest.mark.parametrize("name", ["tos-rules", "tos-log"])
def test_the_schemas_are_served(tmp_path: Path, name: str):
    out = ok(run(tmp_path / "x.db", "schema", name)).stdout
    assert json.loads(out) == json.loads((SCHEMAS / f"{name}.schema.json").read_text())


@pytest.mark.parametrize("name", ["tos-rules", "tos-log"])
def test_the_schemas_are_draft_2020_12(name: str):
    import jsonschema

    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_the_rules_files_pass_the_schema():
    import tomllib

    for path in (EXAMPLE / "rules.toml", RULES):
        doc = tomllib.loads(path.read_text())
        assert not list(validator("tos-rules").iter_errors(doc)), path
        rules = load_rules(path)
        assert set(rules.rules) == {"violent-incitement", "hateful-conduct", "election-misinformation",
                                    "doxxing", "spam"}
    assert (EXAMPLE / "rules.toml").read_text() == RULES.read_text()


def test_the_defaults_of_the_strike_policy(tmp_path: Path):
    path = tmp_path / "rules.toml"
    path.write_text('[appeal]\nchannel = "mailto:appeals@example.com"\ndays = 7\n\n[[rule]]\nid = "spam"\n'
                    'title = "Spam"\ntext = "No spam."\nrights = ["other"]\n'
                    "severity = { scale = 2, scope = 2, irremediability = 1 }\n")
    rules = load_rules(path)
    assert rules.strikes() == {"window_days": 90, "restrict": 2, "suspend": 3}
    assert rules.rules["spam"].egregious is False


# -- the log schema and the code agree --------------------------------------------------------
BASE = {"account": "u-1", "action": "label", "rule": "spam", "at": "2024-03-01"}
ACCEPTED = [
    BASE,
    {**BASE, "id": "T-1", "reason": "Bulk messages", "detected_by": "automated", "moderator": "ana",
     "approved_by": "ben", "evidence": "https://x.example/1", "impact": "imp-1"},
    {**BASE, "id": 12345},
    {**BASE, "evidence": ["https://x.example/1", "https://x.example/2"]},
    {**BASE, "at": "2024-03-01T10:00:00+02:00"},
    {**BASE, "at": "2024-03-01T10:00:00.123Z"},
    {**BASE, "detected_by": "", "impact": "", "reason": None, "moderator": None},
    *({**BASE, "action": a} for a in ("warning", "downrank", "remove", "restrict", "suspend", "ban",
                                      "reinstate")),
]
REFUSED = [
    {k: v for k, v in BASE.items() if k != "account"},
    {k: v for k, v in BASE.items() if k != "at"},
    {**BASE, "account": ""},
    {**BASE, "account": 5},
    {**BASE, "action": "shadowban"},
    {**BASE, "action": "Label"},
    {**BASE, "at": "2024/03/01"},
    {**BASE, "at": "2024-03-01T10:00:00"},
    {**BASE, "detected_by": "ai"},
    {**BASE, "colour": "red"},
    {**BASE, "evidence": [1]},
    {**BASE, "evidence": 7},
    {**BASE, "impact": "bad id!"},
    {**BASE, "id": True},
    {**BASE, "id": "x" * 201},
]


@pytest.mark.parametrize("raw", ACCEPTED, ids=lambda r: json.dumps(r)[:60])
def test_schema_and_code_accept(raw: dict):
    assert not list(validator("tos-log").iter_errors(raw))
    make_row(raw, "log.jsonl", 1)


@pytest.mark.parametrize("raw", REFUSED, ids=lambda r: json.dumps(r)[:60])
def test_schema_and_code_refuse(raw: dict):
    from leverage import LeverageError

    assert list(validator("tos-log").iter_errors(raw))
    with pytest.raises(LeverageError):
        if set(raw) - {"id", "account", "action", "rule", "at", "reason", "detected_by", "moderator",
                       "approved_by", "evidence", "impact"}:
            raise LeverageError("unknown column")  # the readers refuse unknown columns before make_row
        make_row(raw, "log.jsonl", 1)


# -- the shipped example ----------------------------------------------------------------------
def test_the_example_works_end_to_end(tmp_path: Path):
    db = make_ledger(tmp_path / "ex.db", [json.loads(x) for x in (EXAMPLE / "setup.jsonl").read_text().splitlines()])
    result = ok(ingest(db, EXAMPLE / "enforcement-log.csv", rules=EXAMPLE / "rules.toml"))
    assert "wrote" in result.stdout
    statuses = {s["impact"]: s for s in status(db, "2024-04-10")}
    assert "strike-threshold" in [f["code"] for f in statuses["tos:civic-voice:election-misinformation"]["findings"]]
    assert statuses["tos:acct-0420:violent-incitement"]["relationship_status"] == "terminated"
    ok(run(db, "tos", "notice", "tos:civic-voice:election-misinformation"))
    ok(run(db, "tos", "report"))


# -- the fixture ------------------------------------------------------------------------------
def test_the_fixture_matches_its_generator():
    sys.path.insert(0, str(FIXTURES))
    try:
        import make_fixture
    finally:
        sys.path.remove(str(FIXTURES))
    assert SETUP.read_text() == make_fixture.setup_text()
    assert LOG.read_text() == make_fixture.csv_text(make_fixture.rows())
    rows = LOG.read_text().splitlines()
    assert len(rows) > 300
    assert len({r.split(",")[2] for r in rows[1:]}) > 30  # accounts


def test_loading_the_plugin_imports_nothing_heavy():
    code = ("import sys, leverage_tos, leverage_tos.cli, leverage_tos.checks; "
            "print(sorted(m for m in ('jsonschema', 'rich', 'networkx', 'tomllib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- the readers as a property: CSV and JSON Lines read the same rows -------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=40)


@settings(max_examples=60, deadline=None)
@given(reason=_text, evidence=_text, moderator=_text, ident=st.one_of(st.none(), st.integers(0, 10**9)))
def test_csv_and_json_lines_read_alike(reason: str, evidence: str, moderator: str, ident: int | None):
    import csv
    import io
    import tempfile

    from leverage_tos.logfile import read_log

    raw = {"account": "u-1", "action": "remove", "rule": "spam", "at": "2024-03-01T10:00:00Z",
           "reason": reason, "evidence": evidence, "moderator": moderator}
    if ident is not None:
        raw["id"] = str(ident)
    with tempfile.TemporaryDirectory() as tmp:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, list(raw), lineterminator="\n")
        writer.writeheader()
        writer.writerow(raw)
        (Path(tmp) / "log.csv").write_text(buf.getvalue(), encoding="utf-8", newline="")
        (Path(tmp) / "log.jsonl").write_text(json.dumps(raw) + "\n", encoding="utf-8")
        (a,) = read_log(Path(tmp) / "log.csv").rows
        (b,) = read_log(Path(tmp) / "log.jsonl").rows
    assert a.hash == b.hash
    assert (a.reason, a.evidence, a.moderator, a.id) == (b.reason, b.evidence, b.moderator, b.id)
    assert a.reason == (reason.strip() or None)


def test_the_docs_mapping_table_matches_the_code():
    import re

    from leverage_tos.actions import ACTIONS

    text = (ROOT / "docs" / "tos.md").read_text()
    table = dict(re.findall(r"^\| `([a-z]+)` \| `(?:step\.taken|decision\.made)` \| `([a-z-]+)` \|", text, re.M))
    assert table == {action: kind for action, (_event, kind) in ACTIONS.items()}
    for column in ("account", "action", "rule", "at", "reason", "detected_by", "moderator", "approved_by",
                   "evidence", "impact", "id"):
        assert f"| `{column}` |" in text
