"""The rules file: the company's terms-of-service clauses, the appeal route and the strike policy.

A TOML file validated against ``tos-rules.schema.json`` (JSON Schema 2020-12). An error names
the file, the line and the key: ``rules.toml:14: rule[1].severity.scale: 7 is greater than
the maximum of 5``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

import attrs

from leverage import LeverageError
from leverage.errors import field_path

from .actions import EFFECTS

DEFAULT_WINDOW_DAYS = 90
DEFAULT_RESTRICT = 2
DEFAULT_SUSPEND = 3


def schema_file(name: str) -> Any:
    """The schema ``name`` (``tos-rules`` or ``tos-log``), shipped in ``leverage.schemas``
    beside the core's (the plugin registers it; the core does not)."""
    from leverage.resources import schema_path

    return schema_path(name)


@cache
def _validator(name: str) -> Any:
    import jsonschema

    schema = json.loads(schema_file(name).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validator(name: str) -> Any:
    """A Draft 2020-12 validator of the packaged schema ``name``."""
    return _validator(name)


@attrs.frozen
class Rule:
    id: str
    title: str
    text: str
    rights: tuple[str, ...]
    severity: dict[str, int]
    egregious: bool = False
    ref: str | None = None

    def policy_refs(self) -> list[str]:
        """What a decision or step cites: ``ToS: <id>`` and the rule's own ``ref``."""
        refs = [f"ToS: {self.id}"]
        if self.ref:
            refs.append(self.ref)
        return refs

    def as_attribute(self) -> dict[str, Any]:
        """The rule as it stands now, copied into each step and decision."""
        out: dict[str, Any] = {"id": self.id, "title": self.title, "text": self.text,
                               "egregious": self.egregious}
        if self.ref:
            out["ref"] = self.ref
        return out


@attrs.frozen
class Rules:
    file: str
    rules: dict[str, Rule]
    appeal_channel: str
    appeal_days: int
    appeal_reviewer: str | None = None
    window_days: int = DEFAULT_WINDOW_DAYS
    restrict: int = DEFAULT_RESTRICT
    suspend: int = DEFAULT_SUSPEND
    effects: dict[str, str] = attrs.field(factory=lambda: dict(EFFECTS))
    name: str | None = None
    version: str | None = None

    def appeal(self) -> dict[str, Any]:
        out: dict[str, Any] = {"channel": self.appeal_channel, "days": self.appeal_days}
        if self.appeal_reviewer:
            out["reviewer"] = self.appeal_reviewer
        return out

    def strikes(self) -> dict[str, int]:
        return {"window_days": self.window_days, "restrict": self.restrict, "suspend": self.suspend}

    def effect(self, action: str) -> str:
        return self.effects.get(action) or EFFECTS[action]


def load_rules(path: str | os.PathLike[str]) -> Rules:
    """Read, validate and build the rules file at ``path``."""
    import tomllib

    from leverage.resources import read_text

    name = str(path)
    text = read_text(path, "rules file")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = re.search(r"\(at line (\d+), column \d+\)", message)
        line = m.group(1) if m else "1"
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", message) or "invalid TOML"
        raise LeverageError(f"{name}:{line}: invalid TOML: {message}") from None
    check_rules_doc(doc, name, text)
    return build(doc, name, text)


def check_rules_doc(doc: Any, name: str, text: str = "") -> None:
    """Refuse ``doc`` if it fails the schema: one line with the file, line and key path."""
    errors = list(validator("tos-rules").iter_errors(doc))
    if not errors:
        return
    errors.sort(key=lambda e: (-len(e.absolute_path), [str(p) for p in e.absolute_path]))
    # an unknown key is the most useful thing to say, then a missing one, then the rest
    for error in errors:
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            for key in sorted(error.instance):
                if key not in allowed:
                    path = [*error.absolute_path, key]
                    known = ", ".join(sorted(allowed))
                    raise LeverageError(f"{name}:{locate(text, path)}: {field_path(path)}: unknown key "
                                        f"(known: {known})")
    for error in errors:
        if error.validator == "required" and isinstance(error.instance, dict):
            for key in error.validator_value:
                if key not in error.instance:
                    path = [*error.absolute_path, key]
                    raise LeverageError(f"{name}:{locate(text, list(error.absolute_path))}: "
                                        f"{field_path(path)}: missing")
    error = errors[0]
    path = list(error.absolute_path)
    if error.validator == "enum":
        choices = ", ".join(str(c) for c in error.validator_value)
        message = f"{error.instance!r} is not one of: {choices}"
    elif error.validator == "pattern" and path and path[-1] == "id":
        message = (f"{error.instance!r} is not a rule id (letters, digits, . _ -, at most 64, "
                   "starting with a letter or digit)")
    else:
        message = " ".join(error.message.split())
        if len(message) > 200:
            message = message[:197] + "..."
    raise LeverageError(f"{name}:{locate(text, path)}: {field_path(path)}: {message}")


def build(doc: dict[str, Any], name: str, text: str = "") -> Rules:
    """Build :class:`Rules` from a document that passed the schema; refuses what it cannot say
    (a repeated rule id, ``suspend`` below ``restrict``)."""
    rules: dict[str, Rule] = {}
    for i, r in enumerate(doc["rule"]):
        if r["id"] in rules:
            raise LeverageError(f"{name}:{locate(text, ['rule', i, 'id'])}: rule[{i}].id: "
                                f"{r['id']!r} is listed twice")
        rules[r["id"]] = Rule(
            id=r["id"], title=r["title"].strip(), text=r["text"].strip(),
            rights=tuple(r["rights"]), severity=dict(r["severity"]),
            egregious=bool(r.get("egregious", False)), ref=r.get("ref"),
        )
    strikes = doc.get("strikes") or {}
    restrict = strikes.get("restrict", DEFAULT_RESTRICT)
    suspend = strikes.get("suspend", DEFAULT_SUSPEND)
    if suspend < restrict:
        raise LeverageError(f"{name}:{locate(text, ['strikes', 'suspend'])}: strikes.suspend: "
                            f"{suspend} is below strikes.restrict ({restrict})")
    appeal = doc["appeal"]
    effects = dict(EFFECTS)
    effects.update({k: v.strip() for k, v in (doc.get("effects") or {}).items()})
    return Rules(
        file=os.path.basename(name), rules=rules, appeal_channel=appeal["channel"].strip(),
        appeal_days=appeal["days"], appeal_reviewer=appeal.get("reviewer"),
        window_days=strikes.get("window_days", DEFAULT_WINDOW_DAYS), restrict=restrict,
        suspend=suspend, effects=effects, name=doc.get("name"), version=doc.get("version"),
    )


# -- where a key is written ------------------------------------------------------------------

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)"
                  r"\s*=")


def _split_key(key: str) -> list[str]:
    return [p.strip().strip("\"'") for p in re.findall(r"\"[^\"]*\"|'[^']*'|[^.]+", key)]


def locate(text: str, path: Sequence[Any]) -> int:
    """The line (from 1) where the value at ``path`` is written: the line of the deepest key
    of ``path`` found, else of its table header, else 1. Good enough for the files people
    write (tables, arrays of tables, inline tables, dotted keys)."""
    if not text:
        return 1
    where: dict[tuple[Any, ...], int] = {}
    counts: dict[tuple[Any, ...], int] = {}
    table: tuple[Any, ...] = ()
    in_multiline = False
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if in_multiline:
            if '"""' in stripped or "'''" in stripped:
                in_multiline = False
            continue
        if not stripped or stripped.startswith("#"):
            continue
        header = _HEADER.match(line)
        if header and not _KEY.match(line):
            parts = _split_key(header.group(2))
            if header.group(1) == "[[":
                base = (*_resolve(parts[:-1], counts), parts[-1])
                n = counts.get(base, 0)
                counts[base] = n + 1
                table = (*base, n)
            else:
                table = tuple(_resolve(parts, counts))
            where.setdefault(table, lineno)
            continue
        key = _KEY.match(line)
        if key:
            full = (*table, *_split_key(key.group(1)))
            where.setdefault(full, lineno)
            rest = line[key.end():]
            if rest.count('"""') == 1 or rest.count("'''") == 1:
                in_multiline = True
    wanted = tuple(path)
    for n in range(len(wanted), 0, -1):
        if wanted[:n] in where:
            return where[wanted[:n]]
    return 1


def _resolve(parts: list[str], counts: dict[tuple[Any, ...], int]) -> list[Any]:
    """A table header's path with the index of the latest element of each array of tables
    it passes through (``[rule.severity]`` after the second ``[[rule]]`` is rule[1].severity)."""
    out: list[Any] = []
    for part in parts:
        out.append(part)
        n = counts.get(tuple(out))
        if n:
            out.append(n - 1)
    return out
