"""Benchmark of ``leverage status --json`` (issue 3, "Performance").

Generates a ledger of 100,000 impacts and about 1,000,000 events (the generator of
``bench_load.py``), then measures in one run:

* the baseline: read every event row from SQLite and ``json.loads`` its data (the least a
  full replay must do);
* ``leverage status --json`` (current status) as a subprocess: first "cold", the first status
  after a load (the status projection is built from a full replay and stored: see
  ``leverage/projection.py``), then "warm", every later one (the stored projection is read
  and finished for today), and in this process;
* ``leverage status --json --as-of DATE`` for a date in the middle of the ledger's history
  (a replay), as a subprocess and in this process.

Targets (issue 3): current status at most 2x the baseline, status as of a past date at most
5x. A benchmark, not a test: it always exits 0. The installed plugins load as they do for a
user (the built-in ``leverage_tos`` registers checks; they declare ``applies_to``, so the
current status folds only the impacts they apply to); ``--no-plugins`` loads none
(``LEVERAGE_LOAD_PLUGINS`` empty).

    python benchmarks/bench_status.py                 # 1,000,000 events
    python benchmarks/bench_status.py --events 100000 # a quick run
    python benchmarks/bench_status.py --keep /tmp/bs  # keep (and reuse) the generated ledger
    python benchmarks/bench_status.py --repeat 3      # the best of 3 runs of each measure
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
    out = subprocess.run(argv, capture_output=True, check=True, env=os.environ)
    took = time.perf_counter() - start
    return took, len(json.loads(out.stdout))


def in_process(db: Path, as_of=None) -> tuple[float, float]:
    """Seconds for open + ``Ledger.status`` + ``to_dict`` + JSON text, rendered as the CLI
    renders it (orjson, the garbage collector paused: ~10^6 objects, no cycles), and for
    the first two alone."""
    import orjson

    from leverage import open_ledger
    from leverage.gcpause import gc_paused

    start = time.perf_counter()
    with gc_paused():
        ledger = open_ledger(db)
        statuses = ledger.status(as_of=as_of)
        computed = time.perf_counter()
        rows = [s.to_dict() for s in statuses]
        orjson.dumps(rows, option=orjson.OPT_INDENT_2)
        ledger.close()
    return time.perf_counter() - start, computed - start


def forget_projection(db: Path) -> None:
    """Drop the stored status projection (derived data): the next status builds it again."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("DELETE FROM projection_meta")
        conn.execute("DELETE FROM projection_status")
    conn.close()


def best(repeat: int, measure, *args):
    runs = [measure(*args) for _ in range(repeat)]
    return min(runs, key=lambda r: r[0] if isinstance(r, tuple) else r)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=1, help="report the best of N runs")
    parser.add_argument("--no-plugins", action="store_true",
                        help="load no plugin (LEVERAGE_LOAD_PLUGINS=); default: the installed ones")
    args = parser.parse_args()
    if args.no_plugins:
        os.environ["LEVERAGE_LOAD_PLUGINS"] = ""
    if args.keep:  # kept, and its ledger reused by the next run
        args.keep.mkdir(parents=True, exist_ok=True)
        _bench(args, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-status-") as tmp:
            _bench(args, Path(tmp))


def _bench(args: argparse.Namespace, work: Path) -> None:
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
    from leverage import open_ledger

    open_ledger(db).close()  # apply pending migrations before anything is timed
    base = min(baseline(db) for _ in range(2))
    colds = []
    for _ in range(args.repeat):
        forget_projection(db)
        colds.append(cli(db, "status", "--json"))
    cold, n_cold = min(colds)
    cur, n_cur = best(args.repeat, cli, db, "status", "--json")
    past, n_past = best(args.repeat, cli, db, "status", "--json", "--as-of", middle.isoformat())
    cur_in, cur_call = best(args.repeat, in_process, db, today)
    past_in, past_call = best(args.repeat, in_process, db, middle)
    print()
    print(f"ledger: {events:,} events, {impacts:,} impacts ({first[:10]} .. {last[:10]}); "
          f"plugins: {'none' if args.no_plugins else 'installed'}; best of {args.repeat}")
    print(f"{'measure':52} {'seconds':>8} {'ratio':>7} {'target':>7}")
    print(f"{'baseline: read rows + json.loads':52} {base:8.2f} {1:7.2f}")
    print(f"{'status --json (CLI, cold: builds the projection)':52} {cold:8.2f} "
          f"{cold / base:7.2f}")
    print(f"{f'status --json (CLI, {n_cur:,} impacts)':52} {cur:8.2f} {cur / base:7.2f} "
          f"{CURRENT_TARGET:7.1f}")
    print(f"{f'status --json --as-of {middle} (CLI, {n_past:,})':52} {past:8.2f} "
          f"{past / base:7.2f} {PAST_TARGET:7.1f}")
    print(f"{'status, in process (current)':52} {cur_in:8.2f} {cur_in / base:7.2f} "
          f"{CURRENT_TARGET:7.1f}")
    print(f"{'  of which open_ledger + Ledger.status()':52} {cur_call:8.2f} {cur_call / base:7.2f}")
    print(f"{'status, in process (past date)':52} {past_in:8.2f} {past_in / base:7.2f} "
          f"{PAST_TARGET:7.1f}")
    print(f"{'  of which open_ledger + Ledger.status()':52} {past_call:8.2f} "
          f"{past_call / base:7.2f}")
    assert n_cold == n_cur

if __name__ == "__main__":
    main()
