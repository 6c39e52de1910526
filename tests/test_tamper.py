"""Tamper evidence: ``leverage verify`` catches a changed field, a deleted, an inserted and a
reordered event, in the database and in an export file, and names the first bad seq.

To play the attacker, the tests open the database with plain sqlite3 and drop the triggers
that make the event table append-only.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from leverage.canonical import canonical, event_hash

ZEROS = "0" * 64


def raw(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(db), isolation_level=None)
    return conn


def drop_triggers(conn: sqlite3.Connection) -> None:
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("DROP TRIGGER events_no_delete")


def chained(seq: int, prev: str, recorded_at: str, type_: str, at: str, actor: str,
            data: dict[str, Any]) -> dict[str, Any]:
    """A line with a hash that is correct for its own fields (a careful attacker)."""
    h = event_hash(seq=seq, recorded_at=recorded_at, prev=prev, type=type_, at=at, actor=actor,
                   data_json=canonical(data))
    return {"seq": seq, "recorded_at": recorded_at, "prev": prev, "hash": h, "type": type_,
            "at": at, "actor": actor, "data": data}


# -- the untouched ledger --------------------------------------------------------------------

def test_verify_intact_ledger_prints_the_head(invoke, sample_db, events_of):
    result = invoke("verify")
    assert result.exit_code == 0, result.output
    head = events_of(sample_db)[-1]["hash"]
    assert result.stdout.strip() == f"ok: 11 events, head {head}"


def test_verify_intact_export_file(invoke, sample_db, tmp_path, export_bytes, events_of):
    path = tmp_path / "export.jsonl"
    path.write_bytes(export_bytes(sample_db))
    result = invoke("verify", path)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"ok: 11 events, head {events_of(sample_db)[-1]['hash']}"


def test_verify_file_of_plain_lines_refused(invoke, write_jsonl, sample_events,
                                            assert_user_error):
    path = write_jsonl(sample_events)
    assert_user_error(invoke("verify", path), "events.jsonl:1", "chain")


def test_database_refuses_update_and_delete(sample_db):
    conn = raw(sample_db)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE events SET actor = 'mallory' WHERE seq = 3")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM events WHERE seq = 11")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM events")
    assert conn.execute("SELECT COUNT(*), MAX(seq) FROM events").fetchone() == (11, 11)
    assert conn.execute("SELECT actor FROM events WHERE seq = 3").fetchone() == ("ana",)
    conn.close()


# -- tampering with the database -------------------------------------------------------------

def _change_field(conn: sqlite3.Connection) -> None:
    data = json.loads(conn.execute("SELECT data FROM events WHERE seq = 5").fetchone()[0])
    data["leverage"] = 1
    conn.execute("UPDATE events SET data = ? WHERE seq = 5", (json.dumps(data),))


def _change_actor(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE events SET actor = 'mallory' WHERE seq = 5")


def _delete(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM events WHERE seq = 5")


def _delete_last(conn: sqlite3.Connection) -> None:
    # Deleting the last event leaves a valid, shorter chain: only --expect catches it
    # (see test_expect_catches_a_truncated_ledger); here also change the new last one.
    conn.execute("DELETE FROM events WHERE seq = 11")
    conn.execute("UPDATE events SET at = '2021-01-27' WHERE seq = 10")


def _insert_middle(conn: sqlite3.Connection) -> None:
    # Make room at seq 5 and insert an event whose own hash is right for its position.
    conn.execute("UPDATE events SET seq = seq + 1000 WHERE seq >= 5")
    conn.execute("UPDATE events SET seq = seq - 999 WHERE seq >= 1000")
    prev, recorded_at = conn.execute(
        "SELECT hash, recorded_at FROM events WHERE seq = 4").fetchone()
    e = chained(5, prev, recorded_at, "party.added", "2021-01-01", "ana",
                {"id": "shell-co", "name": "Shell Co", "kind": "partner"})
    conn.execute(
        "INSERT INTO events (seq, recorded_at, prev, hash, type, at, at_key, actor, data, subject)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (5, recorded_at, prev, e["hash"], e["type"], e["at"], "2021-01-01T00:00:00.000000Z",
         "ana", canonical(e["data"]).decode(), "party:shell-co"))


def _insert_end(conn: sqlite3.Connection) -> None:
    row = conn.execute("SELECT recorded_at, type, at, at_key, actor, data, subject FROM events "
                       "WHERE seq = 2").fetchone()
    conn.execute(
        "INSERT INTO events (seq, recorded_at, prev, hash, type, at, at_key, actor, data, subject)"
        " VALUES (12, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (row[0], "ab" * 32, "cd" * 32, *row[1:]))


def _reorder(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE events SET seq = -1 WHERE seq = 4")
    conn.execute("UPDATE events SET seq = 4 WHERE seq = 5")
    conn.execute("UPDATE events SET seq = 5 WHERE seq = -1")


DB_TAMPERING = [
    ("changed data field", _change_field, 5),
    ("changed actor", _change_actor, 5),
    ("deleted event", _delete, 5),
    ("deleted last event and changed the one before", _delete_last, 10),
    ("inserted event in the middle", _insert_middle, 6),
    ("inserted event at the end", _insert_end, 12),
    ("reordered events", _reorder, 4),
]


@pytest.mark.parametrize("tamper,first_bad", [r[1:] for r in DB_TAMPERING],
                         ids=[r[0] for r in DB_TAMPERING])
def test_verify_catches_database_tampering(tamper, first_bad, invoke, sample_db,
                                           assert_user_error):
    conn = raw(sample_db)
    drop_triggers(conn)
    tamper(conn)
    conn.close()
    line = assert_user_error(invoke("verify"), "chain broken", f"bad seq {first_bad}")
    assert f"bad seq {first_bad - 1}:" not in line


# -- tampering with an export file -----------------------------------------------------------

def _lines(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.splitlines()]


def _dump(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(x, separators=(",", ":"), sort_keys=True,
                               ensure_ascii=False).encode() + b"\n" for x in lines)


def _file_change(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines[4]["data"]["contract"] = "MSA-2019-17-rev"
    return lines


def _file_change_at(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines[6]["at"] = "2021-03-07"  # back-dating is tampering too
    return lines


def _file_delete(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    del lines[4]
    return lines


def _file_insert(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    prev = lines[3]
    fake = chained(5, prev["hash"], prev["recorded_at"], "party.added", "2021-01-01", "ana",
                   {"id": "shell-co", "name": "Shell Co", "kind": "partner"})
    return [*lines[:4], fake, *lines[4:]]


def _file_reorder(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines[3], lines[4] = lines[4], lines[3]
    return lines


FILE_TAMPERING = [
    ("changed data field", _file_change, 5),
    ("changed at", _file_change_at, 7),
    ("deleted line", _file_delete, 5),
    ("inserted line", _file_insert, 6),
    ("reordered lines", _file_reorder, 4),
]


@pytest.mark.parametrize("tamper,first_bad", [r[1:] for r in FILE_TAMPERING],
                         ids=[r[0] for r in FILE_TAMPERING])
def test_verify_catches_export_tampering(tamper, first_bad, invoke, sample_db, tmp_path,
                                         export_bytes, assert_user_error):
    path = tmp_path / "export.jsonl"
    path.write_bytes(_dump(tamper(_lines(export_bytes(sample_db)))))
    line = assert_user_error(invoke("verify", path), "chain broken", f"bad seq {first_bad}")
    assert "export.jsonl" in line


@pytest.mark.parametrize("tamper", [r[1] for r in FILE_TAMPERING],
                         ids=[r[0] for r in FILE_TAMPERING])
def test_tampered_export_is_not_restored(tamper, invoke, sample_db, tmp_path, export_bytes,
                                         assert_user_error):
    path = tmp_path / "export.jsonl"
    path.write_bytes(_dump(tamper(_lines(export_bytes(sample_db)))))
    restored = tmp_path / "restored.db"
    assert_user_error(invoke("load", path, db_path=restored), "export.jsonl:")
    assert not restored.exists()


# -- --expect: a published head stays in the chain -------------------------------------------

@pytest.fixture
def published(invoke, db, load_events, sample_events, events_of) -> str:
    """The sample ledger built in two loads; returns the head published after the first."""
    load_events(sample_events[:5])
    head = events_of(db)[-1]["hash"]
    load_events(sample_events[5:])
    return head


def test_expect_old_head_passes(invoke, db, published, tmp_path, export_bytes):
    result = invoke("verify", "--expect", published)
    assert result.exit_code == 0, result.output
    assert "ok: 11 events" in result.stdout
    path = tmp_path / "export.jsonl"
    path.write_bytes(export_bytes(db))
    assert invoke("verify", path, "--expect", published).exit_code == 0


def test_expect_current_head_passes(invoke, db, published, events_of):
    assert invoke("verify", "--expect", events_of(db)[-1]["hash"]).exit_code == 0


def test_expect_made_up_hash_fails(invoke, db, published, tmp_path, export_bytes,
                                   assert_user_error):
    made_up = "f" * 64
    assert_user_error(invoke("verify", "--expect", made_up), made_up, "not in the chain")
    path = tmp_path / "export.jsonl"
    path.write_bytes(export_bytes(db))
    assert_user_error(invoke("verify", path, "--expect", made_up), "not in the chain")


def test_expect_catches_a_rewritten_chain(invoke, db, published, assert_user_error):
    # The attacker changes seq 3 and recomputes every hash after it: the chain is
    # self-consistent again, but the head published earlier is gone from it.
    conn = raw(db)
    drop_triggers(conn)
    rows = conn.execute("SELECT seq, recorded_at, prev, hash, type, at, actor, data FROM events "
                        "ORDER BY seq").fetchall()
    prev = ZEROS
    for seq, recorded_at, _prev, _hash, type_, at, actor, data in rows:
        d = json.loads(data)
        if seq == 3:
            d["name"] = "Someone Else AB"
        h = event_hash(seq=seq, recorded_at=recorded_at, prev=prev, type=type_, at=at,
                       actor=actor, data_json=canonical(d))
        conn.execute("UPDATE events SET prev = ?, hash = ?, data = ? WHERE seq = ?",
                     (prev, h, canonical(d).decode(), seq))
        prev = h
    conn.close()
    assert invoke("verify").exit_code == 0  # a rewrite is self-consistent ...
    assert_user_error(invoke("verify", "--expect", published), "not in the chain")  # ... but


def test_expect_catches_a_truncated_ledger(invoke, db, published, events_of, assert_user_error):
    head = events_of(db)[-1]["hash"]
    conn = raw(db)
    drop_triggers(conn)
    conn.execute("DELETE FROM events WHERE seq > 8")
    conn.close()
    assert invoke("verify").exit_code == 0
    assert invoke("verify", "--expect", published).exit_code == 0
    assert_user_error(invoke("verify", "--expect", head), "not in the chain")
