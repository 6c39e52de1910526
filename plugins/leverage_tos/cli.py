"""``leverage tos``: ingest enforcement logs, count strikes, record the Rabat test, write
notices and publish numbers (docs/tos.md).

Only click is imported here; each command imports what it needs when it runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

import click

from leverage import LeverageError
from leverage.cli.app import AT, DATE, SLUG_T, App, echo_json, now_at, pass_app

FACTORS = ("context", "speaker", "intent", "content", "extent", "likelihood")
VALUES = ("met", "not-met", "unclear")
_FACTOR_HELP = {
    "context": "The social and political context",
    "speaker": "The speaker's position or status",
    "intent": "Intent to incite; negligence is not enough",
    "content": "Content and form of the speech",
    "extent": "Extent and reach of its dissemination",
    "likelihood": "Likelihood of harm, including imminence",
}
#: notes printed at most, the rest counted
MAX_NOTES = 20


@click.group("tos", short_help="Terms-of-service enforcement: logs, strikes, Rabat test, notices.")
def tos_group() -> None:
    """Terms-of-service enforcement: ingest logs, strikes, Rabat test, notices, numbers.

    Brings a trust-and-safety system's enforcement log into the ledger as leverage steps and
    decisions, and applies the rules that make them proportionate, weighed and explained
    (docs/tos.md).
    """


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


# -- ingest ------------------------------------------------------------------------------------
@tos_group.command("ingest", short_help="Ingest an enforcement log (CSV or JSON Lines).")
@click.argument("file", type=click.Path(dir_okay=False), metavar="FILE")
@click.option("--rules", "rules_file", required=True, type=click.Path(dir_okay=False), metavar="RULES",
              help="The rules file (TOML; `leverage schema tos-rules`).")
@click.option("--dry-run", is_flag=True, help="Check everything and print the events; write nothing.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the events as JSON Lines on stdout (the summary goes to stderr).")
@pass_app
def ingest_command(app: App, file: str, rules_file: str, dry_run: bool, as_json: bool) -> None:
    """Ingest an enforcement log (CSV or JSON Lines) into the ledger.

    Each row (account, action, rule, at, reason, detected_by, moderator, approved_by,
    evidence, impact, id) becomes a step or a decision on the impact it names, or on
    tos:<party>:<rule>, opened on first use. A suspension or ban that fails the policy's
    gates is recorded as forced, naming the log file and line. Rows ingested before are
    skipped. All events are written in one transaction, or none.
    """
    import gc

    from .ingest import Ingest, LedgerView
    from .logfile import read_log
    from .rules import load_rules

    rules = load_rules(rules_file)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # 100,000s of small dicts and no cycles: the collector would only rescan them
    try:
        log = read_log(file)
        ledger = app.ledger()
        ingest = Ingest(log, rules, LedgerView.read(ledger), actor=app.actor)
        kept: list[dict[str, Any]] | None = [] if (as_json or dry_run) else None
        events: Iterable[dict[str, Any]] = ingest.events()
        if kept is not None:
            events = _keep(events, kept)
        ledger.append(events, actor=app.actor, where=ingest.where, dry_run=dry_run,
                      force_reason=ingest.force_reason)
    finally:
        if gc_was_enabled:
            gc.enable()
    _ingest_report(ingest, ledger, kept, dry_run=dry_run, as_json=as_json)


def _keep(events: Iterable[dict[str, Any]], into: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for event in events:
        into.append(event)
        yield event


def _ingest_report(ingest: Any, ledger: Any, kept: list[dict[str, Any]] | None, *, dry_run: bool,
                   as_json: bool) -> None:
    written = sum(ingest.counts.values())
    if as_json and kept is not None:
        from leverage.cli.app import echo_json_lines

        echo_json_lines(kept)
    elif dry_run and kept:
        from leverage.cli.app import print_table

        print_table(f"Events that would be written ({ingest.file}, dry run)",
                    ["line", "type", "at", "actor", "impact", "what"],
                    (_row_of(e) for e in kept))
    parts = [_n(ingest.counts["impact.opened"], "impact opened", "impacts opened"),
             _n(ingest.counts["step.taken"], "step"), _n(ingest.counts["decision.made"], "decision")]
    if ingest.forced:
        parts.append(f"{len(ingest.forced)} forced")
    rows = _n(ingest.rows, "row") + (f" ({ingest.skipped} ingested already)" if ingest.skipped else "")
    if written == 0:
        summary = f"{ingest.file}: {rows}: nothing new to write"
    elif dry_run:
        summary = f"dry run: {ingest.file}: {rows}; would write {_n(written, 'event')} ({', '.join(parts)}); " \
                  "nothing written"
    else:
        seq, _ = ledger.last_head
        summary = (f"{ingest.file}: {rows}; wrote {_n(written, 'event')}, seq {seq - written + 1}-{seq} "
                   f"({', '.join(parts)})")
    click.echo(summary, err=as_json)
    for line, decision, codes in ingest.forced[:MAX_NOTES]:
        click.echo(f"note: {ingest.file}:{line}: {decision} recorded as forced (fails {', '.join(codes)})",
                   err=True)
    if len(ingest.forced) > MAX_NOTES:
        click.echo(f"note: ... and {len(ingest.forced) - MAX_NOTES} more forced decisions "
                   "(`leverage status` shows them as forced-decision)", err=True)


def _row_of(event: dict[str, Any]) -> tuple[Any, ...]:
    data = event["data"]
    tos = (data.get("attributes") or {}).get("tos") or {}
    if event["type"] == "impact.opened":
        return (tos.get("line", ""), event["type"], event["at"], event["actor"], data["id"],
                f"rule {tos.get('rule')} on {data['relationship']}")
    what = data.get("kind") or data.get("decision")
    text = f"{tos.get('action')} -> {what}"
    if data.get("forced"):
        text += " (forced)"
    return (tos.get("line", ""), event["type"], event["at"], event["actor"], data["impact"], text)


# -- strikes -----------------------------------------------------------------------------------
@tos_group.command("strikes", short_help="An account's strikes and what the strike policy recommends.")
@click.argument("party", metavar="PARTY")
@click.option("--as-of", "as_of", type=DATE, default=None, help="As of the end of this UTC day (default today).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_app
def strikes_command(app: App, party: str, as_of: date | None, as_json: bool) -> None:
    """Count an account's strikes and say what the strike policy recommends.

    PARTY is a party id or an account's external id `tos`. Every action but a warning or a
    reinstatement is a strike; strikes count within the window of the rules (default 90
    days); a reinstatement clears the strikes before it.
    """
    from leverage.timeutil import now_utc

    from .strikes import actions_of, summarize

    as_of = as_of or now_utc().date()
    state = app.ledger().state(as_of=as_of)
    pid = _resolve_party(state, party)
    summary = summarize(pid, actions_of(state).get(pid, ()), as_of)
    if as_json:
        echo_json(summary.to_dict())
        return
    name = state.parties[pid].name
    click.echo(f"{pid} ({name}): {_n(summary.count, 'strike')} counting as of {as_of} "
               f"(window {summary.window_days} days; restrict at {summary.restrict}, suspend at "
               f"{summary.suspend})")
    if summary.active:
        from leverage.cli.app import print_table

        print_table("Strikes counting", ["at", "action", "rule", "impact", "counts until", "egregious"],
                    [(a.at, a.action, a.rule, a.impact, a.to_dict()["last_day"], "yes" if a.egregious else "")
                     for a in summary.active])
    if summary.cleared and summary.reinstated is not None:
        click.echo(f"{_n(len(summary.cleared), 'strike')} cleared by the reinstatement of {summary.reinstated.at}")
    if summary.expired:
        click.echo(f"{_n(len(summary.expired), 'strike')} expired")
    click.echo(summary.reason())
    if summary.recommendation is None:
        click.echo("recommendation: none")
    else:
        in_force = summary.in_force or "nothing"
        state_text = "due" if summary.due else "in force already"
        click.echo(f"recommendation: {summary.recommendation} ({state_text}; in force: {in_force})")


def _resolve_party(state: Any, account: str) -> str:
    if account in state.parties:
        return account
    found = sorted(pid for pid, p in state.parties.items() if p.external_ids.get("tos") == account)
    if len(found) == 1:
        return found[0]
    if found:
        raise LeverageError(f"account {account!r} is the tos id of several parties ({', '.join(found)})")
    raise LeverageError(f"unknown party or account {account!r}")


# -- rabat -------------------------------------------------------------------------------------
def _factor_option(name: str) -> Any:
    return click.option(f"--{name}", name, required=True, type=click.Choice(VALUES),
                        help=f"{_FACTOR_HELP[name]}: met, not-met or unclear.")


@tos_group.command("rabat", short_help="Record the Rabat six-part threshold test on an impact.")
@click.argument("impact", type=SLUG_T)
@_factor_option("context")
@_factor_option("speaker")
@_factor_option("intent")
@_factor_option("content")
@_factor_option("extent")
@_factor_option("likelihood")
@click.option("--summary", required=True, help="What was assessed and why.")
@click.option("--note", "notes", multiple=True, metavar="FACTOR=TEXT",
              help="A note on one of the six parts (repeatable).")
@click.option("--expert", "experts", multiple=True, help="An expert consulted (repeatable).")
@click.option("--at", "at", type=AT, default=None,
              help="When it was assessed: a date or an RFC 3339 date-time (default now).")
@pass_app
def rabat_command(app: App, impact: str, context: str, speaker: str, intent: str, content: str,
                  extent: str, likelihood: str, summary: str, notes: tuple[str, ...],
                  experts: tuple[str, ...], at: str | None) -> None:
    """Record the Rabat Plan of Action's six-part threshold test on an impact.

    Context, speaker, intent, content and form, extent, and likelihood including imminence:
    each is met, not-met or unclear. The conclusion is `incitement` when all six are met,
    else `below-threshold` (lower-tier measures fit: label, reduced reach, removal).
    """
    values = {"context": context, "speaker": speaker, "intent": intent, "content": content,
              "extent": extent, "likelihood": likelihood}
    findings: dict[str, Any] = dict(values)
    parsed = _notes(notes)
    if parsed:
        findings["notes"] = parsed
    conclusion = "incitement" if all(v == "met" for v in values.values()) else "below-threshold"
    data: dict[str, Any] = {"impact": impact, "kind": "rabat", "conclusion": conclusion,
                            "summary": summary, "findings": findings}
    if experts:
        data["experts"] = list(experts)
    ledger = app.ledger()
    event = {"type": "assessment.recorded", "at": at or now_at(), "actor": app.actor, "data": data}
    ledger.append([event], actor=app.actor)
    seq, _ = ledger.last_head
    short = [f"{v}: {', '.join(f for f in FACTORS if values[f] == v)}" for v in ("not-met", "unclear")
             if any(values[f] == v for f in FACTORS)]
    detail = f" ({'; '.join(short)})" if short else " (all six parts met)"
    click.echo(f"recorded rabat assessment of {impact}: {conclusion}{detail} (seq {seq}, at {event['at']}, "
               f"by {app.actor})")


def _notes(notes: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for note in notes:
        factor, sep, text = note.partition("=")
        factor = factor.strip()
        if not sep or not text.strip():
            raise click.BadParameter(f"{note!r}: expected FACTOR=TEXT", param_hint="--note")
        if factor not in FACTORS:
            raise click.BadParameter(f"{factor!r} is not one of the six parts ({', '.join(FACTORS)})",
                                     param_hint="--note")
        out[factor] = f"{out[factor]} {text.strip()}" if factor in out else text.strip()
    return out


# -- notice ------------------------------------------------------------------------------------
@tos_group.command("notice", short_help="The notice to the partner for an action (Santa Clara).")
@click.argument("impact", type=SLUG_T)
@click.option("--step", "step", default=None, metavar="ID",
              help="The action: a step id (tos:...) or the log's row id (default: the latest).")
@click.option("--format", "fmt", type=click.Choice(("md", "text", "json")), default="md", show_default=True,
              help="Markdown, plain text or JSON.")
@pass_app
def notice_command(app: App, impact: str, step: str | None, fmt: str) -> None:
    """Write the notice to the partner for an enforcement action (Santa Clara Principles).

    It names the content or conduct and the evidence, the rule with its text, the action and
    what it changes, when, whether detection was automated, the deadline for change, and how
    and until when to appeal.
    """
    from . import notice as notices

    ledger = app.ledger()
    state = ledger.state()
    record = notices.find_record(state, impact, step)
    status = ledger.status_of(impact, as_of=record.when.date())
    built = notices.build(state, impact, record, status)
    if fmt == "json":
        echo_json(built)
    else:
        click.echo(notices.render_text(built, markdown=fmt == "md"), nl=False)


# -- report ------------------------------------------------------------------------------------
@tos_group.command("report", short_help="The numbers of a transparency report.")
@click.option("--from", "date_from", type=DATE, default=None, help="The first UTC day counted (default: all).")
@click.option("--to", "date_to", type=DATE, default=None, help="The last UTC day counted (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_app
def report_command(app: App, date_from: date | None, date_to: date | None, as_json: bool) -> None:
    """The numbers of a transparency report: actions by rule, by action, automated versus
    human detection, reinstatements."""
    from .report import report

    if date_from and date_to and date_to < date_from:
        raise click.BadParameter(f"--to {date_to} is before --from {date_from}", param_hint="--to")
    state = app.ledger().state(as_of=date_to)
    numbers = report(state, date_from, date_to)
    if as_json:
        echo_json(numbers)
        return
    from leverage.cli.app import print_table

    span = f"{date_from or numbers['first'] or '-'} to {date_to or numbers['last'] or '-'}"
    click.echo(f"Enforcement actions {span}: {_n(numbers['actions'], 'action')} on "
               f"{_n(numbers['accounts'], 'account')}; {numbers['reinstatements']} reinstated; "
               f"{numbers['forced']} suspensions or bans recorded outside the policy (forced)")
    if not numbers["actions"]:
        return
    print_table("By rule", ["rule", "title", "actions", *numbers["by_action"]],
                [(r, numbers["rule_titles"].get(r, ""), n,
                  *(numbers["by_rule_and_action"][r].get(a, 0) for a in numbers["by_action"]))
                 for r, n in numbers["by_rule"].items()])
    print_table("By action", ["action", "actions", "automated", "human", "unknown"],
                [(a, n, *numbers["detection_by_action"][a].values()) for a, n in numbers["by_action"].items()])
    d = numbers["detection"]
    click.echo(f"Detection: {d['automated']} automated, {d['human']} human, {d['unknown']} not recorded")


COMMANDS: list[click.Command] = [tos_group]
