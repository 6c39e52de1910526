"""leverage_example: a template for leverage plugins.

It adds, through the hooks of ``leverage`` (docs/plugins.md):

- a step kind, ``community-dialogue``, on rung ``engage``: talking with the affected
  people themselves, not only with the business partner;
- a check, ``community-not-heard``: an open impact with no community dialogue more than
  30 days after it was opened (UNGP 18(b): meaningful consultation with potentially
  affected groups);
- a command, ``leverage dialogues``: each open impact with its community dialogues;
- an ``event_recorded`` listener that appends each committed event, as one JSON line, to the
  file named by the environment variable ``LEVERAGE_EXAMPLE_LOG`` (when it is set).

Keep this module light: leverage imports it whenever the command line starts. Import heavy
libraries inside the functions that use them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import click

from leverage import hookimpl
from leverage.cli import App, pass_app

__version__ = "0.1.0"

STEP_KIND = "community-dialogue"
FINDING = "community-not-heard"
GRACE_DAYS = 30
LOG_ENV = "LEVERAGE_EXAMPLE_LOG"


# -- a step kind -----------------------------------------------------------------------------

@hookimpl
def register_step_kinds(register: Callable[[str, str, str], None]) -> None:
    register(STEP_KIND, "engage", "Talk with the affected people or their representatives")


# -- a check ---------------------------------------------------------------------------------

def community_not_heard(impact: Any, as_of: date) -> Iterator[dict[str, str]]:
    """A finding when an impact has been open for more than GRACE_DAYS without a community
    dialogue. The engine calls it for every impact it evaluates."""
    if impact.closed or impact.opened_when is None:
        return
    waited = (as_of - impact.opened_when.date()).days
    if waited > GRACE_DAYS and not any(step.kind == STEP_KIND for step in impact.steps):
        yield {
            "code": FINDING,
            "message": f"No dialogue with the affected people {waited} days after the impact was opened; "
                       f"record one with `leverage step add {impact.id} --kind {STEP_KIND}`.",
            "source": "UNGP 18(b)",
        }


@hookimpl
def register_checks(register: Callable[[Callable[..., Any]], None]) -> None:
    register(community_not_heard)


# -- a command -------------------------------------------------------------------------------

@click.command("dialogues")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_app
def dialogues(app: App, as_json: bool) -> None:
    """List each open impact with its community dialogues."""
    state = app.ledger().state()
    rows = []
    for impact in sorted(state.impacts.values(), key=lambda i: i.id):
        if impact.closed:
            continue
        held = [step for step in impact.steps if step.kind == STEP_KIND]
        rows.append({"impact": impact.id, "dialogues": len(held),
                     "last": held[-1].at if held else None})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['impact']}: {row['dialogues']} community dialogue(s), last {row['last'] or 'never'}")


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(dialogues)


# -- an event listener -----------------------------------------------------------------------

@hookimpl
def event_recorded(event: Any) -> None:
    """Append the committed event to the file named by LEVERAGE_EXAMPLE_LOG. An exception
    here is reported by leverage and never undoes the write."""
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    line = {"seq": event.seq, "type": event.type, "at": event.at, "actor": event.actor, "hash": event.hash}
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, sort_keys=True) + "\n")
