"""The built-in plugin leverage_graphviz: ``leverage render graph|timeline|pack``.

The pictures are rendered for real with Graphviz (``.ci/run`` installs it) and parsed: the
SVG as XML, the pack's HTML with ``html.parser``.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from test_graph import SEVERITY, decide, end, impact, party, rel

from leverage import open_ledger

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}href"
HOSTILE_1 = 'x"]; evil [label="y'
HOSTILE_2 = "<script>alert(1)</script>"
HOSTILE_3 = "back\\slash \\N \\l & <b>bold</b> ]"
LEGEND_NODES = 15  # 5 levels, overdue, self, and two nodes per relationship status


pytestmark = pytest.mark.plugins("leverage_graphviz")


EVENTS = [
    party("we", "self", name="We Host GmbH"),
    party("acme", "client", name="Acme Media"),
    party("dc", "supplier", name="North DC"),
    party("users", "user-group", name="Acme's users"),
    party("evil-1", "partner", name=HOSTILE_1),
    party("evil-2", "partner", name=HOSTILE_2),
    party("evil-3", "other", name=HOSTILE_3),
    party("Cased:ID_x", "other", name="Cased id"),
    party("far", "other", name="Far away"),
    rel("r-acme", "we", "acme", "hosts", leverage=3),
    rel("r-dc", "dc", "we", "supplies", crucial=True),
    rel("r-users", "acme", "users", "serves"),
    rel("r-e1", "evil-1", "acme", "serves"),
    rel("r-e2", "we", "evil-2", "hosts"),
    rel("r-e3", "we", "evil-3", "hosts"),
    rel("r-cased", "Cased:ID_x", "we", "supplies"),
    rel("r-far", "users", "far", "serves"),
    impact("i-acme", "r-acme", severity={"scale": 5, "scope": 3, "irremediability": 3},
           summary="Calls for violence on Acme's forum."),
    {"type": "step.taken", "at": "2021-01-06", "actor": "ana",
     "data": {"impact": "i-acme", "kind": "dialogue", "id": "call-1", "summary": "Call with Acme.",
              "deadline": "2021-01-08"}},
    {"type": "step.outcome", "at": "2021-01-09", "actor": "ana",
     "data": {"impact": "i-acme", "outcome": "no-change", "summary": "Nothing changed."}},
    {"type": "assessment.recorded", "at": "2021-01-10", "actor": "li",
     "data": {"impact": "i-acme", "kind": "termination-impact", "conclusion": "exit-acceptable",
              "summary": "Users can move."}},
    impact("i-e2", "r-e2", severity={"scale": 4, "scope": 1, "irremediability": 1},
           summary=HOSTILE_2 + " " + HOSTILE_1),
    decide("i-e2", "suspend", at="2021-01-07"),
    impact("i-e3", "r-e3", severity=SEVERITY),
    decide("i-e3", "terminate", at="2021-01-07"),
    impact("i-dc", "r-dc", severity={"scale": 1, "scope": 1, "irremediability": 2}),
    impact("i-cased", "r-cased"),
    end("r-far"),
]
AS_OF = "2021-01-20"


@pytest.fixture
def render_db(db, load_events):
    load_events(EVENTS)
    return db


# -- helpers ------------------------------------------------------------------------------------


def svg_nodes(path: Path) -> dict[str, ET.Element]:
    root = ET.parse(path).getroot()
    return {g.get("id"): g for g in root.iter(f"{SVG}g") if g.get("class") == "node"}


def svg_edges(path: Path) -> dict[str, ET.Element]:
    root = ET.parse(path).getroot()
    return {g.get("id"): g for g in root.iter(f"{SVG}g") if g.get("class") == "edge"}


def texts(element: ET.Element) -> list[str]:
    return [t.text or "" for t in element.iter(f"{SVG}text")]


def attr_values(element: ET.Element, name: str) -> set[str]:
    return {e.get(name) for e in element.iter() if e.get(name) is not None}


def render(invoke, *args: Any) -> Any:
    result = invoke("render", *args)
    assert result.exit_code == 0, result.output
    return result


# -- render graph -------------------------------------------------------------------------------


def test_render_group_lists_the_renderers(invoke):
    result = invoke("render", "--help")
    assert result.exit_code == 0
    for name in ("graph", "timeline", "pack"):
        assert name in result.stdout


def test_graph_svg_nodes_colours_and_labels(render_db, invoke, tmp_path):
    out = tmp_path / "g.svg"
    result = render(invoke, "graph", "-o", out, "--as-of", AS_OF)
    assert "dot layout" in result.stderr
    nodes = svg_nodes(out)
    parties = {k[len("party-"):]: v for k, v in nodes.items() if k.startswith("party-")}
    assert set(parties) == {"we", "acme", "dc", "users", "evil-1", "evil-2", "evil-3", "Cased:ID_x", "far"}
    assert len(nodes) == len(parties) + LEGEND_NODES
    acme = parties["acme"]
    assert texts(acme)[:2] == ["Acme Media", "acme · client"]
    assert "critical (1 open impact)" in texts(acme)
    assert "#ea9999" in attr_values(acme, "fill")  # critical
    assert "#d9ead3" in attr_values(parties["dc"], "fill")  # low
    assert "#ffffff" in attr_values(parties["users"], "fill")  # no open impact
    # overdue: a thick red border and the word
    assert "OVERDUE" in texts(acme)
    assert "#b00020" in attr_values(acme, "stroke") and "3" in attr_values(acme, "stroke-width")
    assert "OVERDUE" not in texts(parties["users"])
    # self parties are double octagons: two outlines
    assert len(list(parties["we"].iter(f"{SVG}polygon"))) == 2
    assert len(list(parties["users"].iter(f"{SVG}polygon"))) == 0  # rounded boxes are paths
    # the legend
    root = ET.parse(out).getroot()
    clusters = [g for g in root.iter(f"{SVG}g") if g.get("class") == "cluster"]
    assert any("Legend" in texts(c) for c in clusters)


def test_graph_svg_edges_styled_by_status(render_db, invoke, tmp_path):
    out = tmp_path / "g.svg"
    render(invoke, "graph", "-o", out, "--as-of", AS_OF)
    edges = svg_edges(out)
    assert {k for k in edges if k.startswith("rel-")} == {
        "rel-r-acme", "rel-r-dc", "rel-r-users", "rel-r-e1", "rel-r-e2", "rel-r-e3", "rel-r-cased", "rel-r-far"}
    assert "stroke-dasharray" not in {a for e in edges["rel-r-acme"].iter() for a in e.attrib}
    assert attr_values(edges["rel-r-e2"], "stroke-dasharray")  # suspended: dashed
    assert "suspended" in texts(edges["rel-r-e2"])
    assert attr_values(edges["rel-r-far"], "stroke-dasharray")  # ended: dotted
    assert "ended" in texts(edges["rel-r-far"])
    terminated = edges["rel-r-e3"]
    assert "2" in attr_values(terminated, "stroke-width")  # bold
    assert "\u2715 terminated" in texts(terminated)
    assert "hosts" in texts(edges["rel-r-acme"]) and "OVERDUE" in texts(edges["rel-r-acme"])
    # edges follow the relationship's direction: the title is "source->target" (DOT node names)
    assert edges["rel-r-dc"].find(f"{SVG}title").text.count("->") == 1


def test_graph_hostile_names_are_text(render_db, invoke, tmp_path):
    out = tmp_path / "g.svg"
    render(invoke, "graph", "-o", out, "--as-of", AS_OF)
    nodes = svg_nodes(out)
    assert texts(nodes["party-evil-1"])[0] == HOSTILE_1
    assert texts(nodes["party-evil-2"])[0] == HOSTILE_2
    assert texts(nodes["party-evil-3"])[0] == HOSTILE_3
    # nothing else appeared: no node called "evil", no script element, the counts unchanged
    assert len(nodes) == 9 + LEGEND_NODES
    root = ET.parse(out).getroot()
    assert not [e for e in root.iter() if e.tag.endswith("script")]
    titles = [g.find(f"{SVG}title").text for g in nodes.values()]
    assert "evil" not in titles
    # the DOT source too holds each name as one quoted string
    dot_out = tmp_path / "g.dot"
    render(invoke, "graph", "-o", dot_out, "--as-of", AS_OF)
    source = dot_out.read_text(encoding="utf-8")
    assert 'label="x\\"]; evil [label=\\"y\\n' in source
    assert "back\\\\slash \\\\N \\\\l" in source


def test_graph_formats(render_db, invoke, tmp_path):
    render(invoke, "graph", "-o", tmp_path / "g.png", "--as-of", AS_OF)
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    render(invoke, "graph", "-o", tmp_path / "g.pdf", "--as-of", AS_OF)
    assert (tmp_path / "g.pdf").read_bytes()[:5] == b"%PDF-"
    render(invoke, "graph", "-o", tmp_path / "g.out", "--format", "dot", "--as-of", AS_OF)
    assert (tmp_path / "g.out").read_text(encoding="utf-8").startswith("digraph relationships {")
    render(invoke, "graph", "-o", tmp_path / "picture", "--as-of", AS_OF)  # no suffix: svg
    assert ET.parse(tmp_path / "picture").getroot().tag == f"{SVG}svg"
    assert list(tmp_path.glob(".leverage-*")) == []


def test_graph_focus_and_depth(render_db, invoke, tmp_path):
    out = tmp_path / "g.svg"
    render(invoke, "graph", "-o", out, "--focus", "users", "--depth", "1", "--as-of", AS_OF)
    parties = {k for k in svg_nodes(out) if k.startswith("party-")}
    assert parties == {"party-users", "party-acme", "party-far"}  # either direction
    render(invoke, "graph", "-o", out, "--focus", "users", "--depth", "2", "--as-of", AS_OF)
    parties = {k for k in svg_nodes(out) if k.startswith("party-")}
    assert parties == {"party-users", "party-acme", "party-far", "party-we", "party-evil-1"}
    assert {k for k in svg_edges(out) if k.startswith("rel-")} == {"rel-r-users", "rel-r-far", "rel-r-acme",
                                                                   "rel-r-e1"}


def test_graph_unknown_focus(render_db, invoke, tmp_path, assert_user_error):
    assert_user_error(invoke("render", "graph", "-o", tmp_path / "g.svg", "--focus", "nobody"),
                      "unknown party 'nobody'")
    assert not (tmp_path / "g.svg").exists()


def test_graph_min_level(render_db, invoke, tmp_path):
    out = tmp_path / "g.svg"
    render(invoke, "graph", "-o", out, "--min-level", "high", "--as-of", AS_OF)
    parties = {k for k in svg_nodes(out) if k.startswith("party-")}
    # i-acme is critical, i-e2 high; i-e3 and i-cased are moderate, i-dc low
    assert parties == {"party-we", "party-acme", "party-evil-2"}
    render(invoke, "graph", "-o", out, "--min-level", "critical", "--as-of", AS_OF)
    assert {k for k in svg_nodes(out) if k.startswith("party-")} == {"party-we", "party-acme"}


def test_graph_large_uses_sfdp(db, load_events, invoke, tmp_path):
    events = [party("we", "self")] + [party(f"c{i}") for i in range(510)]
    events += [rel(f"r{i}", "we", f"c{i}", "hosts") for i in range(510)]
    load_events(events)
    out = tmp_path / "big.svg"
    result = render(invoke, "graph", "-o", out, "--as-of", AS_OF)
    assert "sfdp layout" in result.stderr
    nodes = svg_nodes(out)
    assert len([k for k in nodes if k.startswith("party-")]) == 511
    assert "Legend" in texts(nodes["legend"])  # one node: sfdp does not keep a cluster together
    assert len(nodes) == 512
    result = render(invoke, "graph", "-o", tmp_path / "big.dot", "--layout", "dot", "--as-of", AS_OF)
    assert "dot layout" in result.stderr


def test_missing_dot_is_one_clear_error(render_db, invoke, tmp_path, monkeypatch, assert_user_error):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    line = assert_user_error(invoke("render", "graph", "-o", tmp_path / "g.svg"), "Graphviz's dot is not installed")
    assert "apt-get install graphviz" in line and "brew install graphviz" in line
    assert not (tmp_path / "g.svg").exists()
    assert_user_error(invoke("render", "timeline", "i-acme", "-o", tmp_path / "t.svg"),
                      "Graphviz's dot is not installed")
    assert_user_error(invoke("render", "pack", "-o", tmp_path / "pack"), "Graphviz's dot is not installed")
    # the DOT source needs no Graphviz
    render(invoke, "graph", "-o", tmp_path / "g.dot")


def test_output_directory_must_exist(render_db, invoke, tmp_path, assert_user_error):
    assert_user_error(invoke("render", "graph", "-o", tmp_path / "nope" / "g.svg"), "does not exist")


# -- render timeline ----------------------------------------------------------------------------


def test_timeline(render_db, invoke, tmp_path):
    out = tmp_path / "t.svg"
    render(invoke, "timeline", "i-acme", "-o", out, "--as-of", AS_OF)
    nodes = svg_nodes(out)
    ledger = open_ledger(render_db)
    seqs = [e.seq for e in ledger.iter_events(subject="impact:i-acme")]
    assert {f"record-{s}" for s in seqs} | {"now"} == set(nodes)
    all_text = [t for n in nodes.values() for t in texts(n)]
    assert "2021-01-05 · impact opened" in all_text
    assert "2021-01-06 · step: dialogue (call-1)" in all_text
    assert "deadline 2021-01-08" in all_text
    assert "2021-01-09 · outcome: no-change" in all_text
    assert "2021-01-10 · assessment: termination-impact" in all_text
    # the engine's due dates: critical allows 3 days; the dialogue's deadline rules after it
    assert "then: critical, rung monitor, due 2021-01-08, next notice" in all_text
    assert "then: critical, rung engage, due 2021-01-08, next suspend" in all_text
    assert texts(nodes["now"])[:2] == [f"as of {AS_OF}", "level critical, rung engage"]
    assert "OVERDUE" in texts(nodes["now"])
    # the outcome came a day after the due date: the arrow is red
    edges = [g for g in ET.parse(out).getroot().iter(f"{SVG}g") if g.get("class") == "edge"]
    late = [e for e in edges if any(t.startswith("late by") for t in texts(e))]
    assert late and "#b00020" in attr_values(late[0], "stroke")
    assert "late by 1 day" in texts(late[0])


def test_timeline_hostile_summary(render_db, invoke, tmp_path):
    out = tmp_path / "t.svg"
    render(invoke, "timeline", "i-e2", "-o", out, "--as-of", AS_OF)
    nodes = svg_nodes(out)
    opened = [n for n in nodes.values() if "2021-01-05 · impact opened" in texts(n)][0]
    joined = " ".join(texts(opened))
    assert HOSTILE_2 in joined and HOSTILE_1.replace("; ", ";") in joined.replace("; ", ";")
    decision = [n for n in nodes.values() if "2021-01-07 · decision: suspend" in texts(n)][0]
    assert "FORCED: test of the graph" in texts(decision)


def test_timeline_unknown_impact(render_db, invoke, tmp_path, assert_user_error):
    assert_user_error(invoke("render", "timeline", "nope", "-o", tmp_path / "t.svg"), "unknown impact 'nope'")
    assert_user_error(invoke("render", "timeline", "i-acme", "-o", tmp_path / "t.svg", "--as-of", "2021-01-02"),
                      "unknown impact 'i-acme' as of 2021-01-02")


# -- render pack --------------------------------------------------------------------------------


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("href", "xlink:href", "src") and value is not None:
                self.links.append(value)
            assert not name.startswith("on"), (tag, name)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(path: Path) -> Page:
    p = Page()
    p.feed(path.read_text(encoding="utf-8"))
    p.close()
    return p


def test_pack(render_db, invoke, tmp_path):
    out = tmp_path / "pack"
    render(invoke, "pack", "-o", out, "--as-of", AS_OF)
    files = {p.name for p in out.iterdir()}
    assert {"index.html", "graph.svg", "impact-i-acme.html", "party-acme.html", "party-we.html",
            "party-_cased~_i_d__x.html"} <= files
    ledger = open_ledger(render_db)
    statuses = ledger.status(as_of=__import__("datetime").date(2021, 1, 20))
    assert {f"impact-{s.impact}.html" for s in statuses} == {f for f in files if f.startswith("impact-")}
    for name in files:
        if not name.endswith(".html"):
            continue
        page = parse(out / name)
        assert "script" not in page.tags and "iframe" not in page.tags, name
        for href in page.links:
            assert not href.startswith(("http:", "https:", "//", "javascript:", "data:", "/")), (name, href)
            target = href.split("#")[0]
            if target:
                assert (out / target).is_file(), (name, href)
    index = parse(out / "index.html")
    assert "svg" in index.tags
    # each party of the graph links to its page from the picture
    assert {f"party-{p}.html" for p in ("we", "acme", "dc", "users", "far")} <= set(index.links)
    assert "impact-i-acme.html" in index.links
    text = "".join(index.text)
    assert HOSTILE_1 in text and HOSTILE_2 in text and HOSTILE_3 in text
    _, head = ledger.head()
    assert head in text


def test_pack_impact_page(render_db, invoke, tmp_path):
    out = tmp_path / "pack"
    render(invoke, "pack", "-o", out, "--as-of", AS_OF)
    page = parse(out / "impact-i-acme.html")
    text = "\n".join(page.text)
    ledger = open_ledger(render_db)
    for event in ledger.iter_events(subject="impact:i-acme"):
        assert event.hash in text and event.prev in text
    nxt = ledger.status_of("i-acme", as_of=__import__("datetime").date(2021, 1, 20)).to_next_dict()
    for reason in nxt["reasons"]:
        assert reason["message"] in text
    for finding in nxt["findings"]:
        assert finding["message"] in text
    assert "svg" in page.tags and "2021-01-06 · step: dialogue (call-1)" in text
    hostile = parse(out / "impact-i-e2.html")
    assert HOSTILE_2 + " " + HOSTILE_1 in "".join(hostile.text)
    assert "script" not in hostile.tags
    assert json.dumps(HOSTILE_2)[1:-1] in "".join(hostile.text)  # the audit trail's JSON data


def test_pack_marks_voided_events(render_db, invoke, tmp_path):
    ledger = open_ledger(render_db)
    seq = [e.seq for e in ledger.iter_events(subject="impact:i-acme") if e.type == "step.outcome"][0]
    assert invoke("void", seq, "--reason", "Recorded on the wrong impact.").exit_code == 0
    out = tmp_path / "pack"
    render(invoke, "pack", "-o", out, "--as-of", AS_OF)
    html = (out / "impact-i-acme.html").read_text(encoding="utf-8")
    assert 'class="voided"' in html and "Recorded on the wrong impact." in html


def test_pack_replaces_an_earlier_pack_and_refuses_other_directories(render_db, invoke, tmp_path,
                                                                    assert_user_error):
    out = tmp_path / "pack"
    render(invoke, "pack", "-o", out, "--as-of", AS_OF)
    assert (out / "impact-i-acme.html").exists()
    # earlier, no impact was open yet: the pages of the first pack go away with the second
    render(invoke, "pack", "-o", out, "--as-of", "2021-01-04")
    assert (out / "index.html").exists() and not list(out.glob("impact-*"))
    other = tmp_path / "documents"
    other.mkdir()
    (other / "contract.pdf").write_bytes(b"%PDF-")
    assert_user_error(invoke("render", "pack", "-o", other), "not empty")
    assert {p.name for p in other.iterdir()} == {"contract.pdf"}


def test_pack_never_writes_outside(render_db, invoke, tmp_path, assert_user_error):
    out = tmp_path / "pack"
    render(invoke, "pack", "-o", out, "--as-of", AS_OF)
    secret = tmp_path / "secret.txt"
    secret.write_text("keep", encoding="utf-8")
    (out / "index.html").unlink()
    (out / "index.html").symlink_to(secret)
    assert_user_error(invoke("render", "pack", "-o", out, "--as-of", AS_OF), "outside")
    assert secret.read_text(encoding="utf-8") == "keep"
    # a marker naming files outside is ignored
    (out / "index.html").unlink()
    (out / ".leverage-pack").write_text("../secret.txt\nindex.html\n", encoding="utf-8")
    render(invoke, "pack", "-o", out, "--as-of", AS_OF)
    assert secret.read_text(encoding="utf-8") == "keep"


def test_pack_cuts_a_large_graph(render_db, invoke, tmp_path):
    out = tmp_path / "pack"
    result = render(invoke, "pack", "-o", out, "--as-of", AS_OF, "--max-nodes", "3")
    assert "wrote" in result.stderr
    index = parse(out / "index.html")
    assert "more than 3" in "".join(index.text)
    # the parties linking self parties to open impacts are drawn; "far" is not
    assert not (out / "party-far.html").exists() and (out / "party-acme.html").exists()


def test_safe_names_are_one_to_one():
    from leverage_graphviz.pack import party_page, safe_name

    ids = ["acme", "Acme", "ACME", "a_cme", "a:cme", "a__cme", "a_Cme", "a.cme", "a-cme", "A_", "a__", "x" * 128,
           "X" * 128, "X" * 127 + "x"]
    names = [safe_name(i) for i in ids]
    assert len({n.lower() for n in names}) == len(ids)
    for n in names:
        assert set(n) <= set("abcdefghijklmnopqrstuvwxyz0123456789._~-") and len(n) <= 200
    assert party_page("sf:001ABC") == "party-sf~001_a_b_c.html"
