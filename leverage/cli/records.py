"""Commands that record parties, relationships, impacts, steps, outcomes, assessments,
decisions and corrections. Each writes exactly one event."""

from __future__ import annotations

from typing import Any

import click

from .. import vocab as model
from .app import (
    DATE,
    ONE_TO_FIVE,
    SLUG_T,
    App,
    at_option,
    echo_json,
    json_option,
    pass_app,
    print_table,
)


def _external_ids(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for value in values:
        system, sep, ident = value.partition("=")
        if not sep or not system or not ident:
            raise click.BadParameter(f"{value!r}: expected SYSTEM=ID", param_hint="--external-id")
        out[system] = ident
    return out


def _drop_none(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None and v not in ((), [], {})}


# -- parties ---------------------------------------------------------------------------------
@click.group()
def party() -> None:
    """Parties: the company itself, clients, partners, suppliers, user groups..."""


@party.command("add")
@click.argument("id", type=SLUG_T)
@click.option("--name", required=True, help="The party's name.")
@click.option("--kind", required=True, type=click.Choice(model.PARTY_KINDS))
@click.option("--country", help="Country (ISO 3166 code or name).")
@click.option("--sector", help="Sector or industry.")
@click.option("--external-id", "external_ids", multiple=True, metavar="SYSTEM=ID",
              help="The party's id in another system (repeatable).")
@at_option
@pass_app
def party_add(app: App, id: str, name: str, kind: str, country: str | None,
              sector: str | None, external_ids: tuple[str, ...], at: str | None) -> None:
    """Add a party."""
    data = _drop_none(id=id, name=name, kind=kind, country=country, sector=sector,
                      external_ids=_external_ids(external_ids))
    app.record("party.added", data, at)


@party.command("update")
@click.argument("id", type=SLUG_T)
@click.option("--name")
@click.option("--kind", type=click.Choice(model.PARTY_KINDS))
@click.option("--country")
@click.option("--sector")
@click.option("--external-id", "external_ids", multiple=True, metavar="SYSTEM=ID",
              help="Replaces the party's external ids (repeatable).")
@at_option
@pass_app
def party_update(app: App, id: str, name: str | None, kind: str | None, country: str | None,
                 sector: str | None, external_ids: tuple[str, ...], at: str | None) -> None:
    """Change a party's fields."""
    data = _drop_none(id=id, name=name, kind=kind, country=country, sector=sector,
                      external_ids=_external_ids(external_ids))
    if len(data) == 1:
        raise click.UsageError("nothing to update: give at least one of --name, --kind, "
                               "--country, --sector, --external-id")
    app.record("party.updated", data, at)


@party.command("list")
@click.option("--as-of", type=DATE, help="As of the end of this UTC day.")
@json_option
@pass_app
def party_list(app: App, as_of: Any, as_json: bool) -> None:
    """List the parties."""
    from ..serialize import unstructure

    state = app.ledger().state(as_of=as_of)
    parties = sorted(state.parties.values(), key=lambda p: p.id)
    if as_json:
        echo_json([unstructure(p) for p in parties])
        return
    print_table("Parties", ["id", "name", "kind", "country", "sector"],
                [(p.id, p.name, p.kind, p.country, p.sector) for p in parties])


# -- relationships ---------------------------------------------------------------------------
@click.group()
def rel() -> None:
    """Business relationships between parties (provider -> recipient)."""


@rel.command("add")
@click.argument("id", type=SLUG_T)
@click.option("--source", required=True, type=SLUG_T, help="The provider.")
@click.option("--target", required=True, type=SLUG_T, help="The recipient.")
@click.option("--type", "type_", required=True, type=click.Choice(model.RELATIONSHIP_TYPES))
@click.option("--crucial", is_flag=True, default=None,
              help="Essential to the business, with no reasonable alternative.")
@click.option("--leverage", type=ONE_TO_FIVE, help="Our ability to effect change, 1-5.")
@click.option("--since", type=DATE, help="When the relationship began.")
@click.option("--contract", help="Contract reference.")
@at_option
@pass_app
def rel_add(app: App, id: str, source: str, target: str, type_: str, crucial: bool | None,
            leverage: int | None, since: Any, contract: str | None, at: str | None) -> None:
    """Add a relationship."""
    data = _drop_none(id=id, source=source, target=target, type=type_, crucial=crucial,
                      leverage=leverage, since=since.isoformat() if since else None,
                      contract=contract)
    app.record("relationship.added", data, at)


@rel.command("update")
@click.argument("id", type=SLUG_T)
@click.option("--type", "type_", type=click.Choice(model.RELATIONSHIP_TYPES))
@click.option("--crucial/--not-crucial", default=None)
@click.option("--leverage", type=ONE_TO_FIVE)
@click.option("--since", type=DATE)
@click.option("--contract")
@at_option
@pass_app
def rel_update(app: App, id: str, type_: str | None, crucial: bool | None,
               leverage: int | None, since: Any, contract: str | None, at: str | None) -> None:
    """Change a relationship's fields (a changed direction is `rel end` plus a new one)."""
    data = _drop_none(id=id, type=type_, crucial=crucial, leverage=leverage,
                      since=since.isoformat() if since else None, contract=contract)
    if len(data) == 1:
        raise click.UsageError("nothing to update: give at least one of --type, --crucial, "
                               "--leverage, --since, --contract")
    app.record("relationship.updated", data, at)


@rel.command("end")
@click.argument("id", type=SLUG_T)
@click.option("--reason", required=True,
              help="Why it ended (commercial; a human-rights termination is `decide`).")
@at_option
@pass_app
def rel_end(app: App, id: str, reason: str, at: str | None) -> None:
    """Record that a relationship ended for commercial reasons."""
    app.record("relationship.ended", {"id": id, "reason": reason}, at)


@rel.command("list")
@click.option("--as-of", type=DATE, help="As of the end of this UTC day.")
@json_option
@pass_app
def rel_list(app: App, as_of: Any, as_json: bool) -> None:
    """List the relationships with their status."""
    from ..engine import relationship_statuses
    from ..serialize import unstructure

    state = app.ledger().state(as_of=as_of)
    rels = sorted(state.relationships.values(), key=lambda r: r.id)
    statuses = relationship_statuses(state)
    if as_json:
        echo_json([{**unstructure(r), "status": statuses[r.id]} for r in rels])
        return
    print_table("Relationships", ["id", "source", "type", "target", "status", "crucial", "leverage"],
                [(r.id, r.source, r.type, r.target, statuses[r.id],
                  "yes" if r.crucial else "", r.leverage) for r in rels])


# -- impacts ---------------------------------------------------------------------------------
@click.group()
def impact() -> None:
    """Human-rights impacts linked to a relationship."""


def _severity(scale: int | None, scope: int | None, irr: int | None) -> dict[str, int] | None:
    given = [v is not None for v in (scale, scope, irr)]
    if not any(given):
        return None
    if not all(given):
        raise click.UsageError("give all three of --scale, --scope and --irremediability")
    return {"scale": scale, "scope": scope, "irremediability": irr}  # type: ignore[dict-item]


@impact.command("open")
@click.argument("id", type=SLUG_T)
@click.option("--rel", "relationship", required=True, type=SLUG_T, help="The relationship.")
@click.option("--right", "rights", multiple=True, required=True,
              type=click.Choice(model.RIGHTS), help="A right affected (repeatable).")
@click.option("--scale", required=True, type=ONE_TO_FIVE, help="Gravity, 1-5 (5 worst).")
@click.option("--scope", required=True, type=ONE_TO_FIVE, help="How many people, 1-5.")
@click.option("--irremediability", required=True, type=ONE_TO_FIVE,
              help="How hard to remedy, 1-5.")
@click.option("--summary", required=True)
@click.option("--likelihood", type=ONE_TO_FIVE)
@click.option("--involvement", type=click.Choice(model.INVOLVEMENTS))
@click.option("--status", type=click.Choice(model.IMPACT_STATUSES))
@click.option("--affected", multiple=True, help="Who is affected (repeatable).")
@at_option
@pass_app
def impact_open(app: App, id: str, relationship: str, rights: tuple[str, ...], scale: int,
                scope: int, irremediability: int, summary: str, likelihood: int | None,
                involvement: str | None, status: str | None, affected: tuple[str, ...],
                at: str | None) -> None:
    """Open an impact."""
    data = _drop_none(id=id, relationship=relationship, rights=list(dict.fromkeys(rights)),
                      summary=summary, severity=_severity(scale, scope, irremediability),
                      likelihood=likelihood, involvement=involvement, status=status,
                      affected=list(affected))
    app.record("impact.opened", data, at)


@impact.command("reassess")
@click.argument("id", type=SLUG_T)
@click.option("--summary", required=True)
@click.option("--scale", type=ONE_TO_FIVE)
@click.option("--scope", type=ONE_TO_FIVE)
@click.option("--irremediability", type=ONE_TO_FIVE)
@click.option("--likelihood", type=ONE_TO_FIVE)
@click.option("--status", type=click.Choice(model.IMPACT_STATUSES))
@click.option("--right", "rights", multiple=True, type=click.Choice(model.RIGHTS))
@at_option
@pass_app
def impact_reassess(app: App, id: str, summary: str, scale: int | None, scope: int | None,
                    irremediability: int | None, likelihood: int | None, status: str | None,
                    rights: tuple[str, ...], at: str | None) -> None:
    """Reassess an impact's severity, likelihood, status or rights."""
    data = _drop_none(id=id, summary=summary, severity=_severity(scale, scope, irremediability),
                      likelihood=likelihood, status=status,
                      rights=list(dict.fromkeys(rights)) or None)
    app.record("impact.reassessed", data, at)


@impact.command("list")
@click.option("--as-of", type=DATE, help="As of the end of this UTC day.")
@json_option
@pass_app
def impact_list(app: App, as_of: Any, as_json: bool) -> None:
    """List the impacts with their records."""
    from ..serialize import unstructure

    state = app.ledger().state(as_of=as_of)
    impacts = sorted(state.impacts.values(), key=lambda i: i.id)
    if as_json:
        echo_json([unstructure(i) for i in impacts])
        return
    print_table("Impacts", ["id", "relationship", "rights", "severity", "steps", "decisions",
                            "summary"],
                [(i.id, i.relationship, ", ".join(i.rights),
                  f"{i.severity.scale}/{i.severity.scope}/{i.severity.irremediability}",
                  len(i.steps), ", ".join(d.decision for d in i.decisions), i.summary)
                 for i in impacts])


# -- steps, outcomes, assessments, decisions --------------------------------------------------
@click.group()
def step() -> None:
    """Leverage steps taken on an impact, and their outcomes."""


@step.command("add")
@click.argument("impact", type=SLUG_T)
@click.option("--kind", required=True, help="The step kind (see `leverage step kinds`).")
@click.option("--summary", required=True)
@click.option("--id", "step_id", type=SLUG_T, help="An id for the step (outcomes can name it).")
@click.option("--deadline", type=DATE, help="The date by which change is expected.")
@click.option("--with", "with_", multiple=True, type=SLUG_T,
              help="A peer party acting with us (repeatable).")
@click.option("--policy-ref", "policy_refs", multiple=True, help="A policy clause (repeatable).")
@at_option
@pass_app
def step_add(app: App, impact: str, kind: str, summary: str, step_id: str | None,
             deadline: Any, with_: tuple[str, ...], policy_refs: tuple[str, ...],
             at: str | None) -> None:
    """Record a leverage step."""
    data = _drop_none(impact=impact, kind=kind, summary=summary, id=step_id,
                      deadline=deadline.isoformat() if deadline else None,
                      policy_refs=list(policy_refs))
    if with_:
        data["with"] = list(with_)
    app.record("step.taken", data, at)


@step.command("outcome")
@click.argument("impact", type=SLUG_T)
@click.option("--outcome", required=True, type=click.Choice(model.OUTCOMES))
@click.option("--summary", required=True)
@click.option("--step", "step_id", type=SLUG_T, help="The step this is the outcome of.")
@at_option
@pass_app
def step_outcome(app: App, impact: str, outcome: str, summary: str, step_id: str | None,
                 at: str | None) -> None:
    """Record the outcome of leverage on an impact."""
    app.record("step.outcome", _drop_none(impact=impact, outcome=outcome, summary=summary,
                                          step=step_id), at)


@step.command("kinds")
@json_option
def step_kinds(as_json: bool) -> None:
    """List the step kinds and the rung each reaches (core and plugins)."""
    from .. import plugins

    kinds = sorted(plugins.registries().step_kinds.values(),
                   key=lambda k: (plugins.RUNGS.index(k.rung), k.kind))
    if as_json:
        echo_json([{"kind": k.kind, "rung": k.rung, "description": k.description,
                    "owner": k.owner} for k in kinds])
        return
    print_table("Step kinds", ["kind", "rung", "owner", "description"],
                [(k.kind, k.rung, k.owner, k.description) for k in kinds])


@click.command()
@click.argument("impact", type=SLUG_T)
@click.option("--kind", required=True, type=click.Choice(model.ASSESSMENT_KINDS))
@click.option("--conclusion", required=True,
              help="termination-impact: exit-acceptable|exit-more-severe; leverage: "
                   "promising|not-promising; rabat: incitement|below-threshold; else free text.")
@click.option("--summary", required=True)
@click.option("--expert", "experts", multiple=True, help="An expert consulted (repeatable).")
@at_option
@pass_app
def assess(app: App, impact: str, kind: str, conclusion: str, summary: str,
           experts: tuple[str, ...], at: str | None) -> None:
    """Record an assessment (termination impact, stakeholder, expert, Rabat, leverage)."""
    app.record("assessment.recorded", _drop_none(impact=impact, kind=kind, conclusion=conclusion,
                                                 summary=summary, experts=list(experts)), at)


@click.command()
@click.argument("impact", type=SLUG_T)
@click.option("--decision", required=True, type=click.Choice(model.DECISIONS))
@click.option("--rationale", required=True)
@click.option("--policy-ref", "policy_refs", multiple=True, required=True,
              help="The policy clause the decision rests on (repeatable, at least one).")
@click.option("--approved-by", help="The second person who approved it.")
@click.option("--force", "forced", metavar="REASON",
              help="Record it even though the policy's gates refuse it, with this reason.")
@at_option
@pass_app
def decide(app: App, impact: str, decision: str, rationale: str, policy_refs: tuple[str, ...],
           approved_by: str | None, forced: str | None, at: str | None) -> None:
    """Record a decision: continue, suspend, terminate, reinstate or close."""
    app.record("decision.made", _drop_none(impact=impact, decision=decision, rationale=rationale,
                                           policy_refs=list(policy_refs),
                                           approved_by=approved_by, forced=forced), at)


@click.command()
@click.argument("seq", type=click.IntRange(min=1))
@click.option("--reason", required=True, help="Why the event is void.")
@pass_app
def void(app: App, seq: int, reason: str) -> None:
    """Void an event: it stays in the log and is treated as never having happened."""
    app.record("event.voided", {"seq": seq, "reason": reason}, None)


COMMANDS: list[click.Command] = [party, rel, impact, step, assess, decide, void]
