"""Value classes of the ledger: the event, and the state derived from events.

Every class is frozen; the state builder (:mod:`leverage.state`) creates them once per
projection. Serialisation lives in :mod:`leverage.serialize`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import attrs

from .vocab import (  # noqa: F401  (re-exported)
    ASSESSMENT_CONCLUSIONS,
    ASSESSMENT_KINDS,
    DECISIONS,
    IMPACT_STATUSES,
    INVOLVEMENTS,
    LEVELS,
    OUTCOMES,
    PARTY_KINDS,
    RELATIONSHIP_TYPES,
    RIGHTS,
)


def _frozen_dict(value: Any) -> dict[str, Any]:
    return dict(value) if value else {}


@attrs.frozen
class Event:
    """One line of the log. ``seq``, ``recorded_at``, ``prev`` and ``hash`` are set by the store."""

    type: str
    at: str
    actor: str
    data: dict[str, Any]
    seq: int | None = None
    recorded_at: str | None = None
    prev: str | None = None
    hash: str | None = None

    @property
    def chained(self) -> bool:
        return self.hash is not None


@attrs.frozen
class Severity:
    scale: int
    scope: int
    irremediability: int

    @property
    def worst(self) -> int:
        return max(self.scale, self.scope, self.irremediability)


@attrs.frozen
class Party:
    id: str
    name: str
    kind: str
    country: str | None = None
    sector: str | None = None
    external_ids: dict[str, str] = attrs.field(factory=dict, converter=_frozen_dict)
    attributes: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)
    added_at: str = ""
    seq: int = 0


@attrs.frozen
class Relationship:
    id: str
    source: str
    target: str
    type: str
    crucial: bool = False
    leverage: int | None = None
    since: str | None = None
    contract: str | None = None
    attributes: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)
    added_at: str = ""
    seq: int = 0
    ended_at: str | None = None
    ended_reason: str | None = None

    @property
    def ended(self) -> bool:
        return self.ended_at is not None


@attrs.frozen
class Record:
    """What every dated record of an impact carries."""

    seq: int
    at: str
    when: datetime
    actor: str


@attrs.frozen
class Step:
    seq: int
    at: str
    when: datetime
    actor: str
    kind: str
    summary: str
    id: str | None = None
    deadline: date | None = None
    with_: tuple[str, ...] = ()
    policy_refs: tuple[str, ...] = ()
    attributes: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)


@attrs.frozen
class Outcome:
    seq: int
    at: str
    when: datetime
    actor: str
    outcome: str
    summary: str
    step: str | None = None
    attributes: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)


@attrs.frozen
class Assessment:
    seq: int
    at: str
    when: datetime
    actor: str
    kind: str
    conclusion: str
    summary: str
    experts: tuple[str, ...] = ()
    findings: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)
    attributes: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)


@attrs.frozen
class Decision:
    seq: int
    at: str
    when: datetime
    actor: str
    decision: str
    rationale: str
    policy_refs: tuple[str, ...] = ()
    approved_by: str | None = None
    forced: str | None = None
    attributes: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)


@attrs.frozen
class Reassessment:
    """The opening assessment of an impact and each later ``impact.reassessed``."""

    seq: int
    at: str
    when: datetime
    actor: str
    summary: str
    severity: Severity
    likelihood: int | None
    status: str
    rights: tuple[str, ...]


@attrs.frozen
class Impact:
    id: str
    relationship: str
    rights: tuple[str, ...]
    summary: str
    severity: Severity
    likelihood: int | None = None
    involvement: str = "linked"
    status: str = "actual"
    affected: tuple[str, ...] = ()
    attributes: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_dict)
    opened_at: str = ""
    opened_when: datetime | None = None
    opened_by: str = ""
    seq: int = 0
    #: the opening assessment first, then each reassessment, in time order
    assessments_of_severity: tuple[Reassessment, ...] = ()
    steps: tuple[Step, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    assessments: tuple[Assessment, ...] = ()
    decisions: tuple[Decision, ...] = ()

    @property
    def reassessments(self) -> tuple[Reassessment, ...]:
        return self.assessments_of_severity[1:]

    @property
    def closed(self) -> bool:
        return any(d.decision == "close" for d in self.decisions)

    def severity_at(self, when: datetime) -> Severity:
        """The severity in force at ``when`` (the latest assessment at or before it)."""
        current = self.assessments_of_severity[0].severity if self.assessments_of_severity else self.severity
        for r in self.assessments_of_severity:
            if r.when <= when:
                current = r.severity
        return current

    def rights_at(self, when: datetime) -> tuple[str, ...]:
        current = self.rights
        if self.assessments_of_severity:
            current = self.assessments_of_severity[0].rights
        for r in self.assessments_of_severity:
            if r.when <= when:
                current = r.rights
        return current


@attrs.frozen
class PolicyRecord:
    seq: int
    at: str
    when: datetime
    actor: str
    name: str
    sha256: str
    content: str


@attrs.frozen
class State:
    """The ledger as of a date and as known at a moment: what the engine and plugins read."""

    as_of: date | None
    known_at: str | None
    parties: dict[str, Party]
    relationships: dict[str, Relationship]
    impacts: dict[str, Impact]
    policies: tuple[PolicyRecord, ...] = ()
    #: seq of the newest event included
    head_seq: int = 0
    #: grievances and other plugin-defined projections
    extra: dict[str, Any] = attrs.field(factory=dict)
    #: (private) the latest instant of any record, when the state builder knows it (else
    #: None): the engine need not cut records at an as-of date after it
    _latest: datetime | None = attrs.field(default=None, init=False, eq=False, repr=False)

    def policy_record_at(self, when: datetime) -> PolicyRecord | None:
        """The latest ``policy.set`` at or before ``when``; the first governs earlier times."""
        if not self.policies:
            return None
        chosen = self.policies[0]
        for p in self.policies:
            if p.when <= when:
                chosen = p
        return chosen

    def impacts_of(self, relationship_id: str) -> list[Impact]:
        return [i for i in self.impacts.values() if i.relationship == relationship_id]

    def counterparty(self, relationship: Relationship) -> str:
        """The end of ``relationship`` that is not a ``self`` party (the target otherwise)."""
        source = self.parties.get(relationship.source)
        target = self.parties.get(relationship.target)
        if target is not None and target.kind == "self" and source is not None and source.kind != "self":
            return relationship.source
        return relationship.target

    def relationship_status(self, relationship_id: str) -> str:
        """``terminated``, ``suspended``, ``ended`` or ``active`` (DESIGN section 5)."""
        from .engine import relationship_statuses

        if relationship_id not in self.relationships:
            raise KeyError(relationship_id)
        single = attrs.evolve(self, relationships={relationship_id: self.relationships[relationship_id]})
        return relationship_statuses(single, self.impacts_of(relationship_id))[relationship_id]
