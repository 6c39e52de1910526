"""The relationship graph (DESIGN section 7): a networkx ``MultiDiGraph`` projected from the
state as of a date, and the queries legal asks before a suspension or a termination.

- Nodes are parties, keyed by party id. Attributes: ``kind``, ``name``, ``country`` and
  ``sector`` (when set), ``level`` (the worst level of the open impacts whose status party
  it is, or None), ``overdue`` (one of those impacts is overdue) and ``impacts`` (how many).
- Edges are relationships, **directed from source to target, read as provider to
  recipient**, keyed by relationship id. Attributes: ``type``, ``status`` (``active``,
  ``suspended``, ``ended``, ``terminated``: DESIGN section 5), ``crucial``, ``leverage``
  (or None), ``level`` (the worst level of the relationship's open impacts, or None),
  ``overdue`` and ``impacts``.
- ``G.graph["as_of"]`` is the date (ISO text) and ``G.graph["impacts"]`` maps each open
  impact's id to ``{"relationship", "party", "level", "overdue", "rung", "next", "due"}``.

Queries (each returns plain JSON-ready objects, sorted):

- :func:`exposure`: every open impact reachable from a ``self`` party, with the
  lexicographically smallest shortest undirected path to it (one multi-source BFS);
- :func:`peers`: the relationships between a party and parties that are not ``self``;
- :func:`dependents`: the parties reachable from a party along ``active`` relationships in
  their direction.

Which relationships count: every relationship in the state counts for ``exposure`` and
``peers`` (an ended, suspended or terminated relationship still links the company to the
harm it was linked to: the history legal reviews); only ``active`` ones count for
``dependents`` (whose service ends if a partner is cut off now). ``exposure`` takes
``active_only=True`` for the narrower view.
"""

from __future__ import annotations

import gc
import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from .errors import LeverageError
from .policy import LEVEL_INDEX

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Status
    from .model import State

__all__ = [
    "EXPORT_FORMATS",
    "dependents",
    "export",
    "exposure",
    "neighbourhood",
    "peers",
    "project",
    "relationship_statuses",
    "require_party",
    "worse",
]

EXPORT_FORMATS = ("graphml", "gexf")


def worse(a: str | None, b: str | None) -> str | None:
    """The worse of two levels (None: no open impact)."""
    if a is None:
        return b
    if b is None:
        return a
    return a if LEVEL_INDEX[a] >= LEVEL_INDEX[b] else b


def relationship_statuses(state: State) -> dict[str, str]:
    """:meth:`State.relationship_status` of every relationship, in one pass over impacts."""
    from .engine import relationship_statuses as statuses

    return statuses(state)


def project(
    state: State,
    as_of: date | None = None,
    *,
    statuses: Iterable[Status] | None = None,
    step_kinds: dict[str, str] | None = None,
) -> nx.MultiDiGraph:
    """The graph of ``state`` as of the end of ``as_of`` (default: the state's own date,
    else today, UTC).

    ``statuses``: the engine's statuses for this state and date (computed when not given,
    with ``step_kinds`` or the registered step kinds); closed ones are ignored.
    """
    if as_of is None:
        as_of = state.as_of
    if as_of is None:
        from .timeutil import now_utc

        as_of = now_utc().date()
    if statuses is None:
        from . import engine

        if step_kinds is None:
            from . import plugins

            step_kinds = plugins.registries().step_rungs()
        statuses = engine.evaluate(state, as_of, step_kinds=step_kinds, explain=False)

    open_impacts: dict[str, dict[str, Any]] = {}
    node_info: dict[str, list[Any]] = {}  # party -> [level, overdue, count]
    edge_info: dict[str, list[Any]] = {}  # relationship -> [level, overdue, count]
    for s in statuses:
        if s.closed:
            continue
        open_impacts[s.impact] = {
            "relationship": s.relationship, "party": s.party, "level": s.level,
            "overdue": s.overdue, "rung": s.rung, "next": s.next,
            "due": s.due.isoformat() if s.due is not None else None,
        }
        for table, key in ((node_info, s.party), (edge_info, s.relationship)):
            info = table.get(key)
            if info is None:
                table[key] = [s.level, s.overdue, 1]
            else:
                info[0] = worse(info[0], s.level)
                info[1] = info[1] or s.overdue
                info[2] += 1

    # Building a million edges creates millions of dicts: the cyclic garbage collector would
    # traverse the whole heap again and again while nothing it could free is being made.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _build(state, as_of, open_impacts, node_info, edge_info)
    finally:
        if collecting:
            gc.enable()


def _build(state: State, as_of: date, open_impacts: dict[str, dict[str, Any]],
           node_info: dict[str, list[Any]], edge_info: dict[str, list[Any]]) -> nx.MultiDiGraph:
    rel_status = relationship_statuses(state)
    none = (None, False, 0)
    G = nx.MultiDiGraph(as_of=as_of.isoformat(), impacts=open_impacts)

    def nodes() -> Iterator[tuple[str, dict[str, Any]]]:
        for pid, p in state.parties.items():
            level, overdue, count = node_info.get(pid, none)
            attrs: dict[str, Any] = {"kind": p.kind, "name": p.name, "level": level,
                                     "overdue": overdue, "impacts": count}
            if p.country is not None:
                attrs["country"] = p.country
            if p.sector is not None:
                attrs["sector"] = p.sector
            yield pid, attrs

    def edges() -> Iterator[tuple[str, str, str, dict[str, Any]]]:
        for rid, r in state.relationships.items():
            level, overdue, count = edge_info.get(rid, none)
            yield r.source, r.target, rid, {
                "type": r.type, "status": rel_status[rid], "crucial": r.crucial,
                "leverage": r.leverage, "level": level, "overdue": overdue, "impacts": count,
            }

    G.add_nodes_from(nodes())
    G.add_edges_from(edges())
    return G


def require_party(G: nx.MultiDiGraph, party: str) -> None:
    """Raise a one-line :class:`LeverageError` when ``party`` is not in the graph."""
    if party not in G:
        when = G.graph.get("as_of")
        raise LeverageError(f"unknown party {party!r}" + (f" as of {when}" if when else ""))


# -- queries ------------------------------------------------------------------------------


def _active(keydict: dict[str, dict[str, Any]]) -> bool:
    for d in keydict.values():
        if d["status"] == "active":
            return True
    return False


def _bfs_lex(G: nx.MultiDiGraph, sources: list[str], *, active_only: bool = False) -> dict[str, str | None]:
    """Parents of the lexicographically smallest shortest undirected paths from ``sources``.

    Paths are compared as lists of party ids, from their first node. The BFS starts from the
    sorted sources and processes every layer in the order of its nodes' best paths; a node
    found first from the earliest node of the previous layer has the smallest path among
    those of its length (two paths of equal length differ first in their prefixes, unless
    they share the parent, when the nodes' own ids decide). The nodes a layer discovers are
    therefore appended in (parent's rank, id) order: sorting only each node's new
    neighbours keeps the next layer in rank order. Returns ``{node: parent}`` (None for a
    source) for every reachable node.
    """
    succ, pred = G.succ, G.pred
    parent: dict[str, str | None] = dict.fromkeys(sorted(set(sources)))
    layer = list(parent)
    while layer:
        nxt: list[str] = []
        for u in layer:
            if active_only:
                found = [v for v, kd in succ[u].items() if v not in parent and _active(kd)]
                found += [v for v, kd in pred[u].items() if v not in parent and _active(kd)]
            else:
                found = [v for v in succ[u] if v not in parent]
                found += [v for v in pred[u] if v not in parent]
            if not found:
                continue
            if len(found) > 1:
                found = sorted(set(found))
            for v in found:
                parent[v] = u
            nxt.extend(found)
        layer = nxt
    return parent


def _path(parent: dict[str, str | None], node: str) -> list[str]:
    path = [node]
    p = parent[node]
    while p is not None:
        path.append(p)
        p = parent[p]
    path.reverse()
    return path


def self_parties(G: nx.MultiDiGraph) -> list[str]:
    """The ids of the parties of kind ``self``, sorted."""
    return sorted(n for n, kind in G.nodes(data="kind") if kind == "self")


def exposure(G: nx.MultiDiGraph, *, active_only: bool = False) -> list[dict[str, Any]]:
    """One object per open impact reachable from a ``self`` party (DESIGN section 7):
    ``{"impact", "relationship", "party", "tier", "path"}``, sorted by tier, then impact.

    ``path`` holds the party ids of the lexicographically smallest of the shortest paths,
    ignoring direction, from any ``self`` party to the impact's party (the relationship's end
    that is not ``self``); ``tier`` is its number of relationships (0 when the impact's party
    is itself a ``self`` party). ``active_only``: only ``active`` relationships link.
    """
    impacts: dict[str, dict[str, Any]] = G.graph.get("impacts", {})
    sources = self_parties(G)
    if not sources or not impacts:
        return []
    parent = _bfs_lex(G, sources, active_only=active_only)
    out = []
    for iid, info in impacts.items():
        party = info["party"]
        if party not in parent:
            continue
        path = _path(parent, party)
        out.append({"impact": iid, "relationship": info["relationship"], "party": party,
                    "tier": len(path) - 1, "path": path})
    out.sort(key=lambda o: (o["tier"], o["impact"]))
    return out


def peers(G: nx.MultiDiGraph, party: str) -> list[dict[str, Any]]:
    """One object per relationship between ``party`` and a party not of kind ``self``, in
    either direction: ``{"party", "relationship", "type"}``, sorted by party, then
    relationship."""
    require_party(G, party)
    kinds = G.nodes
    out = []
    for adjacency in (G.succ[party], G.pred[party]):
        for other, keydict in adjacency.items():
            if kinds[other].get("kind") == "self":
                continue
            for rid, d in keydict.items():
                out.append({"party": other, "relationship": rid, "type": d["type"]})
    out.sort(key=lambda o: (o["party"], o["relationship"]))
    return out


def dependents(G: nx.MultiDiGraph, party: str) -> list[dict[str, Any]]:
    """``{"party", "distance"}`` for every party reachable from ``party`` along ``active``
    relationships in their direction, sorted by distance, then id (``party`` excluded)."""
    require_party(G, party)
    succ = G.succ
    seen = {party}
    layer = [party]
    out: list[dict[str, Any]] = []
    distance = 0
    while layer:
        distance += 1
        nxt = []
        for u in layer:
            for v, keydict in succ[u].items():
                if v not in seen and _active(keydict):
                    seen.add(v)
                    nxt.append(v)
        nxt.sort()
        out.extend({"party": v, "distance": distance} for v in nxt)
        layer = nxt
    return out


def neighbourhood(G: nx.MultiDiGraph, party: str, depth: int) -> set[str]:
    """The parties within ``depth`` relationships of ``party``, ignoring direction."""
    require_party(G, party)
    seen = {party}
    layer = [party]
    for _ in range(max(depth, 0)):
        nxt = []
        for u in layer:
            for adjacency in (G.succ[u], G.pred[u]):
                for v in adjacency:
                    if v not in seen:
                        seen.add(v)
                        nxt.append(v)
        if not nxt:
            break
        layer = nxt
    return seen


# -- export -------------------------------------------------------------------------------


def _plain(attrs: dict[str, Any]) -> dict[str, Any]:
    """Attributes GraphML and GEXF can store: None dropped, only str, int, float and bool."""
    return {k: v for k, v in attrs.items() if v is not None and isinstance(v, str | int | float | bool)}


def _for_export(G: nx.MultiDiGraph, fmt: str) -> nx.MultiDiGraph:
    H = nx.MultiDiGraph()
    H.graph.update(_plain(dict(G.graph)))
    for n, d in G.nodes(data=True):
        attrs = _plain(d)
        if fmt == "gexf":
            attrs["label"] = d.get("name", n)
        H.add_node(n, **attrs)
    for u, v, k, d in G.edges(keys=True, data=True):
        attrs = _plain(d)
        if fmt == "gexf":
            # GEXF reads ``type`` as directed/undirected and ``id``/``label`` as the edge's own
            attrs["relationship_type"] = attrs.pop("type", None)
            attrs["id"] = k
            attrs["label"] = k
        H.add_edge(u, v, key=k, **_plain(attrs))
    return H


def export(G: nx.MultiDiGraph, path: str | os.PathLike[str], fmt: str) -> None:
    """Write the graph as GraphML or GEXF to ``path`` (written whole, or not at all).

    GraphML and GEXF cannot store None: attributes without a value are left out. In GEXF
    the relationship type is ``relationship_type`` (``type`` is GEXF's own), each node's
    label is the party's name and each edge's id and label are the relationship id.
    """
    if fmt not in EXPORT_FORMATS:
        raise LeverageError(f"unknown graph format {fmt!r} (graphml or gexf)")
    H = _for_export(G, fmt)
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise LeverageError(f"{path}: cannot write: the directory {directory} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=".leverage-", suffix="." + fmt, dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            if fmt == "graphml":
                nx.write_graphml(H, fh, encoding="utf-8")
            else:
                nx.write_gexf(H, fh, encoding="utf-8")
        _default_mode(tmp)
        os.replace(tmp, target)
    except OSError as exc:
        _remove(tmp)
        raise LeverageError(f"{path}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        _remove(tmp)
        raise


def _default_mode(path: str) -> None:
    """Give a temporary file the mode a new file gets (mkstemp makes it private)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
