"""CRM mappings: how the columns and values of a CSV export become parties and relationships.

A mapping is a TOML file described by ``schemas/crm-mapping.schema.json``; the bundled
``salesforce`` and ``hubspot`` formats are mappings of the same shape (``mappings/*.toml``),
so there is one importer for every format.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from typing import Any

import attrs

from leverage import LeverageError

BUNDLED = ("salesforce", "hubspot")
NEXT = "next"
#: relationship types whose default direction is account -> self (the account provides)
TO_SELF_TYPES = frozenset({"supplies", "advertises-on", "invests-in"})
PARTY_KINDS = ("client", "partner", "supplier", "customer", "user-group", "government",
               "civil-society", "other")


def norm(value: str) -> str:
    """How values are matched: ignoring case and surrounding spaces."""
    return value.strip().casefold()


@attrs.frozen
class Outcome:
    """What a row means: the relationship with the self party (None: the party only), its
    direction, and the account's party kind."""

    relationship: str | None
    kind: str = "other"
    direction: str = "from-self"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Outcome:
        rel = d["relationship"]
        relationship = None if rel == "none" else rel
        direction = d.get("direction") or ("to-self" if rel in TO_SELF_TYPES else "from-self")
        return cls(relationship, d.get("kind", "other"), direction)


@attrs.frozen
class Rule:
    """One ``[[types]]`` entry: a column and its values (normalised) -> outcome or None
    (``"next"``: let the next rule decide)."""

    column: str
    values: dict[str, Outcome | None]


@attrs.frozen
class Skip:
    column: str
    values: frozenset[str]


@attrs.frozen
class Mapping:
    """A validated mapping."""

    name: str
    system: str
    id_prefix: str
    id_format: str = "text"
    delimiter: str = ","
    encoding: str = "utf-8"
    strict: bool = False
    parent_match: str = "id"
    columns: dict[str, str] = attrs.Factory(dict)
    kinds: dict[str, str] = attrs.Factory(dict)
    rules: tuple[Rule, ...] = ()
    unknown: Outcome = Outcome("other", "other")
    otherwise: Outcome = Outcome(None, "other")
    skip: Skip | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any], name: str) -> Mapping:
        """Build from data that passed the schema; raises on what the schema cannot say."""
        kinds: dict[str, str] = {}
        for key, kind in (d.get("kinds") or {}).items():
            _put(kinds, key, kind, f"{name}: kinds")
        rules = []
        for i, rule in enumerate(d.get("types") or ()):
            values: dict[str, Outcome | None] = {}
            for key, value in rule["values"].items():
                outcome = None if value == NEXT else Outcome.from_dict(value)
                _put(values, key, outcome, f"{name}: types[{i}].values")
            rules.append(Rule(rule["column"], values))
        skip = d.get("skip")
        return cls(
            name=name, system=d["system"], id_prefix=d.get("id_prefix", d["system"]),
            id_format=d.get("id_format", "text"), delimiter=d.get("delimiter", ","),
            encoding=d.get("encoding", "utf-8"), strict=d.get("strict", False),
            parent_match=d.get("parent_match", "id"), columns=dict(d["columns"]), kinds=kinds,
            rules=tuple(rules),
            unknown=Outcome.from_dict(d["unknown"]) if "unknown" in d else Outcome("other", "other"),
            otherwise=Outcome.from_dict(d["otherwise"]) if "otherwise" in d else Outcome(None, "other"),
            skip=Skip(skip["column"], frozenset(norm(v) for v in skip["values"])) if skip else None,
        )

    def party_id(self, crm_id: str) -> str:
        return f"{self.id_prefix}:{crm_id}" if self.id_prefix else crm_id

    @property
    def required_columns(self) -> list[str]:
        """Columns the file must have: id, name, the kind column and every rule's column."""
        out = [self.columns["id"], self.columns["name"]]
        if "kind" in self.columns:
            out.append(self.columns["kind"])
        out += [r.column for r in self.rules]
        return list(dict.fromkeys(out))


def _put(table: dict[str, Any], key: str, value: Any, where: str) -> None:
    k = norm(key)
    if k in table:
        raise LeverageError(f"{where}: {key!r} is listed twice (values match ignoring case and spaces)")
    table[k] = value


def schema() -> dict[str, Any]:
    """The JSON Schema of mapping files (``leverage schema crm-mapping``)."""
    return json.loads(schema_file().read_text(encoding="utf-8"))


def schema_file() -> Any:
    return resources.files("leverage.schemas") / "crm-mapping.schema.json"


def bundled_text(name: str) -> str:
    """The TOML text of a bundled mapping."""
    return (resources.files("leverage_crm.mappings") / f"{name}.toml").read_text(encoding="utf-8")


def load_bundled(name: str) -> Mapping:
    return parse(bundled_text(name), name)


def load_file(path: str | os.PathLike[str]) -> Mapping:
    from leverage.resources import read_text

    return parse(read_text(path, "mapping"), str(path))


def parse(text: str, name: str) -> Mapping:
    """Parse and validate a mapping's TOML text; errors name the file and the key."""
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LeverageError(f"{name}: invalid TOML: {exc}") from None
    validate(data, name)
    return Mapping.from_dict(data, name)


def validate(data: Any, name: str) -> None:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    validator = Draft202012Validator(schema())
    error = best_match(validator.iter_errors(data))
    if error is None:
        return
    where = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p))
                    for i, p in enumerate(error.absolute_path)) or "(top level)"
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        message = f"unknown key {extra[0]!r}" if extra else error.message
    elif error.validator == "oneOf":
        message = 'must be "next" or a table with relationship (and kind, direction)'
    else:
        message = error.message
    raise LeverageError(f"{name}: {where}: {message}")
