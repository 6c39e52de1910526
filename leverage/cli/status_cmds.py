"""``leverage status`` and ``leverage next``: the engine's answers."""

from __future__ import annotations

import csv
import sys
from datetime import date
from typing import Any

import click

from .app import DATE, SLUG_T, App, as_of_day, csv_safe, echo_json, known_at_bound, pass_app, print_table

STATUS_COLUMNS = ["impact", "relationship", "party", "level", "rung", "due", "overdue", "next",
                  "relationship_status", "findings"]


_as_of = as_of_day
_known_at = known_at_bound


@click.command()
@click.option("--as-of", type=DATE, help="As of the end of this UTC day (default today).")
@click.option("--known-at", help="As the ledger knew it at this moment (date or RFC 3339).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON array of the contract.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (safe to open in a spreadsheet).")
@click.option("--all", "include_closed", is_flag=True, help="Include closed impacts.")
@click.option("--overdue", "only_overdue", is_flag=True, help="Only overdue impacts.")
@pass_app
def status(app: App, as_of: date | None, known_at: str | None, as_json: bool, as_csv: bool,
           include_closed: bool, only_overdue: bool) -> None:
    """What is overdue and what comes next, for every open impact.

    Sorted: overdue first, then level (critical first), then due date, then impact id.
    """
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    from ..engine import gc_paused

    day = _as_of(app, as_of)
    with gc_paused():  # many small objects, no cycles: the collector would only slow it down
        statuses = app.ledger().status(as_of=day, known_at=_known_at(known_at),
                                       include_closed=include_closed)
        if only_overdue:
            statuses = [s for s in statuses if s.overdue]
        rows = [s.to_dict() for s in statuses]
        del statuses
        if as_json:
            echo_json(rows)
            return
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(STATUS_COLUMNS)
        for r in rows:
            writer.writerow([csv_safe(_cell(r[c])) for c in STATUS_COLUMNS])
        return
    styles = []
    for r in rows:
        style = None
        if r["overdue"]:
            style = "bold red"
        elif r["level"] == "critical":
            style = "bold"
        styles.append(style)
    print_table(
        f"Status as of {day}" + (f", as known at {known_at}" if known_at else ""),
        ["impact", "party", "level", "rung", "due", "overdue", "next", "relationship", "findings"],
        [(r["impact"], r["party"], r["level"], r["rung"], r["due"] or "-",
          "OVERDUE" if r["overdue"] else "", r["next"] or "-", r["relationship_status"],
          ", ".join(f["code"] for f in r["findings"])) for r in rows],
        styles=styles)
    if not rows:
        click.echo("No open impacts.")


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(f["code"] if isinstance(f, dict) else str(f) for f in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


_NEXT_TEXT = {
    "close": "close the impact",
    "continue": "continue: keep using leverage at this rung and reassess the severity",
    "engage": "engage: talk with the partner (dialogue, information request, capacity "
              "building, incentives)",
    "notice": "give formal notice (a formal notice, a code-of-conduct or terms-of-service "
              "warning, or a contractual assurance)",
    "enforce": "enforce (warning labels, reduced distribution, content removal, feature "
               "restriction, a corrective action plan, withholding business)",
    "collective": "increase leverage by acting with others (peers, an industry initiative, a "
                  "multi-stakeholder initiative)",
    "suspend": "consider suspending the relationship (a decision that needs its gates)",
    "terminate": "consider ending the relationship (a decision that needs its gates)",
}


@click.command("next")
@click.argument("impact", type=SLUG_T)
@click.option("--as-of", type=DATE, help="As of the end of this UTC day (default today).")
@click.option("--json", "as_json", is_flag=True, help="Print the status object with reasons "
              "and missing.")
@pass_app
def next_(app: App, impact: str, as_of: date | None, as_json: bool) -> None:
    """The next proportionate step for IMPACT, with every reason and its source."""
    day = _as_of(app, as_of)
    obj = app.ledger().status_of(impact, as_of=day).to_next_dict()
    if as_json:
        echo_json(obj)
        return
    lines = [f"{impact} ({obj['party']}, relationship {obj['relationship']}, "
             f"{obj['relationship_status']})",
             f"  level {obj['level']}, rung {obj['rung']}"]
    if obj["next"] is None:
        lines.append("  closed: nothing more is due")
    else:
        due = obj["due"]
        lines.append(f"  next: {_NEXT_TEXT.get(obj['next'], obj['next'])}")
        if due:
            lines.append(f"  due: {due}" + ("  (OVERDUE)" if obj["overdue"] else ""))
    if obj["reasons"]:
        lines.append("  why:")
        lines += [f"    - {r['message']} [{r['source']}]" for r in obj["reasons"]]
    if obj["findings"]:
        lines.append("  findings:")
        lines += [f"    - {f['code']}: {f['message']} [{f['source']}]" for f in obj["findings"]]
    if obj["missing"]:
        lines.append(f"  still missing before {obj['next']}: " + ", ".join(obj["missing"]))
    click.echo("\n".join(lines))


COMMANDS: list[click.Command] = [status, next_]
