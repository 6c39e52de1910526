"""``leverage graph``: queries of the relationship graph (DESIGN section 7).

networkx is imported inside the commands (through :mod:`leverage.graph`), so that
``leverage --help`` stays fast.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import click

from .app import DATE, SLUG_T, App, as_of_day, echo_json, known_at_bound, pass_app, print_table

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx


_day = as_of_day
_known_at = known_at_bound


def load_graph(app: App, as_of: date | None, known_at: str | None = None) -> nx.MultiDiGraph:
    """The graph of the ledger as of the end of ``as_of`` (default today), as known at
    ``known_at``."""
    from .. import graph

    day = _day(app, as_of)
    state = app.ledger().state(as_of=day, known_at=_known_at(known_at))
    return graph.project(state, day)


as_of_option = click.option("--as-of", type=DATE, help="As of the end of this UTC day (default today).")
known_at_option = click.option("--known-at", metavar="TIME",
                               help="As the ledger knew it at this moment (date or RFC 3339).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print the JSON array of the contract.")


@click.group()
def graph() -> None:
    """Query the relationship graph: exposure, peers, dependents, export.

    Parties are nodes; relationships are edges from provider to recipient (source to
    target). See docs/graph.md.
    """


@graph.command()
@as_of_option
@known_at_option
@click.option("--active-only", is_flag=True,
              help="Link only through active relationships (default: every relationship in the "
                   "state, ended, suspended and terminated ones too).")
@json_option
@pass_app
def exposure(app: App, as_of: date | None, known_at: str | None, active_only: bool, as_json: bool) -> None:
    """Every open impact reachable from a self party, with its tier and path.

    The path is the shortest chain of parties, ignoring the relationships' direction, from a
    self party to the impact's party (of equally short ones, the smallest compared id by id
    from the self end); the tier is its number of relationships. Sorted by tier, then impact.
    """
    from .. import graph as graph_mod

    G = load_graph(app, as_of, known_at)
    rows = graph_mod.exposure(G, active_only=active_only)
    if as_json:
        echo_json(rows)
        return
    impacts = G.graph["impacts"]
    print_table(
        f"Exposure as of {G.graph['as_of']}",
        ["tier", "impact", "party", "level", "overdue", "relationship", "path"],
        [(r["tier"], r["impact"], r["party"], impacts[r["impact"]]["level"],
          "OVERDUE" if impacts[r["impact"]]["overdue"] else "", r["relationship"],
          " - ".join(r["path"])) for r in rows])
    if not rows:
        click.echo("No open impact is reachable from a self party.")


@graph.command()
@click.argument("party", type=SLUG_T)
@as_of_option
@known_at_option
@json_option
@pass_app
def peers(app: App, party: str, as_of: date | None, known_at: str | None, as_json: bool) -> None:
    """The relationships between PARTY and parties that are not self, either direction.

    These are the others with a relationship to PARTY: peers for collective action.
    Sorted by party, then relationship.
    """
    from .. import graph as graph_mod

    G = load_graph(app, as_of, known_at)
    rows = graph_mod.peers(G, party)
    if as_json:
        echo_json(rows)
        return
    edges = _edge_index(G, party)
    print_table(
        f"Peers of {party} as of {G.graph['as_of']}",
        ["party", "name", "kind", "relationship", "type", "direction", "status"],
        [(r["party"], G.nodes[r["party"]].get("name"), G.nodes[r["party"]].get("kind"),
          r["relationship"], r["type"], edges[r["relationship"]][0], edges[r["relationship"]][1])
         for r in rows])
    if not rows:
        click.echo(f"{party} has no relationship with a party that is not self.")


def _edge_index(G: nx.MultiDiGraph, party: str) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for _, other, key, status in G.out_edges(party, keys=True, data="status"):
        out[key] = (f"{party} -> {other}", status)
    for other, _, key, status in G.in_edges(party, keys=True, data="status"):
        out[key] = (f"{other} -> {party}", status)
    return out


@graph.command()
@click.argument("party", type=SLUG_T)
@as_of_option
@known_at_option
@json_option
@pass_app
def dependents(app: App, party: str, as_of: date | None, known_at: str | None, as_json: bool) -> None:
    """Every party reachable from PARTY along active relationships in their direction.

    Whose service ends if PARTY is cut off: the people a termination-impact assessment
    must consider. Sorted by distance, then id.
    """
    from .. import graph as graph_mod

    G = load_graph(app, as_of, known_at)
    rows = graph_mod.dependents(G, party)
    if as_json:
        echo_json(rows)
        return
    print_table(
        f"Dependents of {party} as of {G.graph['as_of']} (active relationships)",
        ["distance", "party", "name", "kind"],
        [(r["distance"], r["party"], G.nodes[r["party"]].get("name"), G.nodes[r["party"]].get("kind"))
         for r in rows])
    if not rows:
        click.echo(f"No party depends on {party} through active relationships.")


@graph.command("export")
@click.option("--format", "fmt", type=click.Choice(["graphml", "gexf"]), required=True,
              help="GraphML (yEd, Gephi, networkx) or GEXF (Gephi).")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              metavar="FILE", help="The file to write (replaced whole).")
@as_of_option
@known_at_option
@pass_app
def export_(app: App, fmt: str, output: str, as_of: date | None, known_at: str | None) -> None:
    """Write the graph as GraphML or GEXF (attributes without a value are left out)."""
    from .. import graph as graph_mod

    G = load_graph(app, as_of, known_at)
    graph_mod.export(G, output, fmt)
    click.echo(f"wrote {output} ({G.number_of_nodes()} parties, {G.number_of_edges()} relationships, "
               f"as of {G.graph['as_of']})", err=True)


COMMANDS: list[click.Command] = [graph]
