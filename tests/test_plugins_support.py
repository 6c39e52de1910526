"""Helpers of the plugin tests (no tests here): plugins installed as real distributions in
``tmp_path``, so that discovery goes through ``importlib.metadata`` exactly as for a
third-party plugin, and a small ledger to run commands against."""

from __future__ import annotations

import sqlite3
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from leverage import plugins
from leverage.ledger import open_ledger

EVENTS = [
    {"type": "party.added", "at": "2021-01-01", "actor": "ana",
     "data": {"id": "we", "name": "We Host GmbH", "kind": "self"}},
    {"type": "party.added", "at": "2021-01-01", "actor": "ana",
     "data": {"id": "acme", "name": "Acme Media SARL", "kind": "client"}},
    {"type": "relationship.added", "at": "2021-01-02", "actor": "ana",
     "data": {"id": "rel-acme", "source": "we", "target": "acme", "type": "hosts", "leverage": 3}},
    {"type": "impact.opened", "at": "2021-01-07", "actor": "ana",
     "data": {"id": "imp-1", "relationship": "rel-acme", "rights": ["expression"],
              "summary": "Calls for violence against journalists.",
              "severity": {"scale": 4, "scope": 3, "irremediability": 3}}},
]


class FakePlugins:
    """Install plugin modules with an entry point of group ``leverage`` into a directory on
    ``sys.path``; ``LEVERAGE_LOAD_PLUGINS`` names exactly them (plus ``also``)."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
        self.site = tmp_path / "site"
        self.site.mkdir()
        self.monkeypatch = monkeypatch
        self.modules: list[str] = []
        self.names: list[str] = []
        monkeypatch.syspath_prepend(str(self.site))

    def add(self, name: str, source: str, *, dist: str | None = None, version: str = "1.0",
            value: str | None = None, also: tuple[str, ...] = ()) -> str:
        """Install module ``fake_<name>`` with ``source`` as entry point ``name``."""
        module = f"fake_{name}"
        (self.site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        dist = dist or f"fake-{name}"
        info = self.site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n",
                                       encoding="utf-8")
        (info / "entry_points.txt").write_text(f"[leverage]\n{name} = {value or module}\n", encoding="utf-8")
        self.modules.append(module)
        self.names.append(name)
        self.monkeypatch.setenv("LEVERAGE_LOAD_PLUGINS", ",".join([*self.names, *also]))
        import importlib

        importlib.invalidate_caches()
        plugins.reset()
        return module

    def close(self) -> None:
        for module in self.modules:
            sys.modules.pop(module, None)
        plugins.reset()


def count(db: Path) -> int:
    conn = sqlite3.connect(str(db))
    try:
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        conn.close()


def make_ledger(db: Path, events: list[dict[str, Any]] | None = None) -> int:
    """A ledger at ``db`` with the default policy and ``events`` (default :data:`EVENTS`);
    returns the number of events."""
    from leverage.testing import init_ledger

    ledger = init_ledger(db)
    ledger.append(EVENTS if events is None else events, actor="tester")
    n = ledger.count()
    ledger.close()
    return n


def verified(db: Path) -> tuple[int, str]:
    """(count, head) after checking the chain (raises when it is broken)."""
    ledger = open_ledger(db)
    try:
        return ledger.verify()
    finally:
        ledger.close()
