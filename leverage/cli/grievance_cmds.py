"""``leverage grievance``: file, acknowledge, resolve and list grievances and appeals
(docs/grievances.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from .. import vocab
from ..vocab import GRIEVANCE_KINDS, GRIEVANCE_OUTCOMES
from .app import DATE, ONE_TO_FIVE, SLUG_T, App, at_option, echo_json, json_option, now_at, pass_app, print_table


@click.group()
def grievance() -> None:
    """Grievances and appeals: complaints, appeals of decisions and concerns (UNGP 29, 31)."""


def _drop_none(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None and v not in ((), [])}


@grievance.command("file")
@click.argument("id", type=SLUG_T)
@click.option("--kind", required=True, type=click.Choice(GRIEVANCE_KINDS),
              help="complaint, appeal (of a decision: give --decision) or concern.")
@click.option("--summary", required=True, help="What the grievance says.")
@click.option("--channel", required=True, help="How it was received (web-form, e-mail, hotline, ...).")
@click.option("--impact", "impact", type=SLUG_T, help="The impact it is about.")
@click.option("--relationship", "relationship", type=SLUG_T, help="The relationship it is about.")
@click.option("--party", "party", type=SLUG_T, help="The party it is about.")
@click.option("--decision", "decision", type=click.IntRange(min=1), metavar="SEQ",
              help="For an appeal: the seq of the decision.made appealed (`leverage log`).")
@click.option("--filed-by", help="Who filed it (a name, or `anonymous`); never published.")
@click.option("--confidential", is_flag=True, default=False,
              help="Confidential: reports only count it.")
@click.option("--open-impact", "open_impact", type=SLUG_T, metavar="IMPACT",
              help="Also open impact IMPACT from this complaint or concern (needs --relationship, "
                   "--right, --scale, --scope, --irremediability); the grievance is filed about it.")
@click.option("--right", "rights", multiple=True, type=click.Choice(vocab.RIGHTS),
              help="With --open-impact: a right affected (repeatable).")
@click.option("--scale", type=ONE_TO_FIVE, help="With --open-impact: gravity, 1-5.")
@click.option("--scope", type=ONE_TO_FIVE, help="With --open-impact: how many people, 1-5.")
@click.option("--irremediability", type=ONE_TO_FIVE, help="With --open-impact: how hard to remedy, 1-5.")
@click.option("--impact-summary", help="With --open-impact: the impact's summary (default the grievance's).")
@click.option("--likelihood", type=ONE_TO_FIVE, help="With --open-impact: likelihood, 1-5.")
@click.option("--involvement", type=click.Choice(vocab.INVOLVEMENTS), help="With --open-impact.")
@click.option("--status", "impact_status", type=click.Choice(vocab.IMPACT_STATUSES), help="With --open-impact.")
@at_option
@pass_app
def grievance_file(app: App, id: str, kind: str, summary: str, channel: str, impact: str | None,
                   relationship: str | None, party: str | None, decision: int | None,
                   filed_by: str | None, confidential: bool, open_impact: str | None,
                   rights: tuple[str, ...], scale: int | None, scope: int | None,
                   irremediability: int | None, impact_summary: str | None, likelihood: int | None,
                   involvement: str | None, impact_status: str | None, at: str | None) -> None:
    """File a grievance: a complaint, an appeal of a decision, or a concern.

    A grievance is about at most one of --impact, --relationship, --party or (an appeal)
    --decision; a general complaint or concern names none. It need not allege an abuse.
    """
    data = _drop_none(id=id, kind=kind, summary=summary, channel=channel, impact=impact,
                      relationship=relationship, party=party, decision=decision, filed_by=filed_by)
    if confidential:
        data["confidential"] = True
    impact_fields = {"--right": rights, "--scale": scale, "--scope": scope,
                     "--irremediability": irremediability, "--impact-summary": impact_summary,
                     "--likelihood": likelihood, "--involvement": involvement, "--status": impact_status}
    if open_impact is None:
        given = [name for name, value in impact_fields.items() if value not in (None, ())]
        if given:
            raise click.UsageError(f"{given[0]} describes the impact to open: give --open-impact IMPACT too")
        app.record("grievance.filed", data, at)
        return
    if kind == "appeal":
        raise click.UsageError("--open-impact opens an impact from a complaint or a concern, not an appeal")
    if relationship is None or impact is not None or party is not None or decision is not None:
        raise click.UsageError("--open-impact needs --relationship (the impact's relationship) and "
                               "none of --impact, --party, --decision")
    missing = [name for name in ("--right", "--scale", "--scope", "--irremediability")
               if impact_fields[name] in (None, ())]
    if missing:
        raise click.UsageError(f"--open-impact needs {', '.join(missing)}")
    opened = _drop_none(
        id=open_impact, relationship=relationship, rights=list(dict.fromkeys(rights)),
        summary=impact_summary or summary,
        severity={"scale": scale, "scope": scope, "irremediability": irremediability},
        likelihood=likelihood, involvement=involvement, status=impact_status)
    opened["attributes"] = {"grievance": id}
    del data["relationship"]
    data["impact"] = open_impact
    when = at or now_at()
    ledger = app.ledger()
    ledger.append([
        {"type": "impact.opened", "at": when, "actor": app.actor, "data": opened},
        {"type": "grievance.filed", "at": when, "actor": app.actor, "data": data},
    ], actor=app.actor)
    seq, _hash = ledger.last_head
    click.echo(f"recorded impact.opened {open_impact} (seq {seq - 1}, at {when}, by {app.actor})")
    click.echo(f"recorded grievance.filed {id} (seq {seq}, at {when}, by {app.actor})")


@grievance.command("ack")
@click.argument("id", type=SLUG_T)
@click.option("--summary", required=True, help="How the receipt was confirmed, and what happens next.")
@at_option
@pass_app
def grievance_ack(app: App, id: str, summary: str, at: str | None) -> None:
    """Acknowledge a grievance: confirm its receipt to whoever filed it."""
    app.record("grievance.acknowledged", {"id": id, "summary": summary}, at)


@grievance.command("resolve")
@click.argument("id", type=SLUG_T)
@click.option("--outcome", required=True, type=click.Choice(GRIEVANCE_OUTCOMES))
@click.option("--summary", required=True, help="The reasons for the outcome.")
@click.option("--remedy", help="The remedy provided, if any.")
@at_option
@pass_app
def grievance_resolve(app: App, id: str, outcome: str, summary: str, remedy: str | None,
                      at: str | None) -> None:
    """Resolve a grievance. An appeal is resolved by someone who neither made nor approved
    the decision appealed (record it with --actor NAME)."""
    app.record("grievance.resolved", _drop_none(id=id, outcome=outcome, summary=summary, remedy=remedy), at)


@grievance.command("list")
@click.option("--as-of", type=DATE, help="As of the end of this UTC day (default today).")
@click.option("--open", "only_open", is_flag=True, help="Only grievances not yet resolved.")
@json_option
@pass_app
def grievance_list(app: App, as_of: date | None, only_open: bool, as_json: bool) -> None:
    """List the grievances with their stage, time frames and findings."""
    from ..grievances import as_mapping, views
    from ..timeutil import now_utc

    day = as_of or now_utc().date()
    state = app.ledger().state(as_of=day)
    found = [v for v in views(state, day) if not (only_open and v.status == "resolved")]
    if as_json:
        echo_json([as_mapping(v) for v in found])
        return
    rows = []
    styles: list[str | None] = []
    for v in found:
        g = v.grievance
        about = (f"decision {g.decision} ({v.appealed.decision} of {v.impact})"
                 if g.decision is not None and v.appealed is not None
                 else f"decision {g.decision}" if g.decision is not None
                 else f"{g.about} {getattr(g, g.about)}" if g.about != "general" else "general")
        stage = v.resolution.outcome if v.resolution is not None else v.status
        rows.append((g.id, g.kind, g.filed_at, about, stage, v.acknowledge_by.isoformat(),
                     v.resolve_by.isoformat(), ", ".join(f.code for f in v.findings)))
        styles.append("bold red" if v.overdue else None)
    print_table("Grievances", ["id", "kind", "filed", "about", "stage", "ack by", "resolve by", "findings"],
                rows, styles=styles)


COMMANDS: list[click.Command] = [grievance]
