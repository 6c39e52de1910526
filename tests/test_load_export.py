"""``leverage load`` and ``leverage export``: restores, atomicity, and every kind of bad input.

Every user error is one line on stderr naming the file, line and field, exit status 1, and
nothing written (issue 2, "Bad input").
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from leverage import open_ledger
from leverage.errors import LeverageError

Event = dict[str, Any]


def ev(type_: str, at: str, actor: str = "ana", **data: Any) -> Event:
    return {"type": type_, "at": at, "actor": actor, "data": data}


def party(id_: str, at: str = "2021-02-01", **extra: Any) -> Event:
    return ev("party.added", at, **{"id": id_, "name": f"Party {id_}", "kind": "supplier",
                                    **extra})


def step(impact: str = "imp-1", at: str = "2021-02-01", **extra: Any) -> Event:
    return ev("step.taken", at, impact=impact, kind="dialogue", summary="Call.", **extra)


def db_files(db: Path) -> list[Path]:
    return [p for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal"))
            if p.exists()]


def table_rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(str(db))
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def ledger_rows(db: Path) -> list[tuple[Any, ...]]:
    return table_rows(db, "SELECT * FROM events ORDER BY seq")


# -- restore and load ------------------------------------------------------------------------

def test_load_plain_lines(invoke, db, write_jsonl, sample_events, events_of):
    del sample_events[3]["actor"]  # a line without actor gets the loading actor
    path = write_jsonl(sample_events)
    result = invoke("--actor", "loader", "load", path)
    assert result.exit_code == 0, result.output
    events = events_of(db)
    assert len(events) == 11
    head = events[-1]["hash"]
    assert result.stdout.strip() == f"loaded 11 events from {path} (head seq 11, {head})"
    assert events[3]["actor"] == "loader"
    assert events[2]["actor"] == "ana"
    assert [e["seq"] for e in events] == list(range(1, 12))
    assert events[0]["prev"] == "0" * 64
    for a, b in zip(events, events[1:], strict=False):
        assert b["prev"] == a["hash"]
    assert len({e["recorded_at"] for e in events}) == 1  # one load, one moment
    recorded = events[0]["recorded_at"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z", recorded), recorded
    moment = datetime.fromisoformat(recorded.replace("Z", "+00:00"))
    assert abs(datetime.now(UTC) - moment) < timedelta(minutes=5)
    assert [e["data"] for e in events] == [e["data"] for e in sample_events]


def test_load_accepts_bom_crlf_and_blank_lines(invoke, db, tmp_path, sample_events):
    body = "\r\n\r\n".join(json.dumps(e) for e in sample_events[:3]) + "\r\n\n"
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    result = invoke("load", path)
    assert result.exit_code == 0, result.output
    assert "loaded 3 events" in result.stdout


def test_at_is_kept_verbatim(invoke, db, write_jsonl, events_of):
    ats = ["2021-02-01", "2021-02-01t10:00:00z", "2021-02-01T10:00:00.123456789+05:30",
           "2021-02-01T23:59:59-00:00"]
    events = [party(f"p{i}", at=at) for i, at in enumerate(ats)]
    assert invoke("load", write_jsonl(events)).exit_code == 0
    assert [e["at"] for e in events_of(db)] == ats


def test_export_stdout_and_file_agree(invoke, sample_db, tmp_path, export_bytes):
    out = tmp_path / "export.jsonl"
    result = invoke("export", "-o", out)
    assert result.exit_code == 0, result.output
    assert f"exported 11 events to {out}" in result.stderr
    assert result.stdout == ""
    data = out.read_bytes()
    assert data == export_bytes(sample_db)
    assert not (tmp_path / "export.jsonl.part").exists()
    lines = data.decode().splitlines()
    assert len(lines) == 11
    for line in lines:
        obj = json.loads(line)
        # compact JSON with sorted keys
        assert line == json.dumps(obj, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def test_export_overwrites_an_existing_file(invoke, sample_db, tmp_path, export_bytes):
    out = tmp_path / "export.jsonl"
    out.write_text("old content\n" * 1000)
    assert invoke("export", "-o", out).exit_code == 0
    assert out.read_bytes() == export_bytes(sample_db)


def test_export_into_a_pipe_writes_into_the_pipe(invoke, sample_db, tmp_path, export_bytes):
    # `leverage export -o >(gzip > backup.gz)` and `-o /dev/stdout` name pipes: the export
    # must go into them, not replace them with a regular file.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader is waiting
    try:
        result = invoke("export", "-o", fifo)
        assert result.exit_code == 0, result.output
        assert stat.S_ISFIFO(os.stat(fifo).st_mode), "the pipe was replaced by a regular file"
        received = b""
        while True:
            try:
                chunk = os.read(reader, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            received += chunk
    finally:
        os.close(reader)
    assert received == export_bytes(sample_db)


def test_export_to_unwritable_place_refused(invoke, sample_db, tmp_path, assert_user_error):
    assert_user_error(invoke("export", "-o", tmp_path / "no-such-dir" / "x.jsonl"),
                      "cannot write")


def test_restore_is_byte_identical(invoke, sample_db, restored_copy):
    assert invoke("void", "8", "--reason", "Wrong call.").exit_code == 0
    restored = restored_copy(sample_db)
    assert invoke("verify", db_path=restored).exit_code == 0
    a, b = open_ledger(sample_db), open_ledger(restored)
    assert a.state() == b.state()
    assert a.voided_seqs() == b.voided_seqs() == {8}
    a.close()
    b.close()


def test_incremental_restore_continues_the_head(invoke, sample_db, tmp_path, export_bytes):
    lines = export_bytes(sample_db).splitlines(keepends=True)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_bytes(b"".join(lines[:6]))
    second.write_bytes(b"".join(lines[6:]))
    restored = tmp_path / "restored.db"
    assert invoke("load", first, db_path=restored).exit_code == 0
    result = invoke("load", second, db_path=restored)
    assert result.exit_code == 0, result.output
    assert export_bytes(restored) == export_bytes(sample_db)


def test_plain_lines_after_a_restore_continue_the_chain(invoke, sample_db, tmp_path,
                                                        export_bytes, write_jsonl, events_of):
    path = tmp_path / "export.jsonl"
    path.write_bytes(export_bytes(sample_db))
    restored = tmp_path / "restored.db"
    assert invoke("load", path, db_path=restored).exit_code == 0
    assert invoke("load", write_jsonl([party("newco")], "more.jsonl"),
                  db_path=restored).exit_code == 0
    events = events_of(restored)
    assert len(events) == 12
    assert events[11]["prev"] == events[10]["hash"]
    assert events[11]["recorded_at"] >= events[10]["recorded_at"]
    assert invoke("verify", db_path=restored).exit_code == 0


def test_load_missing_file_refused(invoke, db, tmp_path, assert_user_error):
    assert_user_error(invoke("load", tmp_path / "nope.jsonl"), "nope.jsonl", "no such file")
    assert db_files(db) == []


def test_bad_line_after_a_full_batch_writes_nothing(invoke, sample_db, tmp_path, export_bytes,
                                                    assert_user_error):
    # More good lines than the store buffers per INSERT, then a bad one: still nothing.
    before = export_bytes(sample_db)
    lines = [json.dumps(party(f"bulk-{i}")) for i in range(6000)]
    lines.append(json.dumps(party("bad", kind="alien")))
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_user_error(invoke("load", path), "events.jsonl:6001: data.kind:")
    assert export_bytes(sample_db) == before


def test_new_ledger_with_a_bad_line_late_leaves_no_file(invoke, db, tmp_path,
                                                        assert_user_error):
    lines = [json.dumps(party(f"bulk-{i}")) for i in range(6000)] + ["{"]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_user_error(invoke("load", path), "events.jsonl:6001: invalid JSON")
    assert db_files(db) == []


# -- the bad input table ---------------------------------------------------------------------
# Each row: (id, base ledger: "new" or "sample", file content, expected stderr fragments).
# Content is a list of events/raw strings (one line each) or raw bytes.

SEV = {"scale": 3, "scope": 3, "irremediability": 3}
IMPACT_2 = ev("impact.opened", "2021-02-01", id="imp-2", relationship="rel-dc",
              rights=["labour"], summary="Overtime.", severity=SEV)


def _party_line(**changes: Any) -> Event:
    e = party("newco")
    e["data"].update(changes)
    return e


BAD_INPUT: list[tuple[str, str, Any, tuple[str, ...]]] = [
    ("unknown event type", "sample",
     [party("p1"), ev("party.deleted", "2021-02-01", id="acme")],
     ("events.jsonl:2: type: unknown event type 'party.deleted'",)),
    ("missing top-level field", "new",
     [{"type": "party.added", "actor": "ana",
       "data": {"id": "a", "name": "A", "kind": "client"}}],
     ("events.jsonl:1: at: is required",)),
    ("missing data field", "new",
     [party("p1"), {"type": "party.added", "at": "2021-01-01",
                    "data": {"id": "a", "kind": "client"}}],
     ("events.jsonl:2: data.name: is required",)),
    ("unknown top-level field", "new",
     [{**party("p1"), "colour": "red"}],
     ("events.jsonl:1: colour: unknown field",)),
    ("unknown data field", "sample",
     [_party_line(colour="red")],
     ("events.jsonl:1: data.colour: unknown field",)),
    ("bad date in at", "new",
     [party("p1", at="2021-02-30")],
     ("events.jsonl:1: at: ", "2021-02-30")),
    ("bad date in data", "sample",
     [ev("relationship.added", "2021-02-01", id="rel-x", source="we", target="acme",
         type="hosts", since="2021-02-30")],
     ("events.jsonl:1: data.since: ", "2021-02-30")),
    ("bad id", "new",
     [party("-x")],
     ("events.jsonl:1: data.id: must be an id", "'-x'")),
    ("out of range", "sample",
     [party("p1"), party("p2"),
      ev("impact.opened", "2021-02-01", id="imp-2", relationship="rel-dc", rights=["labour"],
         summary="S", severity={"scale": 7, "scope": 1, "irremediability": 1})],
     ("events.jsonl:3: data.severity.scale: must be 1-5, got 7",)),
    ("dangling step on unknown impact", "sample",
     [step("imp-1"), step("ghost")],
     ("events.jsonl:2: data.impact: unknown impact 'ghost'",)),
    ("dangling relationship to unknown party", "sample",
     [ev("relationship.added", "2021-02-01", id="rel-x", source="we", target="ghost",
         type="hosts")],
     ("events.jsonl:1: data.target: unknown party 'ghost'",)),
    ("duplicate id in the ledger", "sample",
     [party("acme")],
     ("events.jsonl:1: data.id: party 'acme' exists already",)),
    ("duplicate id in the file", "new",
     [party("p1"), party("p2"), party("p1")],
     ("events.jsonl:3: data.id: party 'p1' exists already",)),
    ("invalid JSON", "sample",
     [party("p1"), '{"type": "party.added", "at": '],
     ("events.jsonl:2: invalid JSON",)),
    ("not an object", "new",
     ["[1, 2, 3]"],
     ("events.jsonl:1: line: must be a JSON object",)),
    ("not UTF-8", "new",
     b'{"type": "party.added", "at": "2021-01-01", "data": {"id": "a", "name": "\xff\xfe", '
     b'"kind": "client"}}\n',
     ("events.jsonl:1:",)),
    ("empty file", "new", b"", ("events.jsonl: empty file",)),
    ("blank lines only", "sample", b"\n  \n\n", ("events.jsonl: empty file",)),
    ("binary file with NUL", "new", b"\x00\x01\x02\x03garbage\x00\n",
     ("events.jsonl:1: binary",)),
    ("zip file", "sample", b"PK\x03\x04\x14\x00\x00\x00\x08\x00\xb7\x8bmimetype",
     ("events.jsonl:1: binary",)),
    ("mixing chained and plain lines", "new", "MIXED", ("events.jsonl:2:", "mixes")),
    ("chained file not continuing this ledger", "sample", "FOREIGN_EXPORT",
     ("events.jsonl:1:", "does not continue this ledger")),
    ("chained file not starting a ledger", "new", "EXPORT_TAIL",
     ("events.jsonl:1:", "does not start a ledger")),
    ("outcome with no step", "sample",
     [IMPACT_2, ev("step.outcome", "2021-02-02", impact="imp-2", outcome="improved",
                   summary="Better.")],
     ("events.jsonl:2: data.impact:", "no step")),
    ("deadline before its step", "sample",
     [step(at="2021-02-10", deadline="2021-02-09")],
     ("events.jsonl:1: data.deadline:", "2021-02-09")),
    ("unknown step kind", "sample",
     [ev("step.taken", "2021-02-01", impact="imp-1", kind="pressure", summary="S")],
     ("events.jsonl:1: data.kind:", "unknown step kind 'pressure'")),
    ("void of an unknown seq", "sample",
     [ev("event.voided", "2021-02-01", seq=99, reason="Typo.")],
     ("events.jsonl:1: data.seq: no event with seq 99",)),
    ("void of a void", "sample",
     [ev("event.voided", "2021-02-01", seq=8, reason="Wrong call."),
      ev("event.voided", "2021-02-01", seq=12, reason="Undo.")],
     ("events.jsonl:2: data.seq:", "void cannot be voided")),
    ("void leaving a dangling reference", "sample",
     [ev("event.voided", "2021-02-01", seq=2, reason="Acme was never a client.")],
     ("events.jsonl:1: data.seq:", "voiding event 2", "5")),
    ("void of a step its outcome names", "sample",
     [ev("event.voided", "2021-02-01", seq=9, reason="No notice was sent.")],
     ("events.jsonl:1: data.seq:", "voiding event 9")),
    ("event on a closed impact", "sample",
     [ev("decision.made", "2021-02-01", impact="imp-1", decision="close",
         rationale="Remediated.", policy_refs=["UNGP 22"]),
      step(at="2021-02-02")],
     ("events.jsonl:2: data.impact:", "closed")),
    ("decision refused by the gates", "sample",
     [ev("decision.made", "2021-02-01", impact="imp-1", decision="suspend",
         rationale="No change.", policy_refs=["ToS 4.2"])],
     ("events.jsonl:1:", "missing-approval")),
    ("reinstate dated before the suspend it would reverse", "sample",
     [ev("decision.made", "2021-02-10", actor="ben", impact="imp-1", decision="suspend",
         rationale="No change.", policy_refs=["ToS 4.2"], approved_by="carla"),
      ev("decision.made", "2021-02-05", actor="ben", impact="imp-1", decision="reinstate",
         rationale="Fixed.", policy_refs=["ToS 4.2"], approved_by="carla")],
     ("events.jsonl:2: data.decision:", "not suspended")),
    ("step on a day before its impact was opened", "sample",
     [ev("impact.opened", "2021-02-01T15:00:00Z", id="imp-2", relationship="rel-dc",
         rights=["labour"], summary="Overtime.", severity=SEV),
      step("imp-2", at="2021-01-31T23:00:00Z")],
     ("events.jsonl:2: at:", "imp-2")),
    ("party update dated before the party was added", "sample",
     [ev("party.updated", "2020-06-01", id="acme", name="Acme Early")],
     ("events.jsonl:1: at:", "2020-06-01")),
    ("relationship update dated before it was added", "sample",
     [ev("relationship.updated", "2020-06-01", id="rel-dc", leverage=1)],
     ("events.jsonl:1: at:", "2020-06-01")),
    ("relationship dated before its party was added", "sample",
     [party("p1", at="2021-02-01"),
      ev("relationship.added", "2021-01-15", id="rel-x", source="we", target="p1",
         type="hosts")],
     ("events.jsonl:2: at:", "2021-01-15")),
    ("outcome dated before any step", "sample",
     [IMPACT_2, step("imp-2", at="2021-02-20"),
      ev("step.outcome", "2021-02-10", impact="imp-2", outcome="remediated",
         summary="Done.")],
     ("events.jsonl:3:", "step")),
    ("at out of range", "new",
     [party("p1", at="0001-01-01T00:30:00+01:00")],
     ("events.jsonl:1: at:",)),
    ("attributes nested too deeply for the hash", "sample",
     ['{"type": "party.added", "at": "2021-02-01", "data": {"id": "deep", "name": "D", '
      '"kind": "other", "attributes": {"x": ' + "[" * 300 + "]" * 300 + "}}}"],
     ("events.jsonl:1: data.attributes",)),
    ("attributes nested too deeply for Python", "sample",
     ['{"type": "party.added", "at": "2021-02-01", "data": {"id": "deep", "name": "D", '
      '"kind": "other", "attributes": {"x": ' + "[" * 1000 + "]" * 1000 + "}}}"],
     ("events.jsonl:1: data.attributes",)),
    ("float in attributes", "sample",
     [_party_line(attributes={"source": {"amount": 12.5}})],
     ("events.jsonl:1: data.attributes.source.amount:", "fractional")),
    ("float written as 1.0 in a rating", "sample",
     [ev("relationship.updated", "2021-02-01", id="rel-dc", leverage=3.0)],
     ("events.jsonl:1: data.leverage: must be 1-5",)),
]


def _content(kind: Any, tmp_path: Path, invoke, export_bytes, sample_events) -> bytes:
    if isinstance(kind, bytes):
        return kind
    if kind == "MIXED":
        other = tmp_path / "other.db"
        _load_plain(invoke, tmp_path, other, sample_events[:2])
        first = export_bytes(other).splitlines()[0]
        return first + b"\n" + json.dumps(sample_events[2]).encode() + b"\n"
    if kind == "FOREIGN_EXPORT":  # another ledger's full export
        other = tmp_path / "other.db"
        _load_plain(invoke, tmp_path, other, sample_events[:3])
        return export_bytes(other)
    if kind == "EXPORT_TAIL":  # an export without its first lines
        other = tmp_path / "other.db"
        _load_plain(invoke, tmp_path, other, sample_events)
        return b"".join(export_bytes(other).splitlines(keepends=True)[4:])
    return "".join((x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n"
                   for x in kind).encode()


def _load_plain(invoke, tmp_path: Path, db: Path, events: list[Event]) -> None:
    path = tmp_path / f"{db.stem}-setup.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    assert invoke("load", path, db_path=db).exit_code == 0


@pytest.mark.parametrize("base,content,fragments", [row[1:] for row in BAD_INPUT],
                         ids=[row[0] for row in BAD_INPUT])
def test_bad_input(base, content, fragments, invoke, db, tmp_path, monkeypatch, sample_events,
                   load_events, export_bytes, assert_user_error):
    if base == "sample":
        load_events(sample_events)
        before = export_bytes(db)
    data = _content(content, tmp_path, invoke, export_bytes, sample_events)
    (tmp_path / "events.jsonl").write_bytes(data)
    monkeypatch.chdir(tmp_path)  # so that the message names the file as the user gave it
    line = assert_user_error(invoke("load", "events.jsonl"), *fragments)
    assert line.startswith("Error: events.jsonl"), line
    if base == "sample":
        assert export_bytes(db) == before, "a refused load writes nothing"
    else:
        assert db_files(db) == [], "a refused load into a new ledger leaves no file behind"


# -- databases that are not ledgers ----------------------------------------------------------

@pytest.fixture
def good_file(write_jsonl) -> Path:
    return write_jsonl([party("p1", at="2021-01-01")], "good.jsonl")


def test_random_bytes_database_refused(invoke, db, good_file, assert_user_error):
    junk = os.urandom(4096)
    db.write_bytes(junk)
    assert_user_error(invoke("load", good_file), str(db), "not a leverage ledger")
    assert db.read_bytes() == junk
    assert_user_error(invoke("verify"), "not a leverage ledger")
    assert_user_error(invoke("party", "list"), "not a leverage ledger")


def test_sqlite_database_of_another_program_refused(invoke, db, good_file, assert_user_error):
    conn = sqlite3.connect(str(db))
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount TEXT)")
    conn.execute("INSERT INTO invoices (amount) VALUES ('12.50')")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    assert_user_error(invoke("load", good_file), "not a leverage ledger", "another program")
    assert_user_error(invoke("init"), str(db))
    assert db.read_bytes() == before
    conn = sqlite3.connect(str(db))
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert tables == {"invoices"}


def test_sqlite_header_with_garbage_refused(invoke, db, good_file, assert_user_error):
    db.write_bytes(b"SQLite format 3\x00" + os.urandom(4000))
    assert_user_error(invoke("load", good_file), "not a leverage ledger")


def test_ledger_of_a_newer_version_refused(invoke, sample_db, good_file, assert_user_error):
    conn = sqlite3.connect(str(sample_db))
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    rows = ledger_rows(sample_db)
    assert_user_error(invoke("load", good_file), "newer version", "upgrade")
    assert_user_error(invoke("party", "add", "x", "--name", "X", "--kind", "client"),
                      "newer version")
    assert_user_error(invoke("export"), "newer version")
    assert ledger_rows(sample_db) == rows


def test_directory_as_database_refused(invoke, tmp_path, good_file, assert_user_error):
    assert_user_error(invoke("load", good_file, db_path=tmp_path), "directory")


def test_a_step_earlier_on_the_day_its_impact_opened_is_kept_after_the_opening(
        sample_db, invoke, write_jsonl):
    # A step dated 09:00 on an impact opened at 15:00 the same UTC day (a common mix of a
    # date-time from one system and an earlier time from another) is ordered just after the
    # opening: it is never silently dropped from the state.
    sev = {"scale": 2, "scope": 2, "irremediability": 2}
    path = write_jsonl([
        {"type": "impact.opened", "at": "2021-02-01T15:00:00Z",
         "data": {"id": "imp-2", "relationship": "rel-dc", "rights": ["labour"],
                  "summary": "Overtime.", "severity": sev}},
        {"type": "step.taken", "at": "2021-02-01T09:00:00Z",
         "data": {"impact": "imp-2", "kind": "dialogue", "summary": "Call."}},
        {"type": "step.taken", "at": "2021-02-01",
         "data": {"impact": "imp-2", "kind": "formal-notice", "summary": "Notice."}},
    ], "same-day.jsonl")
    result = invoke("load", str(path))
    assert result.exit_code == 0, result.output
    impact = open_ledger(sample_db).state().impacts["imp-2"]
    assert [s.kind for s in impact.steps] == ["dialogue", "formal-notice"]
    assert [s.at for s in impact.steps] == ["2021-02-01T09:00:00Z", "2021-02-01"]


# -- the writer's cache of steps ---------------------------------------------------------------
# A load keeps the latest steps in memory and reads older ones back from the entities table;
# what it accepts, refuses and leaves in the table must not depend on where a step was found.

def _many_steps() -> list[Event]:
    events = [party("we", kind="self"), party("sup"),
              ev("relationship.added", "2021-02-01", id="rel-1", source="we", target="sup",
                 type="supplies")]
    for i in range(4):
        events.append(ev("impact.opened", "2021-02-01", id=f"imp-{i}", relationship="rel-1",
                         rights=["labour"], summary="Overtime.",
                         severity={"scale": 3, "scope": 2, "irremediability": 2}))
    for n in range(40):
        events.append(step(f"imp-{n % 4}", f"2021-02-{2 + n % 20:02d}", id=f"s{n}"))
    for n in range(40):  # outcomes of old and new steps alike
        events.append(ev("step.outcome", "2021-03-01", impact=f"imp-{n % 4}", step=f"s{n}",
                         outcome="no-change", summary="Nothing yet."))
    return events


def _entities(db: Path) -> list[tuple[Any, ...]]:
    return table_rows(db, "SELECT * FROM entities ORDER BY kind, id")


@pytest.mark.parametrize("transient", [1, 3, 20000])
def test_steps_read_back_after_leaving_the_cache(tmp_path, monkeypatch, transient):
    from leverage import ledger as ledger_module

    monkeypatch.setattr(ledger_module, "BATCH", 7)
    monkeypatch.setattr(ledger_module.Index, "TRANSIENT", transient)
    db = tmp_path / f"t{transient}.db"
    ledger = open_ledger(db, create=True)
    ledger.append(_many_steps(), bulk=True)
    with pytest.raises(LeverageError, match="step 's0' belongs to impact 'imp-0'"):
        ledger.append([ev("step.outcome", "2021-03-02", impact="imp-1", step="s0",
                          outcome="improved", summary="?")])
    with pytest.raises(LeverageError, match="step 's1' exists already"):
        ledger.append([step("imp-2", "2021-03-02", id="s1")])
    with pytest.raises(LeverageError, match="step 'n1' exists already"):  # within one write
        ledger.append([step("imp-3", "2021-03-02", id="n1"), *[step("imp-1", "2021-03-02")] * 9,
                       step("imp-2", "2021-03-02", id="n1")])
    ledger.close()
    reference = tmp_path / "reference.db"
    if not reference.exists():
        monkeypatch.setattr(ledger_module.Index, "TRANSIENT", 20000)
        monkeypatch.setattr(ledger_module, "BATCH", 5000)
        other = open_ledger(reference, create=True)
        other.append(_many_steps())
        other.close()
    assert _entities(db) == _entities(reference)
    assert len([row for row in _entities(db) if row[0] == "step"]) == 40


def test_the_set_of_evicted_ids_never_forgets_one():
    from leverage.ledger import _Seen

    seen = _Seen()
    assert "s1" not in seen
    ids = [f"s{n:07d}" for n in range(50_000)]
    seen.update(ids)
    assert all(i in seen for i in ids)
    others = [f"t{n:07d}" for n in range(50_000)]
    assert sum(o in seen for o in others) < 50  # a "maybe" only costs one read of the table
