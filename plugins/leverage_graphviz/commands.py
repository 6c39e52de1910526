"""``leverage render graph|timeline|pack``: the renderers of the plugin.

Only click and the core's CLI helpers are imported here; networkx, graphviz and the
engine are imported inside the commands.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from leverage import LeverageError
from leverage.cli.app import DATE, SLUG_T, App, pass_app

from .draw import FORMATS, LAYOUTS, LEVELS


def _day(app: App, as_of: date | None) -> date:
    from leverage.timeutil import now_utc

    first = app.ledger().first_day()
    if as_of is not None and first is not None and as_of < first:
        raise LeverageError(
            f"--as-of {as_of} is before the ledger's first event ({first}): nothing had happened")
    return as_of or now_utc().date()


def _check_writable(output: str) -> None:
    from pathlib import Path

    parent = Path(output).parent
    if not parent.is_dir():
        raise LeverageError(f"{output}: cannot write: the directory {parent} does not exist")


output_option = click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
                             metavar="FILE", help="The file to write (replaced whole).")
format_option = click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
                             help="svg, png, pdf or dot (the DOT source); default: the file's "
                                  "suffix, else svg.")
as_of_option = click.option("--as-of", type=DATE, help="As of the end of this UTC day (default today).")


@click.command("graph")
@output_option
@format_option
@click.option("--focus", type=SLUG_T, metavar="PARTY",
              help="Draw only the parties within --depth relationships of PARTY (either direction).")
@click.option("--depth", type=click.IntRange(0), default=2, show_default=True,
              help="How far from --focus to draw.")
@as_of_option
@click.option("--min-level", type=click.Choice(LEVELS), default=None,
              help="Draw only the relationships carrying an open impact of this level or worse, the "
                   "paths linking them to a self party, and the self parties.")
@click.option("--layout", type=click.Choice(LAYOUTS), default="auto", show_default=True,
              help="Graphviz layout engine; auto: dot, or sfdp above 500 parties.")
@pass_app
def graph_command(app: App, output: str, fmt: str | None, focus: str | None, depth: int,
                  as_of: date | None, min_level: str | None, layout: str) -> None:
    """Draw the relationship graph.

    Parties are coloured by the worst level of their open impacts (white: none) and drawn
    with a thick red border when one is overdue; self parties are double octagons.
    Relationships point from provider to recipient: suspended ones dashed, ended ones
    dotted grey, terminated ones bold with a bar at the head and "terminated" in the label.
    A legend explains it.
    """
    from leverage import graph

    from . import draw

    fmt = draw.format_of(output, fmt)
    _check_writable(output)
    day = _day(app, as_of)
    G = graph.project(app.ledger().state(as_of=day), day)
    if focus is not None:
        graph.require_party(G, focus)
    nodes = draw.select(G, focus=focus, depth=depth, min_level=min_level)
    engine = draw.choose_layout(layout, len(nodes))
    title = f"Relationships as of {day.isoformat()}" + (f", within {depth} of {focus}" if focus else "") + (
        f", open impacts {min_level} and worse" if min_level else "")
    dot = draw.graph_dot(G, nodes, engine=engine, title=title)
    draw.write_file(output, draw.render_bytes(dot, fmt))
    click.echo(f"wrote {output} ({len(nodes)} parties, {engine} layout, {fmt})", err=True)


@click.command("timeline")
@click.argument("impact", type=SLUG_T)
@output_option
@format_option
@as_of_option
@pass_app
def timeline_command(app: App, impact: str, output: str, fmt: str | None, as_of: date | None) -> None:
    """Draw IMPACT's escalation over time.

    A top-to-bottom chain of its opening, reassessments, steps (with deadlines), outcomes,
    assessments and decisions; each record shows the level, rung, due date and next step
    the policy gave at the end of its day, and an arrow turns red when the next record came
    after the due date. The last box is the status as of --as-of.
    """
    from . import draw

    fmt = draw.format_of(output, fmt)
    _check_writable(output)
    day = _day(app, as_of)
    state = app.ledger().state(as_of=day)
    dot = timeline_for(state, impact, day)
    draw.write_file(output, draw.render_bytes(dot, fmt))
    click.echo(f"wrote {output} ({fmt})", err=True)


def timeline_for(state: Any, impact_id: str, day: date) -> Any:
    """The timeline DOT of one impact of ``state`` as of ``day``."""
    from leverage import engine, plugins

    from . import draw

    impact = state.impacts.get(impact_id)
    if impact is None:
        raise LeverageError(f"unknown impact {impact_id!r} as of {day.isoformat()}")
    kinds = plugins.registries().step_rungs()
    entries = draw.timeline_entries(impact)
    last_of_day: dict[date, int] = {}
    for e in entries:
        last_of_day[e["when"].date()] = e["seq"]
    after = {}
    for d, seq in last_of_day.items():
        if d <= day:
            after[seq] = engine.status_of(state, impact_id, d, step_kinds=kinds, explain=False)
    final = engine.status_of(state, impact_id, day, step_kinds=kinds, explain=False)
    return draw.timeline_dot(impact, entries, after, final, day.isoformat())


@click.command("pack")
@click.option("-o", "--output", "output", required=True, type=click.Path(file_okay=False), metavar="DIR",
              help="The directory to write (created; an earlier pack in it is replaced).")
@as_of_option
@click.option("--max-nodes", type=click.IntRange(1), default=1500, show_default=True,
              help="Above this many parties the index draws only the parties linking self parties "
                   "to open impacts.")
@pass_app
def pack_command(app: App, output: str, as_of: date | None, max_nodes: int) -> None:
    """Write a static HTML review pack for legal into DIR.

    index.html holds the graph (each party links to its page), the status table and the
    ledger's head hash; one page per open impact holds its timeline, findings, the reasons
    for the next step and the full audit trail of its events with their hashes. No server,
    no network, no scripts: open index.html from disk.
    """
    from . import pack

    day = _day(app, as_of)
    written = pack.write_pack(app.ledger(), output, day, max_nodes=max_nodes)
    click.echo(f"wrote {output}/index.html and {written - 1} more files (as of {day.isoformat()})", err=True)
