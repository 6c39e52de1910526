"""Policy profiles: the TOML format, its loader, and the :class:`Policy` the engine reads.

A policy encodes, as data, every number, name and sentence the escalation engine uses: the
level thresholds, the days allowed per level, the ladder of rungs with their step kinds and
proportionality, the next-step rules, review and reassessment intervals, the gates each
decision must pass, and the source and message of every finding and reason. The format is
described key by key in ``docs/policy.md`` and checked by ``schemas/policy.schema.json``.

Three profiles are bundled (``ungp``, the default, ``csddd`` and ``lksg``). A file may
``extends = "NAME"`` a profile and override any value: tables merge key by key, arrays and
values replace. :func:`resolve` turns a profile name or file into the *resolved* policy as
canonical JSON, the text a ``policy.set`` event stores; :meth:`Policy.from_content` reads
that text back.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from .errors import LeverageError, field_path
from .model import LEVELS, Severity

__all__ = [
    "BUNDLED_PROFILES",
    "DEFAULT_POLICY_NAME",
    "FINDING_TEXTS",
    "GATE_CHECKS",
    "GRIEVANCE_FINDINGS",
    "REASON_TEXTS",
    "Policy",
    "PolicyError",
    "bundled_profiles",
    "default_policy",
    "resolve",
]

DEFAULT_POLICY_NAME = "ungp"
BUNDLED_PROFILES = ("ungp", "csddd", "lksg")
LEVEL_INDEX: dict[str, int] = {level: i for i, level in enumerate(LEVELS)}


class PolicyError(LeverageError):
    """A policy profile or file that cannot be read, resolved or validated."""


# --------------------------------------------------------------------------------------
# Registries: what the engine can say and check. The schema and docs/policy.md list the
# same names; tests keep the three in step.

#: finding code -> message variant -> the placeholders that variant may use.
FINDING_TEXTS: dict[str, dict[str, frozenset[str]]] = {
    "overdue": {
        "message": frozenset({"due", "days", "level", "late"}),
        "deadline": frozenset({"due", "kind", "date", "late"}),
        "worsened": frozenset({"date"}),
    },
    "lenient-deadline": {
        "message": frozenset({"kind", "date", "deadline", "days", "level", "allowed"}),
    },
    "disproportionate": {
        "message": frozenset({"kind", "date", "rung", "level", "min_level"}),
        "decision": frozenset({"decision", "date", "rung", "level", "min_level"}),
    },
    "missing-termination-assessment": {"message": frozenset({"decision", "level"})},
    "exit-more-severe": {"message": frozenset({"decision", "level", "date"})},
    "missing-approval": {"message": frozenset({"decision", "level"})},
    "missing-prior-step": {"message": frozenset({"decision", "level", "rung"})},
    "forced-decision": {"message": frozenset({"decision", "date", "reason", "codes"})},
    "review-due": {"message": frozenset({"since", "days", "level", "late", "rung"})},
    "reassessment-due": {"message": frozenset({"since", "days", "late"})},
    "crucial-relationship": {"message": frozenset({"relationship", "next"})},
    "cease-own-contribution": {"message": frozenset({"involvement"})},
    "plugin-error": {"message": frozenset({"owner", "error"})},
    "missing-enhanced-plan": {"message": frozenset({"decision", "level", "kind"})},
    "missing-leverage-assessment": {"message": frozenset({"decision", "level", "conclusion"})},
    "enhanced-plan-not-failed": {"message": frozenset({"decision", "level", "kind"})},
    "not-very-serious": {"message": frozenset({"decision", "level", "min_level"})},
    "plan-time-not-elapsed": {"message": frozenset({"decision", "level", "kind"})},
    # grievances and appeals (leverage/grievances.py): optional in a policy, see GRIEVANCE_FINDINGS
    "grievance-unacknowledged": {"message": frozenset({"grievance", "kind", "filed", "days", "due", "late"})},
    "grievance-overdue": {
        "message": frozenset({"grievance", "kind", "filed", "days", "due", "late"}),
        "appeal": frozenset({"grievance", "decision", "filed", "days", "due", "late"}),
    },
    "reviewer-not-independent": {"message": frozenset({"grievance", "decision", "date"})},
    "appeal-upheld": {"message": frozenset({"grievance", "decision", "date", "resolved", "impact"})},
}

#: findings of the grievance mechanism. A policy may word them; one that does not (every
#: policy stored before they existed) uses the default profile's texts.
GRIEVANCE_FINDINGS: tuple[str, ...] = (
    "grievance-unacknowledged",
    "grievance-overdue",
    "reviewer-not-independent",
    "appeal-upheld",
)

#: reason code -> message variant -> placeholders (the explanations of ``leverage next``).
REASON_TEXTS: dict[str, dict[str, frozenset[str]]] = {
    "level": {"message": frozenset({"level", "scale", "scope", "irremediability", "worst"})},
    "level-rights": {"message": frozenset({"level", "rights", "scale"})},
    "rung": {
        "message": frozenset({"rung", "kind", "date"}),
        "decision": frozenset({"rung", "decision", "date"}),
        "none": frozenset({"rung"}),
    },
    "due": {
        "message": frozenset({"due", "days", "level", "kind", "date"}),
        "deadline": frozenset({"due", "kind", "date"}),
        "opened": frozenset({"due", "days", "level", "date"}),
        "improved": frozenset({"due", "days", "level", "date"}),
        "decision": frozenset({"due", "days", "level", "decision", "date"}),
    },
    "closed": {"message": frozenset({"date"})},
    "close-remediated": {"message": frozenset({"date"})},
    "close-terminated": {"message": frozenset({"relationship"})},
    "close-ended": {"message": frozenset({"relationship", "date"})},
    "next-first-step": {"message": frozenset({"next", "level"})},
    "next-urgent": {"message": frozenset({"next", "level", "rung"})},
    "next-escalate": {"message": frozenset({"next", "rung"})},
    "next-collective": {"message": frozenset({"next", "leverage", "rung"})},
    "next-continue": {
        "message": frozenset({"named", "level", "min_level", "rung"}),
        "top": frozenset({"rung"}),
    },
}

#: findings every policy must word, whatever its gates.
BASE_FINDINGS: tuple[str, ...] = (
    "overdue",
    "lenient-deadline",
    "disproportionate",
    "forced-decision",
    "review-due",
    "reassessment-due",
    "crucial-relationship",
    "cease-own-contribution",
    "plugin-error",
)

#: gate check name -> the finding codes it may report (each is implemented in engine.py).
GATE_CHECKS: dict[str, tuple[str, ...]] = {
    "proportionate": ("disproportionate",),
    "second-approval": ("missing-approval",),
    "termination-assessment": ("missing-termination-assessment", "exit-more-severe"),
    "prior-step": ("missing-prior-step",),
    "enhanced-plan": ("missing-enhanced-plan",),
    "enhanced-plan-failed": ("enhanced-plan-not-failed",),
    "leverage-promising": ("missing-leverage-assessment",),
    "leverage-not-promising": ("missing-leverage-assessment",),
    "very-serious": ("not-very-serious",),
    "plan-time-elapsed": ("plan-time-not-elapsed",),
}

#: gate checks that read a parameter table ``[checks.NAME]``.
PARAMETERISED_CHECKS: tuple[str, ...] = (
    "prior-step",
    "enhanced-plan",
    "enhanced-plan-failed",
    "very-serious",
    "plan-time-elapsed",
)


# --------------------------------------------------------------------------------------
# Value classes of a resolved policy.


@attrs.frozen
class LevelThresholds:
    """The lowest worst-of(scale, scope, irremediability) score at which each level starts."""

    low: int
    moderate: int
    high: int
    critical: int


@attrs.frozen
class RightsRule:
    """Impacts on any of ``rights`` with a scale of at least ``min_scale`` are ``level``."""

    rights: tuple[str, ...]
    min_scale: int
    level: str


@attrs.frozen
class Levels:
    worst: LevelThresholds
    rights: tuple[RightsRule, ...] = ()


@attrs.frozen
class LevelDays:
    """A number of days for each level."""

    low: int
    moderate: int
    high: int
    critical: int

    def get(self, level: str) -> int:
        return int(getattr(self, level))


@attrs.frozen
class LowLeverage:
    """``rung`` is named next only when the relationship's leverage is at most ``max``."""

    rung: str
    max: int


@attrs.frozen
class Ladder:
    rungs: tuple[str, ...]
    initial: str
    decisions: dict[str, str]
    proportionate: dict[str, str]
    low_leverage: LowLeverage


@attrs.frozen
class Urgent:
    levels: tuple[str, ...]
    rung: str


@attrs.frozen
class NextRules:
    first_step: dict[str, str]
    urgent: Urgent


@attrs.frozen
class Review:
    rung: str
    days: LevelDays


@attrs.frozen
class Reassessment:
    days: int


@attrs.frozen
class PriorStepCheck:
    min_rung: str
    unless_levels: tuple[str, ...] = ()


@attrs.frozen
class StepKindCheck:
    step_kind: str


@attrs.frozen
class PlanCheck:
    step_kind: str
    remedy_outcomes: tuple[str, ...]


@attrs.frozen
class MinLevelCheck:
    min_level: str


@attrs.frozen
class GrievanceTimes:
    """The indicative time frame of each stage of a grievance, in days from its filing
    (UNGP 31(c): predictable). A policy without ``[grievances]`` uses these defaults."""

    acknowledge: int = 7
    resolve: int = 60
    #: an appeal against one of ``appeal_decisions`` is resolved within ``appeal`` days
    appeal: int = 14
    appeal_decisions: tuple[str, ...] = ("suspend", "terminate")

    def resolve_days(self, appealed_decision: str | None) -> int:
        """Days allowed to resolve a grievance (an appeal of ``appealed_decision``)."""
        if appealed_decision is not None and appealed_decision in self.appeal_decisions:
            return self.appeal
        return self.resolve


@attrs.frozen
class Checks:
    """Parameters of the gate checks that take any (table ``[checks.NAME]``)."""

    prior_step: PriorStepCheck | None = None
    enhanced_plan: StepKindCheck | None = None
    enhanced_plan_failed: PlanCheck | None = None
    very_serious: MinLevelCheck | None = None
    plan_time_elapsed: PlanCheck | None = None

    def get(self, check: str) -> Any:
        """The parameters of ``check`` (its name as written in the policy) or None."""
        return getattr(self, check.replace("-", "_"), None)


_Part = tuple[str, str | None]
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_PLACEHOLDER = re.compile(r"[a-z_]+\Z")


def _compile_template(template: str) -> tuple[_Part, ...]:
    """Split ``template`` into (literal, placeholder) parts; raise ValueError if malformed."""
    parts: list[_Part] = []
    literal: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(template):
        literal.append(template[pos : m.start()])
        pos = m.end()
        token = m.group(0)
        if token in ("{{", "}}"):
            literal.append(token[0])
        elif token in ("{", "}"):
            raise ValueError(f"unbalanced {token!r} (write {token}{token} for a brace)")
        else:
            name = m.group(1)
            if not _PLACEHOLDER.match(name):
                raise ValueError(f"bad placeholder {{{name}}}")
            parts.append(("".join(literal), name))
            literal = []
    literal.append(template[pos:])
    parts.append(("".join(literal), None))
    return tuple(parts)


def _format_string(template: str) -> str:
    """``template`` as a :meth:`str.format_map` string (placeholders are plain names only)."""
    out: list[str] = []
    for literal, name in _compile_template(template):
        out.append(literal.replace("{", "{{").replace("}", "}}"))
        if name is not None:
            out.append("{" + name + "}")
    return "".join(out)


@attrs.frozen(eq=False)
class Policy:
    """A resolved policy. Build one with :meth:`from_content`, :func:`resolve` or
    :func:`default_policy`; compare policies by :attr:`sha256`."""

    name: str
    description: str
    levels: Levels
    days: LevelDays
    ladder: Ladder
    step_kinds: dict[str, str]
    next: NextRules
    review: Review
    reassessment: Reassessment
    gates: dict[str, tuple[str, ...]]
    findings: dict[str, dict[str, str]]
    reasons: dict[str, dict[str, str]]
    checks: Checks = attrs.field(factory=Checks)
    grievances: GrievanceTimes = attrs.field(factory=GrievanceTimes)
    #: the canonical JSON text of the resolved policy, and its SHA-256 (set by the loader)
    content: str = attrs.field(default="", init=False, repr=False)
    sha256: str = attrs.field(default="", init=False)
    _rung_index: dict[str, int] = attrs.field(factory=dict, init=False, repr=False)
    _decision_of_rung: dict[str, str] = attrs.field(factory=dict, init=False, repr=False)
    _templates: dict[tuple[str, str], str] = attrs.field(
        factory=dict, init=False, repr=False
    )
    _level_cache: dict[tuple[int, int, int, tuple[str, ...]], str] = attrs.field(
        factory=dict, init=False, repr=False
    )
    _derived: dict[Any, Policy] = attrs.field(factory=dict, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._rung_index.update({rung: i for i, rung in enumerate(self.ladder.rungs)})
        self._decision_of_rung.update({r: d for d, r in self.ladder.decisions.items()})
        for table in (self.findings, self.reasons):
            for code, texts in table.items():
                for variant, text in texts.items():
                    if variant != "source":
                        self._templates[(code, variant)] = _format_string(text)

    def _set_content(self, content: str) -> None:
        object.__setattr__(self, "content", content)
        object.__setattr__(self, "sha256", hashlib.sha256(content.encode("utf-8")).hexdigest())

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_content(cls, content: str) -> Policy:
        """The policy stored in a ``policy.set`` event (resolved canonical JSON).

        Parsed policies are cached by the SHA-256 of ``content``.
        """
        sha = hashlib.sha256(content.encode("utf-8")).hexdigest()
        cached = _CONTENT_CACHE.get(sha)
        if cached is not None:
            return cached
        try:
            doc = json.loads(content)
        except ValueError as exc:
            raise PolicyError(f"stored policy: not JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise PolicyError("stored policy: must be a JSON object")
        label = f"policy {doc.get('name')}" if isinstance(doc.get("name"), str) else "policy"
        if "extends" in doc:
            raise PolicyError(f"{label}: extends: a stored policy must be resolved")
        policy = _build(doc, label)
        _CONTENT_CACHE[sha] = policy
        _CONTENT_CACHE.setdefault(policy.sha256, policy)
        return policy

    def with_step_kinds(self, extra: Mapping[str, str]) -> Policy:
        """This policy with the step kinds registered by plugins (kind -> rung) added.

        A kind the policy already names keeps the policy's rung (the policy is the user's
        explicit choice). The result keeps this policy's :attr:`content` and :attr:`sha256`.
        """
        added = {k: r for k, r in extra.items() if k not in self.step_kinds}
        if not added:
            return self
        key = frozenset(added.items())
        derived = self._derived.get(key)
        if derived is not None:
            return derived
        for kind, rung in sorted(added.items()):
            problem = self._step_rung_problem(rung)
            if problem:
                raise PolicyError(f"policy {self.name}: step kind {kind}: {problem}")
        derived = attrs.evolve(self, step_kinds={**self.step_kinds, **added})
        object.__setattr__(derived, "content", self.content)
        object.__setattr__(derived, "sha256", self.sha256)
        self._derived[key] = derived
        return derived

    def _step_rung_problem(self, rung: str) -> str | None:
        if rung not in self._rung_index:
            return f"unknown rung {rung!r} (rungs: {', '.join(self.ladder.rungs)})"
        if rung in self._decision_of_rung:
            return f"rung {rung} is reached by a decision, not a step"
        if rung == self.ladder.initial:
            return f"rung {rung} is where an impact starts, not a step"
        return None

    # -- what the engine asks -----------------------------------------------------------

    def level_of(self, severity: Severity, rights: tuple[str, ...] | list[str] = ()) -> str:
        """The level (``low`` ... ``critical``) of an impact of this severity and rights."""
        key = (severity.scale, severity.scope, severity.irremediability, tuple(rights))
        level = self._level_cache.get(key)
        if level is not None:
            return level
        level = self._level_by_worst(severity)
        rule = self._highest_rights_rule(severity, rights)
        if rule is not None and LEVEL_INDEX[rule.level] > LEVEL_INDEX[level]:
            level = rule.level
        self._level_cache[key] = level
        return level

    def level_rule(
        self, severity: Severity, rights: tuple[str, ...] | list[str]
    ) -> RightsRule | None:
        """The rights rule that sets the level, if one raises it above the worst score."""
        rule = self._highest_rights_rule(severity, rights)
        if rule is None:
            return None
        return rule if LEVEL_INDEX[rule.level] > LEVEL_INDEX[self._level_by_worst(severity)] else None

    def _level_by_worst(self, severity: Severity) -> str:
        """The level the worst of scale, scope and irremediability reaches."""
        worst = max(severity.scale, severity.scope, severity.irremediability)
        level = LEVELS[0]
        for name in LEVELS:
            if worst >= getattr(self.levels.worst, name):
                level = name
        return level

    def _highest_rights_rule(
        self, severity: Severity, rights: tuple[str, ...] | list[str]
    ) -> RightsRule | None:
        """Of the rights rules that apply, the first of the highest level."""
        found = None
        for rule in self.levels.rights:
            if severity.scale >= rule.min_scale and any(r in rule.rights for r in rights):
                if found is None or LEVEL_INDEX[rule.level] > LEVEL_INDEX[found.level]:
                    found = rule
        return found

    def days_for(self, level: str) -> int:
        """Days allowed for change at ``level``."""
        return self.days.get(level)

    def review_days_for(self, level: str) -> int:
        """Days a suspension may go without an assessment or decision at ``level``."""
        return self.review.days.get(level)

    def rung_of(self, step_kind: str) -> str | None:
        """The rung a step of ``step_kind`` reaches (None for a kind the policy lacks)."""
        return self.step_kinds.get(step_kind)

    def rung_index(self, rung: str) -> int:
        """The position of ``rung`` on the ladder (0 = the initial rung's end)."""
        try:
            return self._rung_index[rung]
        except KeyError:
            raise PolicyError(f"policy {self.name}: unknown rung {rung!r}") from None

    def decision_rung(self, decision: str) -> str | None:
        """The rung ``decision`` reaches (``suspend``, ``terminate``), else None."""
        return self.ladder.decisions.get(decision)

    def rung_decision(self, rung: str) -> str | None:
        """The decision that reaches ``rung``, if a decision does."""
        return self._decision_of_rung.get(rung)

    def proportionate(self, rung: str, level: str) -> bool:
        """Whether ``rung`` is proportionate for an impact at ``level``."""
        lowest = self.ladder.proportionate.get(rung)
        if lowest is None:
            raise PolicyError(f"policy {self.name}: unknown rung {rung!r}")
        return LEVEL_INDEX[level] >= LEVEL_INDEX[lowest]

    def low_leverage(self, leverage: int | None) -> bool:
        """Whether ``leverage`` (1-5, None = unknown) is low enough for the optional rung."""
        return leverage is not None and leverage <= self.ladder.low_leverage.max

    def gate_checks(self, decision: str) -> tuple[str, ...]:
        """The names of the checks a ``decision`` must pass."""
        return self.gates.get(decision, ())

    def source(self, code: str) -> str:
        """The citation of a finding or reason code."""
        texts = self.findings.get(code) or self.reasons.get(code)
        if texts is None:
            raise PolicyError(f"policy {self.name}: no text for code {code!r}")
        return texts["source"]

    def message(self, code: str, /, variant: str = "message", **kw: Any) -> str:
        """The message of ``code`` (its ``variant``), placeholders filled from ``kw``.

        A placeholder missing from ``kw`` is left as written.
        """
        template = self._templates.get((code, variant))
        if template is None:
            raise PolicyError(f"policy {self.name}: no message {variant!r} for code {code!r}")
        try:
            return template.format(**kw)
        except KeyError:
            return template.format_map(_Fill(kw))


class _Fill(dict[str, Any]):
    """Placeholder values; a missing one renders as itself."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


_CONTENT_CACHE: dict[str, Policy] = {}


# --------------------------------------------------------------------------------------
# (Un)structuring: a private converter that refuses extra keys and reports paths.

_converter = cattrs.Converter(forbid_extra_keys=True)
_converter.register_structure_hook(
    Checks,
    make_dict_structure_fn(
        Checks,
        _converter,
        _cattrs_forbid_extra_keys=True,
        prior_step=override(rename="prior-step"),
        enhanced_plan=override(rename="enhanced-plan"),
        enhanced_plan_failed=override(rename="enhanced-plan-failed"),
        very_serious=override(rename="very-serious"),
        plan_time_elapsed=override(rename="plan-time-elapsed"),
    ),
)


def _structure(doc: dict[str, Any], label: str) -> Policy:
    try:
        return _converter.structure(doc, Policy)
    except Exception as exc:  # cattrs raises ClassValidationError groups
        messages = cattrs.transform_error(exc, path="$")
        first = messages[0] if messages else str(exc)
        text, _, where = first.rpartition(" @ ")
        path = where[2:] if where.startswith("$.") else where
        raise PolicyError(f"{label}: {path or '(top level)'}: {text or first}") from None


# --------------------------------------------------------------------------------------
# Reading profiles, the schema, and resolving ``extends``.


def _schema_text() -> str:
    """The text of ``policy.schema.json``, installed or from the repository's ``schemas/``."""
    try:
        ref = resources.files("leverage.schemas") / "policy.schema.json"
        if ref.is_file():
            return ref.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
        pass
    path = Path(__file__).resolve().parent.parent / "schemas" / "policy.schema.json"
    return path.read_text(encoding="utf-8")


@cache
def _validator() -> Any:
    import jsonschema

    schema = json.loads(_schema_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@cache
def _bundled() -> tuple[tuple[str, str], ...]:
    base = resources.files("leverage.policies")
    return tuple(
        (name, (base / f"{name}.toml").read_text(encoding="utf-8")) for name in BUNDLED_PROFILES
    )


def bundled_profiles() -> dict[str, str]:
    """The bundled profiles: name -> TOML text (``ungp``, ``csddd``, ``lksg``)."""
    return dict(_bundled())


def _canonical(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _schema_check(doc: Mapping[str, Any], label: str) -> None:
    """Refuse ``doc`` if it fails the schema, naming the JSON path of the first bad field."""
    errors = list(_validator().iter_errors(doc))
    if not errors:
        return
    errors.sort(key=lambda e: (len(e.absolute_path), [str(p) for p in e.absolute_path]))
    # an unknown key is the most useful thing to report, then the deepest-first remainder
    for error in errors:
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
            for key in sorted(error.instance):
                if key not in allowed and not any(p.search(key) for p in patterns):
                    path = field_path([*error.absolute_path, key])
                    raise PolicyError(f"{label}: {path}: unknown key")
    for error in errors:
        if error.validator == "required" and isinstance(error.instance, dict):
            for key in error.validator_value:
                if key not in error.instance:
                    path = field_path([*error.absolute_path, key])
                    hint = (
                        "" if error.absolute_path
                        else " (a policy without extends gives every key)"
                    )
                    raise PolicyError(f"{label}: {path}: missing{hint}")
    error = errors[0]
    path = field_path(error.absolute_path)
    if error.validator == "enum":
        choices = ", ".join(str(c) for c in error.validator_value)
        raise PolicyError(f"{label}: {path}: {error.instance!r} is not one of: {choices}")
    message = " ".join(error.message.split())
    if len(message) > 300:
        message = message[:297] + "..."
    raise PolicyError(f"{label}: {path}: {message}")


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: tables merge key by key; arrays and values of ``override`` replace."""
    out = dict(base)
    for key, value in override.items():
        current = out.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            out[key] = _merge(current, value)
        else:
            out[key] = value
    return out


def _parse_toml(text: str, label: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{label}: invalid TOML: {' '.join(str(exc).split())}") from None


def _resolve_doc(
    doc: dict[str, Any], label: str, profiles: Mapping[str, str], chain: tuple[str, ...]
) -> dict[str, Any]:
    _schema_check(doc, label)
    base_name = doc.get("extends")
    if base_name is None:
        return dict(doc)
    if base_name in chain:
        loop = " -> ".join([*chain, base_name])
        raise PolicyError(f"{label}: extends: circular ({loop})")
    if base_name not in profiles:
        known = ", ".join(sorted(profiles))
        raise PolicyError(f"{label}: extends: unknown profile {base_name!r} (known: {known})")
    base_doc = _parse_toml(profiles[base_name], base_name)
    base = _resolve_doc(base_doc, base_name, profiles, (*chain, base_name))
    child = {k: v for k, v in doc.items() if k != "extends"}
    if "description" not in child:
        child["description"] = f"Based on {base_name}: {base.get('description', '')}".strip()
    return _merge(base, child)


def _semantic_problems(doc: Mapping[str, Any]) -> list[str]:
    """Cross-references the schema cannot express; each problem is ``key: message``."""
    problems: list[str] = []
    worst = doc["levels"]["worst"]
    if worst["low"] != 1:
        problems.append("levels.worst.low: must be 1, so that every severity has a level")
    for lower, higher in zip(LEVELS, LEVELS[1:], strict=False):
        if worst[higher] < worst[lower]:
            problems.append(
                f"levels.worst.{higher}: {worst[higher]} is less than levels.worst.{lower} "
                f"({worst[lower]}): thresholds must not fall as severity grows"
            )
    for table in ("days", "review.days"):
        days = doc["days"] if table == "days" else doc["review"]["days"]
        for lower, higher in zip(LEVELS, LEVELS[1:], strict=False):
            if days[higher] > days[lower]:
                problems.append(
                    f"{table}.{higher}: {days[higher]} days is more than {table}.{lower} "
                    f"({days[lower]}): the time allowed must not grow with severity"
                )
    ladder = doc["ladder"]
    rungs: list[str] = list(ladder["rungs"])
    seen: set[str] = set()
    for i, rung in enumerate(rungs):
        if rung in seen:
            problems.append(f"ladder.rungs[{i}]: duplicate rung {rung}")
        seen.add(rung)
    known = ", ".join(rungs)

    def rung_ref(key: str, rung: str) -> None:
        if rung not in seen:
            problems.append(f"{key}: unknown rung {rung!r} (rungs: {known})")

    rung_ref("ladder.initial", ladder["initial"])
    for decision, rung in ladder["decisions"].items():
        rung_ref(f"ladder.decisions.{decision}", rung)
    decision_rungs = set(ladder["decisions"].values())
    for rung in ladder["proportionate"]:
        rung_ref(f"ladder.proportionate.{rung}", rung)
    for rung in rungs:
        if rung not in ladder["proportionate"]:
            problems.append(f"ladder.proportionate.{rung}: missing (every rung needs a level)")
    rung_ref("ladder.low_leverage.rung", ladder["low_leverage"]["rung"])
    for kind, rung in doc["step_kinds"].items():
        if rung not in seen:
            rung_ref(f"step_kinds.{kind}", rung)
        elif rung in decision_rungs:
            problems.append(f"step_kinds.{kind}: rung {rung} is reached by a decision, not a step")
        elif rung == ladder["initial"]:
            problems.append(f"step_kinds.{kind}: rung {rung} is where an impact starts")
    for level, rung in doc["next"]["first_step"].items():
        rung_ref(f"next.first_step.{level}", rung)
    rung_ref("next.urgent.rung", doc["next"]["urgent"]["rung"])
    rung_ref("review.rung", doc["review"]["rung"])
    checks = doc.get("checks", {})
    if "prior-step" in checks:
        rung_ref("checks.prior-step.min_rung", checks["prior-step"]["min_rung"])
    for name, params in checks.items():
        kind = params.get("step_kind")
        if kind is not None and kind not in doc["step_kinds"]:
            problems.append(f"checks.{name}.step_kind: unknown step kind {kind!r}")
    needed = set(BASE_FINDINGS)
    for decision, names in doc["gates"].items():
        for i, name in enumerate(names):
            needed.update(GATE_CHECKS[name])
            if name in PARAMETERISED_CHECKS and name not in checks:
                problems.append(
                    f"gates.{decision}[{i}]: check {name} needs its parameters in [checks.{name}]"
                )
    for table, registry, required in (
        ("findings", FINDING_TEXTS, needed),
        ("reasons", REASON_TEXTS, set(REASON_TEXTS)),
    ):
        texts = doc[table]
        for code in sorted(required):
            if code not in texts:
                problems.append(f"{table}.{code}: missing (the engine reports this code)")
                continue
            for variant in sorted(registry[code]):
                if variant not in texts[code]:
                    problems.append(f"{table}.{code}.{variant}: missing message")
        for code, entry in texts.items():
            for variant, template in entry.items():
                if variant == "source":
                    continue
                allowed = registry[code].get(variant, frozenset())
                try:
                    parts = _compile_template(template)
                except ValueError as exc:
                    problems.append(f"{table}.{code}.{variant}: {exc}")
                    continue
                for _, name in parts:
                    if name is not None and name not in allowed:
                        choices = ", ".join("{" + a + "}" for a in sorted(allowed))
                        problems.append(
                            f"{table}.{code}.{variant}: unknown placeholder {{{name}}} "
                            f"(allowed: {choices})"
                        )
    return problems


def _build(doc: dict[str, Any], label: str) -> Policy:
    """Validate a resolved document and turn it into a :class:`Policy`."""
    _schema_check(doc, label)
    problems = _semantic_problems(doc)
    if problems:
        raise PolicyError(f"{label}: {problems[0]}")
    policy = _structure(doc, label)
    policy._set_content(_canonical(doc))
    return policy


def _looks_like_path(value: str) -> bool:
    return "/" in value or "\\" in value or value.endswith(".toml") or Path(value).exists()


def resolve(name_or_path: str, extra_profiles: Mapping[str, str] | None = None) -> tuple[str, str]:
    """Resolve a profile name or a policy file into ``(name, content)``.

    ``name_or_path`` is a bundled profile name, a name in ``extra_profiles`` (profiles that
    plugins register: name -> TOML text), else the path of a TOML file. ``content`` is the
    resolved policy (``extends`` applied) as canonical JSON, the text a ``policy.set`` event
    stores. ``name`` is the profile name, or for a file its ``name`` key, else its stem.
    """
    profiles: dict[str, str] = dict(extra_profiles or {})
    profiles.update(bundled_profiles())
    chain: tuple[str, ...] = ()
    if name_or_path in profiles:
        label = name = name_or_path
        text = profiles[name_or_path]
        chain = (name,)
    else:
        path = Path(name_or_path)
        if not path.is_file():
            known = ", ".join(sorted(profiles))
            if _looks_like_path(name_or_path):
                raise PolicyError(f"{name_or_path}: no such policy file")
            raise PolicyError(
                f"{name_or_path}: no such policy profile or file (profiles: {known})"
            )
        label = name_or_path
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError(f"{label}: cannot read: {exc}") from None
        name = path.stem
    doc = _parse_toml(text, label)
    resolved = _resolve_doc(doc, label, profiles, chain)
    if isinstance(doc.get("name"), str):
        name = doc["name"]
    resolved["name"] = name
    policy = _build(resolved, label)
    return name, policy.content


@cache
def default_policy() -> Policy:
    """The bundled default profile (:data:`DEFAULT_POLICY_NAME`)."""
    _, content = resolve(DEFAULT_POLICY_NAME)
    return Policy.from_content(content)
