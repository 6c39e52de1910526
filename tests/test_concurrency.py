"""Several processes at once: concurrent appends lose nothing and keep one valid chain; a
writer waits for the lock instead of failing; a ``load`` killed mid-way leaves the ledger as
it was."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from leverage import open_ledger

WORKERS = 4
PER_WORKER = 50

# Each worker waits for the start signal, then appends its events one transaction each.
WORKER = r"""
import os, sys, time
from leverage import open_ledger
db, name, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ledger = open_ledger(db)
deadline = time.time() + 30
while not os.path.exists(go) and time.time() < deadline:
    time.sleep(0.005)
for i in range(count):
    ledger.append([{"type": "party.added", "at": "2021-02-01", "actor": name,
                    "data": {"id": f"{name}-{i}", "name": f"{name} {i}", "kind": "supplier"}}])
ledger.close()
"""


def test_concurrent_appends_lose_nothing(sample_db, tmp_path, invoke):
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(sample_db), f"w{n}",
                          str(PER_WORKER), str(go)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for n in range(WORKERS)
    ]
    time.sleep(0.3)  # let every worker import and open the ledger before they race
    go.touch()
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()

    result = invoke("verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"ok: {11 + WORKERS * PER_WORKER} events")

    ledger = open_ledger(sample_db)
    events = list(ledger.iter_events())
    ledger.close()
    assert [e.seq for e in events] == list(range(1, 11 + WORKERS * PER_WORKER + 1))
    written = [e for e in events if e.seq > 11]
    for n in range(WORKERS):
        mine = [e.data["id"] for e in written if e.actor == f"w{n}"]
        assert mine == [f"w{n}-{i}" for i in range(PER_WORKER)], "lost or reordered"
    recorded = [e.recorded_at for e in events]
    assert recorded == sorted(recorded), "recorded_at never goes back along the chain"


def test_a_writer_waits_for_the_lock(sample_db):
    blocker = sqlite3.connect(str(sample_db), isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    released = threading.Event()

    def release() -> None:
        time.sleep(0.5)
        blocker.execute("COMMIT")
        released.set()

    thread = threading.Thread(target=release)
    start = time.monotonic()
    thread.start()
    ledger = open_ledger(sample_db)
    ledger.append([{"type": "party.added", "at": "2021-02-01", "actor": "ana",
                    "data": {"id": "patient", "name": "Patient Co", "kind": "other"}}])
    waited = time.monotonic() - start
    thread.join()
    assert released.is_set()
    assert waited >= 0.4
    assert ledger.count() == 12
    assert ledger.verify()[0] == 12
    ledger.close()
    blocker.close()


def test_killed_load_leaves_the_ledger_valid_and_unchanged(sample_db, tmp_path, invoke,
                                                           export_bytes):
    before = export_bytes(sample_db)
    big = tmp_path / "big.jsonl"
    with open(big, "w", encoding="utf-8") as fh:
        for i in range(200_000):
            fh.write(json.dumps({"type": "party.added", "at": "2021-02-01",
                                 "data": {"id": f"bulk-{i}", "name": f"Bulk {i}",
                                          "kind": "supplier"}}) + "\n")
    wal = Path(f"{sample_db}-wal")
    start_size = wal.stat().st_size if wal.exists() else 0
    proc = subprocess.Popen(
        [sys.executable, "-c", "from leverage.cli import cli; cli()", "--db", str(sample_db),
         "load", str(big)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        # Wait until the load has written a good deal into the WAL (uncommitted pages).
        while time.monotonic() < deadline:
            assert proc.poll() is None, "the load finished before it could be killed"
            if wal.exists() and wal.stat().st_size > start_size + 2_000_000:
                break
            time.sleep(0.02)
        else:
            raise AssertionError("the load did not start writing in time")
        assert proc.poll() is None
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    result = invoke("verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: 11 events")
    assert export_bytes(sample_db) == before
    conn = sqlite3.connect(str(sample_db))
    assert conn.execute("SELECT COUNT(*) FROM events WHERE data LIKE '%bulk-%'"
                        ).fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM entities WHERE id LIKE 'bulk-%'").fetchone()[0] == 0
    conn.close()
    # ... and the ledger takes writes again, continuing the same chain.
    assert invoke("party", "add", "after", "--name", "After", "--kind", "other").exit_code == 0
    assert invoke("verify").stdout.startswith("ok: 12 events")


def test_a_failed_load_into_a_new_ledger_spares_a_concurrent_writer(db, tmp_path, invoke,
                                                                    write_jsonl, sample_events):
    # Process B starts a long load into a new ledger that fails at its last line; meanwhile
    # process A loads into the same (now existing) ledger and succeeds. B's clean-up must not
    # delete the ledger A wrote into.
    big = tmp_path / "big-bad.jsonl"
    with open(big, "w", encoding="utf-8") as fh:
        for i in range(100_000):
            fh.write(json.dumps({"type": "party.added", "at": "2021-02-01",
                                 "data": {"id": f"bulk-{i}", "name": f"Bulk {i}",
                                          "kind": "supplier"}}) + "\n")
        fh.write("{not json\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    b = subprocess.Popen([sys.executable, "-c", "from leverage.cli import cli; cli()",
                          "--db", str(db), "load", str(big)], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20

        def b_is_writing() -> bool:
            # B builds its new ledger in a file beside the target and writes into it.
            files = [Path(db), Path(f"{db}-wal"), *Path(db).parent.glob(f".{Path(db).name}.*")]
            return any(f.exists() and f.stat().st_size > 1_000_000 for f in files)

        while not b_is_writing():
            assert b.poll() is None, "B finished too early"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        small = write_jsonl(sample_events, "small.jsonl")
        a = subprocess.run([sys.executable, "-c", "from leverage.cli import cli; cli()",
                            "--db", str(db), "load", str(small)], env=env,
                           capture_output=True, text=True, timeout=60)
    finally:
        _, b_err = b.communicate(timeout=60)
    assert b.returncode == 1, b_err
    assert "big-bad.jsonl:100001" in b_err
    assert a.returncode == 0, a.stderr
    assert "loaded 11 events" in a.stdout
    result = invoke("verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: 11 events"), "A's events were lost"
