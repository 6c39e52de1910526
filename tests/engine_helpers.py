"""A compact builder of :class:`leverage.model.State` values for engine tests.

    state = (
        S().party("we", "self").party("acme", "client").rel("r1", "we", "acme")
        .impact("i1", "r1", scale=5, at="2021-01-07")
        .step("i1", "dialogue", "2021-01-08")
        .build()
    )

Each record gets the next ``seq`` in call order; ``build()`` sorts an impact's records by
``(when, seq)`` like the state builder does, and ``build(upto=DATE)`` keeps only what had
happened by the end of that day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import attrs

from leverage.model import (
    Assessment,
    Decision,
    Impact,
    Outcome,
    Party,
    PolicyRecord,
    Reassessment,
    Relationship,
    Severity,
    State,
    Step,
)
from leverage.policy import resolve
from leverage.timeutil import parse_at

AS_OF = date(2021, 1, 1)


def d(value: str) -> date:
    return date.fromisoformat(value)


class S:
    """A builder of states (a test helper; mutable on purpose)."""

    def __init__(self) -> None:
        self._seq = 0
        self._parties: dict[str, Party] = {}
        self._rels: dict[str, Relationship] = {}
        self._impacts: dict[str, dict[str, Any]] = {}
        self._policies: list[PolicyRecord] = []

    @classmethod
    def basic(cls, *, crucial: bool = False, leverage: int | None = None) -> S:
        """``we`` (self) --serves--> ``acme`` (client) as relationship ``r1``."""
        return (
            cls()
            .party("we", "self")
            .party("acme", "client")
            .rel("r1", "we", "acme", crucial=crucial, leverage=leverage)
        )

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def _record(self, at: str) -> dict[str, Any]:
        return {"seq": self._next(), "at": at, "when": parse_at(at)}

    def policy(self, name: str = "ungp", at: str = "2020-01-01", content: str | None = None) -> S:
        if content is None:
            name, content = resolve(name)
        import hashlib

        sha = hashlib.sha256(content.encode()).hexdigest()
        self._policies.append(
            PolicyRecord(actor="ana", name=name, sha256=sha, content=content, **self._record(at))
        )
        return self

    def party(self, pid: str, kind: str = "client") -> S:
        self._parties[pid] = Party(id=pid, name=pid.title(), kind=kind, seq=self._next())
        return self

    def rel(
        self,
        rid: str,
        source: str,
        target: str,
        type: str = "serves",
        *,
        crucial: bool = False,
        leverage: int | None = None,
        ended: str | None = None,
    ) -> S:
        self._rels[rid] = Relationship(
            id=rid, source=source, target=target, type=type, crucial=crucial,
            leverage=leverage, seq=self._next(), ended_at=ended,
            ended_reason="commercial" if ended else None,
        )
        return self

    def end(self, rid: str, at: str) -> S:
        self._rels[rid] = attrs.evolve(self._rels[rid], ended_at=at, ended_reason="commercial")
        return self

    def impact(
        self,
        iid: str,
        rel: str = "r1",
        *,
        scale: int = 3,
        scope: int = 1,
        irr: int = 1,
        rights: tuple[str, ...] = ("expression",),
        at: str = "2021-01-01",
        involvement: str = "linked",
    ) -> S:
        rec = self._record(at)
        severity = Severity(scale, scope, irr)
        opening = Reassessment(
            actor="ana", summary="opened", severity=severity, likelihood=None,
            status="actual", rights=rights, **rec,
        )
        self._impacts[iid] = {
            "impact": Impact(
                id=iid, relationship=rel, rights=rights, summary="impact", severity=severity,
                involvement=involvement, opened_at=at, opened_when=rec["when"],
                opened_by="ana", seq=rec["seq"],
            ),
            "assessments_of_severity": [opening],
            "steps": [],
            "outcomes": [],
            "assessments": [],
            "decisions": [],
        }
        return self

    def reassess(
        self,
        iid: str,
        at: str,
        *,
        scale: int,
        scope: int = 1,
        irr: int = 1,
        rights: tuple[str, ...] | None = None,
    ) -> S:
        entry = self._impacts[iid]
        rights = rights if rights is not None else entry["impact"].rights
        entry["assessments_of_severity"].append(Reassessment(
            actor="ana", summary="reassessed", severity=Severity(scale, scope, irr),
            likelihood=None, status="actual", rights=rights, **self._record(at),
        ))
        return self

    def step(
        self, iid: str, kind: str, at: str, *, deadline: str | None = None, sid: str | None = None
    ) -> S:
        self._impacts[iid]["steps"].append(Step(
            actor="ana", kind=kind, summary=kind, id=sid,
            deadline=d(deadline) if deadline else None, **self._record(at),
        ))
        return self

    def outcome(self, iid: str, outcome: str, at: str) -> S:
        self._impacts[iid]["outcomes"].append(
            Outcome(actor="ana", outcome=outcome, summary=outcome, **self._record(at))
        )
        return self

    def assess(self, iid: str, kind: str, conclusion: str, at: str) -> S:
        self._impacts[iid]["assessments"].append(Assessment(
            actor="ana", kind=kind, conclusion=conclusion, summary=kind, **self._record(at)
        ))
        return self

    def decide(
        self,
        iid: str,
        decision: str,
        at: str,
        *,
        actor: str = "ana",
        approved_by: str | None = "ben",
        forced: str | None = None,
    ) -> S:
        self._impacts[iid]["decisions"].append(Decision(
            actor=actor, decision=decision, rationale="because", policy_refs=("P1",),
            approved_by=approved_by, forced=forced, **self._record(at),
        ))
        return self

    def build(self, upto: date | None = None) -> State:
        cutoff = (
            datetime.combine(upto + timedelta(days=1), time(0), UTC) if upto is not None else None
        )

        def keep(records: list[Any]) -> tuple[Any, ...]:
            ordered = sorted(records, key=lambda r: (r.when, r.seq))
            return tuple(r for r in ordered if cutoff is None or r.when < cutoff)

        impacts = {}
        for iid, entry in self._impacts.items():
            impact = entry["impact"]
            if cutoff is not None and impact.opened_when >= cutoff:
                continue
            sev = keep(entry["assessments_of_severity"])
            impacts[iid] = attrs.evolve(
                impact,
                severity=sev[-1].severity,
                rights=sev[-1].rights,
                assessments_of_severity=sev,
                steps=keep(entry["steps"]),
                outcomes=keep(entry["outcomes"]),
                assessments=keep(entry["assessments"]),
                decisions=keep(entry["decisions"]),
            )
        rels = {}
        for rid, rel in self._rels.items():
            if cutoff is not None and rel.ended_at and parse_at(rel.ended_at) >= cutoff:
                rel = attrs.evolve(rel, ended_at=None, ended_reason=None)
            rels[rid] = rel
        policies = tuple(
            p for p in sorted(self._policies, key=lambda p: (p.when, p.seq))
            if cutoff is None or p.when < cutoff or p is self._policies[0]
        )
        return State(
            as_of=upto, known_at=None, parties=dict(self._parties), relationships=rels,
            impacts=impacts, policies=policies, head_seq=self._seq,
        )
