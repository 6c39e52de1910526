"""Benchmark of ``leverage import crm`` (issue 5, "Performance").

Generates a realistic Salesforce Account export (100,000 rows by default: every standard
``Type``, about a tenth with a ``ParentId``, quoted commas, multi-line streets, non-Latin
names) and measures, in one run and each as a ``leverage`` child process:

* the baseline: ``csv.DictReader`` over the export (in this process) plus
  ``leverage load`` of the equivalent events (the exact events the import writes, taken from
  ``leverage import crm --dry-run --json``) into a ledger holding only the self party;
* the first import of the export into such a ledger;
* the re-import of the unchanged export (writes nothing);
* the import of an export with 1% of rows changed (``--changed``; 0 skips it).

Each measurement runs ``--repeat`` times (default 3) and the median is reported, since a
shared machine's load moves single runs by a factor of two.

Targets (issue 5): first import at most 1.5x the baseline, unchanged re-import at most 0.5x.
This is a benchmark, not a test: it always exits 0.

    python benchmarks/bench_crm.py                    # 100,000 rows
    python benchmarks/bench_crm.py --rows 20000       # a quick run
    python benchmarks/bench_crm.py --keep /tmp/bench  # keep the generated files
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

from harness import Run, leverage_cmd, run, work_dir

FIRST_TARGET = 1.5
REIMPORT_TARGET = 0.5
AT = "2024-06-30"

TYPES = [("Customer - Direct", 30), ("Customer - Channel", 15), ("Channel Partner / Reseller", 8),
         ("Installation Partner", 4), ("Technology Partner", 5), ("Prospect", 20), ("Vendor", 6),
         ("Other", 4), ("", 6), ("Competitor", 2)]
COUNTRIES = ["Germany", "France", "United States", "United Kingdom", "Japan", "Brazil", "India", "Kenya",
             "Bangladesh", "Viet Nam", "Türkiye", "Mexico", "China", "South Africa", "Poland"]
INDUSTRIES = ["Media", "Technology", "Apparel", "Finance", "Retail", "Telecommunications", "Energy",
              "Transportation", "Manufacturing", "Non-Profit", "Government", ""]
STEMS = ["Acme", "Globex", "Initech", "Umbrella", "Nordlicht", "Sakura", "Savanna", "Andino", "Nimbus",
         "Atlas", "Helios", "Orion", "Delta", "Pampa", "Kiwi", "Baltic", "株式会社サクラ", "Северный",
         "النور", "한빛", "भारत", "Ελληνική", "Café Olé", "O'Brien"]
FORMS = ["GmbH", "SARL", "Inc.", "Ltd", "plc", "S.A.", "B.V.", "KK", "LLC", "AG", "Co., Ltd.", "S.A. de C.V."]
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
HEADER = ["Id", "IsDeleted", "Name", "Type", "ParentId", "BillingStreet", "BillingCity", "BillingPostalCode",
          "BillingCountry", "Phone", "Website", "Industry", "AnnualRevenue", "NumberOfEmployees", "OwnerId",
          "CreatedDate"]


def sf18(id15: str) -> str:
    out = ""
    for start in (0, 5, 10):
        bits = sum(1 << i for i, c in enumerate(id15[start:start + 5]) if "A" <= c <= "Z")
        out += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]
    return id15 + out


def generate(path: Path, rows: int, *, seed: int = 5, changed: float = 0.0) -> None:
    """Write a Salesforce Account export of ``rows`` accounts (``changed``: that share of
    rows renamed or retyped, from the same seed)."""
    rng = random.Random(seed)
    change = random.Random(seed + 1)
    types = [t for t, w in TYPES for _ in range(w)]
    ids: list[str] = []
    seen: set[str] = set()
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
        writer.writerow(HEADER)
        for n in range(rows):
            while True:
                id15 = "001" + "".join(rng.choice(ALNUM) for _ in range(12))
                if id15.lower() not in seen:
                    seen.add(id15.lower())
                    break
            id18 = sf18(id15)
            name = f"{rng.choice(STEMS)} {rng.choice(['Media', 'Holdings', 'Textiles', 'Cloud', 'Logistics'])} " \
                   f"{n} {rng.choice(FORMS)}"
            type_ = rng.choice(types)
            parent = ids[rng.randrange(len(ids))] if ids and rng.random() < 0.1 else ""
            street = f"{rng.randrange(1, 300)} Main Street" + ("\nBuilding B" if rng.random() < 0.05 else "")
            if change.random() < changed:
                if change.random() < 0.5:
                    name += " (renamed)"
                else:
                    type_ = change.choice(types)
            writer.writerow([
                id18, "false", name, type_, parent, street, "City", f"{rng.randrange(10000, 99999)}",
                rng.choice(COUNTRIES), f"+1 555 {rng.randrange(1000, 9999)}", "", rng.choice(INDUSTRIES),
                str(rng.randrange(10**5, 10**9)), str(rng.randrange(1, 20000)), "0055g00000Bq3xWAAR",
                f"20{rng.randrange(10, 24)}-0{rng.randrange(1, 9)}-1{rng.randrange(0, 9)}T09:00:00.000Z",
            ])
            ids.append(id18)


def must(r: Run, what: str) -> Run:
    if r.rc != 0:
        raise SystemExit(f"{what} failed: {r.err.strip().splitlines()[-1] if r.err.strip() else r.rc}")
    return r


def seeded(db: Path, template: Path) -> Path:
    shutil.copyfile(template, db)
    return db


def count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    finally:
        conn.close()


def dict_reader(path: Path) -> tuple[float, int, float]:
    """Wall seconds, rows and CPU seconds of a csv.DictReader pass over ``path``."""
    t0, c0 = time.perf_counter(), time.process_time()
    n = 0
    with open(path, encoding="utf-8", newline="") as fh:
        for _row in csv.DictReader(fh):
            n += 1
    return time.perf_counter() - t0, n, time.process_time() - c0


def _median(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]


def fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000, help="accounts in the generated export")
    ap.add_argument("--keep", metavar="DIR", help="write the files to DIR and keep them")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each measurement (the median is shown)")
    ap.add_argument("--changed", type=float, default=0.01,
                    help="share of rows changed in a second export (0: skip that measurement)")
    args = ap.parse_args(argv)
    with work_dir(args.keep, "bench_crm_") as work:
        bench(args, work)


def bench(args: argparse.Namespace, work: Path) -> None:
    lev = leverage_cmd()
    print(f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, {os.cpu_count()} cpus; "
          f"leverage command: {' '.join(lev)}")
    export = work / "accounts.csv"
    t0 = time.perf_counter()
    generate(export, args.rows)
    print(f"generated {args.rows:,} accounts ({export.stat().st_size / 1e6:.1f} MB) in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)

    template = work / "template.db"
    self_file = work / "self.jsonl"
    self_file.write_text('{"type":"party.added","at":"2020-01-01","actor":"bench",'
                         '"data":{"id":"we","name":"We Host GmbH","kind":"self"}}\n', encoding="utf-8")
    must(run([*lev, "--db", str(template), "load", str(self_file)]), "seeding the ledger")

    # the equivalent events: exactly what the import writes (untimed)
    events = work / "events.jsonl"
    must(run([*lev, "--db", str(seeded(work / "dry.db", template)), "import", "crm", str(export),
              "--format", "salesforce", "--at", AT, "--dry-run", "--json"], stdout=events), "dry run")
    n_events = sum(1 for _ in open(events, "rb"))
    print(f"equivalent events: {n_events:,} ({events.stat().st_size / 1e6:.1f} MB)", flush=True)

    dict_reader(export)  # warm the page cache
    readers, loads, firsts, agains = [], [], [], []
    for i in range(args.repeat):
        readers.append(dict_reader(export))
        base_db = seeded(work / f"baseline-{i}.db", template)
        loads.append(must(run([*lev, "--db", str(base_db), "load", str(events)]), "leverage load"))
        db = seeded(work / f"import-{i}.db", template)
        firsts.append(must(run([*lev, "--db", str(db), "import", "crm", str(export), "--format", "salesforce",
                                "--at", AT]), "first import"))
        assert count(db) == count(base_db), (count(db), count(base_db))
        agains.append(must(run([*lev, "--db", str(db), "import", "crm", str(export), "--format", "salesforce"]),
                           "re-import"))
        assert count(db) == count(base_db), "the re-import of an unchanged export wrote events"
        print(f"run {i + 1}: csv.DictReader {readers[-1][0]:.3f} s ({readers[-1][1]:,} rows), leverage load "
              f"{loads[-1].seconds:.3f} s, first import {firsts[-1].seconds:.3f} s, re-import "
              f"{agains[-1].seconds:.3f} s", flush=True)
        if i:  # keep the disk use of one run
            (work / f"baseline-{i - 1}.db").unlink()
            (work / f"import-{i - 1}.db").unlink()
    reader_s = statistics.median(r[0] for r in readers)
    reader_cpu = statistics.median(r[2] for r in readers)
    load = _median(loads)
    first = _median(firsts)
    again = _median(agains)
    baseline = reader_s + load.seconds
    baseline_cpu = reader_cpu + load.cpu

    def row(label: str, r: Run, target: float | None = None) -> tuple:
        ratio = r.seconds / baseline
        verdict = "" if target is None else ("ok" if ratio <= target else "OVER TARGET")
        return (label, r.seconds, ratio, r.cpu, r.cpu / baseline_cpu, r.peak_mb,
                f"<= {target:g}x" if target else "", verdict)

    table: list[tuple] = [
        ("baseline: csv.DictReader + leverage load", baseline, 1.0, baseline_cpu, 1.0, load.peak_mb, "", ""),
        ("  csv.DictReader over the export", reader_s, None, reader_cpu, None, None, "", ""),
        ("  leverage load of the equivalent events", load.seconds, None, load.cpu, None, load.peak_mb, "", ""),
        row("leverage import crm: first import", first, FIRST_TARGET),
        row("leverage import crm: unchanged re-import", again, REIMPORT_TARGET),
    ]
    if args.changed > 0:
        changed = work / "accounts-changed.csv"
        generate(changed, args.rows, changed=args.changed)
        before = count(db)
        r = must(run([*lev, "--db", str(db), "import", "crm", str(changed), "--format", "salesforce"]),
                 "changed import")
        table.append(row(f"leverage import crm: {args.changed:.0%} of rows changed ({count(db) - before:,} events)",
                         r))

    head = ("measurement", "wall s", "ratio", "cpu s", "cpu ratio", "peak MB", "target", "verdict")
    cells = [head] + [(n, fmt(s, "9.3f"), fmt(x, "6.2f") + ("x" if x is not None else ""), fmt(c, "8.3f"),
                       fmt(cx, "6.2f") + ("x" if cx is not None else ""), fmt(m, "7.1f"), t, v)
                      for n, s, x, c, cx, m, t, v in table]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    print()
    print(f"{args.rows:,}-row Salesforce export, {n_events:,} events; median of {args.repeat} runs; "
          "ratios against the baseline (the targets are on wall time)")
    for j, c in enumerate(cells):
        print("  ".join(c[i].ljust(widths[i]) if i in (0, 6, 7) else c[i].rjust(widths[i])
                        for i in range(len(head))))
        if j == 0:
            print("  ".join("-" * w for w in widths))

if __name__ == "__main__":
    main()
