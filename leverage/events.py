"""The event format: field-level validation of one event line (DESIGN section 3).

This module checks shapes only (required fields, enumerations, ranges, ids, dates, unknown
fields); references between events are checked by :mod:`leverage.ledger` against the store.
``schemas/event.schema.json`` describes the same rules, and a test keeps the two in step.

The checkers are compiled once into plain functions because ``leverage load`` runs them on
every line of files with millions of events.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from . import model
from .errors import ValidationError
from .timeutil import TimeFormatError, at_key, parse_at, parse_date

SLUG_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}"
SLUG = re.compile(SLUG_PATTERN + r"\Z")
STEP_KIND = re.compile(r"[a-z0-9][a-z0-9-]{0,63}\Z")
SHA256 = re.compile(r"[0-9a-f]{64}\Z")
RECORDED_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z\Z")
MAX_INT = 2**53 - 1
ZERO_HASH = "0" * 64

CHAIN_FIELDS = ("seq", "recorded_at", "prev", "hash")
LINE_FIELDS = frozenset(("type", "at", "actor", "data", *CHAIN_FIELDS))

Checker = Callable[[Any, str], Any]


class FieldError(Exception):
    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# -- primitive checkers -------------------------------------------------------------------

def text(value: Any, path: str) -> str:
    if type(value) is not str or not value.strip():
        raise FieldError(path, f"must be non-empty text, got {_show(value)}")
    return value


def slug(value: Any, path: str) -> str:
    if type(value) is not str or not SLUG.match(value):
        raise FieldError(
            path, f"must be an id of letters, digits and . _ : - (at most 128), got {_show(value)}"
        )
    return value


def step_kind(value: Any, path: str) -> str:
    if type(value) is not str or not STEP_KIND.match(value):
        raise FieldError(path, f"must be a step kind of lowercase letters, digits and -, got {_show(value)}")
    return value


def boolean(value: Any, path: str) -> bool:
    if type(value) is not bool:
        raise FieldError(path, f"must be true or false, got {_show(value)}")
    return value


def one_to_five(value: Any, path: str) -> int:
    if type(value) is not int or not 1 <= value <= 5:
        raise FieldError(path, f"must be 1-5, got {_show(value)}")
    return value


def date_only(value: Any, path: str) -> str:
    try:
        parse_date(value)
    except TimeFormatError as exc:
        raise FieldError(path, str(exc)) from None
    return value


def sha256(value: Any, path: str) -> str:
    if type(value) is not str or not SHA256.match(value):
        raise FieldError(path, f"must be 64 lowercase hex digits, got {_show(value)}")
    return value


def positive_int(value: Any, path: str) -> int:
    if type(value) is not int or value < 1 or value > MAX_INT:
        raise FieldError(path, f"must be a whole number >= 1, got {_show(value)}")
    return value


def one_of(choices: tuple[str, ...]) -> Checker:
    allowed = frozenset(choices)
    listed = ", ".join(choices)

    def check(value: Any, path: str) -> str:
        if type(value) is not str or value not in allowed:
            raise FieldError(path, f"must be one of {listed}, got {_show(value)}")
        return value

    check.allowed = allowed  # type: ignore[attr-defined]  # (read by _compile)
    return check


def list_of(item: Checker, *, min_items: int = 0, unique: bool = False) -> Checker:
    def check(value: Any, path: str) -> list[Any]:
        if type(value) is not list:
            raise FieldError(path, f"must be a list, got {_show(value)}")
        if len(value) < min_items:
            raise FieldError(path, f"must list at least {min_items}")
        for i, v in enumerate(value):
            try:
                item(v, "")
            except FieldError as exc:  # the path is built only for an error
                raise FieldError(f"{path}[{i}]" + (f".{exc.path}" if exc.path else ""),
                                 exc.message) from None
        if unique and len(set(value)) != len(value):
            raise FieldError(path, "must not repeat a value")
        return value

    check.list_of = (item, min_items, unique)  # type: ignore[attr-defined]  # (read by _compile)
    return check


MAX_DEPTH = 32


def free_json(value: Any, path: str, depth: int = 0) -> Any:
    """Free JSON: strings, booleans, null, integers in the I-JSON range, lists and objects,
    nested at most ``MAX_DEPTH`` levels."""
    t = type(value)
    if t is str or t is bool or value is None:
        return value
    if t is int:
        if -MAX_INT <= value <= MAX_INT:
            return value
        raise FieldError(path, f"integer out of range (at most 2^53-1 in size), got {value}")
    if t is float:
        raise FieldError(path, f"must not be a fractional number (write decimals as text), got {value}")
    if t is list or t is dict:
        if depth >= MAX_DEPTH:
            raise FieldError(path, f"nested too deeply (at most {MAX_DEPTH} levels)")
        if t is list:
            for i, v in enumerate(value):
                free_json(v, f"{path}[{i}]", depth + 1)
        else:
            for k, v in value.items():
                free_json(v, f"{path}.{k}", depth + 1)
        return value
    raise FieldError(path, f"must be JSON, got {_show(value)}")


def json_object(value: Any, path: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise FieldError(path, f"must be an object, got {_show(value)}")
    return free_json(value, path)


def external_ids(value: Any, path: str) -> dict[str, str]:
    if type(value) is not dict:
        raise FieldError(path, f"must be an object of system: id, got {_show(value)}")
    for k, v in value.items():
        slug(k, f"{path}.{k}")
        text(v, f"{path}.{k}")
    return value


def severity(value: Any, path: str) -> dict[str, int]:
    if type(value) is not dict:
        raise FieldError(path, f"must be an object with scale, scope and irremediability, got {_show(value)}")
    _check_object(value, _SEVERITY, path)
    return value


# -- per-type specifications ---------------------------------------------------------------

class Spec:
    """The fields of one event type's ``data``: required and optional, each with its checker."""

    __slots__ = ("checks", "required", "allowed", "at_least_one", "_fast")

    def __init__(self, required: dict[str, Checker], optional: dict[str, Checker],
                 *, at_least_one: tuple[str, ...] = (), attributes: bool = True):
        self.checks = {**required, **optional}
        if attributes:
            self.checks["attributes"] = json_object
        self.required = tuple(required)
        self.allowed = frozenset(self.checks)
        self.at_least_one = at_least_one
        self._fast: Callable[[Any], bool] | None = None

    @property
    def fast(self) -> Callable[[Any], bool]:
        """A predicate that is true only for ``data`` that passes :func:`_check_object` (a
        false answer proves nothing: the checkers then say what is wrong)."""
        if self._fast is None:
            self._fast = _compile(self)
        return self._fast


def _check_object(data: dict[str, Any], spec: Spec, path: str) -> None:
    checks = spec.checks
    for name in spec.required:
        if name not in data:
            raise FieldError(f"{path}.{name}", "is required")
    for key, value in data.items():
        check = checks.get(key)
        if check is None:
            raise FieldError(f"{path}.{key}", "unknown field")
        try:
            check(value, key)
        except FieldError as exc:  # the path is built only for an error
            raise FieldError(f"{path}.{exc.path}" if exc.path else f"{path}.{key}",
                             exc.message) from None
    if spec.at_least_one and not any(k in data for k in spec.at_least_one):
        raise FieldError(path, "must change at least one of " + ", ".join(spec.at_least_one))


# -- the fast path ----------------------------------------------------------------------------
# ``leverage load`` checks millions of lines, nearly all of them valid. Each spec is compiled
# (once, from the checkers above: no input is ever compiled) into one function of plain
# tests that answers "valid" or "not sure"; when not sure, the checkers run and name the
# error. The checkers stay the single statement of the rules; the compiled tests of a
# checker must accept nothing it refuses (a test compares them on every spec).

def _call_ok(check: Checker, value: Any) -> bool:
    try:
        check(value, "")
    except FieldError:
        return False
    return True


def _expr(check: Checker, var: str, names: dict[str, Any]) -> str:
    """A Python expression on ``var`` true only when ``check`` accepts its value."""
    simple = {
        text: f"(type({var}) is str and {var} != '' and not {var}.isspace())",
        slug: f"(type({var}) is str and _SLUG({var}) is not None)",
        step_kind: f"(type({var}) is str and _STEP_KIND({var}) is not None)",
        boolean: f"(type({var}) is bool)",
        date_only: f"(type({var}) is str and _DATE_OK({var}))",
        one_to_five: f"(type({var}) is int and 1 <= {var} <= 5)",
        positive_int: f"(type({var}) is int and 1 <= {var} <= {MAX_INT})",
        sha256: f"(type({var}) is str and _SHA256({var}) is not None)",
    }
    if check in simple:
        return simple[check]
    name = f"_c{len(names)}"
    allowed = getattr(check, "allowed", None)
    if isinstance(allowed, frozenset):
        names[name] = allowed
        return f"(type({var}) is str and {var} in {name})"
    listed = getattr(check, "list_of", None)
    if listed is not None:
        item, min_items, unique = listed
        inner = _expr(item, "x", names)
        size = f" and len({var}) >= {min_items}" if min_items else ""
        test = f"(type({var}) is list{size} and all({inner} for x in {var})"
        if unique:
            test += f" and len(set({var})) == len({var})"
        return test + ")"
    if check is severity:
        fields = " and ".join(f"type({var}[{k!r}]) is int and 1 <= {var}[{k!r}] <= 5"
                              for k in _SEVERITY_FIELDS)
        return f"(type({var}) is dict and {var}.keys() == _SEVERITY_KEYS and {fields})"
    names[name] = check
    return f"_call_ok({name}, {var})"


def _compile(spec: Spec) -> Callable[[Any], bool]:
    names: dict[str, Any] = {
        "_SLUG": SLUG.match, "_STEP_KIND": STEP_KIND.match, "_SHA256": SHA256.match,
        "_DATE_OK": _date_ok,
        "_SEVERITY_KEYS": frozenset(_SEVERITY_FIELDS), "_call_ok": _call_ok,
        "_MISSING": _MISSING,
    }
    # every field of the spec is looked up once; counting those present tells whether the
    # data holds any other (an unknown field)
    lines = ["def fast(d):", f"    n = {len(spec.required)}"]
    for key, check in spec.checks.items():
        lines.append(f"    v = d.get({key!r}, _MISSING)")
        if key in spec.required:
            lines.append("    if v is _MISSING: return False")
            indent = "    "
        else:
            lines.append("    if v is not _MISSING:")
            lines.append("        n += 1")
            indent = "        "
        listed = getattr(check, "list_of", None)
        if listed is not None:  # a loop: cheaper than all() over a generator
            item, min_items, unique = listed
            size = f" or len(v) < {min_items}" if min_items else ""
            lines.append(f"{indent}if type(v) is not list{size}: return False")
            lines.append(f"{indent}for x in v:")
            lines.append(f"{indent}    if not {_expr(item, 'x', names)}: return False")
            if unique:
                lines.append(f"{indent}if len(set(v)) != len(v): return False")
        else:
            lines.append(f"{indent}if not {_expr(check, 'v', names)}: return False")
    if spec.at_least_one:
        names["_AT_LEAST_ONE"] = spec.at_least_one
        lines.append("    if not any(k in d for k in _AT_LEAST_ONE): return False")
    lines.append("    return len(d) == n")
    namespace = dict(names)
    exec("\n".join(lines), namespace)  # noqa: S102 - our own specs, never input
    fast: Callable[[Any], bool] = namespace["fast"]
    return fast


@lru_cache(maxsize=4096)
def _date_ok(value: str) -> bool:
    return _call_ok(date_only, value)


_MISSING = object()
_SEVERITY_FIELDS = ("scale", "scope", "irremediability")

_SEVERITY = Spec(dict.fromkeys(_SEVERITY_FIELDS, one_to_five), {}, attributes=False)

_PARTY_FIELDS: dict[str, Checker] = {
    "name": text, "kind": one_of(model.PARTY_KINDS), "country": text, "sector": text,
    "external_ids": external_ids,
}
_REL_FIELDS: dict[str, Checker] = {
    "type": one_of(model.RELATIONSHIP_TYPES), "crucial": boolean, "leverage": one_to_five,
    "since": date_only, "contract": text,
}
_rights = list_of(one_of(model.RIGHTS), min_items=1, unique=True)
_texts = list_of(text)
_ids = list_of(slug)

SPECS: dict[str, Spec] = {
    "policy.set": Spec({"name": text, "sha256": sha256, "content": text}, {}),
    "party.added": Spec(
        {"id": slug, "name": text, "kind": one_of(model.PARTY_KINDS)},
        {k: v for k, v in _PARTY_FIELDS.items() if k not in ("name", "kind")},
    ),
    "party.updated": Spec({"id": slug}, _PARTY_FIELDS, at_least_one=tuple(_PARTY_FIELDS)),
    "relationship.added": Spec(
        {"id": slug, "source": slug, "target": slug, "type": one_of(model.RELATIONSHIP_TYPES)},
        {k: v for k, v in _REL_FIELDS.items() if k != "type"},
    ),
    "relationship.updated": Spec({"id": slug}, _REL_FIELDS, at_least_one=tuple(_REL_FIELDS)),
    "relationship.ended": Spec({"id": slug, "reason": text}, {}),
    "impact.opened": Spec(
        {"id": slug, "relationship": slug, "rights": _rights, "summary": text,
         "severity": severity},
        {"likelihood": one_to_five, "involvement": one_of(model.INVOLVEMENTS),
         "status": one_of(model.IMPACT_STATUSES), "affected": _texts},
    ),
    "impact.reassessed": Spec(
        {"id": slug, "summary": text},
        {"severity": severity, "likelihood": one_to_five,
         "status": one_of(model.IMPACT_STATUSES), "rights": _rights},
    ),
    "step.taken": Spec(
        {"impact": slug, "kind": step_kind, "summary": text},
        {"id": slug, "deadline": date_only, "with": _ids, "policy_refs": _texts},
    ),
    "step.outcome": Spec(
        {"impact": slug, "outcome": one_of(model.OUTCOMES), "summary": text},
        {"step": slug},
    ),
    "assessment.recorded": Spec(
        {"impact": slug, "kind": one_of(model.ASSESSMENT_KINDS), "conclusion": text,
         "summary": text},
        {"experts": _texts, "findings": json_object},
    ),
    "decision.made": Spec(
        {"impact": slug, "decision": one_of(model.DECISIONS), "rationale": text,
         "policy_refs": list_of(text, min_items=1)},
        {"approved_by": text, "forced": text},
    ),
    "event.voided": Spec({"seq": positive_int, "reason": text}, {}),
}

EVENT_TYPES = tuple(SPECS)

#: Subjects (``kind:id``) of event types added by core modules, by type.
SUBJECTS: dict[str, Callable[[dict[str, Any]], str | None]] = {}


def register_event_type(name: str, spec: Spec, *,
                        subject: Callable[[dict[str, Any]], str | None] | None = None) -> None:
    """Add an event type of the core (grievances and the like). ``subject(data)`` names the
    entity the event is about, as ``kind:id``, for the store's index."""
    global EVENT_TYPES
    if name in SPECS:
        raise ValueError(f"event type {name} is defined already")
    SPECS[name] = spec
    _FAST.pop(name, None)
    EVENT_TYPES = tuple(SPECS)
    if subject is not None:
        SUBJECTS[name] = subject


def _type_check(value: Any, path: str) -> str:
    if type(value) is not str or value not in SPECS:
        raise FieldError(path, f"unknown event type {_show(value)}")
    return value


def _check_conclusion(data: dict[str, Any]) -> None:
    allowed = model.ASSESSMENT_CONCLUSIONS.get(data["kind"])
    if allowed and data["conclusion"] not in allowed:
        raise FieldError(
            "data.conclusion",
            f"for a {data['kind']} assessment must be one of {', '.join(allowed)}, "
            f"got {_show(data['conclusion'])}",
        )


def check_data(event_type: str, data: Any) -> dict[str, Any]:
    """Check ``data`` of an event of ``event_type``; raise :class:`ValidationError`."""
    try:
        spec = SPECS.get(event_type)
        if spec is None:
            raise FieldError("type", f"unknown event type {_show(event_type)}")
        if type(data) is not dict:
            raise FieldError("data", f"must be an object, got {_show(data)}")
        _check_object(data, spec, "data")
        if event_type == "assessment.recorded":
            _check_conclusion(data)
    except FieldError as exc:
        raise ValidationError(exc.message, path=exc.path) from None
    return data


#: event type -> the compiled fast path of its spec
_FAST: dict[str, Callable[[Any], bool]] = {}


def plain_key(obj: Any) -> str | None:
    """The at key of a plain event line (no chain fields) that :func:`check_line` accepts;
    None when the line is not such a line, or may not be (then :func:`check_line` tells)."""
    if type(obj) is not dict:
        return None
    # type, at and data, and actor when there are four fields: then there is no other field
    size = len(obj)
    if size == 4:
        actor = obj.get("actor")
        if type(actor) is not str or actor == "" or actor.isspace():
            return None
    elif size != 3:
        return None
    event_type = obj.get("type")
    at = obj.get("at")
    data = obj.get("data")
    if type(event_type) is not str or type(at) is not str or type(data) is not dict:
        return None
    fast = _FAST.get(event_type)
    if fast is None:
        spec = SPECS.get(event_type)
        if spec is None:
            return None
        fast = _FAST[event_type] = spec.fast
    if not fast(data):
        return None
    try:
        key = at_key(at)
    except TimeFormatError:
        return None
    if event_type == "assessment.recorded":
        allowed = model.ASSESSMENT_CONCLUSIONS.get(data["kind"])
        if allowed and data["conclusion"] not in allowed:
            return None
    return key


def check_line(obj: Any) -> dict[str, Any]:
    """Check one event line (field level only) and return it.

    Chain fields must come all four together or not at all. ``actor`` may be missing (the
    loading actor is used).
    """
    if plain_key(obj) is not None:
        return obj
    return _check_line_fully(obj)


def _check_line_fully(obj: Any) -> dict[str, Any]:
    """:func:`check_line` by the checkers alone (what the fast path must agree with)."""
    try:
        if type(obj) is not dict:
            raise FieldError("line", f"must be a JSON object, got {_show(obj)}")
        if not obj.keys() <= LINE_FIELDS:
            raise FieldError(sorted(obj.keys() - LINE_FIELDS)[0], "unknown field")
        for name in ("type", "at", "data"):
            if name not in obj:
                raise FieldError(name, "is required")
        _type_check(obj["type"], "type")
        try:
            at_key(obj["at"])  # (cached: the writer asks for the key next)
        except TimeFormatError as exc:
            raise FieldError("at", str(exc)) from None
        if "actor" in obj:
            text(obj["actor"], "actor")
        if "seq" in obj or "hash" in obj or "prev" in obj or "recorded_at" in obj:
            present = [f for f in CHAIN_FIELDS if f in obj]
            if len(present) != 4:
                missing = [f for f in CHAIN_FIELDS if f not in obj]
                raise FieldError(missing[0], "is required with the other chain fields")
            positive_int(obj["seq"], "seq")
            if type(obj["recorded_at"]) is not str or not RECORDED_AT.match(obj["recorded_at"]):
                raise FieldError("recorded_at", f"must be an RFC 3339 UTC time, got {_show(obj['recorded_at'])}")
            try:
                parse_at(obj["recorded_at"])
            except TimeFormatError as exc:
                raise FieldError("recorded_at", str(exc)) from None
            sha256(obj["prev"], "prev")
            sha256(obj["hash"], "hash")
    except FieldError as exc:
        raise ValidationError(exc.message, path=exc.path) from None
    check_data(obj["type"], obj["data"])
    return obj


#: the subject of each core event type: (kind prefix, field of data holding the id)
_SUBJECT_FIELDS: dict[str, tuple[str, str]] = {
    "party.added": ("party:", "id"), "party.updated": ("party:", "id"),
    "relationship.added": ("relationship:", "id"), "relationship.updated": ("relationship:", "id"),
    "relationship.ended": ("relationship:", "id"), "impact.opened": ("impact:", "id"),
    "impact.reassessed": ("impact:", "id"), "step.taken": ("impact:", "impact"),
    "step.outcome": ("impact:", "impact"), "assessment.recorded": ("impact:", "impact"),
    "decision.made": ("impact:", "impact"),
}


def subject_of(event_type: str, data: dict[str, Any]) -> str | None:
    """The entity an event is about, as ``kind:id`` (indexed by the store)."""
    fields = _SUBJECT_FIELDS.get(event_type)
    if fields is not None:
        value = data.get(fields[1])
        return fields[0] + value if type(value) is str else None
    extra = SUBJECTS.get(event_type)
    if extra is not None:
        return extra(data)
    if event_type.startswith("party."):
        return "party:" + data["id"]
    if event_type.startswith("relationship."):
        return "relationship:" + data["id"]
    if event_type.startswith("impact."):
        return "impact:" + data["id"]
    if "impact" in data and event_type in (
        "step.taken", "step.outcome", "assessment.recorded", "decision.made"
    ):
        return "impact:" + data["impact"]
    return None
