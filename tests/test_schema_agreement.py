"""The JSON Schema of an event line and the Python validator agree, line by line.

``schemas/event.schema.json`` is what integrators validate against; ``leverage.events.check_line``
is what the ledger applies before it checks references. Each example below is run through
both (field-level checks only: no example depends on ids existing in a ledger).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import leverage.grievances  # noqa: F401  (registers the grievance event types with check_line)

SCHEMA_PATH = Path(__file__).parent.parent / "schemas" / "event.schema.json"
MAX_INT = 2**53 - 1
ZEROS = "0" * 64
HEX = "0123456789abcdef" * 4


def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


VALIDATOR = _validator()


def ev(type_: str, data: dict[str, Any], **top: Any) -> dict[str, Any]:
    """An event line with the usual top-level fields; ``top`` overrides or adds fields."""
    line: dict[str, Any] = {"type": type_, "at": "2021-01-07", "actor": "ana", "data": data}
    line.update(top)
    return line


def without(line: dict[str, Any], *keys: str) -> dict[str, Any]:
    """The line without some top-level keys."""
    return {k: v for k, v in line.items() if k not in keys}


def data_with(line: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The line with data fields changed or added."""
    changed = copy.deepcopy(line)
    changed["data"].update(changes)
    return changed


def data_without(line: dict[str, Any], *keys: str) -> dict[str, Any]:
    """The line without some data fields."""
    changed = copy.deepcopy(line)
    for key in keys:
        del changed["data"][key]
    return changed


# Minimal valid lines, one per type.
POLICY = ev("policy.set", {"name": "ungp", "sha256": HEX, "content": 'name = "ungp"\n'})
PARTY = ev("party.added", {"id": "acme", "name": "Acme Ltd", "kind": "client"})
PARTY_UPD = ev("party.updated", {"id": "acme", "name": "Acme Group"})
REL = ev("relationship.added", {"id": "rel-1", "source": "we", "target": "acme", "type": "hosts"})
REL_UPD = ev("relationship.updated", {"id": "rel-1", "leverage": 3})
REL_END = ev("relationship.ended", {"id": "rel-1", "reason": "Contract expired."})
SEVERITY = {"scale": 4, "scope": 2, "irremediability": 3}
IMPACT = ev(
    "impact.opened",
    {
        "id": "imp-1",
        "relationship": "rel-1",
        "rights": ["expression"],
        "summary": "Posts inciting violence.",
        "severity": SEVERITY,
    },
)
REASSESS = ev("impact.reassessed", {"id": "imp-1", "summary": "Worse.", "severity": SEVERITY})
STEP = ev("step.taken", {"impact": "imp-1", "kind": "dialogue", "summary": "Call with Acme."})
OUTCOME = ev("step.outcome", {"impact": "imp-1", "outcome": "improved", "summary": "Fewer posts."})
ASSESS = ev(
    "assessment.recorded",
    {
        "impact": "imp-1",
        "kind": "termination-impact",
        "conclusion": "exit-acceptable",
        "summary": "Users can move to other hosts.",
    },
)
DECISION = ev(
    "decision.made",
    {
        "impact": "imp-1",
        "decision": "suspend",
        "rationale": "No change after notice.",
        "policy_refs": ["ToS 4.2"],
    },
)
VOID = ev("event.voided", {"seq": 3, "reason": "Entered for the wrong party."})
GRIEVANCE = ev(
    "grievance.filed",
    {"id": "g-1", "kind": "complaint", "summary": "Threats on the forum.", "channel": "web-form"},
)
APPEAL = ev(
    "grievance.filed",
    {"id": "g-2", "kind": "appeal", "summary": "Please reinstate.", "channel": "e-mail", "decision": 9},
)
GRIEVANCE_ACK = ev("grievance.acknowledged", {"id": "g-1"})
GRIEVANCE_RESOLVED = ev(
    "grievance.resolved", {"id": "g-1", "outcome": "upheld", "summary": "Threads removed."}
)
CHAIN_AT = "2024-01-02T03:04:05"
CHAIN = {
    "seq": 1,
    "recorded_at": "2024-01-02T03:04:05.123456Z",
    "prev": ZEROS,
    "hash": HEX,
}

NESTED_ATTRIBUTES = {
    "source": {"system": "salesforce", "record": "0015g00000XyZ", "row": 17},
    "tags": ["a", "b", None, True, False, -3, MAX_INT, -MAX_INT],
    "empty": {},
    "list_of_objects": [{"k": [{"deep": "ümlaut ✓"}]}],
    "amount": "12.50",
    "😀": "astral key",
    "\ue000": "private use key",
}

VALID: list[tuple[str, dict[str, Any]]] = [
    ("policy.set minimal", POLICY),
    ("policy.set with attributes", data_with(POLICY, attributes={"file": "ungp.toml"})),
    ("party.added minimal", PARTY),
    (
        "party.added all fields",
        data_with(
            PARTY,
            country="DE",
            sector="Hosting",
            external_ids={"salesforce": "0015g00000XyZ", "hubspot:v2": "42"},
            attributes=NESTED_ATTRIBUTES,
        ),
    ),
    ("party.added kind self", data_with(PARTY, id="we", kind="self")),
    ("party.added kind civil-society", data_with(PARTY, kind="civil-society")),
    ("party.added non-ASCII name", data_with(PARTY, name="Société Générale Ünïcode 株式会社")),
    ("party.updated name", PARTY_UPD),
    ("party.updated external_ids only", ev("party.updated", {"id": "acme", "external_ids": {}})),
    (
        "party.updated kind with attributes",
        ev("party.updated", {"id": "acme", "kind": "partner", "attributes": {"by": "crm"}}),
    ),
    ("relationship.added minimal", REL),
    (
        "relationship.added all fields",
        data_with(REL, crucial=True, leverage=1, since="2019-05-01", contract="MSA-2019-7"),
    ),
    ("relationship.added leverage 5", data_with(REL, type="advertises-on", leverage=5)),
    ("relationship.added since leap day", data_with(REL, since="2024-02-29")),
    ("relationship.updated leverage", REL_UPD),
    (
        "relationship.updated crucial false",
        ev("relationship.updated", {"id": "rel-1", "crucial": False}),
    ),
    ("relationship.ended", REL_END),
    ("impact.opened minimal", IMPACT),
    (
        "impact.opened all fields",
        data_with(
            IMPACT,
            rights=["life", "security-of-person", "assembly"],
            likelihood=2,
            involvement="contribute",
            status="potential",
            affected=["Journalists", "Protesters in Ürümqi"],
            attributes={"ticket": "TS-1"},
        ),
    ),
    (
        "impact.opened severity all 5",
        data_with(IMPACT, rights=["other"], severity=dict.fromkeys(SEVERITY, 5)),
    ),
    ("impact.reassessed severity", REASSESS),
    ("impact.reassessed summary only", data_without(REASSESS, "severity")),
    (
        "impact.reassessed status rights likelihood",
        ev(
            "impact.reassessed",
            {
                "id": "imp-1",
                "summary": "Now actual.",
                "status": "actual",
                "rights": ["privacy", "health"],
                "likelihood": 5,
            },
        ),
    ),
    ("step.taken minimal", STEP),
    (
        "step.taken all fields",
        data_with(
            STEP,
            kind="formal-notice",
            id="step-1",
            deadline="2021-01-21",
            policy_refs=["CoC 3.1", "UNGP 19"],
            **{"with": ["peer-1", "peer.2"]},
        ),
    ),
    ("step.taken plugin kind", data_with(STEP, kind="tos-warning-2")),
    ("step.outcome minimal", OUTCOME),
    ("step.outcome with step", data_with(OUTCOME, outcome="remediated", step="step-1")),
    (
        "assessment.recorded exit-more-severe with findings",
        data_with(
            ASSESS,
            conclusion="exit-more-severe",
            experts=["Dr. Ana Pérez"],
            findings={"alternatives": 0, "users_affected": "about 1.2 million", "ok": None},
        ),
    ),
    ("assessment.recorded termination-impact", ASSESS),
    ("assessment.recorded leverage", data_with(ASSESS, kind="leverage", conclusion="promising")),
    ("assessment.recorded rabat", data_with(ASSESS, kind="rabat", conclusion="below-threshold")),
    (
        "assessment.recorded stakeholder free conclusion",
        data_with(ASSESS, kind="stakeholder", conclusion="Users ask for labels, not removal."),
    ),
    ("decision.made suspend", DECISION),
    (
        "decision.made terminate approved and forced",
        data_with(DECISION, decision="terminate", approved_by="bo", forced="Court order."),
    ),
    ("decision.made close", data_with(DECISION, decision="close")),
    ("event.voided", VOID),
    ("event.voided seq 2^53 - 1", data_with(VOID, seq=MAX_INT)),
    ("grievance.filed general complaint", GRIEVANCE),
    (
        "grievance.filed about an impact, all fields",
        data_with(
            GRIEVANCE,
            kind="concern",
            filed_by="anonymous",
            confidential=True,
            impact="imp-1",
            attributes={"ticket": "HL-7"},
        ),
    ),
    ("grievance.filed about a relationship", data_with(GRIEVANCE, relationship="rel-1")),
    ("grievance.filed about a party", data_with(GRIEVANCE, party="acme", confidential=False)),
    ("grievance.filed appeal", APPEAL),
    ("grievance.acknowledged minimal", GRIEVANCE_ACK),
    ("grievance.acknowledged with summary", data_with(GRIEVANCE_ACK, summary="Receipt confirmed.")),
    ("grievance.resolved minimal", GRIEVANCE_RESOLVED),
    (
        "grievance.resolved with remedy",
        data_with(GRIEVANCE_RESOLVED, outcome="partly-upheld", remedy="An apology and back pay."),
    ),
    ("grievance.resolved withdrawn", data_with(GRIEVANCE_RESOLVED, outcome="withdrawn")),
    ("at date-time Z", {**STEP, "at": "2021-01-07T10:20:30Z"}),
    ("at date-time offset 9 digits", {**STEP, "at": "2021-01-07T10:20:30.123456789+05:30"}),
    ("at lowercase t and z", {**STEP, "at": "2021-01-07t10:20:30z"}),
    ("at offset -00:00", {**STEP, "at": "2021-01-07T23:59:59-00:00"}),
    ("no actor", without(PARTY, "actor")),
    ("chained line", {**PARTY, **CHAIN}),
    ("chained line without fraction", {**PARTY, **CHAIN, "recorded_at": "2024-01-02T03:04:05Z"}),
    ("id 128 chars with . _ : -", data_with(PARTY, id="A0._:-" + "x" * 122)),
    ("summary with surrounding spaces", data_with(STEP, summary="  x  ")),
]
INVALID: list[tuple[str, Any]] = [
    # top level
    ("line is an array", [PARTY]),
    ("missing type", without(PARTY, "type")),
    ("missing at", without(PARTY, "at")),
    ("missing data", without(PARTY, "data")),
    ("unknown top-level field", {**PARTY, "note": "x"}),
    ("unknown type", ev("impact.closed", {"id": "imp-1"})),
    ("blank actor", {**PARTY, "actor": "  "}),
    ("actor not a string", {**PARTY, "actor": 7}),
    ("data is an array", {**PARTY, "data": []}),
    # chain fields
    ("chain seq only", {**PARTY, "seq": 1}),
    ("chain without hash", without({**PARTY, **CHAIN}, "hash")),
    ("chain seq 0", {**PARTY, **CHAIN, "seq": 0}),
    ("chain seq true", {**PARTY, **CHAIN, "seq": True}),
    ("chain seq 2^53", {**PARTY, **CHAIN, "seq": 2**53}),
    ("chain hash uppercase", {**PARTY, **CHAIN, "hash": HEX.upper()}),
    ("chain prev too short", {**PARTY, **CHAIN, "prev": "0" * 63}),
    ("chain recorded_at with offset", {**PARTY, **CHAIN, "recorded_at": CHAIN_AT + "+01:00"}),
    ("chain recorded_at date only", {**PARTY, **CHAIN, "recorded_at": "2024-01-02"}),
    ("chain recorded_at month 13", {**PARTY, **CHAIN, "recorded_at": "2024-13-02T03:04:05Z"}),
    # at
    ("at month 13", {**PARTY, "at": "2021-13-01"}),
    ("at 30 February", {**PARTY, "at": "2021-02-30"}),
    ("at without offset", {**PARTY, "at": "2021-01-07T10:20:30"}),
    ("at with space separator", {**PARTY, "at": "2021-01-07 10:20:30Z"}),
    ("at hour 25", {**PARTY, "at": "2021-01-07T25:00:00Z"}),
    ("at leap second", {**PARTY, "at": "2016-12-31T23:59:60Z"}),
    ("at offset minutes 60", {**PARTY, "at": "2021-01-07T10:00:00+12:60"}),
    ("at 10 fraction digits", {**PARTY, "at": "2021-01-07T10:00:00.1234567891Z"}),
    ("at with trailing newline", {**PARTY, "at": "2021-01-07\n"}),
    ("at is a number", {**PARTY, "at": 20210107}),
    # policy.set
    ("policy.set missing content", data_without(POLICY, "content")),
    ("policy.set sha256 uppercase", data_with(POLICY, sha256=HEX.upper())),
    ("policy.set unknown field", data_with(POLICY, version=2)),
    # party.added
    ("party.added missing id", data_without(PARTY, "id")),
    ("party.added missing name", data_without(PARTY, "name")),
    ("party.added missing kind", data_without(PARTY, "kind")),
    ("party.added bad kind", data_with(PARTY, kind="vendor")),
    ("party.added blank name", data_with(PARTY, name="")),
    ("party.added name of no-break spaces", data_with(PARTY, name="\u00a0\u2003")),
    ("party.added id starts with -", data_with(PARTY, id="-x")),
    ("party.added id with space", data_with(PARTY, id="a b")),
    ("party.added id 129 chars", data_with(PARTY, id="a" * 129)),
    ("party.added id non-ASCII", data_with(PARTY, id="acmé")),
    ("party.added id trailing newline", data_with(PARTY, id="acme\n")),
    ("party.added external_ids bad system", data_with(PARTY, external_ids={"a b": "1"})),
    ("party.added external_ids blank id", data_with(PARTY, external_ids={"crm": " "})),
    ("party.added unknown field", data_with(PARTY, email="x@example.org")),
    # party.updated
    ("party.updated only id", ev("party.updated", {"id": "acme"})),
    (
        "party.updated only id and attributes",
        ev("party.updated", {"id": "acme", "attributes": {"a": 1}}),
    ),
    ("party.updated bad kind", data_with(PARTY_UPD, kind="enemy")),
    # relationship.added
    ("relationship.added missing source", data_without(REL, "source")),
    ("relationship.added missing target", data_without(REL, "target")),
    ("relationship.added missing type", data_without(REL, "type")),
    ("relationship.added bad type", data_with(REL, type="sells")),
    ("relationship.added leverage 0", data_with(REL, leverage=0)),
    ("relationship.added leverage 6", data_with(REL, leverage=6)),
    ("relationship.added leverage true", data_with(REL, leverage=True)),
    ("relationship.added leverage string", data_with(REL, leverage="3")),
    ("relationship.added crucial string", data_with(REL, crucial="yes")),
    ("relationship.added since month 13", data_with(REL, since="2021-13-01")),
    ("relationship.added since date-time", data_with(REL, since="2021-01-01T00:00:00Z")),
    ("relationship.added bad target id", data_with(REL, target="a b")),
    # relationship.updated / ended
    ("relationship.updated only id", ev("relationship.updated", {"id": "rel-1"})),
    ("relationship.updated source", data_with(REL_UPD, source="acme")),
    ("relationship.updated leverage 6", data_with(REL_UPD, leverage=6)),
    ("relationship.ended missing reason", data_without(REL_END, "reason")),
    ("relationship.ended blank reason", data_with(REL_END, reason="\t\n ")),
    # impact.opened
    ("impact.opened missing relationship", data_without(IMPACT, "relationship")),
    ("impact.opened missing rights", data_without(IMPACT, "rights")),
    ("impact.opened empty rights", data_with(IMPACT, rights=[])),
    ("impact.opened duplicate rights", data_with(IMPACT, rights=["life", "life"])),
    ("impact.opened bad right", data_with(IMPACT, rights=["speech"])),
    ("impact.opened missing summary", data_without(IMPACT, "summary")),
    ("impact.opened blank summary", data_with(IMPACT, summary="   ")),
    ("impact.opened missing severity", data_without(IMPACT, "severity")),
    (
        "impact.opened severity without scope",
        data_with(IMPACT, severity={"scale": 3, "irremediability": 3}),
    ),
    ("impact.opened severity scale 0", data_with(IMPACT, severity={**SEVERITY, "scale": 0})),
    ("impact.opened severity scale 6", data_with(IMPACT, severity={**SEVERITY, "scale": 6})),
    ("impact.opened severity extra key", data_with(IMPACT, severity={**SEVERITY, "urgency": 3})),
    ("impact.opened likelihood 6", data_with(IMPACT, likelihood=6)),
    ("impact.opened bad involvement", data_with(IMPACT, involvement="complicit")),
    ("impact.opened bad status", data_with(IMPACT, status="closed")),
    ("impact.opened blank affected", data_with(IMPACT, affected=[""])),
    # impact.reassessed
    ("impact.reassessed missing summary", data_without(REASSESS, "summary")),
    ("impact.reassessed partial severity", data_with(REASSESS, severity={"scale": 5})),
    ("impact.reassessed empty rights", data_with(REASSESS, rights=[])),
    ("impact.reassessed bad status", data_with(REASSESS, status="done")),
    # step.taken
    ("step.taken missing impact", data_without(STEP, "impact")),
    ("step.taken missing kind", data_without(STEP, "kind")),
    ("step.taken kind uppercase", data_with(STEP, kind="Dialogue")),
    ("step.taken kind starts with -", data_with(STEP, kind="-dialogue")),
    ("step.taken kind with underscore", data_with(STEP, kind="formal_notice")),
    ("step.taken kind 65 chars", data_with(STEP, kind="k" * 65)),
    ("step.taken deadline date-time", data_with(STEP, deadline="2021-01-21T00:00:00Z")),
    ("step.taken with bad id", data_with(STEP, **{"with": ["a b"]})),
    ("step.taken with not an array", data_with(STEP, **{"with": "peer-1"})),
    ("step.taken summary whitespace", data_with(STEP, summary=" \t ")),
    # step.outcome
    ("step.outcome missing outcome", data_without(OUTCOME, "outcome")),
    ("step.outcome bad outcome", data_with(OUTCOME, outcome="better")),
    ("step.outcome bad step id", data_with(OUTCOME, step="step 1")),
    # assessment.recorded
    ("assessment.recorded missing conclusion", data_without(ASSESS, "conclusion")),
    ("assessment.recorded bad kind", data_with(ASSESS, kind="audit")),
    ("assessment.recorded termination-impact promising", data_with(ASSESS, conclusion="promising")),
    (
        "assessment.recorded leverage exit-acceptable",
        data_with(ASSESS, kind="leverage", conclusion="exit-acceptable"),
    ),
    ("assessment.recorded rabat maybe", data_with(ASSESS, kind="rabat", conclusion="maybe")),
    ("assessment.recorded findings array", data_with(ASSESS, findings=[1, 2])),
    ("assessment.recorded findings float", data_with(ASSESS, findings={"score": 0.5})),
    ("assessment.recorded experts string", data_with(ASSESS, experts="Dr. Ana Pérez")),
    # decision.made
    ("decision.made empty policy_refs", data_with(DECISION, policy_refs=[])),
    ("decision.made missing policy_refs", data_without(DECISION, "policy_refs")),
    ("decision.made bad decision", data_with(DECISION, decision="pause")),
    ("decision.made missing rationale", data_without(DECISION, "rationale")),
    ("decision.made blank forced", data_with(DECISION, forced="")),
    # event.voided
    ("event.voided seq 0", data_with(VOID, seq=0)),
    ("event.voided seq string", data_with(VOID, seq="3")),
    ("event.voided seq true", data_with(VOID, seq=True)),
    ("event.voided seq 2^53", data_with(VOID, seq=2**53)),
    ("event.voided missing reason", data_without(VOID, "reason")),
    # grievances
    ("grievance.filed missing id", data_without(GRIEVANCE, "id")),
    ("grievance.filed missing kind", data_without(GRIEVANCE, "kind")),
    ("grievance.filed missing summary", data_without(GRIEVANCE, "summary")),
    ("grievance.filed missing channel", data_without(GRIEVANCE, "channel")),
    ("grievance.filed bad kind", data_with(GRIEVANCE, kind="objection")),
    ("grievance.filed blank channel", data_with(GRIEVANCE, channel=" ")),
    ("grievance.filed confidential string", data_with(GRIEVANCE, confidential="yes")),
    ("grievance.filed bad impact id", data_with(GRIEVANCE, impact="imp 1")),
    ("grievance.filed decision 0", data_with(APPEAL, decision=0)),
    ("grievance.filed decision string", data_with(APPEAL, decision="9")),
    ("grievance.filed unknown field", data_with(GRIEVANCE, email="a@example.org")),
    ("grievance.acknowledged blank summary", data_with(GRIEVANCE_ACK, summary="")),
    ("grievance.acknowledged unknown field", data_with(GRIEVANCE_ACK, outcome="upheld")),
    ("grievance.resolved missing outcome", data_without(GRIEVANCE_RESOLVED, "outcome")),
    ("grievance.resolved missing summary", data_without(GRIEVANCE_RESOLVED, "summary")),
    ("grievance.resolved bad outcome", data_with(GRIEVANCE_RESOLVED, outcome="rejected")),
    ("grievance.resolved blank remedy", data_with(GRIEVANCE_RESOLVED, remedy="\t")),
    # attributes (free JSON)
    ("attributes float", data_with(PARTY, attributes={"score": 1.5})),
    ("attributes nested float", data_with(STEP, attributes={"a": [{"b": [0.25]}]})),
    ("attributes int 2^53", data_with(PARTY, attributes={"n": 2**53})),
    ("attributes int -2^53", data_with(PARTY, attributes={"n": -(2**53)})),
    ("attributes array", data_with(PARTY, attributes=["a"])),
    ("attributes string", data_with(VOID, attributes="provenance")),
]


def _ids(cases: list[tuple[str, Any]]) -> list[str]:
    return [name for name, _ in cases]


def test_table_is_well_formed() -> None:
    names = _ids(VALID) + _ids(INVALID)
    assert len(names) == len(set(names)), "example names must be unique"
    covered = {line["type"] for _, line in VALID}
    assert covered == set(VALIDATOR.schema["properties"]["type"]["enum"])
    assert len(VALID) >= 40 and len(INVALID) >= 60


@pytest.mark.parametrize("line", [c[1] for c in VALID], ids=_ids(VALID))
def test_schema_accepts(line: Any) -> None:
    errors = [e.message for e in VALIDATOR.iter_errors(line)]
    assert errors == []


@pytest.mark.parametrize("line", [c[1] for c in INVALID], ids=_ids(INVALID))
def test_schema_refuses(line: Any) -> None:
    assert not VALIDATOR.is_valid(line)


@pytest.mark.parametrize("line", [c[1] for c in VALID], ids=_ids(VALID))
def test_code_accepts(line: Any) -> None:
    from leverage.events import check_line

    check_line(copy.deepcopy(line))


@pytest.mark.parametrize("line", [c[1] for c in INVALID], ids=_ids(INVALID))
def test_code_refuses(line: Any) -> None:
    from leverage.errors import ValidationError
    from leverage.events import check_line

    with pytest.raises(ValidationError):
        check_line(copy.deepcopy(line))


# JSON Schema counts a number with a zero fraction (1.0) as an integer, so the schema cannot
# refuse it; the ledger does, because canonical JSON writes 1.0 as 1 while the documented
# standard-library verifier (json.dumps) would write 1.0, and the hashes would differ.
INTEGRAL_FLOATS = [
    ("leverage 3.0", data_with(REL, leverage=3.0)),
    ("severity scale 4.0", data_with(IMPACT, severity={**SEVERITY, "scale": 4.0})),
    ("attributes 1.0", data_with(PARTY, attributes={"n": 1.0})),
    ("voided seq 3.0", data_with(VOID, seq=3.0)),
]


@pytest.mark.parametrize("line", [c[1] for c in INTEGRAL_FLOATS], ids=_ids(INTEGRAL_FLOATS))
def test_integral_floats_pass_the_schema_but_not_the_code(line: Any) -> None:
    from leverage.errors import ValidationError
    from leverage.events import check_line

    assert VALIDATOR.is_valid(line), "JSON Schema semantics: 1.0 is an integer"
    with pytest.raises(ValidationError):
        check_line(copy.deepcopy(line))


# Rules across fields of grievance.filed: at most one of impact, relationship, party and
# decision; decision with kind appeal and only then. check_line checks each field on its own,
# so these lines pass it; the schema refuses them, and so does the ledger when it checks the
# event's references (tests/test_grievance_events.py::test_cross_field_rules_refused_by_the_ledger).
CROSS_FIELD = [
    ("grievance.filed impact and party", data_with(GRIEVANCE, impact="imp-1", party="acme")),
    ("grievance.filed relationship and decision", data_with(APPEAL, relationship="rel-1")),
    ("grievance.filed appeal without decision", data_without(APPEAL, "decision")),
    ("grievance.filed complaint with decision", data_with(GRIEVANCE, decision=4)),
]


@pytest.mark.parametrize("line", [c[1] for c in CROSS_FIELD], ids=_ids(CROSS_FIELD))
def test_cross_field_rules_are_in_the_schema(line: Any) -> None:
    from leverage.events import check_line

    assert not VALIDATOR.is_valid(line)
    check_line(copy.deepcopy(line))  # field by field, each is fine


# ``leverage load`` first asks a compiled fast path (``leverage.events.plain_key``) whether a
# plain line is valid, and runs the checkers only when it is not sure. The fast path must never
# accept a line the checkers refuse, and should accept the valid lines (or the load is slow).

@pytest.mark.parametrize("line", [c[1] for c in INVALID + INTEGRAL_FLOATS],
                         ids=_ids(INVALID + INTEGRAL_FLOATS))
def test_the_fast_path_refuses_every_invalid_line(line: Any) -> None:
    from leverage.events import plain_key

    assert plain_key(copy.deepcopy(line)) is None


@pytest.mark.parametrize("line", [c[1] for c in VALID], ids=_ids(VALID))
def test_the_fast_path_accepts_the_valid_plain_lines(line: Any) -> None:
    from leverage.events import CHAIN_FIELDS, plain_key

    assert (plain_key(copy.deepcopy(line)) is not None) == (not any(f in line for f in CHAIN_FIELDS))


_ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-3, max_value=2**54),
    st.floats(allow_nan=False), st.sampled_from(["", " ", "\u2003", "x", "a b", "2021-02-30",
                                                "2021-01-07", "2021-01-07T10:00:00Z", "ok-id",
                                                "-bad", "id with space", "é", "life", "critical",
                                                "supplies", "UNGP 19"]),
    st.lists(st.sampled_from(["life", "expression", "", "x", "life"]), max_size=3),
    st.dictionaries(st.sampled_from(["scale", "scope", "irremediability", "other", "n"]),
                    st.one_of(st.integers(-1, 7), st.floats(allow_nan=False), st.text(max_size=2)),
                    max_size=4),
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(VALID), key=st.text(max_size=12), value=_ODD_VALUES,
       where=st.sampled_from(["data", "top"]), drop=st.booleans())
def test_the_fast_path_never_accepts_what_the_checkers_refuse(
        case: tuple[str, Any], key: str, value: Any, where: str, drop: bool) -> None:
    from leverage.errors import ValidationError
    from leverage.events import _check_line_fully, plain_key

    line = copy.deepcopy(case[1])
    target = line["data"] if where == "data" and isinstance(line.get("data"), dict) else line
    existing = sorted(target)
    if drop and existing:
        del target[existing[len(key) % len(existing)]]
    elif existing and key[:1] and key[0] in "0123456789":
        target[existing[int(key[0]) % len(existing)]] = value  # change a field the spec knows
    else:
        target[key] = value
    if plain_key(copy.deepcopy(line)) is not None:
        try:
            _check_line_fully(copy.deepcopy(line))
        except ValidationError as exc:  # pragma: no cover - the failure this test is for
            pytest.fail(f"the fast path accepted {line!r}, the checkers refuse it: {exc}")
