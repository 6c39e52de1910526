"""DOT sources of the relationship graph and of an impact's timeline, and their rendering.

Every user string (names, ids, summaries) reaches DOT through :func:`label`, which escapes
backslashes (so ``\\N``, ``\\l`` and friends stay literal), marks the text as *not* an
HTML-like label (so ``<...>`` stays literal), and turns line breaks into DOT's own; the
``graphviz`` package then quotes the value and escapes its double quotes. Node names in the
DOT source are synthetic (``n0``, ``n1``, ...): party ids may contain ``:``, which DOT reads
as a port separator in an edge statement.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leverage import LeverageError

if TYPE_CHECKING:  # pragma: no cover
    import graphviz
    import networkx as nx

FORMATS = ("svg", "png", "pdf", "dot")
LAYOUTS = ("auto", "dot", "sfdp", "neato", "fdp", "twopi", "circo")
#: graphs with more parties than this are laid out with sfdp (``--layout auto``)
SFDP_ABOVE = 500
MISSING_DOT = ("Graphviz's dot is not installed: apt-get install graphviz (Debian/Ubuntu) "
               "or brew install graphviz")

LEVELS = ("low", "moderate", "high", "critical")
#: node fill by the worst open impact level (None: no open impact)
LEVEL_FILL: dict[str | None, str] = {
    None: "#ffffff", "low": "#d9ead3", "moderate": "#fff2cc", "high": "#f9cb9c", "critical": "#ea9999",
}
#: edge colour by the worst open impact level of the relationship
LEVEL_EDGE: dict[str | None, str] = {
    None: "#555555", "low": "#6aa84f", "moderate": "#bf9000", "high": "#e69138", "critical": "#cc0000",
}
OVERDUE_COLOUR = "#b00020"
SELF_SHAPE = "doubleoctagon"
#: edge style by relationship status
STATUS_STYLE: dict[str, dict[str, str]] = {
    "active": {"style": "solid"},
    "suspended": {"style": "dashed"},
    "ended": {"style": "dotted", "color": "#999999", "fontcolor": "#999999"},
    "terminated": {"style": "bold", "arrowhead": "tee"},
}
STATUS_MARK = {"active": "", "suspended": "suspended", "ended": "ended", "terminated": "\u2715 terminated"}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BREAK = re.compile(r"\r\n|\r|\n")


def _line(text: str) -> str:
    """One line of user text, safe inside a DOT escString (before quoting)."""
    text = _CONTROL.sub("\ufffd", text.replace("\t", " "))
    return text.replace("\\", "\\\\")


def label(*lines: str | None) -> str:
    """A DOT label of ``lines`` (None skipped; line breaks inside a line kept as breaks),
    every character literal."""
    import graphviz

    parts: list[str] = []
    for line in lines:
        if line is None:
            continue
        parts.extend(_line(piece) for piece in _BREAK.split(str(line)))
    return graphviz.nohtml("\\n".join(parts))


def text_attr(value: str) -> str:
    """A user string for an attribute that is not a label (tooltip, id, URL)."""
    import graphviz

    return graphviz.nohtml(" ".join(_line(piece) for piece in _BREAK.split(str(value))))


def wrap(text: str, width: int = 44) -> list[str]:
    return textwrap.wrap(text, width=width) or [""]


# -- the relationship graph ------------------------------------------------------------------


def select(
    G: nx.MultiDiGraph, *, focus: str | None = None, depth: int = 2, min_level: str | None = None,
) -> set[str]:
    """The parties to draw: all, or the ``focus`` neighbourhood (undirected, ``depth``), cut to
    what matters at ``min_level`` and above: both ends of every relationship carrying an open
    impact at that level or higher, the exposure path from a self party to each, and the
    self parties."""
    from leverage import graph

    nodes = set(G.nodes) if focus is None else graph.neighbourhood(G, focus, depth)
    if min_level is not None:
        floor = LEVELS.index(min_level)
        keep = set(graph.self_parties(G))
        impacts = G.graph.get("impacts", {})
        wanted = {iid for iid, info in impacts.items() if LEVELS.index(info["level"]) >= floor}
        ends = {}
        for u, v, key in G.edges(keys=True):
            ends[key] = (u, v)
        for iid in wanted:
            keep.update(ends.get(impacts[iid]["relationship"], ()))
        for row in graph.exposure(G):
            if row["impact"] in wanted:
                keep.update(row["path"])
        nodes &= keep
    return nodes


def graph_dot(
    G: nx.MultiDiGraph,
    nodes: Iterable[str] | None = None,
    *,
    engine: str = "dot",
    urls: dict[str, str] | None = None,
    title: str | None = None,
    legend: bool = True,
) -> graphviz.Digraph:
    """The DOT source of ``G`` (or of the parties ``nodes`` and the relationships between
    them). ``urls``: party id -> link target (the review pack's party pages)."""
    import graphviz

    chosen = sorted(G.nodes if nodes is None else nodes)
    names = {pid: f"n{i}" for i, pid in enumerate(chosen)}
    large = len(chosen) > SFDP_ABOVE
    dot = graphviz.Digraph("relationships", engine=engine)
    dot.attr(rankdir="LR", fontname="Helvetica", fontsize="11", labelloc="t")
    if title:
        dot.attr(label=label(title))
    if engine != "dot":
        dot.attr(layout=engine, overlap="prism", outputorder="edgesfirst", splines="false" if large else "true")
    dot.attr("node", fontname="Helvetica", fontsize="10", shape="box", style="rounded,filled")
    dot.attr("edge", fontname="Helvetica", fontsize="9")
    for pid in chosen:
        d = G.nodes[pid]
        level = d.get("level")
        overdue = bool(d.get("overdue"))
        status_line = None
        if level is not None:
            n = d.get("impacts", 0)
            status_line = f"{level} ({n} open impact{'s' if n != 1 else ''})"
        attrs: dict[str, str] = {
            "id": text_attr(f"party-{pid}"),
            "fillcolor": LEVEL_FILL.get(level, LEVEL_FILL[None]),
            "tooltip": text_attr(f"{d.get('name', pid)} ({pid})"),
        }
        if d.get("kind") == "self":
            attrs["shape"] = SELF_SHAPE
            attrs["style"] = "filled"
        if overdue:
            attrs.update(color=OVERDUE_COLOUR, penwidth="3", fontcolor=OVERDUE_COLOUR)
        if urls and pid in urls:
            attrs["URL"] = text_attr(urls[pid])
            attrs["target"] = "_top"
        dot.node(names[pid], label(d.get("name", pid), f"{pid} \u00b7 {d.get('kind', '')}", status_line,
                                   "OVERDUE" if overdue else None), **attrs)
    edges = [(key, u, v, d) for u in chosen for v, keydict in G.succ[u].items() if v in names
             for key, d in keydict.items()]
    edges.sort(key=lambda e: e[0])
    for key, u, v, d in edges:
        status = d.get("status", "active")
        attrs = {"id": text_attr(f"rel-{key}"), "color": LEVEL_EDGE.get(d.get("level"), LEVEL_EDGE[None]),
                 "tooltip": text_attr(f"{key}: {u} {d.get('type')} {v} ({status})")}
        attrs.update(STATUS_STYLE.get(status, {}))
        if d.get("crucial"):
            attrs["penwidth"] = "2"
        if d.get("overdue"):
            attrs.update(penwidth="3", color=OVERDUE_COLOUR)
        lines = [] if large else [d.get("type", ""), STATUS_MARK.get(status) or None,
                                  "OVERDUE" if d.get("overdue") else None]
        dot.edge(names[u], names[v], label=label(*lines) if any(lines) else None, **attrs)
    if legend:
        if engine == "dot":
            _legend(dot)
        else:
            _legend_node(dot)
    return dot


def _legend_node(dot: graphviz.Digraph) -> None:
    """The legend as one node (force-directed layouts do not keep a cluster together). The
    label is a fixed HTML-like table: no user text."""
    rows = "".join(f'<TR><TD BGCOLOR="{LEVEL_FILL[level]}">worst open: {level}</TD></TR>' for level in LEVELS)
    html = (
        '<<TABLE BORDER="1" CELLBORDER="1" CELLSPACING="2" COLOR="#999999">'
        '<TR><TD BORDER="0"><B>Legend</B></TD></TR>'
        f'<TR><TD BGCOLOR="{LEVEL_FILL[None]}">no open impact</TD></TR>{rows}'
        f'<TR><TD COLOR="{OVERDUE_COLOUR}" BORDER="3"><FONT COLOR="{OVERDUE_COLOUR}">overdue</FONT></TD></TR>'
        '<TR><TD>self party: double octagon</TD></TR>'
        '<TR><TD>relationship, provider &#8594; recipient: active solid, suspended dashed, ended dotted grey, '
        'terminated bold with a bar</TD></TR></TABLE>>'
    )
    dot.node("legend", html, shape="plaintext", style="", id="legend")


def _legend(dot: graphviz.Digraph) -> None:
    with dot.subgraph(name="cluster_legend") as lg:
        lg.attr(label="Legend", style="rounded", color="#999999", fontsize="10")
        lg.attr("node", fontsize="9", width="0", height="0", margin="0.06,0.03")
        lg.node("legend_none", "no open impact", fillcolor=LEVEL_FILL[None], id="legend-none")
        for level in LEVELS:
            lg.node(f"legend_{level}", f"worst open: {level}", fillcolor=LEVEL_FILL[level], id=f"legend-{level}")
        lg.node("legend_overdue", "overdue", fillcolor=LEVEL_FILL[None], color=OVERDUE_COLOUR, penwidth="3",
                fontcolor=OVERDUE_COLOUR, id="legend-overdue")
        lg.node("legend_self", "self party", shape=SELF_SHAPE, style="filled", fillcolor=LEVEL_FILL[None],
                id="legend-self")
        for status in ("active", "suspended", "ended", "terminated"):
            a, b = f"legend_{status}_a", f"legend_{status}_b"
            lg.node(a, "", shape="point", width="0.05", id=f"legend-{status}-a")
            lg.node(b, status, shape="plaintext", style="", id=f"legend-{status}")
            lg.edge(a, b, **STATUS_STYLE[status])


def choose_layout(layout: str, n_nodes: int) -> str:
    if layout != "auto":
        return layout
    return "sfdp" if n_nodes > SFDP_ABOVE else "dot"


# -- the timeline of an impact ---------------------------------------------------------------

KIND_FILL = {
    "opened": "#eeeeee", "reassessed": "#eeeeee", "step": "#cfe2f3", "assessment": "#d9d2e9",
    "now": "#ffffff",
}
OUTCOME_FILL = {"improved": "#d9ead3", "remediated": "#b6d7a8", "no-change": "#eeeeee", "worsened": "#ea9999"}
DECISION_FILL = {"continue": "#eeeeee", "suspend": "#f9cb9c", "terminate": "#ea9999", "reinstate": "#d9ead3",
                 "close": "#cccccc"}


def timeline_entries(impact: Any) -> list[dict[str, Any]]:
    """The records of an impact in time order: ``{kind, record, when, seq, title, lines, fill}``."""
    out: list[dict[str, Any]] = []
    history = impact.assessments_of_severity
    for i, r in enumerate(history):
        sev = r.severity
        out.append({
            "kind": "opened" if i == 0 else "reassessed", "when": r.when, "seq": r.seq, "at": r.at,
            "actor": r.actor,
            "title": "impact opened" if i == 0 else "impact reassessed",
            "lines": [*wrap(r.summary), f"severity {sev.scale}/{sev.scope}/{sev.irremediability}, "
                      f"{r.status}, rights: {', '.join(r.rights)}"],
            "fill": KIND_FILL["opened"],
        })
    for s in impact.steps:
        lines = wrap(s.summary)
        if s.deadline is not None:
            lines.append(f"deadline {s.deadline.isoformat()}")
        if s.with_:
            lines.append("with " + ", ".join(s.with_))
        out.append({"kind": "step", "when": s.when, "seq": s.seq, "at": s.at, "actor": s.actor,
                    "title": f"step: {s.kind}" + (f" ({s.id})" if s.id else ""), "lines": lines,
                    "fill": KIND_FILL["step"]})
    for o in impact.outcomes:
        out.append({"kind": "outcome", "when": o.when, "seq": o.seq, "at": o.at, "actor": o.actor,
                    "title": f"outcome: {o.outcome}" + (f" of {o.step}" if o.step else ""),
                    "lines": wrap(o.summary), "fill": OUTCOME_FILL.get(o.outcome, "#eeeeee")})
    for a in impact.assessments:
        out.append({"kind": "assessment", "when": a.when, "seq": a.seq, "at": a.at, "actor": a.actor,
                    "title": f"assessment: {a.kind}", "lines": [*wrap(a.conclusion), *wrap(a.summary)],
                    "fill": KIND_FILL["assessment"]})
    for d in impact.decisions:
        lines = wrap(d.rationale)
        if d.approved_by:
            lines.append(f"approved by {d.approved_by}")
        if d.forced:
            lines.append(f"FORCED: {d.forced}")
        out.append({"kind": "decision", "when": d.when, "seq": d.seq, "at": d.at, "actor": d.actor,
                    "title": f"decision: {d.decision}", "lines": lines,
                    "fill": DECISION_FILL.get(d.decision, "#eeeeee")})
    out.sort(key=lambda e: (e["when"], e["seq"]))
    return out


def timeline_dot(
    impact: Any,
    entries: Sequence[dict[str, Any]],
    after: dict[int, Any],
    final: Any,
    as_of: str,
) -> graphviz.Digraph:
    """A top-to-bottom chain of an impact's records. ``after``: seq of the last record of each
    day -> the engine's status at the end of that day (its level, rung, due date and next);
    ``final``: the status as of ``as_of``. An edge turns red when the next record came after
    the due date in force."""
    import graphviz

    dot = graphviz.Digraph("timeline", engine="dot")
    dot.attr(rankdir="TB", fontname="Helvetica", fontsize="11", labelloc="t",
             label=label(f"Impact {impact.id}: escalation as of {as_of}"))
    dot.attr("node", fontname="Helvetica", fontsize="9", shape="box", style="rounded,filled")
    dot.attr("edge", fontname="Helvetica", fontsize="8")
    due_in_force = None
    previous = None
    for i, e in enumerate(entries):
        name = f"e{i}"
        status = after.get(e["seq"])
        extra = None
        if status is not None:
            extra = f"then: {status.level}, rung {status.rung}" + (
                f", due {status.due.isoformat()}" if status.due is not None else "") + (
                f", next {status.next}" if status.next else "")
        dot.node(name, label(f"{e['when'].date().isoformat()} \u00b7 {e['title']}", *e["lines"],
                             f"by {e['actor']}", extra),
                 fillcolor=e["fill"], id=f"record-{e['seq']}")
        if previous is not None:
            day = e["when"].date()
            gap = (day - entries[i - 1]["when"].date()).days
            late = due_in_force is not None and day > due_in_force
            text = f"{gap} day{'s' if gap != 1 else ''}"
            if late:
                late_days = (day - due_in_force).days
                text += f"\\nlate by {late_days} day{'s' if late_days != 1 else ''}"
                dot.edge(previous, name, label=graphviz.nohtml(text), color=OVERDUE_COLOUR,
                         fontcolor=OVERDUE_COLOUR, penwidth="2")
            else:
                dot.edge(previous, name, label=graphviz.nohtml(text))
        if status is not None:
            due_in_force = status.due
        previous = name
    lines = [f"as of {as_of}", f"level {final.level}, rung {final.rung}"]
    if final.closed:
        lines.append("closed")
    else:
        lines.append(f"due {final.due.isoformat()}" if final.due is not None else "nothing more due")
        lines.append(f"next: {final.next}")
    if final.overdue:
        lines.append("OVERDUE")
    attrs: dict[str, str] = {"fillcolor": LEVEL_FILL.get(final.level, "#ffffff"), "id": "now", "shape": "note",
                             "style": "filled"}
    if final.overdue:
        attrs.update(color=OVERDUE_COLOUR, penwidth="3", fontcolor=OVERDUE_COLOUR)
    dot.node("now", label(*lines), **attrs)
    if previous is not None:
        dot.edge(previous, "now", style="dashed")
    return dot


# -- rendering --------------------------------------------------------------------------------


def render_bytes(dot: graphviz.Digraph, fmt: str) -> bytes:
    """The rendered picture (``dot``: the DOT source) as bytes; a missing Graphviz is one
    clear error."""
    import graphviz

    if fmt == "dot":
        return dot.source.encode("utf-8")
    engine = dot.engine
    if shutil.which(engine) is None:
        raise LeverageError(MISSING_DOT if engine == "dot" else
                            MISSING_DOT.replace("Graphviz's dot", f"Graphviz's {engine}"))
    try:
        return dot.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise LeverageError(MISSING_DOT) from None
    except graphviz.CalledProcessError as exc:
        stderr = exc.stderr.decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else str(exc.stderr or "")
        first = stderr.strip().splitlines()[0] if stderr.strip() else f"exit status {exc.returncode}"
        raise LeverageError(f"Graphviz {engine} failed: {first}") from None


def svg_fragment(svg: bytes) -> str:
    """An SVG document as an element to inline in HTML (the XML prolog and doctype removed)."""
    text = svg.decode("utf-8")
    start = text.find("<svg")
    return text[start:] if start >= 0 else ""


def write_file(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` whole (a temporary file in the same directory, renamed)."""
    target = Path(path)
    directory = target.parent
    if not directory.is_dir():
        raise LeverageError(f"{path}: cannot write: the directory {directory} does not exist")
    if target.is_dir():
        raise LeverageError(f"{path}: cannot write: it is a directory")
    fd, tmp = tempfile.mkstemp(prefix=".leverage-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise LeverageError(f"{path}: cannot write: {exc.strerror or exc}") from None


def format_of(output: str, fmt: str | None) -> str:
    """The output format: ``--format``, else the file's suffix, else svg."""
    if fmt:
        return fmt
    suffix = Path(output).suffix.lower().lstrip(".")
    if suffix == "gv":
        return "dot"
    return suffix if suffix in FORMATS else "svg"
