"""Benchmark of ``leverage status --json`` (issue 3, "Performance").

Generates a ledger of 100,000 impacts and about 1,000,000 events (the generator of
``bench_load.py``), then measures in one run:

* the baseline: read every event row from SQLite and ``json.loads`` its data (the least a
  full replay must do);
* ``leverage status --json`` (current status) as a subprocess, and in this process;
* ``leverage status --json --as-of DATE`` for a date in the middle of the ledger's history.

Targets (issue 3): current status at most 2x the baseline, status as of a past date at most
5x. A benchmark, not a test: it always exits 0.

    python benchmarks/bench_status.py                 # 1,000,000 events
    python benchmarks/bench_status.py --events 100000 # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_load import generate  # noqa: E402

CURRENT_TARGET = 2.0
PAST_TARGET = 5.0


def baseline(db: Path) -> float:
    start = time.perf_counter()
    conn = sqlite3.connect(db)
    n = 0
    for (data,) in conn.execute("SELECT data FROM events ORDER BY seq"):
        json.loads(data)
        n += 1
    conn.close()
    return time.perf_counter() - start


def cli(db: Path, *args: str) -> tuple[float, int]:
    argv = [sys.executable, "-c", "from leverage.cli import cli; cli()", "--db", str(db), *args]
    start = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, check=True,
                         env={**os.environ, "LEVERAGE_LOAD_PLUGINS": ""})
    took = time.perf_counter() - start
    return took, len(json.loads(out.stdout))


def in_process(db: Path, as_of=None) -> float:
    from leverage import open_ledger

    start = time.perf_counter()
    ledger = open_ledger(db)
    rows = [s.to_dict() for s in ledger.status(as_of=as_of)]
    json.dumps(rows)
    ledger.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-status-"))
    work.mkdir(parents=True, exist_ok=True)
    src = work / "events.jsonl"
    db = work / "ledger.db"
    if not db.exists():
        print(f"generating {args.events:,} events ...", flush=True)
        generate(src, args.events)
        from leverage import open_ledger

        start = time.perf_counter()
        ledger = open_ledger(db, create=True)
        ledger.load(src, actor="bench")
        ledger.close()
        print(f"loaded in {time.perf_counter() - start:.1f} s", flush=True)
    conn = sqlite3.connect(db)
    first, last = conn.execute("SELECT MIN(at_key), MAX(at_key) FROM events").fetchone()
    impacts = conn.execute("SELECT COUNT(*) FROM events WHERE type = 'impact.opened'").fetchone()[0]
    events = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    conn.close()
    from datetime import date

    d0, d1 = date.fromisoformat(first[:10]), date.fromisoformat(last[:10])
    middle = d0 + (d1 - d0) / 2
    today = date.today()
    base = min(baseline(db) for _ in range(2))
    cur, n_cur = cli(db, "status", "--json")
    past, n_past = cli(db, "status", "--json", "--as-of", middle.isoformat())
    cur_in = in_process(db, today)
    past_in = in_process(db, middle)
    print()
    print(f"ledger: {events:,} events, {impacts:,} impacts ({first[:10]} .. {last[:10]})")
    print(f"{'measure':48} {'seconds':>8} {'ratio':>7} {'target':>7}")
    print(f"{'baseline: read rows + json.loads':48} {base:8.2f} {1:7.2f}")
    print(f"{f'status --json (CLI, {n_cur:,} impacts)':48} {cur:8.2f} {cur / base:7.2f} "
          f"{CURRENT_TARGET:7.1f}")
    print(f"{f'status --json --as-of {middle} (CLI, {n_past:,})':48} {past:8.2f} "
          f"{past / base:7.2f} {PAST_TARGET:7.1f}")
    print(f"{'status, in process (current)':48} {cur_in:8.2f} {cur_in / base:7.2f}")
    print(f"{'status, in process (past date)':48} {past_in:8.2f} {past_in / base:7.2f}")


if __name__ == "__main__":
    main()
