"""The SQLite store: named migrations, its identity, WAL, and ``init``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from leverage import open_ledger
from leverage.errors import StoreError
from leverage.store import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, _statements


def pragma(db: Path, name: str):
    conn = sqlite3.connect(str(db))
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


def migrations_of(db: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(str(db))
    try:
        return conn.execute("SELECT name, applied_at FROM migrations ORDER BY name").fetchall()
    finally:
        conn.close()


def test_new_ledger_records_its_migrations(tmp_path):
    db = tmp_path / "new.db"
    open_ledger(db, create=True).close()
    applied = migrations_of(db)
    assert [name for name, _ in applied] == [name for name, _ in MIGRATIONS]
    assert [name for name, _ in MIGRATIONS] == sorted(name for name, _ in MIGRATIONS)
    assert all(at.endswith("Z") for _, at in applied)


def test_reopening_applies_nothing(tmp_path, sample_events):
    db = tmp_path / "new.db"
    ledger = open_ledger(db, create=True)
    ledger.append(sample_events, actor="ana")
    ledger.close()
    applied = migrations_of(db)
    for _ in range(2):
        ledger = open_ledger(db)
        assert ledger.count() == 11
        ledger.close()
    assert migrations_of(db) == applied


def test_opening_an_older_ledger_applies_the_missing_migrations(tmp_path):
    # A ledger made by a version that knew only the first migration.
    db = tmp_path / "old.db"
    conn = sqlite3.connect(str(db), isolation_level=None)
    conn.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    first_name, first_sql = MIGRATIONS[0]
    for statement in _statements(first_sql):
        conn.execute(statement)
    conn.execute("INSERT INTO migrations VALUES (?, '2020-01-01T00:00:00.000Z')", (first_name,))
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    ledger = open_ledger(db)
    ledger.append([{"type": "party.added", "at": "2021-01-01", "actor": "ana",
                    "data": {"id": "we", "name": "We", "kind": "self"}}])
    assert ledger.count() == 1
    ledger.close()
    applied = dict(migrations_of(db))
    assert list(applied) == [name for name, _ in MIGRATIONS]
    assert applied[first_name] == "2020-01-01T00:00:00.000Z"  # not applied again
    assert pragma(db, "user_version") == SCHEMA_VERSION


def test_identity_and_wal(sample_db):
    assert pragma(sample_db, "application_id") == APPLICATION_ID
    assert pragma(sample_db, "user_version") == SCHEMA_VERSION == len(MIGRATIONS)
    assert pragma(sample_db, "journal_mode") == "wal"


def test_missing_ledger_is_an_error_unless_created(tmp_path):
    with pytest.raises(StoreError, match="no ledger here"):
        open_ledger(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(StoreError, match="directory"):
        open_ledger(tmp_path)


def test_init_creates_a_ledger(invoke, db):
    result = invoke("init")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"created ledger {db} with policy ungp")
    assert pragma(db, "application_id") == APPLICATION_ID
    ledger = open_ledger(db)
    assert ledger.count() == 1
    assert ledger.verify()[0] == 1
    ledger.close()


def test_init_with_another_bundled_policy(invoke, db):
    result = invoke("init", "--policy", "lksg")
    assert result.exit_code == 0, result.output
    ledger = open_ledger(db)
    [record] = ledger.state().policies
    ledger.close()
    assert record.name == "lksg"


def test_init_unknown_policy_refused_and_leaves_nothing(invoke, db, assert_user_error):
    assert_user_error(invoke("init", "--policy", "no-such-policy"), "no-such-policy")
    assert not db.exists()
    assert not Path(f"{db}-wal").exists()


def test_init_on_an_existing_ledger_refused_and_untouched(invoke, sample_db, export_bytes,
                                                          assert_user_error):
    before = export_bytes(sample_db)
    assert_user_error(invoke("init"), str(sample_db), "exists here already")
    assert export_bytes(sample_db) == before


def test_init_on_an_initialised_ledger_refused(invoke, db, export_bytes, assert_user_error):
    assert invoke("init").exit_code == 0
    before = export_bytes(db)
    assert_user_error(invoke("init", "--policy", "csddd"), "exists here already")
    assert export_bytes(db) == before


def test_init_on_a_file_that_is_not_a_ledger_refused(invoke, db, assert_user_error):
    db.write_bytes(b"my notes\n")
    assert_user_error(invoke("init"), str(db))
    assert db.read_bytes() == b"my notes\n"


def test_env_var_names_the_ledger(runner, tmp_path, monkeypatch):
    from leverage.cli import cli

    db = tmp_path / "from-env.db"
    monkeypatch.setenv("LEVERAGE_DB", str(db))
    result = runner.invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    assert db.exists()


def test_default_ledger_is_leverage_db_in_the_working_directory(runner, tmp_path, monkeypatch):
    from leverage.cli import cli

    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "leverage.db").exists()


def _types_in(db) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    conn = sqlite3.connect(str(db))
    listed = conn.execute("SELECT type, first_seq FROM event_types ORDER BY type").fetchall()
    actual = conn.execute("SELECT type, MIN(seq) FROM events GROUP BY type ORDER BY type").fetchall()
    conn.close()
    return listed, actual


def test_the_store_lists_the_event_types_it_holds(tmp_path, sample_events):
    # The list the status projection asks "does the log hold events the core does not fold?"
    db = tmp_path / "types.db"
    ledger = open_ledger(db, create=True)
    ledger.append(sample_events[:4])
    ledger.append(sample_events[4:])
    ledger.close()
    listed, actual = _types_in(db)
    assert listed == actual and len(listed) > 3


def test_the_event_types_migration_lists_the_types_of_an_existing_log(tmp_path, sample_events):
    db = tmp_path / "v4.db"
    ledger = open_ledger(db, create=True)
    ledger.append(sample_events)
    ledger.close()
    conn = sqlite3.connect(str(db), isolation_level=None)  # as version 4 left it
    conn.execute("DROP TABLE event_types")
    name, _sql = MIGRATIONS[4]
    conn.execute("DELETE FROM migrations WHERE name = ?", (name,))
    conn.execute("CREATE INDEX events_other_types ON events (seq) WHERE type != 'policy.set'")
    conn.execute("PRAGMA user_version = 4")
    conn.close()
    open_ledger(db).close()
    listed, actual = _types_in(db)
    assert listed == actual and listed
    assert pragma(db, "user_version") == SCHEMA_VERSION
