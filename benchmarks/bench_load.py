"""Benchmark of ``leverage load`` (issue 2, "Performance").

Generates a realistic JSON Lines file of valid plain events (1,000,000 by default) and
measures, in one run:

* the baseline: read the file, ``json.loads`` each line, ``sqlite3.executemany`` into a
  fresh one-table database (default journal settings), committed;
* ``Ledger.load`` in this process (``open_ledger(path, create=True).load(file)``);
* ``leverage --db X load FILE`` as a subprocess: wall time and peak RSS of the child;
* ``leverage export -o F``, ``leverage verify`` and ``leverage verify F`` on that ledger;
* ``leverage --help`` against ``python -c "import click"`` (median of several runs).

Targets (issue 2): load at most 3x the baseline, peak memory under 300 MB, ``--help`` at
most 3x ``import click``. This is a benchmark, not a test: it always exits 0.

    python benchmarks/bench_load.py                     # 1,000,000 events
    python benchmarks/bench_load.py --events 100000     # a quick run
    python benchmarks/bench_load.py --keep /tmp/bench   # keep the generated files
    python benchmarks/bench_load.py --memory-scaling    # peak RSS of loads of growing prefixes
    python benchmarks/bench_load.py --timeout 1800      # stop a load that takes longer

Peak RSS is the child's own (``getrusage(RUSAGE_CHILDREN)`` in a small wrapper process).
Other processes on the machine skew the wall times: the load average is printed.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness import TIMED_OUT, leverage_cmd, run, work_dir

LOAD_RATIO_TARGET = 3.0
PEAK_MB_TARGET = 300.0
HELP_RATIO_TARGET = 3.0

# -- the generator ----------------------------------------------------------------------------

PARTY_KINDS = ("client", "partner", "supplier", "customer", "user-group", "government",
               "civil-society", "other")
REL_TYPES = ("hosts", "serves", "supplies", "partners-with", "resells", "invests-in", "owns",
             "advertises-on")
RIGHTS = ("life", "security-of-person", "expression", "assembly", "privacy",
          "non-discrimination", "participation", "labour", "health")
STEP_KINDS = ("dialogue", "information-request", "capacity-building", "incentive",
              "formal-notice", "code-of-conduct-notice", "contractual-assurance",
              "corrective-action-plan", "enhanced-action-plan", "withhold-business",
              "peer-collaboration", "multi-stakeholder")
OUTCOMES = ("improved", "no-change", "worsened", "remediated")
ASSESSMENTS = {
    "termination-impact": ("exit-acceptable", "exit-more-severe"),
    "leverage": ("promising", "not-promising"),
    "rabat": ("incitement", "below-threshold"),
    "stakeholder": ("workers report continued excessive overtime",
                    "community concerns partly addressed"),
    "expert": ("independent audit confirms the violation", "no evidence of ongoing harm"),
}
COUNTRIES = ("DE", "FR", "BD", "VN", "IN", "BR", "US", "KE", "MX", "TR", "PK", "ID", "CN")
SECTORS = ("apparel", "electronics", "mining", "agriculture", "logistics", "media",
           "telecom", "finance", "construction")
ACTORS = ("ana", "ben", "chidi", "dana", "emre", "fatima", "goran", "hui")
WORDS = ("harm", "workers", "wages", "overtime", "union", "surveillance", "data", "access",
         "community", "water", "land", "safety", "fire", "audit", "contract", "remedy",
         "grievance", "content", "moderation", "children", "migrant", "fees", "housing")

START = datetime(2019, 1, 2, tzinfo=UTC)
END = datetime(2024, 12, 30, tzinfo=UTC)


def plan_counts(n: int, decisions: bool) -> dict[str, int]:
    """How many events of each type a file of ``n`` events holds (issue-2 mix at 1M)."""
    parties = max(3, round(n * 0.02))          # 20,000 at 1M
    updates = round(n * 0.004)                 # 4,000
    rels = max(2, round(n * 0.04))             # 40,000
    impacts = max(1, round(n * 0.10))          # 100,000
    rest = n - parties - updates - rels - impacts
    share = {"step.taken": 0.42, "step.outcome": 0.18, "assessment.recorded": 0.12,
             "impact.reassessed": 0.13, "decision.made": 0.15}
    if not decisions:
        del share["decision.made"]
    total = sum(share.values())
    counts = {"party.added": parties, "party.updated": updates, "relationship.added": rels,
              "impact.opened": impacts}
    left = rest
    names = list(share)
    for name in names[:-1]:
        counts[name] = round(rest * share[name] / total)
        left -= counts[name]
    counts[names[-1]] = left
    return counts


def _recent(rng: random.Random, items: list, mean: float):
    """An item of ``items``, favouring the most recent ones (about ``mean`` back on average)."""
    n = len(items)
    k = int(rng.expovariate(1 / max(1.0, min(mean, n / 4))))
    return items[-1 - k] if k < n else items[rng.randrange(n)]


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize()


def generate(path: Path, n: int, *, seed: int = 19, decisions: bool = True) -> dict[str, int]:
    """Write ``n`` valid plain events to ``path``; every prefix of the file is valid too."""
    rng = random.Random(seed)
    counts = plan_counts(n, decisions)
    remaining = dict(counts)
    made = {t: 0 for t in counts}
    parties: list[str] = []
    rels: list[tuple[str, str]] = []      # (id, target party)
    impacts: list[tuple[str, str]] = []   # (id, target party)
    last_step: dict[str, str] = {}        # impact -> its latest step id
    stepped: list[str] = []               # impacts with at least one step
    step_no = 0
    span = (END - START).total_seconds()
    dumps = json.dumps
    with open(path, "w", encoding="utf-8") as out:
        for k in range(n):
            moment = START + timedelta(seconds=(k + rng.random()) * span / n)
            day = moment.date()
            at = day.isoformat() if rng.random() < 0.25 else moment.strftime("%Y-%m-%dT%H:%M:%SZ")
            feasible = []
            for t, left in remaining.items():
                if not left:
                    continue
                if t == "party.updated" and not parties:
                    continue
                if t == "relationship.added" and len(parties) < 2:
                    continue
                if t == "impact.opened" and not rels:
                    continue
                if t in ("step.taken", "assessment.recorded", "impact.reassessed",
                         "decision.made") and not impacts:
                    continue
                if t == "step.outcome" and not stepped:
                    continue
                feasible.append(t)
            if not feasible:  # only dependent events left and nothing to depend on
                feasible = ["party.added"]
                remaining["party.added"] = remaining.get("party.added", 0) + 1
            if len(parties) < 2 and "party.added" in feasible:
                t = "party.added"
            elif not rels and "relationship.added" in feasible:
                t = "relationship.added"
            elif not impacts and "impact.opened" in feasible:
                t = "impact.opened"
            else:
                t = rng.choices(feasible, weights=[remaining[x] for x in feasible])[0]
            remaining[t] -= 1
            made[t] = made.get(t, 0) + 1
            if t == "party.added":
                pid = f"p{len(parties):06d}"
                d: dict[str, object] = {
                    "id": pid, "name": f"{rng.choice(WORDS).capitalize()} {pid.upper()} Ltd",
                    "kind": "self" if not parties else rng.choice(PARTY_KINDS),
                    "country": rng.choice(COUNTRIES), "sector": rng.choice(SECTORS)}
                if rng.random() < 0.3:
                    d["external_ids"] = {"lei": f"5299{rng.randrange(10**15):015d}"}
                if rng.random() < 0.2:
                    d["attributes"] = {"tier": rng.randrange(1, 4), "audited": rng.random() < 0.5}
                parties.append(pid)
            elif t == "party.updated":
                d = {"id": rng.choice(parties)}
                r = rng.random()
                if r < 0.4:
                    d["sector"] = rng.choice(SECTORS)
                elif r < 0.7:
                    d["country"] = rng.choice(COUNTRIES)
                elif r < 0.9:
                    d["name"] = f"{rng.choice(WORDS).capitalize()} {d['id']} Group"
                else:
                    d["kind"] = rng.choice(PARTY_KINDS)
            elif t == "relationship.added":
                rid = f"r{len(rels):06d}"
                source = parties[0] if rng.random() < 0.7 else rng.choice(parties)
                target = rng.choice(parties)
                while target == source:
                    target = rng.choice(parties)
                d = {"id": rid, "source": source, "target": target, "type": rng.choice(REL_TYPES),
                     "crucial": rng.random() < 0.2, "leverage": rng.randrange(1, 6),
                     "since": (day - timedelta(days=rng.randrange(0, 2000))).isoformat()}
                if rng.random() < 0.5:
                    d["contract"] = f"MSA-{rng.randrange(10**6):06d}"
                rels.append((rid, target))
            elif t == "impact.opened":
                iid = f"i{len(impacts):06d}"
                rid, target = _recent(rng, rels, 2000)
                d = {"id": iid, "relationship": rid,
                     "rights": rng.sample(RIGHTS, rng.randrange(1, 3)),
                     "summary": _text(rng, 8),
                     "severity": {"scale": rng.randrange(1, 6), "scope": rng.randrange(1, 6),
                                  "irremediability": rng.randrange(1, 6)},
                     "likelihood": rng.randrange(1, 6),
                     "involvement": rng.choice(("cause", "contribute", "linked")),
                     "status": rng.choice(("potential", "actual"))}
                if rng.random() < 0.3:
                    d["affected"] = [_text(rng, 2) for _ in range(rng.randrange(1, 3))]
                impacts.append((iid, target))
            else:
                # Activity favours recent impacts (an impact is worked on for a while).
                iid, target = _recent(rng, impacts, 5000)
                if t == "step.taken":
                    sid = f"s{step_no:07d}"
                    step_no += 1
                    d = {"impact": iid, "id": sid, "kind": rng.choice(STEP_KINDS),
                         "summary": _text(rng, 10),
                         "deadline": (day + timedelta(days=rng.randrange(7, 120))).isoformat()}
                    if rng.random() < 0.5:
                        d["with"] = [target]
                    if rng.random() < 0.3:
                        d["policy_refs"] = ["UNGP 19"]
                    if iid not in last_step:
                        stepped.append(iid)
                    last_step[iid] = sid
                elif t == "step.outcome":
                    iid = _recent(rng, stepped, 5000)
                    d = {"impact": iid, "outcome": rng.choice(OUTCOMES), "summary": _text(rng, 8)}
                    if rng.random() < 0.7:
                        d["step"] = last_step[iid]
                elif t == "assessment.recorded":
                    kind = rng.choice(tuple(ASSESSMENTS))
                    d = {"impact": iid, "kind": kind,
                         "conclusion": rng.choice(ASSESSMENTS[kind]), "summary": _text(rng, 10)}
                    if kind in ("expert", "stakeholder") and rng.random() < 0.5:
                        d["experts"] = [f"{rng.choice(WORDS).capitalize()} Institute"]
                    if rng.random() < 0.2:
                        d["findings"] = {"interviews": rng.randrange(5, 200), "sites": rng.randrange(1, 9)}
                elif t == "impact.reassessed":
                    d = {"id": iid, "summary": _text(rng, 8)}
                    if rng.random() < 0.6:
                        d["severity"] = {"scale": rng.randrange(1, 6), "scope": rng.randrange(1, 6),
                                         "irremediability": rng.randrange(1, 6)}
                    if rng.random() < 0.5:
                        d["likelihood"] = rng.randrange(1, 6)
                    if rng.random() < 0.3:
                        d["status"] = rng.choice(("potential", "actual"))
                else:  # decision.made: continue only (suspend/terminate have gates)
                    d = {"impact": iid, "decision": "continue", "rationale": _text(rng, 12),
                         "policy_refs": ["UNGP 19", "UNGP 19 commentary"]}
                    if rng.random() < 0.3:
                        d["approved_by"] = "head of human rights"
            out.write(dumps({"type": t, "at": at, "actor": rng.choice(ACTORS), "data": d},
                            ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
    return made


# -- measurements -----------------------------------------------------------------------------

def baseline(src: Path, db: Path) -> float:
    """json.loads of every line plus sqlite3.executemany into a one-table schema, committed."""
    t0 = time.perf_counter()
    conn = sqlite3.connect(str(db), isolation_level=None)
    conn.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY, type TEXT, at TEXT, "
                 "actor TEXT, data TEXT)")
    loads, dumps = json.loads, json.dumps

    def rows():
        with open(src, encoding="utf-8") as fh:
            for seq, line in enumerate(fh, 1):
                obj = loads(line)
                yield (seq, obj["type"], obj["at"], obj.get("actor"), dumps(obj["data"]))

    conn.execute("BEGIN")
    conn.executemany("INSERT INTO events (seq, type, at, actor, data) VALUES (?, ?, ?, ?, ?)",
                     rows())
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - t0


class LoadTimeout(Exception):
    pass


def in_process_load(src: Path, db: Path, timeout: float = 0) -> tuple[float, int]:
    import signal

    from leverage import open_ledger

    def stop(signum: int, frame: object) -> None:
        raise LoadTimeout(f"stopped after the --timeout of {timeout:g} s")

    alarm = timeout > 0 and hasattr(signal, "SIGALRM")
    if alarm:
        signal.signal(signal.SIGALRM, stop)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    t0 = time.perf_counter()
    try:
        ledger = open_ledger(db, create=True)
        try:
            count = ledger.load(src)
        finally:
            ledger.close()
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
    return time.perf_counter() - t0, count


def median_wall(argv: list[str], runs: int) -> tuple[float, int]:
    times = []
    rc = 0
    run(argv, quiet=True)  # warm the page cache and .pyc files
    for _ in range(runs):
        r = run(argv, quiet=True)
        rc = rc or r.rc
        times.append(r.seconds)
    return statistics.median(times), rc


def warm(path: Path) -> None:
    with open(path, "rb") as fh:
        while fh.read(1 << 24):
            pass


def prefix(src: Path, dst: Path, lines: int) -> None:
    with open(src, "rb") as fh, open(dst, "wb") as out:
        for i, line in enumerate(fh):
            if i >= lines:
                break
            out.write(line)


# -- report -----------------------------------------------------------------------------------

def fmt_s(x: float | None) -> str:
    return "-" if x is None else f"{x:9.3f}"


def fmt_r(x: float | None) -> str:
    return "-" if x is None else f"{x:6.2f}x"


def fmt_mb(x: float | None) -> str:
    return "-" if x is None else f"{x:7.1f}"


def table(rows: list[tuple[str, float | None, float | None, float | None, str, str]]) -> str:
    head = ("measurement", "seconds", "ratio", "peak MB", "target", "verdict")
    cells = [head] + [(n, fmt_s(s), fmt_r(r), fmt_mb(m), t, v) for n, s, r, m, t, v in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    lines = []
    for j, c in enumerate(cells):
        lines.append("  ".join(c[i].ljust(widths[i]) if i in (0, 4, 5) else c[i].rjust(widths[i])
                               for i in range(len(head))))
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("ok" if ok else "OVER TARGET")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000, help="events to generate")
    ap.add_argument("--keep", metavar="DIR", help="write the files to DIR and keep them")
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--no-decisions", action="store_true",
                    help="generate no decision.made events (their share goes to the others)")
    ap.add_argument("--help-runs", type=int, default=10,
                    help="runs of `leverage --help` and `import click` (median)")
    ap.add_argument("--timeout", type=float, default=0, metavar="SECONDS",
                    help="stop each load after SECONDS (0: no limit)")
    ap.add_argument("--skip-in-process", action="store_true",
                    help="measure the CLI load only")
    ap.add_argument("--memory-scaling", action="store_true",
                    help="also load prefixes of 1/8, 1/4 and 1/2 of the file (peak RSS by size)")
    args = ap.parse_args(argv)

    with work_dir(args.keep, "bench_load_") as work:
        _bench(args, work)


def _bench(args: argparse.Namespace, work: Path) -> None:
    src = work / "events.jsonl"
    n = args.events
    lev = leverage_cmd()
    print(f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, "
          f"{os.cpu_count()} cpus{_loadavg()}; {_revision()}; command: {' '.join(lev)}")
    t0 = time.perf_counter()
    made = generate(src, n, seed=args.seed, decisions=not args.no_decisions)
    size_mb = src.stat().st_size / 1e6
    print(f"generated {n:,} events ({size_mb:,.1f} MB) in {time.perf_counter() - t0:.1f} s: "
          + ", ".join(f"{t} {c:,}" for t, c in made.items()))
    gc.collect()
    warm(src)

    rows: list[tuple[str, float | None, float | None, float | None, str, str]] = []
    notes: list[str] = []

    base = baseline(src, work / "baseline.db")
    print(f"baseline (json.loads + executemany): {base:.3f} s", flush=True)
    rows.append(("baseline: json.loads + executemany", base, 1.0, None, "", ""))

    if not args.skip_in_process:
        gc.collect()
        try:
            secs, count = in_process_load(src, work / "inproc.db", args.timeout)
            print(f"in-process load: {secs:.3f} s ({count:,} events)", flush=True)
            rows.append(("load, in process (Ledger.load)", secs, secs / base, None,
                         f"<= {LOAD_RATIO_TARGET:g}x", verdict(secs / base <= LOAD_RATIO_TARGET)))
        except LoadTimeout as exc:
            print(f"in-process load: {exc}", flush=True)
            rows.append(("load, in process (Ledger.load)", args.timeout, None, None,
                         f"<= {LOAD_RATIO_TARGET:g}x", "TIMED OUT"))
            notes.append(f"in-process load {exc}: more than {args.timeout / base:.1f}x")
        except Exception as exc:
            print(f"in-process load FAILED: {type(exc).__name__}: {exc}", flush=True)
            rows.append(("load, in process (Ledger.load)", None, None, None,
                         f"<= {LOAD_RATIO_TARGET:g}x", "FAILED"))
            notes.append(f"in-process load failed: {type(exc).__name__}: {exc}")
        for suffix in ("", "-wal", "-shm"):
            Path(str(work / "inproc.db") + suffix).unlink(missing_ok=True)

    db = work / "ledger.db"
    r = run([*lev, "--db", str(db), "load", str(src)], timeout=args.timeout)
    print(f"CLI load: {r.seconds:.3f} s, peak {r.peak_mb:.1f} MB, exit {r.rc}", flush=True)
    if r.ok:
        ok = r.seconds / base <= LOAD_RATIO_TARGET and r.peak_mb < PEAK_MB_TARGET
        rows.append(("load, CLI (leverage load)", r.seconds, r.seconds / base, r.peak_mb,
                     f"<= {LOAD_RATIO_TARGET:g}x, < {PEAK_MB_TARGET:g} MB", verdict(ok)))
        notes.append("CLI load said: " + r.out.strip())
    else:
        timed_out = r.rc == TIMED_OUT
        rows.append(("load, CLI (leverage load)", r.seconds, None, r.peak_mb,
                     f"<= {LOAD_RATIO_TARGET:g}x, < {PEAK_MB_TARGET:g} MB",
                     "TIMED OUT" if timed_out else "FAILED"))
        notes.append(f"CLI load {r.error_line()}: more than {r.seconds / base:.1f}x" if timed_out
                     else f"CLI load failed (exit {r.rc}): {r.error_line()}")

    if r.ok:
        exp = work / "export.jsonl"
        for label, argv in (
            ("export (leverage export -o F)", [*lev, "--db", str(db), "export", "-o", str(exp)]),
            ("verify the ledger (leverage verify)", [*lev, "--db", str(db), "verify"]),
            ("verify the export (leverage verify F)", [*lev, "--db", str(db), "verify", str(exp)]),
        ):
            x = run(argv)
            print(f"{label}: {x.seconds:.3f} s, peak {x.peak_mb:.1f} MB, exit {x.rc}", flush=True)
            rows.append((label, x.seconds, x.seconds / base, x.peak_mb, "",
                         "" if x.ok else "FAILED"))
            if not x.ok:
                notes.append(f"{label} failed: {x.error_line()}")
            elif "verify" in label:
                notes.append(f"{label} said: {x.out.strip()}")

    if args.memory_scaling:
        for frac in (8, 4, 2):
            lines = n // frac
            part = work / f"prefix_{lines}.jsonl"
            prefix(src, part, lines)
            pdb = work / f"prefix_{lines}.db"
            x = run([*lev, "--db", str(pdb), "load", str(part)], timeout=args.timeout)
            rows.append((f"load, CLI, first {lines:,} events", x.seconds, x.seconds / base * frac,
                         x.peak_mb, "ratio vs baseline share",
                         "" if x.ok else ("TIMED OUT" if x.rc == TIMED_OUT else "FAILED")))
            print(f"CLI load of {lines:,}: {x.seconds:.3f} s, peak {x.peak_mb:.1f} MB", flush=True)
            for suffix in ("", "-wal", "-shm"):
                Path(str(pdb) + suffix).unlink(missing_ok=True)
            part.unlink()

    help_s, help_rc = median_wall([*lev, "--help"], args.help_runs)
    click_s, _ = median_wall([sys.executable, "-c", "import click"], args.help_runs)
    rows.append((f"leverage --help (median of {args.help_runs})", help_s, None, None, "", ""))
    rows.append((f'python -c "import click" (median of {args.help_runs})', click_s, None, None,
                 "", ""))
    rows.append(("  --help / import click", None, help_s / click_s, None,
                 f"<= {HELP_RATIO_TARGET:g}x",
                 "FAILED" if help_rc else verdict(help_s / click_s <= HELP_RATIO_TARGET)))

    print()
    print(f"leverage load benchmark: {n:,} events, {size_mb:,.1f} MB of JSON Lines "
          "(ratios: to the baseline; --help: to import click)")
    print(table(rows))
    for note in notes:
        print("  " + note)
    print(f"  at the end{_loadavg()} (other processes on the machine skew the figures)")


def _revision() -> str:
    """The commit of the leverage sources measured (read only), and whether they differ from it."""
    import leverage

    root = Path(leverage.__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "leverage"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"leverage {getattr(leverage, '__version__', '?')} from {root}"
    if not head:
        return f"leverage {getattr(leverage, '__version__', '?')} from {root}"
    return f"leverage at {head}" + (" with uncommitted changes in leverage/" if dirty else "")


def _loadavg() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return ""
    return f", load average {one:.2f} (1 min) {five:.2f} (5 min)"


if __name__ == "__main__":
    try:
        main()
    except SystemExit as exc:
        if exc.code not in (0, None):
            print(f"bench_load: stopped ({exc.code})", file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    sys.exit(0)
