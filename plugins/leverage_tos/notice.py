"""The notice to the affected partner that the Santa Clara Principles call for
(``leverage tos notice``), built from the ledger alone.

Every notice names: the content or conduct acted on (the reason and the evidence), the rule
with its text as it stood, the action and what it changes, when it was taken, whether the
detection was automated, the deadline for change (the engine's due date as of the action),
and how and until when to appeal. It never names the moderator or the approver (UNGP 21:
never in a way that endangers staff).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from leverage import LeverageError
from leverage.model import State

from .actions import ACTIONS, EFFECTS

STANDARDS = "Santa Clara Principles 2.0 (notice, appeal); UNGP 21 (communicating reasons and policies)"
_TITLES = {
    "warning": "warning", "label": "warning label on content", "downrank": "reduced distribution of content",
    "remove": "removal of content", "restrict": "restriction of account features",
    "suspend": "suspension of the account", "ban": "termination of the account",
    "reinstate": "reinstatement of the account",
}
_DETECTION = {
    "automated": "The content or conduct was detected by automated means.",
    "human": "The content or conduct was detected by a person (a moderator or a report), not by "
             "automated means.",
    None: "How the content or conduct was detected was not recorded.",
}


def find_record(state: State, impact_id: str, step: str | None) -> Any:
    """The ingested step or decision the notice is about: ``step`` (a step id or the log's
    row id), else the latest on the impact."""
    impact = state.impacts.get(impact_id)
    if impact is None:
        raise LeverageError(f"unknown impact {impact_id!r}")
    every: list[Any] = [*impact.steps, *impact.decisions]
    records = [r for r in every if "tos" in r.attributes]
    if not records:
        raise LeverageError(f"impact {impact_id} has no enforcement action ingested from a log "
                            "(`leverage tos ingest`): nothing to give notice of")
    records.sort(key=lambda r: (r.when, r.seq))
    if step is None:
        return records[-1]
    for r in records:
        if getattr(r, "id", None) == step or r.attributes["tos"].get("row_id") == step:
            return r
    known = ", ".join(str(getattr(r, "id", None) or r.attributes["tos"].get("row_id") or r.seq)
                      for r in records[-5:])
    raise LeverageError(f"impact {impact_id} has no ingested action {step!r} (the latest: {known})")


def build(state: State, impact_id: str, record: Any, status: Any) -> dict[str, Any]:
    """The notice as a JSON-ready dict (``--format json``)."""
    impact = state.impacts[impact_id]
    tos = record.attributes["tos"]
    rel = state.relationships.get(impact.relationship)
    party_id = state.counterparty(rel) if rel is not None else ""
    party = state.parties.get(party_id)
    action = tos.get("action", "")
    event_type, kind = ACTIONS.get(action, ("", ""))
    day = record.when.date()
    evidence = tos.get("evidence")
    if isinstance(evidence, str):
        evidence = [evidence]
    rule = tos.get("rule") or {}
    detected = tos.get("detected_by")
    appeal = tos.get("appeal") or {}
    summary = getattr(record, "summary", None) or getattr(record, "rationale", "")
    due = status.due.isoformat() if status is not None and status.due is not None else None
    notice: dict[str, Any] = {
        "impact": impact_id,
        "account": {"party": party_id, "name": party.name if party else party_id,
                    "account": tos.get("account", party_id)},
        "action": {
            "action": action, "title": _TITLES.get(action, action),
            "recorded_as": f"{'step' if event_type == 'step.taken' else 'decision'} {kind}",
            "changes": tos.get("effect") or EFFECTS.get(action, ""),
            "at": record.at, "date": day.isoformat(),
        },
        "conduct": {"summary": summary, "evidence": list(evidence or [])},
        "rule": {k: rule[k] for k in ("id", "title", "text", "ref") if k in rule},
        "detection": {"detected_by": detected,
                      "automated": None if detected is None else detected == "automated",
                      "text": _DETECTION.get(detected, _DETECTION[None])},
        "deadline": {"due": due, "level": status.level if status is not None else None,
                     "next": status.next if status is not None else None,
                     "text": _deadline_text(action, due, status)},
        "appeal": None,
        "reference": {"file": tos.get("file"), "line": tos.get("line"), "seq": record.seq},
        "standards": STANDARDS,
    }
    if tos.get("row_id") is not None:
        notice["reference"]["id"] = tos["row_id"]
    if getattr(record, "id", None):
        notice["reference"]["step"] = record.id
    if action != "reinstate" and appeal.get("channel"):
        days = appeal.get("days")
        until = (day + timedelta(days=days)).isoformat() if isinstance(days, int) else None
        reviewer = appeal.get("reviewer") or "someone who was not involved in the first decision"
        notice["appeal"] = {
            "channel": appeal["channel"], "days": days, "until": until, "reviewer": reviewer,
            "text": (f"You can appeal at {appeal['channel']} until {until} ({days} days after the "
                     f"action). Your appeal is reviewed by {reviewer}."),
        }
    return notice


def _deadline_text(action: str, due: str | None, status: Any) -> str:
    if action == "ban":
        return "None: the account is terminated, so no deadline for change applies."
    if due is None:
        return "No further change is due on this case."
    level = f" (a {status.level}-severity case)" if status is not None else ""
    follow = ""
    if status is not None and status.next not in (None, "continue", "close"):
        follow = f" If the breach continues after that, the next step under our policy is: {status.next}."
    if action == "reinstate":
        return f"The case stays under review: we expect the rules to be kept; we will review it again by {due}."
    return f"We expect the content or conduct to change by {due}{level}.{follow}"


def render_text(notice: dict[str, Any], *, markdown: bool) -> str:
    """The notice as Markdown (``md``) or plain text."""
    a = notice["action"]
    rule = notice["rule"]
    acct = notice["account"]
    lines: list[str] = []

    def heading(text: str) -> None:
        lines.append("")
        lines.append(f"## {text}" if markdown else text)
        if not markdown:
            lines.append("-" * len(text))

    title = f"Notice of enforcement action: {a['title']}"
    lines.append(f"# {title}" if markdown else title)
    if not markdown:
        lines.append("=" * len(title))
    lines.append("")
    b = "**" if markdown else ""
    item = "- " if markdown else ""
    account = f"`{acct['account']}`" if markdown else acct["account"]
    lines.append(f"{item}{b}To:{b} {acct['name']} (account {account})")
    lines.append(f"{item}{b}Action taken:{b} {a['at']}")
    ref = notice["reference"]
    ident = ref.get("id") or ref.get("step") or f"seq {ref['seq']}"
    lines.append(f"{item}{b}Reference:{b} {ident} (case {notice['impact']})")

    heading("What we acted on")
    lines.append(notice["conduct"]["summary"])
    evidence = notice["conduct"]["evidence"]
    if evidence:
        lines.append("")
        lines.append("Evidence:")
        lines.extend(f"- {e}" for e in evidence)
    else:
        lines.append("")
        lines.append("Evidence: none was recorded with this action.")

    heading("The rule")
    cite = f" ({rule['ref']})" if rule.get("ref") else ""
    rid = f"`{rule.get('id', '')}`" if markdown else rule.get("id", "")
    lines.append(f"{b}{rule.get('title', '')}{b}, rule {rid}{cite}:")
    lines.append("")
    lines.append(f"> {rule.get('text', '')}" if markdown else f"    {rule.get('text', '')}")

    heading("What we did and what it changes")
    lines.append(f"Action: {a['title']} ({a['action']}), on {a['date']}.")
    lines.append(a["changes"])

    heading("How it was detected")
    lines.append(notice["detection"]["text"])

    heading("Deadline for change")
    lines.append(notice["deadline"]["text"])

    heading("How to appeal")
    appeal = notice["appeal"]
    lines.append(appeal["text"] if appeal else "A reinstatement lifts an earlier measure: there is "
                 "nothing to appeal.")
    lines.append("")
    lines.append(f"This notice follows the {STANDARDS}.")
    return "\n".join(lines) + "\n"
