"""The graph model and its queries (DESIGN section 7): projection, exposure, peers,
dependents, the ``leverage graph`` commands and the GraphML / GEXF export."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date
from itertools import count
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leverage import graph, open_ledger

AS_OF = date(2021, 3, 1)
SEVERITY = {"scale": 3, "scope": 3, "irremediability": 3}


# -- building ledgers ----------------------------------------------------------------------------


def party(pid: str, kind: str = "client", name: str | None = None, at: str = "2021-01-01") -> dict[str, Any]:
    return {"type": "party.added", "at": at, "actor": "ana",
            "data": {"id": pid, "name": name or f"Party {pid}", "kind": kind}}


def rel(rid: str, source: str, target: str, type_: str = "serves", at: str = "2021-01-02",
        **extra: Any) -> dict[str, Any]:
    return {"type": "relationship.added", "at": at, "actor": "ana",
            "data": {"id": rid, "source": source, "target": target, "type": type_, **extra}}


def impact(iid: str, relationship: str, at: str = "2021-01-05", severity: dict[str, int] | None = None,
           summary: str = "Harm linked to the relationship.") -> dict[str, Any]:
    return {"type": "impact.opened", "at": at, "actor": "ana",
            "data": {"id": iid, "relationship": relationship, "rights": ["privacy"], "summary": summary,
                     "severity": severity or SEVERITY}}


def decide(iid: str, decision: str, at: str = "2021-01-06") -> dict[str, Any]:
    data: dict[str, Any] = {"impact": iid, "decision": decision, "rationale": "Test decision.",
                            "policy_refs": ["UNGP 19"]}
    if decision in ("suspend", "terminate"):
        data["forced"] = "test of the graph"
    return {"type": "decision.made", "at": at, "actor": "ana", "data": data}


def end(rid: str, at: str = "2021-01-07") -> dict[str, Any]:
    return {"type": "relationship.ended", "at": at, "actor": "ana", "data": {"id": rid, "reason": "Contract ran out."}}


_dbs = count()


def make_ledger(tmp_path: Path, events: Iterable[dict[str, Any]]) -> Any:
    ledger = open_ledger(tmp_path / f"g{next(_dbs)}.db", create=True)
    ledger.append(list(events))
    return ledger


def project(tmp_path: Path, events: Iterable[dict[str, Any]], as_of: date = AS_OF) -> nx.MultiDiGraph:
    ledger = make_ledger(tmp_path, events)
    return graph.project(ledger.state(as_of=as_of), as_of)


def by_impact(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["impact"]: r for r in rows}


# A company with a chain of tiers, a supplier, a cycle and an unreachable island:
#
#   dc --supplies--> we --hosts--> app --serves--> shop --serves--> buyers
#                     ^                             |
#                     +------- (owns) ---- hold <---+ (hold --owns--> we; shop --serves--> hold)
#   island-a --serves--> island-b   (not linked to we)
CHAIN = [
    party("we", "self"), party("dc", "supplier"), party("app"), party("shop", "partner"),
    party("buyers", "customer"), party("hold", "other"), party("island-a"), party("island-b"),
    rel("r-dc", "dc", "we", "supplies"), rel("r-app", "we", "app", "hosts"),
    rel("r-shop", "app", "shop", "serves"), rel("r-buyers", "shop", "buyers", "serves"),
    rel("r-hold", "shop", "hold", "serves"), rel("r-own", "hold", "we", "owns"),
    rel("r-island", "island-a", "island-b", "serves"),
    impact("i-dc", "r-dc"), impact("i-app", "r-app"), impact("i-shop", "r-shop"),
    impact("i-buyers", "r-buyers"), impact("i-island", "r-island"),
]


# -- projection ----------------------------------------------------------------------------------


def test_projection_nodes_and_edges(tmp_path):
    G = project(tmp_path, CHAIN + [impact("i-crit", "r-shop", severity={"scale": 5, "scope": 2,
                                                                         "irremediability": 2})])
    assert isinstance(G, nx.MultiDiGraph)
    assert G.graph["as_of"] == "2021-03-01"
    assert set(G.nodes) == {"we", "dc", "app", "shop", "buyers", "hold", "island-a", "island-b"}
    assert G.nodes["we"]["kind"] == "self" and G.nodes["we"]["name"] == "Party we"
    # edges point from source (provider) to target (recipient), keyed by relationship id
    assert G.has_edge("dc", "we", key="r-dc") and not G.has_edge("we", "dc")
    assert G.has_edge("we", "app", key="r-app")
    e = G.edges["app", "shop", "r-shop"]
    assert e["type"] == "serves" and e["status"] == "active" and e["crucial"] is False
    assert e["leverage"] is None
    # two open impacts on r-shop: the worst level wins, for the edge and the status party
    assert e["level"] == "critical" and e["impacts"] == 2
    assert G.nodes["shop"]["level"] == "critical" and G.nodes["shop"]["impacts"] == 2
    # the party of an impact on a relationship with self is the other end
    assert G.nodes["dc"]["level"] == "moderate"
    assert G.nodes["we"]["level"] is None and G.nodes["we"]["impacts"] == 0
    # overdue: moderate allows 30 days from 2021-01-05
    assert G.nodes["app"]["overdue"] is True and G.edges["we", "app", "r-app"]["overdue"] is True
    assert G.nodes["hold"]["overdue"] is False
    assert set(G.graph["impacts"]) == {"i-dc", "i-app", "i-shop", "i-buyers", "i-island", "i-crit"}


def test_projection_not_overdue_before_due(tmp_path):
    G = project(tmp_path, CHAIN, as_of=date(2021, 1, 20))
    assert G.nodes["app"]["overdue"] is False
    assert G.graph["impacts"]["i-app"]["due"] == "2021-02-04"


def test_projection_as_of_leaves_out_later_events(tmp_path):
    events = CHAIN + [party("late", at="2021-02-10"), rel("r-late", "we", "late", at="2021-02-10"),
                      impact("i-late", "r-late", at="2021-02-11")]
    ledger = make_ledger(tmp_path, events)
    early = graph.project(ledger.state(as_of=date(2021, 2, 1)), date(2021, 2, 1))
    late = graph.project(ledger.state(as_of=AS_OF), AS_OF)
    assert "late" not in early and "i-late" not in early.graph["impacts"]
    assert "late" in late and late.has_edge("we", "late", key="r-late")


STATUS_EVENTS = CHAIN + [
    party("s1"), party("s2"), party("t1"), party("e1"), party("re1"),
    rel("r-s", "we", "s1", "hosts"), rel("r-s2", "s1", "s2"), rel("r-t", "we", "t1", "hosts"),
    rel("r-e", "we", "e1", "hosts"), rel("r-re", "we", "re1", "hosts", leverage=2, crucial=True),
    impact("i-s", "r-s", severity={"scale": 4, "scope": 4, "irremediability": 4}),
    impact("i-t", "r-t", severity={"scale": 4, "scope": 4, "irremediability": 4}),
    impact("i-re", "r-re", severity={"scale": 4, "scope": 4, "irremediability": 4}),
    decide("i-s", "suspend"), decide("i-t", "terminate"), end("r-e"),
    decide("i-re", "suspend"), decide("i-re", "reinstate", at="2021-01-08"),
]


def test_projection_relationship_status(tmp_path):
    ledger = make_ledger(tmp_path, STATUS_EVENTS)
    state = ledger.state(as_of=AS_OF)
    G = graph.project(state, AS_OF)
    statuses = {k: s for _, _, k, s in G.edges(keys=True, data="status")}
    assert statuses["r-s"] == "suspended"
    assert statuses["r-t"] == "terminated"
    assert statuses["r-e"] == "ended"
    assert statuses["r-re"] == "active"
    assert statuses["r-app"] == "active"
    # the same as the core's definition, relationship by relationship
    assert statuses == {rid: state.relationship_status(rid) for rid in state.relationships}
    assert graph.relationship_statuses(state) == statuses
    assert G.edges["we", "re1", "r-re"]["crucial"] is True
    assert G.edges["we", "re1", "r-re"]["leverage"] == 2


def test_closed_impacts_are_not_open(tmp_path):
    G = project(tmp_path, CHAIN + [decide("i-app", "close")])
    assert "i-app" not in G.graph["impacts"]
    assert G.nodes["app"]["level"] is None and G.nodes["app"]["overdue"] is False
    assert "i-app" not in by_impact(graph.exposure(G))


# -- exposure ------------------------------------------------------------------------------------


def test_exposure_tiers(tmp_path):
    G = project(tmp_path, CHAIN)
    rows = graph.exposure(G)
    found = by_impact(rows)
    assert found["i-dc"] == {"impact": "i-dc", "relationship": "r-dc", "party": "dc", "tier": 1,
                             "path": ["we", "dc"]}
    assert found["i-app"]["tier"] == 1 and found["i-app"]["path"] == ["we", "app"]
    # shop is two steps away through app and through hold (direction ignored): of the equal
    # paths [we, app, shop] and [we, hold, shop] the smaller is through "app"
    assert found["i-shop"] == {"impact": "i-shop", "relationship": "r-shop", "party": "shop", "tier": 2,
                               "path": ["we", "app", "shop"]}
    assert found["i-buyers"]["tier"] == 3
    assert found["i-buyers"]["path"] == ["we", "app", "shop", "buyers"]
    # unreachable impacts are left out
    assert "i-island" not in found
    # sorted by tier, then impact id
    assert [r["impact"] for r in rows] == ["i-app", "i-dc", "i-shop", "i-buyers"]
    for r in rows:
        assert list(r) == ["impact", "relationship", "party", "tier", "path"]
        assert r["tier"] == len(r["path"]) - 1


def test_exposure_ignores_direction_and_counts_every_relationship(tmp_path):
    G = project(tmp_path, STATUS_EVENTS + [party("beyond"), rel("r-beyond", "t1", "beyond"),
                                           impact("i-beyond", "r-beyond")])
    found = by_impact(graph.exposure(G))
    # a terminated relationship still links (history legal reviews) ...
    assert found["i-beyond"]["path"] == ["we", "t1", "beyond"]
    assert found["i-t"]["tier"] == 1
    # ... unless only active relationships count
    narrow = by_impact(graph.exposure(G, active_only=True))
    assert "i-beyond" not in narrow and "i-t" not in narrow and "i-s" not in narrow
    assert narrow["i-buyers"]["tier"] == 3


def test_exposure_lexicographically_smallest_path_compares_prefixes(tmp_path):
    # Two shortest paths to t: [s, a, d, t] and [s, b, c, t]. Choosing the smallest last hop
    # (c < d) would give the second; the smallest path as a list is the first.
    events = [party("s", "self"), party("a"), party("b"), party("c"), party("d"), party("t"),
              rel("r1", "s", "b"), rel("r2", "s", "a"), rel("r3", "b", "c"), rel("r4", "d", "a"),
              rel("r5", "c", "t"), rel("r6", "t", "d"), party("u"), rel("r7", "t", "u"),
              impact("i", "r7")]
    G = project(tmp_path, events)
    assert graph.exposure(G) == [{"impact": "i", "relationship": "r7", "party": "u", "tier": 4,
                                  "path": ["s", "a", "d", "t", "u"]}]


def test_exposure_several_self_parties(tmp_path):
    events = [party("we-b", "self"), party("we-a", "self"), party("x"), party("y"), party("z"),
              party("far"),
              rel("r-bx", "we-b", "x"), rel("r-xy", "x", "y"), rel("r-ay", "we-a", "y"),
              rel("r-yz", "y", "z"), rel("r-bz", "we-b", "z"), rel("r-far", "z", "far"),
              impact("i-xy", "r-xy"), impact("i-far", "r-far"), impact("i-ay", "r-ay")]
    G = project(tmp_path, events)
    found = by_impact(graph.exposure(G))
    # y is one step from we-a and two from we-b: the shortest overall wins
    assert found["i-xy"]["path"] == ["we-a", "y"]
    # far: we-b - z - far (2) beats we-a - y - z - far (3)
    assert found["i-far"]["path"] == ["we-b", "z", "far"]
    # an impact on a relationship with a self party: its party is the other end
    assert found["i-ay"]["party"] == "y" and found["i-ay"]["path"] == ["we-a", "y"]
    # a tie between self parties: the smaller path (starting with the smaller self id)
    events2 = [party("we-b", "self"), party("we-a", "self"), party("m"),
               rel("r1", "we-b", "m"), rel("r2", "m", "we-a"), party("n"), rel("r3", "m", "n"),
               impact("i", "r3")]
    G2 = project(tmp_path, events2)
    assert graph.exposure(G2)[0]["path"] == ["we-a", "m", "n"]


def test_exposure_cycles(tmp_path):
    events = [party("we", "self"), party("a"), party("b"), party("c"),
              rel("r1", "we", "a"), rel("r2", "a", "b"), rel("r3", "b", "we"), rel("r4", "b", "c"),
              rel("r5", "c", "a"), impact("i2", "r2"), impact("i4", "r4"), impact("i5", "r5")]
    G = project(tmp_path, events)
    found = by_impact(graph.exposure(G))
    assert found["i2"]["path"] == ["we", "b"]  # b is next to we through r3 (direction ignored)
    assert found["i4"]["path"] == ["we", "a", "c"]  # c: via a or via b, both 2 steps; a < b
    assert found["i5"]["party"] == "a" and found["i5"]["tier"] == 1


def test_exposure_without_self_party_or_impacts(tmp_path):
    G = project(tmp_path, [party("a"), party("b"), rel("r", "a", "b"), impact("i", "r")])
    assert graph.exposure(G) == []
    G2 = project(tmp_path, [party("we", "self"), party("b"), rel("r", "we", "b")])
    assert graph.exposure(G2) == []


def test_exposure_impact_between_two_self_parties(tmp_path):
    G = project(tmp_path, [party("we", "self"), party("we-2", "self"), rel("r", "we", "we-2"),
                           impact("i", "r")])
    assert graph.exposure(G) == [{"impact": "i", "relationship": "r", "party": "we-2", "tier": 0,
                                  "path": ["we-2"]}]


def _brute_force(G: nx.MultiDiGraph, party_id: str) -> list[str] | None:
    U = nx.Graph(G.to_undirected(as_view=True))
    best: list[str] | None = None
    for s in graph.self_parties(G):
        if not nx.has_path(U, s, party_id):
            continue
        for p in nx.all_shortest_paths(U, s, party_id):
            if best is None or (len(p), p) < (len(best), best):
                best = p
    return best


@st.composite
def random_graphs(draw: Any) -> nx.MultiDiGraph:
    n = draw(st.integers(2, 9))
    ids = [f"p{i}" for i in range(n)]
    kinds = draw(st.lists(st.sampled_from(["self", "client", "client"]), min_size=n, max_size=n))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=18))
    G = nx.MultiDiGraph(impacts={})
    for pid, kind in zip(ids, kinds, strict=True):
        G.add_node(pid, kind=kind, name=pid, level=None, overdue=False, impacts=0)
    for i, (u, v) in enumerate(edges):
        if u != v:
            G.add_edge(ids[u], ids[v], key=f"r{i}", type="serves", status="active")
            G.graph["impacts"][f"i{i}"] = {"relationship": f"r{i}", "party": ids[v], "level": "low"}
    return G


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_graphs())
def test_exposure_matches_brute_force(G):
    rows = by_impact(graph.exposure(G))
    for iid, info in G.graph["impacts"].items():
        expected = _brute_force(G, info["party"])
        if expected is None:
            assert iid not in rows
        else:
            assert rows[iid]["path"] == expected, (iid, rows[iid], expected)
            assert rows[iid]["tier"] == len(expected) - 1


# -- peers ---------------------------------------------------------------------------------------


def test_peers_either_direction_without_self(tmp_path):
    events = CHAIN + [rel("r-shop-2", "shop", "app", "resells")]
    G = project(tmp_path, events)
    assert graph.peers(G, "app") == [
        {"party": "shop", "relationship": "r-shop", "type": "serves"},
        {"party": "shop", "relationship": "r-shop-2", "type": "resells"},
    ]  # "we" (self) is left out
    assert graph.peers(G, "shop") == [
        {"party": "app", "relationship": "r-shop", "type": "serves"},
        {"party": "app", "relationship": "r-shop-2", "type": "resells"},
        {"party": "buyers", "relationship": "r-buyers", "type": "serves"},
        {"party": "hold", "relationship": "r-hold", "type": "serves"},
    ]
    # a self party's peers are the parties that are not self
    assert [p["party"] for p in graph.peers(G, "we")] == ["app", "dc", "hold"]
    assert graph.peers(G, "island-b") == [{"party": "island-a", "relationship": "r-island", "type": "serves"}]


def test_peers_include_ended_and_terminated(tmp_path):
    G = project(tmp_path, STATUS_EVENTS + [party("peer"), rel("r-peer", "peer", "t1", "serves")])
    assert graph.peers(G, "t1") == [{"party": "peer", "relationship": "r-peer", "type": "serves"}]
    G2 = project(tmp_path, STATUS_EVENTS + [rel("r-x", "s1", "e1")])
    assert [p["relationship"] for p in graph.peers(G2, "s1")] == ["r-x", "r-s2"]


# -- dependents ----------------------------------------------------------------------------------


def test_dependents_follow_active_relationships_in_their_direction(tmp_path):
    G = project(tmp_path, STATUS_EVENTS)
    assert graph.dependents(G, "we") == [
        {"party": "app", "distance": 1},
        {"party": "re1", "distance": 1},  # reinstated: active again
        {"party": "shop", "distance": 2},
        {"party": "buyers", "distance": 3},
        {"party": "hold", "distance": 3},
    ]  # not s1 (suspended), t1 (terminated), e1 (ended), nor dc (it supplies we), nor we itself
    assert graph.dependents(G, "buyers") == []
    assert graph.dependents(G, "dc") == [{"party": "we", "distance": 1}, {"party": "app", "distance": 2},
                                         {"party": "re1", "distance": 2}, {"party": "shop", "distance": 3},
                                         {"party": "buyers", "distance": 4}, {"party": "hold", "distance": 4}]


def test_dependents_in_a_cycle_exclude_the_party(tmp_path):
    G = project(tmp_path, CHAIN)
    rows = graph.dependents(G, "app")
    assert rows == [{"party": "shop", "distance": 1}, {"party": "buyers", "distance": 2},
                    {"party": "hold", "distance": 2}, {"party": "we", "distance": 3}]


def test_dependents_agree_with_networkx(tmp_path):
    G = project(tmp_path, STATUS_EVENTS)
    active = nx.subgraph_view(G, filter_edge=lambda u, v, k: G.edges[u, v, k]["status"] == "active")
    for p in G.nodes:
        expected = nx.single_source_shortest_path_length(active, p)
        expected.pop(p)
        assert {r["party"]: r["distance"] for r in graph.dependents(G, p)} == expected
        assert {r["party"] for r in graph.dependents(G, p)} == nx.descendants(active, p)


def test_unknown_party(tmp_path):
    G = project(tmp_path, CHAIN)
    for query in (graph.peers, graph.dependents):
        with pytest.raises(Exception, match="unknown party 'nobody' as of 2021-03-01"):
            query(G, "nobody")


def test_neighbourhood(tmp_path):
    G = project(tmp_path, CHAIN)
    assert graph.neighbourhood(G, "shop", 0) == {"shop"}
    assert graph.neighbourhood(G, "shop", 1) == {"shop", "app", "buyers", "hold"}
    assert graph.neighbourhood(G, "shop", 2) == {"shop", "app", "buyers", "hold", "we"}


# -- the command line ----------------------------------------------------------------------------


@pytest.fixture
def chain_db(tmp_path, load_events, db):
    load_events(STATUS_EVENTS)
    return db


def test_cli_exposure_json(chain_db, invoke, tmp_path):
    result = invoke("graph", "exposure", "--json", "--as-of", "2021-03-01")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    G = graph.project(open_ledger(chain_db).state(as_of=AS_OF), AS_OF)
    assert rows == graph.exposure(G)
    assert by_impact(rows)["i-buyers"]["path"] == ["we", "app", "shop", "buyers"]
    narrow = json.loads(invoke("graph", "exposure", "--json", "--as-of", "2021-03-01", "--active-only").stdout)
    assert "i-t" not in by_impact(narrow)


def test_cli_exposure_as_of(chain_db, invoke):
    rows = json.loads(invoke("graph", "exposure", "--json", "--as-of", "2021-01-04").stdout)
    assert rows == []  # no impact opened yet
    result = invoke("graph", "exposure", "--as-of", "2021-01-04")
    assert result.exit_code == 0 and "No open impact" in result.stdout


def test_cli_tables(chain_db, invoke):
    result = invoke("graph", "exposure", "--as-of", "2021-03-01")
    assert result.exit_code == 0, result.output
    assert "we - app - shop - buyers" in result.stdout and "OVERDUE" in result.stdout
    result = invoke("graph", "peers", "shop", "--as-of", "2021-03-01")
    assert result.exit_code == 0, result.output
    assert "r-buyers" in result.stdout and "shop -> buyers" in result.stdout
    result = invoke("graph", "dependents", "we", "--as-of", "2021-03-01")
    assert result.exit_code == 0, result.output
    assert "buyers" in result.stdout and "s1" not in result.stdout.split()


def test_cli_peers_and_dependents_json(chain_db, invoke):
    peers = json.loads(invoke("graph", "peers", "shop", "--json", "--as-of", "2021-03-01").stdout)
    assert [p["party"] for p in peers] == ["app", "buyers", "hold"]
    deps = json.loads(invoke("graph", "dependents", "we", "--json", "--as-of", "2021-03-01").stdout)
    assert deps[0] == {"party": "app", "distance": 1}
    assert [d["party"] for d in deps] == ["app", "re1", "shop", "buyers", "hold"]


@pytest.mark.parametrize("command", ["peers", "dependents"])
def test_cli_unknown_party(chain_db, invoke, assert_user_error, command):
    line = assert_user_error(invoke("graph", command, "nobody", "--json"), "unknown party 'nobody'")
    assert "as of" in line


def test_cli_as_of_before_first_event(chain_db, invoke, assert_user_error):
    assert_user_error(invoke("graph", "exposure", "--as-of", "2020-01-01"), "before the ledger's first event")


def test_cli_bad_id(chain_db, invoke):
    result = invoke("graph", "peers", "no spaces")
    assert result.exit_code != 0 and "Traceback" not in result.output


# -- export --------------------------------------------------------------------------------------


def test_graphml_round_trip(chain_db, invoke, tmp_path):
    out = tmp_path / "g.graphml"
    result = invoke("graph", "export", "--format", "graphml", "-o", out, "--as-of", "2021-03-01")
    assert result.exit_code == 0, result.output
    H = nx.read_graphml(out, force_multigraph=True)
    G = graph.project(open_ledger(chain_db).state(as_of=AS_OF), AS_OF)
    assert isinstance(H, nx.MultiDiGraph)
    assert set(H.nodes) == set(G.nodes)
    assert set(H.edges(keys=True)) == set(G.edges(keys=True))
    assert H.graph["as_of"] == "2021-03-01"
    assert H.nodes["we"]["kind"] == "self" and H.nodes["we"]["name"] == "Party we"
    assert "level" not in H.nodes["we"]  # None is left out
    assert H.nodes["app"]["level"] == "moderate" and H.nodes["app"]["overdue"] is True
    e = H.edges["we", "re1", "r-re"]
    assert e["type"] == "hosts" and e["status"] == "active" and e["crucial"] is True and e["leverage"] == 2
    assert "leverage" not in H.edges["we", "app", "r-app"]
    assert H.edges["we", "s1", "r-s"]["status"] == "suspended"


def test_gexf_export(chain_db, invoke, tmp_path):
    out = tmp_path / "g.gexf"
    result = invoke("graph", "export", "--format", "gexf", "-o", out, "--as-of", "2021-03-01")
    assert result.exit_code == 0, result.output
    H = nx.read_gexf(out)
    assert set(H.nodes) >= {"we", "app", "buyers"}
    assert H.nodes["we"]["label"] == "Party we" and H.nodes["we"]["kind"] == "self"
    data = [d for _, _, d in H.edges(data=True) if d.get("id") == "r-app"]
    assert data and data[0]["relationship_type"] == "hosts"


def test_export_writes_whole_or_nothing(chain_db, invoke, tmp_path, assert_user_error):
    assert_user_error(invoke("graph", "export", "--format", "graphml", "-o", tmp_path / "missing" / "g.graphml"),
                      "does not exist")
    assert not (tmp_path / "missing").exists()
    assert invoke("graph", "export", "--format", "xml", "-o", tmp_path / "g.xml").exit_code != 0
    assert list(tmp_path.glob(".leverage-*")) == []


def test_hostile_names_in_export(tmp_path):
    name = 'x"]; evil [label="y <script>alert(1)</script> & \\N'
    G = project(tmp_path, [party("we", "self", name=name), party("b"), rel("r", "we", "b")])
    out = tmp_path / "h.graphml"
    graph.export(G, out, "graphml")
    assert nx.read_graphml(out).nodes["we"]["name"] == name


def test_cli_known_at(db, load_events, invoke, events_of):
    import time

    load_events(CHAIN)
    known = events_of(db)[-1]["recorded_at"]
    time.sleep(0.01)
    load_events([party("late"), rel("r-late", "we", "late"), impact("i-late", "r-late")])
    now = by_impact(json.loads(invoke("graph", "exposure", "--json", "--as-of", "2021-03-01").stdout))
    then = by_impact(json.loads(invoke("graph", "exposure", "--json", "--as-of", "2021-03-01",
                                       "--known-at", known).stdout))
    assert "i-late" in now and "i-late" not in then
    assert invoke("graph", "peers", "late", "--known-at", known).exit_code == 1
