"""Benchmark of ``leverage tos ingest`` (issue 6, "Performance").

Generates an enforcement log (500,000 rows over 50,000 accounts by default, CSV, in time
order) and a ledger holding the accounts (a ``self`` party, one party and one ``hosts``
relationship per account, half of the accounts known by ``external_ids.tos``), then measures
in one run, each as a subprocess (wall time and peak RSS of the child):

* ``leverage tos ingest LOG --rules RULES`` into a copy of that ledger;
* ``leverage load EVENTS`` into another copy, where EVENTS are exactly the events the ingest
  wrote (taken from ``leverage export`` of the ingested ledger, chain fields removed): the
  same impacts, steps and decisions, the same decision gates, the same attributes;
* ``leverage tos ingest`` of the same log again (every row known: nothing to write).

Target (issue 6): the ingest takes at most 2x the load. This is a benchmark, not a test: it
always exits 0.

    python benchmarks/bench_tos.py                            # 500,000 rows, 50,000 accounts
    python benchmarks/bench_tos.py --rows 50000 --accounts 5000
    python benchmarks/bench_tos.py --keep /tmp/bench-tos      # keep the generated files
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness import Run, leverage_cmd, run, work_dir

RATIO_TARGET = 2.0

RULES_TOML = """\
name = "Benchmark terms"

[appeal]
channel = "https://example.com/appeals"
days = 14

[strikes]
window_days = 90
restrict = 2
suspend = 3

[[rule]]
id = "violent-incitement"
title = "Incitement to violence"
text = "You may not use the service to incite or organise violence."
rights = ["life", "security-of-person", "expression"]
severity = { scale = 5, scope = 4, irremediability = 5 }
egregious = true

[[rule]]
id = "hateful-conduct"
title = "Hateful conduct"
text = "You may not promote hatred against people on the basis of a protected characteristic."
rights = ["non-discrimination", "expression"]
severity = { scale = 4, scope = 3, irremediability = 3 }

[[rule]]
id = "election-misinformation"
title = "Misleading information about elections"
text = "You may not publish false information about when, where or how to vote."
rights = ["participation", "expression"]
severity = { scale = 4, scope = 4, irremediability = 3 }

[[rule]]
id = "doxxing"
title = "Private information"
text = "You may not publish another person's private information without their consent."
rights = ["privacy", "security-of-person"]
severity = { scale = 4, scope = 2, irremediability = 4 }

[[rule]]
id = "spam"
title = "Spam and platform manipulation"
text = "You may not use the service for bulk unsolicited messages or fake engagement."
rights = ["other"]
severity = { scale = 3, scope = 3, irremediability = 1 }
"""
RULES = ["violent-incitement", "hateful-conduct", "election-misinformation", "doxxing", "spam"]
RULE_WEIGHTS = [1, 4, 3, 2, 6]
REASONS = {
    "violent-incitement": "Call to attack participants of a demonstration",
    "hateful-conduct": "Slur-laden post targeting a religious minority",
    "election-misinformation": "False claim that polling stations close at noon",
    "doxxing": "Published a journalist's home address",
    "spam": "Bulk invitations to a betting site",
}
STEP_ACTIONS = ["warning", "label", "downrank", "remove", "restrict"]
STEP_WEIGHTS = [3, 3, 2, 4, 1]
MODERATORS = ["ana", "ben", "chidi", "dana", "emre", "fatima", "goran", "hui"]
START = datetime(2023, 1, 2, tzinfo=UTC)
DAYS = 540


def account(n: int) -> str:
    return f"u{n}" if n % 2 else f"acct-{n}"


def generate(workdir: Path, rows: int, accounts: int, seed: int = 6) -> tuple[Path, Path, Path]:
    """The rules file, the setup events (accounts) and the log."""
    rules = workdir / "rules.toml"
    rules.write_text(RULES_TOML, encoding="utf-8")
    setup = workdir / "setup.jsonl"
    with open(setup, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"type": "party.added", "at": "2022-01-01", "actor": "bench",
                             "data": {"id": "we", "name": "We Host", "kind": "self"}}) + "\n")
        for n in range(1, accounts + 1):
            data: dict = {"id": f"acct-{n}", "name": f"Account {n}", "kind": "client"}
            if n % 2:
                data["external_ids"] = {"tos": f"u{n}"}
            fh.write(json.dumps({"type": "party.added", "at": "2022-01-01", "actor": "bench",
                                 "data": data}) + "\n")
        for n in range(1, accounts + 1):
            fh.write(json.dumps({"type": "relationship.added", "at": "2022-01-02", "actor": "bench",
                                 "data": {"id": f"rel-{n}", "source": "we", "target": f"acct-{n}",
                                          "type": "hosts", "since": "2021-06-01"}}) + "\n")
    rng = random.Random(seed)
    seconds = DAYS * 86400
    moments = sorted(rng.randrange(seconds) for _ in range(rows))
    suspended: set[tuple[int, str]] = set()
    banned: set[int] = set()
    log = workdir / "log.csv"
    with open(log, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["id", "at", "account", "action", "rule", "reason", "detected_by", "moderator",
                         "approved_by", "evidence", "impact"])
        for i, offset in enumerate(moments):
            n = rng.randint(1, accounts)
            while n in banned:
                n = rng.randint(1, accounts)
            rule = rng.choices(RULES, RULE_WEIGHTS)[0]
            key = (n, rule)
            roll = rng.random()
            if key in suspended:
                action = "reinstate" if roll < 0.7 else "remove"
            elif roll < 0.004 and rule == "violent-incitement":
                action = "ban"
            elif roll < 0.03:
                action = "suspend"
            else:
                action = rng.choices(STEP_ACTIONS, STEP_WEIGHTS)[0]
            if action == "suspend":
                suspended.add(key)
            elif action == "reinstate":
                suspended.discard(key)
            elif action == "ban":
                banned.add(n)
                suspended -= {k for k in suspended if k[0] == n}
            moderator = MODERATORS[i % len(MODERATORS)]
            approver = ""
            if action in ("suspend", "ban", "reinstate") and roll < 0.025:
                approver = MODERATORS[(i + 1) % len(MODERATORS)]
            at = (START + timedelta(seconds=offset)).strftime("%Y-%m-%dT%H:%M:%SZ")
            writer.writerow([f"A{i + 1}", at, account(n), action, rule, REASONS[rule],
                             "automated" if i % 3 else "human", moderator, approver,
                             f"https://community.example/p/{i + 1}", ""])
    return rules, setup, log


def must(r: Run, what: str) -> Run:
    if r.rc != 0:
        tail = "\n".join(r.err.strip().splitlines()[-3:])
        raise SystemExit(f"{what} failed (exit {r.rc}): {tail}")
    return r


def copy_db(src: Path, dst: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        if Path(str(src) + suffix).exists():
            shutil.copyfile(str(src) + suffix, str(dst) + suffix)


def equivalent_events(export: Path, out: Path, after_seq: int) -> int:
    """The events of ``export`` after ``after_seq``, without chain fields: what load appends."""
    n = 0
    with open(export, "rb") as src, open(out, "wb") as dst:
        for raw in src:
            obj = json.loads(raw)
            if obj["seq"] <= after_seq:
                continue
            plain = {"type": obj["type"], "at": obj["at"], "actor": obj["actor"], "data": obj["data"]}
            dst.write(json.dumps(plain, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
            n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--keep", type=Path, default=None, help="keep the generated files here")
    args = parser.parse_args()
    lev = leverage_cmd()
    with work_dir(args.keep, "bench-tos-") as workdir:
        t0 = time.perf_counter()
        rules, setup, log = generate(workdir, args.rows, args.accounts)
        print(f"generated {args.rows:,} rows over {args.accounts:,} accounts in "
              f"{time.perf_counter() - t0:.1f} s ({log.stat().st_size / 1e6:.1f} MB)", flush=True)
        base = workdir / "base.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(base) + suffix).unlink(missing_ok=True)
        must(run([*lev, "--db", str(base), "init", "--at", "2022-01-01"]), "init")
        must(run([*lev, "--db", str(base), "load", str(setup)]), "load of the accounts")
        base_count = 1 + 2 * args.accounts + 1
        a, b = workdir / "ingest.db", workdir / "load.db"
        copy_db(base, a)
        copy_db(base, b)

        ingest = must(run([*lev, "--db", str(a), "tos", "ingest", str(log), "--rules", str(rules)]),
                      "tos ingest")
        print(ingest.out.strip(), flush=True)
        export = workdir / "export.jsonl"
        must(run([*lev, "--db", str(a), "export", "-o", str(export)]), "export")
        events = workdir / "events.jsonl"
        n = equivalent_events(export, events, base_count)
        load = must(run([*lev, "--db", str(b), "load", str(events)]), "load")
        again = must(run([*lev, "--db", str(a), "tos", "ingest", str(log), "--rules", str(rules)]),
                     "tos ingest again")
        ratio = ingest.seconds / load.seconds
        print()
        print(f"{'what':<44} {'wall s':>9} {'peak MB':>9}")
        print(f"{'tos ingest (' + format(args.rows, ',') + ' rows)':<44} {ingest.seconds:9.2f} "
              f"{ingest.peak_mb:9.0f}")
        print(f"{'load of the same ' + format(n, ',') + ' events':<44} {load.seconds:9.2f} {load.peak_mb:9.0f}")
        print(f"{'tos ingest again (nothing to write)':<44} {again.seconds:9.2f} {again.peak_mb:9.0f}")
        verdict = "OK" if ratio <= RATIO_TARGET else "ABOVE TARGET"
        print(f"\ningest / load = {ratio:.2f} (target <= {RATIO_TARGET}): {verdict}")
        print(f"ingest: {args.rows / ingest.seconds:,.0f} rows/s; load: {n / load.seconds:,.0f} events/s")


if __name__ == "__main__":
    main()
