"""Benchmark of the relationship graph (issue 7, "Performance").

Generates a ledger-shaped event stream of 300,000 parties and 1,000,000 relationships (one
``self`` party; 20,000 impacts, some relationships suspended, terminated or ended) and
measures, in one run:

1. **Queries on the same prepared graph.** The state is folded in memory and projected
   (:func:`leverage.graph.project`); then ``exposure`` (one multi-source BFS with
   lexicographically smallest paths, plus a path per open impact) against plain networkx
   ``single_source_shortest_path`` from the self party on the undirected view
   (``G.to_undirected(as_view=True)``), and ``dependents`` against
   ``nx.descendants`` on the active-edge view (``nx.subgraph_view`` keeping edges whose status
   is ``active``). Best and median of ``--repeat`` runs. Target: at most 1.5x.
2. **Projection from a ledger** (reported separately): the events are loaded into a real
   ledger (SQLite), then a fresh child process opens it, builds ``state(as_of=...)`` and
   projects the graph: wall time of each part and the child's peak RSS (target < 2 GB).
   ``--ledger-rels`` uses a smaller ledger when the 1M-relationship load takes too long (on a
   shared 2-CPU machine it took 33 minutes; the gate check of each of the ~1,300 decisions
   reads every earlier event through the ``at_key`` index, 0.4 s each there).
3. **``leverage render graph --focus X --depth 2``** of a neighbourhood of about 2,000
   parties inside a larger ledger, as a child process: wall time and the layout engine
   (more than 500 parties: sfdp); also with ``--format dot`` (no layout) to show where the
   time goes.

This is a benchmark, not a test: it always exits 0.

    python benchmarks/bench_graph.py                       # the full run
    python benchmarks/bench_graph.py --parties 30000 --rels 100000 --ledger-rels 100000  # quick
    python benchmarks/bench_graph.py --skip-ledger         # queries and render only
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from harness import run

RATIO_TARGET = 1.5
PEAK_MB_TARGET = 2048.0
AS_OF = date(2021, 6, 1)

KINDS = ("client", "partner", "supplier", "customer", "user-group", "government", "civil-society", "other")
TYPES = ("hosts", "serves", "supplies", "partners-with", "resells", "invests-in", "owns", "advertises-on")
RIGHTS = ("expression", "privacy", "labour", "health", "non-discrimination")


# -- the generator ----------------------------------------------------------------------------


def events(n_parties: int, n_rels: int, n_impacts: int, *, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Plain events of a ledger: parties (p0 is self), random relationships, impacts on random
    relationships; 5% of the impacts' relationships suspended, 1.5% terminated, and 0.5% of
    all relationships ended."""
    rng = random.Random(seed)
    yield {"type": "party.added", "at": "2020-01-01", "actor": "bench",
           "data": {"id": "p0", "name": "We Host", "kind": "self"}}
    for i in range(1, n_parties):
        yield {"type": "party.added", "at": "2020-01-01", "actor": "bench",
               "data": {"id": f"p{i}", "name": f"Party {i}", "kind": KINDS[i % len(KINDS)]}}
    for i in range(n_rels):
        s = rng.randrange(n_parties)
        t = rng.randrange(n_parties - 1)
        if t >= s:
            t += 1
        data: dict[str, Any] = {"id": f"r{i}", "source": f"p{s}", "target": f"p{t}", "type": TYPES[i % len(TYPES)]}
        if i % 3 == 0:
            data["leverage"] = 1 + i % 5
        yield {"type": "relationship.added", "at": "2020-01-02", "actor": "bench", "data": data}
    chosen = rng.sample(range(n_rels), min(n_impacts, n_rels))
    for k, r in enumerate(chosen):
        yield {"type": "impact.opened", "at": f"2021-01-{1 + k % 28:02d}", "actor": "bench",
               "data": {"id": f"i{k}", "relationship": f"r{r}", "rights": [RIGHTS[k % len(RIGHTS)]],
                        "summary": "Generated impact.",
                        "severity": {"scale": 1 + k % 5, "scope": 1 + (k // 5) % 5, "irremediability": 2}}}
    for k, _r in enumerate(chosen):
        if k % 20 == 0:
            yield _decision(f"i{k}", "suspend")
        elif k % 67 == 1:
            yield _decision(f"i{k}", "terminate")
    taken = set(chosen)
    for i in range(0, n_rels, 200):
        if i not in taken:
            yield {"type": "relationship.ended", "at": "2021-03-01", "actor": "bench",
                   "data": {"id": f"r{i}", "reason": "Contract ran out."}}


def _decision(impact: str, decision: str) -> dict[str, Any]:
    return {"type": "decision.made", "at": "2021-02-01", "actor": "bench",
            "data": {"impact": impact, "decision": decision, "rationale": "Generated.",
                     "policy_refs": ["UNGP 19"], "approved_by": "second", "forced": "benchmark"}}


def write_jsonl(path: Path, stream: Iterator[dict[str, Any]]) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for e in stream:
            fh.write(json.dumps(e, separators=(",", ":")))
            fh.write("\n")
            n += 1
    return n


# -- measuring --------------------------------------------------------------------------------


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(best, median, last result) of ``repeat`` runs, with the garbage collector off."""
    times = []
    result = None
    for _ in range(repeat):
        result = None  # free the previous result before the clock starts
        gc.collect()
        gc.disable()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        gc.enable()
    return min(times), statistics.median(times), result


def child(code: str, *args: str) -> tuple[float, float, str]:
    """Run ``python -c code args`` in a fresh process: (wall seconds, peak RSS MB, output)."""
    return command([sys.executable, "-c", code, *args])


def command(argv: list[str]) -> tuple[float, float, str]:
    r = run(argv)
    if r.rc != 0:
        print(f"  (child failed, exit {r.rc}: {r.err.strip().splitlines()[-1:]})")
    return r.seconds, r.peak_mb, r.out + r.err


# -- 1. queries on the prepared graph ---------------------------------------------------------


def bench_queries(args: argparse.Namespace) -> None:
    import networkx as nx

    from leverage import graph
    from leverage.state import fold

    print(f"\n1. queries: {args.parties:,} parties, {args.rels:,} relationships, {args.impacts:,} impacts")
    t0 = time.perf_counter()
    rows = ((seq, e["type"], e["at"], e["actor"], e["data"])
            for seq, e in enumerate(events(args.parties, args.rels, args.impacts), 1))
    state = fold(rows, as_of=AS_OF)
    t_fold = time.perf_counter() - t0
    t0 = time.perf_counter()
    G = graph.project(state, AS_OF)
    t_project = time.perf_counter() - t0
    statuses: dict[str, int] = {}
    for _, _, s in G.edges(data="status"):
        statuses[s] = statuses.get(s, 0) + 1
    print(f"   fold in memory {t_fold:.1f} s; project {t_project:.1f} s "
          f"({G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges, {statuses}); "
          f"peak RSS so far {peak_mb():,.0f} MB")
    del state
    gc.collect()

    source = graph.self_parties(G)[0]
    undirected = G.to_undirected(as_view=True)
    b_best, b_med, paths = timed(lambda: nx.single_source_shortest_path(undirected, source), args.repeat)
    o_best, o_med, rows_out = timed(lambda: graph.exposure(G), args.repeat)
    del paths
    print(f"   exposure: {len(rows_out):,} impacts reachable of {len(G.graph['impacts']):,} open, "
          f"tiers up to {max((r['tier'] for r in rows_out), default=0)}")
    _ratio("exposure", o_best, o_med, "single_source_shortest_path(undirected view)", b_best, b_med)

    active = nx.subgraph_view(G, filter_edge=lambda u, v, k: G._succ[u][v][k]["status"] == "active")
    b_best, b_med, desc = timed(lambda: nx.descendants(active, source), args.repeat)
    o_best, o_med, deps = timed(lambda: graph.dependents(G, source), args.repeat)
    assert {d["party"] for d in deps} == desc, "dependents disagree with nx.descendants"
    print(f"   dependents of {source}: {len(deps):,} parties, up to distance "
          f"{max((d['distance'] for d in deps), default=0)}")
    _ratio("dependents", o_best, o_med, "descendants(active-edge view)", b_best, b_med)
    print(f"   peak RSS of this process: {peak_mb():,.0f} MB")


def _ratio(name: str, o_best: float, o_med: float, base: str, b_best: float, b_med: float) -> None:
    ratio = o_best / b_best if b_best else float("inf")
    verdict = "OK" if ratio <= RATIO_TARGET else "OVER TARGET"
    print(f"   {name}: {o_best:.2f} s (median {o_med:.2f}) vs {base}: {b_best:.2f} s (median {b_med:.2f}) "
          f"-> {ratio:.2f}x (target <= {RATIO_TARGET}x) {verdict}")


# -- 2. projection from a ledger --------------------------------------------------------------

_PROJECT = """
import sys, time
from datetime import date
t0 = time.perf_counter()
from leverage import open_ledger, graph
ledger = open_ledger(sys.argv[1])
state = ledger.state(as_of=date(2021, 6, 1))
t1 = time.perf_counter()
G = graph.project(state, date(2021, 6, 1))
t2 = time.perf_counter()
print(f"state {t1 - t0:.1f} s, project {t2 - t1:.1f} s, {G.number_of_nodes()} nodes, {G.number_of_edges()} edges")
"""


def bench_ledger(args: argparse.Namespace, work: Path) -> None:
    from leverage import open_ledger

    parties = max(args.parties * args.ledger_rels // args.rels, 2)
    print(f"\n2. projection from a ledger: {parties:,} parties, {args.ledger_rels:,} relationships, "
          f"{args.impacts:,} impacts")
    src = work / "events.jsonl"
    n = write_jsonl(src, events(parties, args.ledger_rels, args.impacts))
    db = work / "graph.db"
    if db.exists():
        db.unlink()
    t0 = time.perf_counter()
    ledger = open_ledger(db, create=True)
    ledger.load(src)
    ledger.close()
    print(f"   load of {n:,} events: {time.perf_counter() - t0:.1f} s ({db.stat().st_size / 1e6:,.0f} MB database)")
    seconds, rss, out = child(_PROJECT, str(db))
    verdict = "OK" if rss < PEAK_MB_TARGET else "OVER TARGET"
    print(f"   child: open + state(as_of) + project: {seconds:.1f} s wall ({out.strip()}); "
          f"peak RSS {rss:,.0f} MB (target < {PEAK_MB_TARGET:,.0f} MB) {verdict}")


# -- 3. render graph --focus X --depth 2 ------------------------------------------------------


def focus_events(fan1: int = 40, fan2: int = 49, outer: int = 10_000, seed: int = 3) -> Iterator[dict[str, Any]]:
    """A hub with ``fan1`` neighbours of ``fan2`` neighbours each (1 + 40 + 1,960 parties
    within depth 2), inside ``outer`` more parties beyond, with impacts here and there."""
    rng = random.Random(seed)

    def p(pid: str, kind: str = "client") -> dict[str, Any]:
        return {"type": "party.added", "at": "2020-01-01", "actor": "bench",
                "data": {"id": pid, "name": f"Party {pid}", "kind": kind}}

    def r(rid: str, s: str, t: str) -> dict[str, Any]:
        return {"type": "relationship.added", "at": "2020-01-02", "actor": "bench",
                "data": {"id": rid, "source": s, "target": t, "type": "serves"}}

    yield p("we", "self")
    yield p("hub", "partner")
    yield r("we-hub", "we", "hub")
    ring2 = []
    for i in range(fan1):
        yield p(f"a{i}")
        yield r(f"hub-a{i}", "hub", f"a{i}") if i % 2 else r(f"a{i}-hub", f"a{i}", "hub")
        for j in range(fan2 - (1 if i == 0 else 0)):  # "we" is the 49th neighbour of a0's ring
            pid = f"b{i}-{j}"
            ring2.append(pid)
            yield p(pid, KINDS[j % len(KINDS)])
            yield r(f"a{i}-b{j}", f"a{i}", pid)
    for k in range(outer):
        yield p(f"c{k}")
        yield r(f"c{k}", ring2[rng.randrange(len(ring2))], f"c{k}")
    for k in range(0, len(ring2), 25):
        yield {"type": "impact.opened", "at": "2021-01-05", "actor": "bench",
               "data": {"id": f"imp-{k}", "relationship": f"a{k // (fan2)}-b{k % fan2}" if k else "a0-b0",
                        "rights": ["privacy"], "summary": "Generated impact.",
                        "severity": {"scale": 1 + k % 5, "scope": 2, "irremediability": 2}}}


def bench_render(args: argparse.Namespace, work: Path) -> None:
    import shutil

    from leverage import open_ledger

    print("\n3. render graph --focus hub --depth 2")
    if shutil.which("dot") is None:
        print("   skipped: Graphviz's dot is not installed")
        return
    src = work / "focus.jsonl"
    write_jsonl(src, focus_events())
    db = work / "focus.db"
    if db.exists():
        db.unlink()
    ledger = open_ledger(db, create=True)
    ledger.load(src)
    ledger.close()
    lev = [shutil.which("leverage") or "leverage"]
    for fmt in ("svg", "dot"):
        out = work / f"focus.{fmt}"
        argv = [*lev, "--db", str(db), "render", "graph", "--focus", "hub", "--depth", "2", "-o", str(out),
                "--as-of", AS_OF.isoformat(), "--format", fmt]
        seconds, rss, text = command(argv)
        print(f"   --format {fmt}: {seconds:.1f} s wall, peak RSS {rss:,.0f} MB: {text.strip()}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parties", type=int, default=300_000)
    ap.add_argument("--rels", type=int, default=1_000_000)
    ap.add_argument("--impacts", type=int, default=20_000)
    ap.add_argument("--ledger-rels", type=int, default=1_000_000,
                    help="relationships of the ledger of part 2 (parties scaled alike)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-ledger", action="store_true")
    ap.add_argument("--skip-render", action="store_true")
    ap.add_argument("--keep", metavar="DIR", help="write the generated files to DIR and keep them")
    args = ap.parse_args(argv)
    # Other plugins' validate_event hooks would be timed with the load; only this plugin loads.
    os.environ.setdefault("LEVERAGE_LOAD_PLUGINS", "leverage_graphviz")
    import networkx

    print(f"python {sys.version.split()[0]}, networkx {networkx.__version__}, {os.cpu_count()} cpus, "
          f"load average {os.getloadavg()[0]:.1f}; LEVERAGE_LOAD_PLUGINS={os.environ['LEVERAGE_LOAD_PLUGINS']}")
    bench_queries(args)
    if args.keep:
        work = Path(args.keep)
        work.mkdir(parents=True, exist_ok=True)
        _run_rest(args, work)
    else:
        with tempfile.TemporaryDirectory(prefix="bench_graph_") as tmp:
            _run_rest(args, Path(tmp))


def _run_rest(args: argparse.Namespace, work: Path) -> None:
    if not args.skip_ledger:
        bench_ledger(args, work)
    if not args.skip_render:
        bench_render(args, work)


if __name__ == "__main__":
    main()
