"""The static HTML review pack (``leverage render pack -o DIR``).

Files written into DIR, and nowhere else:

- ``index.html``: the graph (inline SVG; each party links to its page), the status table of
  every open impact, the parties, and the ledger's head (seq and hash) the pack was made from;
- ``graph.svg``: the same graph on its own;
- ``party-<name>.html``: one page per party drawn or named by an open impact;
- ``impact-<name>.html``: one page per open impact: its status, the next step with every
  reason and what is still missing, its findings, its timeline (inline SVG) and the full
  audit trail of its events with their hashes;
- ``.leverage-pack``: the list of files written, so that the next pack into DIR replaces
  exactly those.

Every piece of user text is escaped with ``html.escape(quote=True)``; the pages carry a
Content-Security-Policy that allows no script and no network request; file names come from
:func:`safe_name`, which maps ids to ``[a-z0-9._~-]`` one to one (so that ``Acme`` and
``acme`` do not collide on a case-insensitive disk).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

from leverage import LeverageError

MARKER = ".leverage-pack"
_PACK_FILE = re.compile(r"(index\.html|graph\.svg|(party|impact)-[a-z0-9._~-]+\.html)\Z")
#: most rows listed in one section of a party page
LIST_LIMIT = 200

CSS = """
body{font-family:Helvetica,Arial,sans-serif;margin:1.5em;color:#222;max-width:80em}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}
tr.overdue td{color:#b00020;font-weight:bold}
code,pre{font-family:Menlo,Consolas,monospace;font-size:.85em}
pre{white-space:pre-wrap;word-break:break-all;margin:0}
.hash{font-family:Menlo,Consolas,monospace;font-size:.8em;word-break:break-all}
.voided{color:#888;text-decoration:line-through}
.svg{overflow:auto;border:1px solid #ddd;margin:.5em 0 1.5em}
.level-low{background:#d9ead3}.level-moderate{background:#fff2cc}
.level-high{background:#f9cb9c}.level-critical{background:#ea9999}
nav{margin-bottom:1em}
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'"


def safe_name(id_: str) -> str:
    """An id as a file-name part, one to one and the same on case-insensitive disks:
    ``_`` -> ``__``, an upper-case letter -> ``_`` + its lower case, ``:`` -> ``~``, any other
    character outside ``[a-z0-9.-]`` -> ``_~`` + its code point in hex + ``~`` (ids are slugs:
    there are none). A result longer than 200 characters is cut and ends with a hash."""
    out = []
    for ch in id_:
        if ch == "_":
            out.append("__")
        elif "A" <= ch <= "Z":
            out.append("_" + ch.lower())
        elif ch == ":":
            out.append("~")
        elif ("a" <= ch <= "z") or ("0" <= ch <= "9") or ch in ".-":
            out.append(ch)
        else:
            out.append(f"_~{ord(ch):x}~")
    name = "".join(out)
    if len(name) > 200:
        import hashlib

        name = name[:180] + "-" + hashlib.sha256(id_.encode("utf-8")).hexdigest()[:16]
    return name


def party_page(pid: str) -> str:
    return f"party-{safe_name(pid)}.html"


def impact_page(iid: str) -> str:
    return f"impact-{safe_name(iid)}.html"


def h(value: Any) -> str:
    """User text as HTML text or attribute value."""
    return escape("" if value is None else str(value), quote=True)


class _Pack:
    """Writes files into one directory, never outside it."""

    def __init__(self, directory: str | os.PathLike[str]):
        path = Path(directory)
        if path.exists() and not path.is_dir():
            raise LeverageError(f"{directory}: not a directory")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LeverageError(f"{directory}: cannot create: {exc.strerror or exc}") from None
        self.root = path.resolve()
        self.written: list[str] = []
        self.earlier: list[str] = []
        self._check_earlier(directory)

    def _check_earlier(self, directory: str | os.PathLike[str]) -> None:
        marker = self.root / MARKER
        entries = [p.name for p in self.root.iterdir()]
        if not entries:
            return
        if MARKER not in entries:
            raise LeverageError(
                f"{directory}: the directory is not empty and holds no earlier review pack: "
                "choose a new or empty directory")
        try:
            earlier = marker.read_text(encoding="utf-8").split()
        except OSError as exc:
            raise LeverageError(f"{marker}: cannot read: {exc.strerror or exc}") from None
        self.earlier = [n for n in earlier if _PACK_FILE.match(n)]

    def _target(self, name: str) -> Path:
        if not _PACK_FILE.match(name) and name != MARKER:
            raise LeverageError(f"refusing to write {name!r}: not a review pack file name")
        target = self.root / name
        if target.is_symlink() or target.resolve().parent != self.root:
            raise LeverageError(f"refusing to write {target}: it leads outside {self.root}")
        return target

    def write(self, name: str, text: str) -> None:
        from .draw import write_file

        write_file(self._target(name), text.encode("utf-8"))
        if name != MARKER:
            self.written.append(name)

    def finish(self) -> None:
        for name in set(self.earlier) - set(self.written):
            target = self.root / name
            if target.is_file() and not target.is_symlink() and target.resolve().parent == self.root:
                try:
                    target.unlink()
                except OSError:
                    pass
        self.write(MARKER, "\n".join(sorted(self.written)) + "\n")


def page(title: str, body: str, *, nav: bool = True) -> str:
    back = '<nav><a href="index.html">&larr; review pack index</a></nav>\n' if nav else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
        "<meta name=\"referrer\" content=\"no-referrer\">\n"
        f"<title>{h(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{back}"
        f"<h1>{h(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def table(columns: Sequence[str], rows: Iterable[Sequence[str]], *, classes: Sequence[str] | None = None) -> str:
    """An HTML table; ``columns`` are escaped, cells are HTML already."""
    head = "".join(f"<th>{h(c)}</th>" for c in columns)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{h(classes[i])}"' if classes and classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>")
    if not body:
        return "<p>None.</p>"
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>"


def link(href: str | None, text: Any) -> str:
    if href is None:
        return h(text)
    return f'<a href="{h(href)}">{h(text)}</a>'


def level_cell(level: str | None) -> str:
    if level is None:
        return ""
    return f'<span class="level-{h(level)}">{h(level)}</span>'


def write_pack(ledger: Any, directory: str | os.PathLike[str], as_of: date, *, max_nodes: int = 1500) -> int:
    """Write the review pack of ``ledger`` as of ``as_of`` into ``directory``; returns the
    number of pages and pictures written."""
    from leverage import graph

    from . import draw
    from .commands import timeline_for

    pack = _Pack(directory)
    state = ledger.state(as_of=as_of)
    statuses = ledger.status(as_of=as_of, explain=True)
    G = graph.project(state, as_of, statuses=statuses)
    exposure = graph.exposure(G)

    # which parties get a page and appear in the picture
    drawn: set[str] = set(G.nodes)
    cut_note = ""
    if len(drawn) > max_nodes:
        drawn = set(graph.self_parties(G))
        for row in exposure:
            drawn.update(row["path"])
        cut_note = (f"<p>The graph has {G.number_of_nodes()} parties, more than {max_nodes}: the picture "
                    f"shows the {len(drawn)} parties linking self parties to open impacts.</p>")
    paged = set(drawn) | {s.party for s in statuses if s.party in G}
    party_href = {pid: party_page(pid) for pid in paged}
    open_ids = {s.impact for s in statuses}

    engine = draw.choose_layout("auto", len(drawn))
    dot = draw.graph_dot(G, drawn, engine=engine, urls=party_href,
                         title=f"Relationships as of {as_of.isoformat()}")
    svg = draw.render_bytes(dot, "svg")
    pack.write("graph.svg", svg.decode("utf-8"))

    head_seq, head_hash = ledger.head()
    rows, classes = [], []
    for s in statuses:
        rows.append([
            link(impact_page(s.impact), s.impact), link(party_href.get(s.party), s.party), level_cell(s.level),
            h(s.rung), h(s.due.isoformat() if s.due else "-"), "OVERDUE" if s.overdue else "", h(s.next or "-"),
            h(s.relationship), h(s.relationship_status), h(", ".join(f.code for f in s.findings)),
        ])
        classes.append("overdue" if s.overdue else "")
    parties_rows = [
        [link(party_href.get(pid), pid), h(G.nodes[pid].get("name")), h(G.nodes[pid].get("kind")),
         level_cell(G.nodes[pid].get("level")), "OVERDUE" if G.nodes[pid].get("overdue") else ""]
        for pid in sorted(paged)
    ]
    exposure_rows = [
        [link(impact_page(r["impact"]), r["impact"]), link(party_href.get(r["party"]), r["party"]),
         h(r["tier"]), " &rarr; ".join(link(party_href.get(p), p) for p in r["path"])]
        for r in exposure
    ]
    body = (
        f"<p>As of the end of {h(as_of.isoformat())} (UTC). Made from the ledger at seq {h(head_seq)}, "
        f"head hash <span class=\"hash\">{h(head_hash)}</span> "
        "(<code>leverage verify --expect HASH</code> proves the ledger still holds it).</p>\n"
        "<h2>Relationship graph</h2>\n"
        "<p>Parties are coloured by the worst level of their open impacts; a thick red border marks an "
        "overdue impact; self parties are double octagons. Relationships point from provider to "
        "recipient: suspended dashed, ended dotted grey, terminated bold with a bar at the head. "
        f"Click a party for its page. Also as a file: <a href=\"graph.svg\">graph.svg</a> ({h(engine)} "
        "layout).</p>\n"
        f"{cut_note}<div class=\"svg\">{draw.svg_fragment(svg)}</div>\n"
        f"<h2>Status of open impacts ({len(statuses)})</h2>\n"
        + table(["impact", "party", "level", "rung", "due", "overdue", "next", "relationship",
                 "relationship status", "findings"], rows, classes=classes)
        + "\n<h2>Exposure</h2>\n<p>Each open impact reachable from a self party, with the shortest chain of "
        "relationships (ignoring direction) that links it.</p>\n"
        + table(["impact", "party", "tier", "path"], exposure_rows)
        + "\n<h2>Parties</h2>\n"
        + table(["party", "name", "kind", "worst open level", "overdue"], parties_rows)
    )
    pack.write("index.html", page(f"Review pack as of {as_of.isoformat()}", body, nav=False))

    for pid in sorted(paged):
        pack.write(party_page(pid), _party_html(G, pid, state, statuses, exposure, party_href, open_ids))

    voids = _voids(ledger)
    for s in statuses:
        timeline = draw.render_bytes(timeline_for(state, s.impact, as_of), "svg")
        pack.write(impact_page(s.impact),
                   _impact_html(ledger, state, s, party_href, draw.svg_fragment(timeline), voids, as_of))
    pack.finish()
    return len(pack.written)


def _voids(ledger: Any) -> dict[int, Any]:
    """seq -> the ``event.voided`` event that voided it."""
    if not ledger.voided_seqs():
        return {}
    return {e.data["seq"]: e for e in ledger.iter_events() if e.type == "event.voided"}


def _limited(rows: list[list[str]]) -> tuple[list[list[str]], str]:
    if len(rows) <= LIST_LIMIT:
        return rows, ""
    return rows[:LIST_LIMIT], f"<p>The first {LIST_LIMIT} of {len(rows)}.</p>"


def _party_html(G: Any, pid: str, state: Any, statuses: Sequence[Any], exposure: list[dict[str, Any]],
                party_href: dict[str, str], open_ids: set[str]) -> str:
    from leverage import graph

    d = G.nodes[pid]
    party = state.parties[pid]
    facts = [["id", h(pid)], ["name", h(party.name)], ["kind", h(party.kind)]]
    if party.country:
        facts.append(["country", h(party.country)])
    if party.sector:
        facts.append(["sector", h(party.sector)])
    for system, ext in sorted(party.external_ids.items()):
        facts.append([f"external id ({h(system)})", h(ext)])
    facts.append(["worst open level", level_cell(d.get("level")) or "none"])
    if d.get("overdue"):
        facts.append(["overdue", "OVERDUE"])
    rels = []
    for _, other, key, e in G.out_edges(pid, keys=True, data=True):
        rels.append((key, "to", other, e))
    for other, _, key, e in G.in_edges(pid, keys=True, data=True):
        rels.append((key, "from", other, e))
    rels.sort(key=lambda r: r[0])
    rel_rows = [[h(key), h(f"{pid} {e['type']} {other}" if way == "to" else f"{other} {e['type']} {pid}"),
                 link(party_href.get(other), other), h(e["status"]), "yes" if e.get("crucial") else "",
                 h(e.get("leverage") if e.get("leverage") is not None else ""), level_cell(e.get("level")),
                 "OVERDUE" if e.get("overdue") else ""] for key, way, other, e in rels]
    rel_rows, rel_note = _limited(rel_rows)
    imp_rows = [[link(impact_page(s.impact), s.impact), level_cell(s.level), h(s.rung),
                 h(s.due.isoformat() if s.due else "-"), "OVERDUE" if s.overdue else "", h(s.next or "-")]
                for s in statuses if s.party == pid]
    paths = [r for r in exposure if r["party"] == pid]
    path_html = ""
    if paths:
        path_html = "<p>Linked to a self party through: " + " &rarr; ".join(
            link(party_href.get(p), p) for p in paths[0]["path"]) + f" (tier {paths[0]['tier']}).</p>"
    peer_rows = [[link(party_href.get(r["party"]), r["party"]), h(r["relationship"]), h(r["type"])]
                 for r in graph.peers(G, pid)]
    peer_rows, peer_note = _limited(peer_rows)
    dep_rows = [[link(party_href.get(r["party"]), r["party"]), h(r["distance"])] for r in graph.dependents(G, pid)]
    dep_rows, dep_note = _limited(dep_rows)
    body = (
        table(["", ""], facts) + path_html
        + "\n<h2>Open impacts</h2>\n" + table(["impact", "level", "rung", "due", "overdue", "next"], imp_rows)
        + "\n<h2>Relationships</h2>\n" + rel_note
        + table(["relationship", "", "other party", "status", "crucial", "leverage", "worst open level",
                 "overdue"], rel_rows)
        + "\n<h2>Peers</h2>\n<p>Parties (not self) with a relationship to this party, either direction: "
        "others with leverage, for collective action.</p>\n" + peer_note
        + table(["party", "relationship", "type"], peer_rows)
        + "\n<h2>Dependents</h2>\n<p>Parties reached from this party along active relationships in their "
        "direction: whose service ends if it is cut off.</p>\n" + dep_note
        + table(["party", "distance"], dep_rows)
    )
    return page(f"Party {pid}: {party.name}", body)


def _impact_html(ledger: Any, state: Any, status: Any, party_href: dict[str, str], timeline_svg: str,
                 voids: dict[int, Any], as_of: date) -> str:
    impact = state.impacts[status.impact]
    nxt = status.to_next_dict()
    sev = impact.assessments_of_severity[-1].severity if impact.assessments_of_severity else impact.severity
    facts = [
        ["summary", h(impact.summary)],
        ["relationship", h(impact.relationship) + " (" + h(nxt["relationship_status"]) + ")"],
        ["party", link(party_href.get(status.party), status.party)],
        ["rights", h(", ".join(impact.rights))],
        ["severity (scale / scope / irremediability)", h(f"{sev.scale} / {sev.scope} / {sev.irremediability}")],
        ["involvement", h(impact.involvement)],
        ["status", h(impact.status)],
        ["affected", h("; ".join(impact.affected))],
        ["opened", h(impact.opened_at) + " by " + h(impact.opened_by)],
    ]
    state_rows = [["level", level_cell(nxt["level"])], ["rung", h(nxt["rung"])],
                  ["due", h(nxt["due"] or "-")], ["overdue", "OVERDUE" if nxt["overdue"] else "no"],
                  ["next", h(nxt["next"] or "-")],
                  ["still missing before next", h(", ".join(nxt["missing"]) or "nothing")]]
    reasons = "<ul>\n" + "\n".join(f"<li>{h(r['message'])} <em>[{h(r['source'])}]</em></li>"
                                   for r in nxt["reasons"]) + "\n</ul>" if nxt["reasons"] else "<p>None.</p>"
    findings = table(["code", "message", "source"],
                     [[h(f["code"]), h(f["message"]), h(f["source"])] for f in nxt["findings"]])
    trail_rows, classes = [], []
    for e in ledger.iter_events(subject=f"impact:{impact.id}"):
        void = voids.get(e.seq)
        note = ""
        if void is not None:
            note = f"<br>voided by seq {h(void.seq)}: {h(void.data.get('reason'))}"
        data = json.dumps(e.data, ensure_ascii=False, indent=1, sort_keys=True)
        trail_rows.append([h(e.seq), h(e.at), h(e.recorded_at), h(e.actor), h(e.type) + note,
                           f"<pre>{h(data)}</pre>", f'<span class="hash">{h(e.hash)}</span>',
                           f'<span class="hash">{h(e.prev)}</span>'])
        classes.append("voided" if void is not None else "")
    body = (
        table(["", ""], facts)
        + "\n<h2>Status as of " + h(as_of.isoformat()) + "</h2>\n" + table(["", ""], state_rows)
        + "\n<h2>Why: the reasons for the next step</h2>\n" + reasons
        + "\n<h2>Findings</h2>\n" + findings
        + "\n<h2>Timeline</h2>\n<p>Each box shows the level, rung, due date and next step the policy gave at "
        "the end of its day; a red arrow: the next record came after the due date.</p>\n"
        + f"<div class=\"svg\">{timeline_svg}</div>\n"
        + "<h2>Audit trail</h2>\n<p>Every event of this impact in the ledger, in recording order (voided ones "
        "struck through), with its hash and the previous event's hash: check them with "
        "<code>leverage verify</code>.</p>\n"
        + table(["seq", "at", "recorded at", "actor", "type", "data", "hash", "prev"], trail_rows, classes=classes)
    )
    return page(f"Impact {impact.id}", body)
