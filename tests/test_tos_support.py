"""Shared helpers of the leverage_tos tests (no tests here).

A small ledger: the company ``we`` hosts four customers, two of them known to the
trust-and-safety system by an account id (``external_ids.tos``), one with two relationships
with ``we`` and one with none; the rules are ``tests/fixtures/tos/rules.toml`` (the same as
``examples/tos/rules.toml``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from leverage.cli import cli
from leverage.ledger import open_ledger

FIXTURES = Path(__file__).parent / "fixtures" / "tos"
RULES = FIXTURES / "rules.toml"
LOG = FIXTURES / "enforcement.csv"
SETUP = FIXTURES / "setup.jsonl"
COLUMNS = ["id", "at", "account", "action", "rule", "reason", "detected_by", "moderator",
           "approved_by", "evidence", "impact"]

SMALL: list[dict[str, Any]] = [
    {"type": "party.added", "at": "2020-01-01", "actor": "ana",
     "data": {"id": "we", "name": "We Host GmbH", "kind": "self"}},
    {"type": "party.added", "at": "2020-01-01", "actor": "ana",
     "data": {"id": "acme", "name": "Acme Media SARL", "kind": "client",
              "external_ids": {"tos": "u-100"}}},
    {"type": "party.added", "at": "2020-01-01", "actor": "ana",
     "data": {"id": "beta", "name": "Beta Forum", "kind": "client"}},
    {"type": "party.added", "at": "2020-01-01", "actor": "ana",
     "data": {"id": "gamma", "name": "Gamma News", "kind": "client",
              "external_ids": {"tos": "u-300"}}},
    {"type": "party.added", "at": "2020-01-01", "actor": "ana",
     "data": {"id": "delta", "name": "Delta Shop", "kind": "client"}},
    {"type": "party.added", "at": "2020-01-01", "actor": "ana",
     "data": {"id": "epsilon", "name": "Epsilon Group", "kind": "client"}},
    {"type": "relationship.added", "at": "2021-01-01", "actor": "ana",
     "data": {"id": "rel-acme", "source": "we", "target": "acme", "type": "hosts",
              "since": "2020-06-01", "leverage": 3}},
    {"type": "relationship.added", "at": "2021-01-01", "actor": "ana",
     "data": {"id": "rel-beta", "source": "we", "target": "beta", "type": "hosts"}},
    {"type": "relationship.added", "at": "2021-01-01", "actor": "ana",
     "data": {"id": "rel-gamma", "source": "we", "target": "gamma", "type": "hosts",
              "since": "2021-01-01"}},
    {"type": "relationship.added", "at": "2021-01-01", "actor": "ana",
     "data": {"id": "rel-eps-1", "source": "we", "target": "epsilon", "type": "hosts"}},
    {"type": "relationship.added", "at": "2021-01-01", "actor": "ana",
     "data": {"id": "rel-eps-2", "source": "epsilon", "target": "we", "type": "advertises-on"}},
]


def run(db: Path, *args: Any, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *(str(a) for a in args)], input=input)


def make_ledger(db: Path, events: Iterable[dict[str, Any]] = SMALL) -> Path:
    """``leverage init`` (policy ungp from 2020-01-01), then ``events``."""
    result = run(db, "init", "--at", "2020-01-01")
    assert result.exit_code == 0, result.output
    with open_ledger(db) as ledger:
        ledger.append(list(events))
    return db


def write_log(path: Path, rows: Iterable[dict[str, Any]]) -> Path:
    """A CSV log (``.csv``) or a JSON Lines log (any other name) of ``rows``."""
    rows = list(rows)
    if path.suffix == ".csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in COLUMNS})
        path.write_text(buf.getvalue(), encoding="utf-8")
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def ingest(db: Path, log: Path, *args: Any, rules: Path = RULES) -> Result:
    return run(db, "tos", "ingest", log, "--rules", rules, *args)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def count(db: Path) -> int:
    with open_ledger(db) as ledger:
        return ledger.count()


def events(db: Path) -> list[Any]:
    with open_ledger(db) as ledger:
        return list(ledger.iter_events())


def tos_events(db: Path) -> list[Any]:
    """The steps and decisions an ingest wrote, in seq order."""
    return [e for e in events(db) if "tos" in (e.data.get("attributes") or {})
            and e.type in ("step.taken", "decision.made")]


def status(db: Path, as_of: str) -> list[dict[str, Any]]:
    result = ok(run(db, "status", "--json", "--as-of", as_of, "--all"))
    return json.loads(result.stdout)


def findings(db: Path, impact: str, as_of: str) -> list[dict[str, str]]:
    for s in status(db, as_of):
        if s["impact"] == impact:
            return s["findings"]
    raise AssertionError(f"no status for {impact}")


def codes(db: Path, impact: str, as_of: str) -> list[str]:
    return [f["code"] for f in findings(db, impact, as_of)]


def row(**kw: Any) -> dict[str, Any]:
    """A log row: a label on acme's hateful content unless told otherwise."""
    out = {"account": "u-100", "action": "label", "rule": "hateful-conduct", "at": "2024-03-04T10:00:00Z",
           "reason": "Slur-laden post", "detected_by": "automated", "moderator": "ana",
           "evidence": "https://forum.example/p/1"}
    out.update(kw)
    return {k: v for k, v in out.items() if v is not None}
