"""The SQLite store: an append-only, hash-chained event table and the indexes derived from it.

The ``events`` table is the single source of truth; triggers refuse UPDATE and DELETE on it.
The other tables (``entities``, ``voided``) are derived from events and kept in step inside
the same transaction, so that reference checks do not replay the log.

Writers take the write lock up front (``BEGIN IMMEDIATE``) and wait for it (busy timeout)
rather than failing, so several processes can append at once and the chain stays linear.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import StoreError

APPLICATION_ID = 0x4C455652  # "LEVR"
BUSY_TIMEOUT_S = 60.0
ZERO_HASH = "0" * 64

#: Ordered, named migrations. Never edit one that has shipped: add a new one.
MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_events",
        """
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            recorded_at TEXT NOT NULL,
            prev TEXT NOT NULL,
            hash TEXT NOT NULL,
            type TEXT NOT NULL,
            at TEXT NOT NULL,
            at_key TEXT NOT NULL,
            actor TEXT NOT NULL,
            data TEXT NOT NULL,
            subject TEXT
        );
        CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'the event log is append-only: UPDATE refused'); END;
        CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'the event log is append-only: DELETE refused'); END;
        """,
    ),
    (
        "0002_indexes",
        """
        CREATE TABLE entities (
            kind TEXT NOT NULL,
            id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            at_key TEXT NOT NULL,
            info TEXT NOT NULL,
            PRIMARY KEY (kind, id)
        ) WITHOUT ROWID;
        CREATE TABLE voided (
            seq INTEGER PRIMARY KEY,
            by_seq INTEGER NOT NULL
        );
        """,
    ),
    (
        "0003_event_indexes",
        """
        CREATE INDEX events_subject ON events (subject) WHERE subject IS NOT NULL;
        CREATE INDEX events_at ON events (at_key, seq);
        CREATE INDEX events_policy ON events (seq) WHERE type = 'policy.set';
        """,
    ),
    (
        "0004_status_projection",
        """
        CREATE TABLE projection_meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE projection_status (
            impact TEXT PRIMARY KEY,
            rel TEXT NOT NULL,
            source TEXT NOT NULL,
            target TEXT NOT NULL,
            core TEXT NOT NULL
        );
        CREATE INDEX projection_status_rel ON projection_status (rel);
        CREATE INDEX events_other_types ON events (seq) WHERE type NOT IN (
            'policy.set', 'party.added', 'party.updated', 'relationship.added',
            'relationship.updated', 'relationship.ended', 'impact.opened', 'impact.reassessed',
            'step.taken', 'step.outcome', 'assessment.recorded', 'decision.made', 'event.voided');
        """,
    ),
    (
        # Which event types the log holds (the writer records each type's first seq): what
        # the partial index events_other_types answered, without its cost on every insert.
        "0005_event_types",
        """
        CREATE TABLE event_types (
            type TEXT PRIMARY KEY,
            first_seq INTEGER NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO event_types (type, first_seq) SELECT type, MIN(seq) FROM events GROUP BY type;
        DROP INDEX events_other_types;
        """,
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)


class Store:
    """One ledger database. Use :func:`open_store`."""

    def __init__(self, path: str | os.PathLike[str], conn: sqlite3.Connection):
        self.path = Path(path)
        self.conn = conn

    # -- transactions ---------------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken up front; committed on success, rolled back otherwise."""
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path}: cannot lock the ledger for writing: {exc}") from None
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read snapshot: every query inside sees the same ledger."""
        conn = self.conn
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    # -- reading ---------------------------------------------------------------------------
    def head(self) -> tuple[int, str]:
        row = self.conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else (0, ZERO_HASH)

    def count(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    def event_row(self, seq: int) -> tuple[Any, ...] | None:
        return self.conn.execute(
            "SELECT seq, recorded_at, prev, hash, type, at, actor, data FROM events WHERE seq = ?",
            (seq,),
        ).fetchone()

    def rows(self, *, batch: int = 10000) -> Iterator[tuple[Any, ...]]:
        """Every event in seq order: (seq, recorded_at, prev, hash, type, at, actor, data)."""
        cur = self.conn.execute(
            "SELECT seq, recorded_at, prev, hash, type, at, actor, data FROM events ORDER BY seq"
        )
        while True:
            chunk = cur.fetchmany(batch)
            if not chunk:
                return
            yield from chunk

    def close(self) -> None:
        self.conn.close()


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(
        str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    return conn


def _looks_like_sqlite(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(16) == b"SQLite format 3\x00"


def exists(path: str | os.PathLike[str]) -> bool:
    p = Path(path)
    return p.exists() and p.stat().st_size > 0


def open_store(path: str | os.PathLike[str], *, create: bool = False) -> Store:
    """Open the ledger at ``path``, applying pending migrations.

    ``create``: make a new ledger when none exists (otherwise a missing ledger is an error).
    """
    p = Path(path)
    if p.is_dir():
        raise StoreError(f"{p}: is a directory, not a ledger")
    new = not exists(p)
    if new and not create:
        raise StoreError(f"{p}: no ledger here (create one with `leverage init`)")
    if not new and not _looks_like_sqlite(p):
        raise StoreError(f"{p}: not a leverage ledger (not an SQLite database)")
    try:
        conn = _connect(p)
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if not new and app_id != APPLICATION_ID:
            tables = conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
            if tables:
                conn.close()
                raise StoreError(f"{p}: not a leverage ledger (an SQLite database of another program)")
        if version > SCHEMA_VERSION:
            conn.close()
            raise StoreError(
                f"{p}: written by a newer version of leverage (schema {version}; this version "
                f"reads up to {SCHEMA_VERSION}): upgrade leverage"
            )
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        if version < SCHEMA_VERSION:
            _migrate(conn)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{p}: not a leverage ledger ({exc})") from None
    return Store(p, conn)


def _migrate(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        done = {r[0] for r in conn.execute("SELECT name FROM migrations")}
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO migrations (name, applied_at) VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
                (name,),
            )
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (trigger bodies keep their inner semicolons)."""
    out: list[str] = []
    buf = ""
    for part in sql.split(";"):
        buf += part + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n;"):
                out.append(buf.strip())
            buf = ""
    return out
