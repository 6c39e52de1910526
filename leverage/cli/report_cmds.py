"""``leverage report``: the public transparency report and the leadership (governance) report
(docs/reports.md)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from ..errors import LeverageError
from .app import DATE, App, pass_app

FORMATS = ("md", "html", "json")


@click.group()
def report() -> None:
    """Reports: the public transparency report and the leadership report."""


def _write(text: str, output: str | None) -> None:
    if output is None or output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    target = Path(output)
    tmp = target.with_name(target.name + ".part")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise LeverageError(f"{output}: cannot write: {exc.strerror}") from None
    click.echo(f"wrote {output}", err=True)


format_option = click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True,
                             help="Markdown, HTML or JSON.")
output_option = click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
                             help="The file to write (default stdout).")


@report.command("transparency")
@click.option("--from", "date_from", type=DATE, help="The first UTC day of the period (default the beginning).")
@click.option("--to", "date_to", type=DATE, help="The last UTC day of the period (default today).")
@format_option
@output_option
@click.option("--unredacted", is_flag=True,
              help="For internal use: name parties and cases and list confidential grievances "
                   "(the report says so at the top). People are never named.")
@pass_app
def transparency(app: App, date_from: date | None, date_to: date | None, fmt: str, output: str | None,
                 unredacted: bool) -> None:
    """The public transparency report (UNGP 21): impacts by level and right, steps by kind and
    rung, decisions with the policies cited, timeliness, grievances and appeals, reinstatements.

    Redacted by default: a party appears by kind, sector and country unless it carries
    attributes.public = true; no person is named; confidential grievances are only counted.
    """
    from .. import plugins
    from ..reports import render, transparency
    from ..timeutil import now_utc

    day = date_to or now_utc().date()
    if date_from is not None and date_from > day:
        raise click.BadParameter(f"{date_from} is after the end of the period ({day})", param_hint="--from")
    ledger = app.ledger()
    state = ledger.state(as_of=day)
    result = transparency(state, date_from=date_from, date_to=day, redacted=not unredacted,
                          step_kinds=plugins.registries().step_rungs(), ledger_head=ledger.head())
    _write(render(result, fmt), output)


@report.command("governance")
@click.option("--as-of", type=DATE, help="As of the end of this UTC day (default today).")
@format_option
@output_option
@pass_app
def governance(app: App, as_of: date | None, fmt: str, output: str | None) -> None:
    """The leadership report, one page: open critical and high impacts, what is overdue,
    decisions awaiting approval or forced, suspensions due for review, crucial relationships
    at risk, grievances overdue. Internal: it names parties and cases, never people."""
    from ..reports import governance, render
    from ..timeutil import now_utc

    day = as_of or now_utc().date()
    ledger = app.ledger()
    statuses = ledger.status(as_of=day, explain=True)
    state = ledger.state(as_of=day)
    _write(render(governance(state, statuses, as_of=day, ledger_head=ledger.head()), fmt), output)


COMMANDS: list[click.Command] = [report]
