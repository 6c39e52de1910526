"""The policy format: loading, extends, validation and the Policy helpers."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

import jsonschema
import pytest

from leverage import engine
from leverage.errors import LeverageError
from leverage.model import LEVELS, Severity
from leverage.policy import (
    BASE_FINDINGS,
    BUNDLED_PROFILES,
    DEFAULT_POLICY_NAME,
    FINDING_TEXTS,
    GATE_CHECKS,
    REASON_TEXTS,
    Policy,
    PolicyError,
    _schema_text,
    bundled_profiles,
    default_policy,
    resolve,
)

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str, name: str = "policy.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def refused(tmp_path: Path, text: str) -> str:
    with pytest.raises(PolicyError) as info:
        resolve(write(tmp_path, text))
    message = str(info.value)
    assert "\n" not in message
    assert isinstance(info.value, LeverageError)
    return message


# -- bundled profiles -------------------------------------------------------------------


def test_bundled_profiles_are_the_three():
    profiles = bundled_profiles()
    assert set(profiles) == {"ungp", "csddd", "lksg"} == set(BUNDLED_PROFILES)
    assert all(tomllib.loads(text) for text in profiles.values())


@pytest.mark.parametrize("name", BUNDLED_PROFILES)
def test_bundled_profile_validates_against_schema(name):
    schema = json.loads((ROOT / "schemas" / "policy.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate(tomllib.loads(bundled_profiles()[name]))  # the file as written
    resolved_name, content = resolve(name)
    assert resolved_name == name
    validator.validate(json.loads(content))  # and resolved


@pytest.mark.parametrize("name", BUNDLED_PROFILES)
def test_resolve_round_trips(name):
    resolved_name, content = resolve(name)
    assert content == json.dumps(
        json.loads(content), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    assert "extends" not in json.loads(content)
    policy = Policy.from_content(content)
    assert policy.name == resolved_name
    assert policy.content == content
    assert policy.sha256 == hashlib.sha256(content.encode("utf-8")).hexdigest()
    assert Policy.from_content(content) is policy  # cached by sha256


def test_default_policy_is_ungp():
    assert DEFAULT_POLICY_NAME == "ungp"
    policy = default_policy()
    assert policy.name == "ungp"
    assert policy.content == resolve("ungp")[1]


def test_csddd_says_which_text_it_encodes():
    text = bundled_profiles()["csddd"]
    assert "2024/1760" in text and "Omnibus" in text
    description = tomllib.loads(text)["description"]
    assert "2024/1760" in description and "before the 2025 Omnibus" in description


def test_profiles_extend_ungp_and_add_gates():
    ungp, csddd, lksg = (Policy.from_content(resolve(n)[1]) for n in BUNDLED_PROFILES)
    assert csddd.days == ungp.days and lksg.step_kinds == ungp.step_kinds
    for profile in (csddd, lksg):
        for decision, checks in ungp.gates.items():
            assert set(checks) <= set(profile.gates[decision])
    assert "enhanced-plan" in csddd.gates["suspend"]
    assert "very-serious" in lksg.gates["terminate"]
    assert csddd.source("missing-enhanced-plan").startswith("CSDDD Art.")
    assert lksg.source("not-very-serious") == "LkSG §7(3)"
    assert csddd.source("missing-termination-assessment") == "CSDDD Art. 10(6), 11(7)"


def test_ungp_encodes_the_design_table():
    p = default_policy()
    assert [p.days_for(level) for level in LEVELS] == [90, 30, 14, 3]
    assert p.ladder.rungs == (
        "monitor", "engage", "notice", "enforce", "collective", "suspend", "terminate"
    )
    assert p.rung_of("dialogue") == "engage"
    assert p.rung_of("tos-warning") == "notice"
    assert p.rung_of("enhanced-action-plan") == "enforce"
    assert p.rung_of("multi-stakeholder") == "collective"
    assert p.rung_of("no-such-kind") is None
    assert p.proportionate("enforce", "moderate") and not p.proportionate("enforce", "low")
    assert p.proportionate("suspend", "high") and not p.proportionate("terminate", "moderate")
    assert p.rung_index("monitor") < p.rung_index("enforce") < p.rung_index("collective")
    assert p.review_days_for("critical") == 7 and p.review_days_for("high") == 30
    assert p.reassessment.days == 365
    assert p.ladder.low_leverage.max == 2


@pytest.mark.parametrize(
    ("scale", "scope", "irr", "rights", "level"),
    [
        (5, 1, 1, (), "critical"),
        (1, 5, 1, (), "critical"),
        (1, 1, 4, (), "high"),
        (3, 2, 1, (), "moderate"),
        (2, 2, 2, (), "low"),
        (1, 1, 1, (), "low"),
        (4, 1, 1, ("life",), "critical"),
        (4, 1, 1, ("expression", "security-of-person"), "critical"),
        (3, 1, 1, ("life",), "moderate"),
        (4, 1, 1, ("expression",), "high"),
    ],
)
def test_level_of(scale, scope, irr, rights, level):
    assert default_policy().level_of(Severity(scale, scope, irr), rights) == level


def test_message_and_source():
    p = default_policy()
    text = p.message("overdue", due="2021-01-10", days="3 days", level="critical", late="4 days")
    assert text == (
        "Change was due by 2021-01-10 (3 days for a critical impact); it is 4 days overdue."
    )
    assert p.source("overdue") == "UNGP 19 commentary"
    assert p.message("overdue", due="x") .startswith("Change was due by x ({days}")
    with pytest.raises(PolicyError):
        p.source("no-such-code")
    with pytest.raises(PolicyError):
        p.message("overdue", "no-such-variant")


def test_with_step_kinds():
    p = default_policy()
    q = p.with_step_kinds({"account-ban": "enforce", "dialogue": "notice"})
    assert q.rung_of("account-ban") == "enforce"
    assert q.rung_of("dialogue") == "engage"  # the policy's own mapping wins
    assert p.rung_of("account-ban") is None
    assert q.sha256 == p.sha256
    assert p.with_step_kinds({"account-ban": "enforce"}) is q  # cached
    assert p.with_step_kinds({}) is p
    with pytest.raises(PolicyError, match="account-nuke: unknown rung 'nuke'"):
        p.with_step_kinds({"account-nuke": "nuke"})
    with pytest.raises(PolicyError, match="reached by a decision"):
        p.with_step_kinds({"account-ban": "suspend"})


# -- extends and overrides ----------------------------------------------------------------


def test_extends_overrides_values_and_merges_tables(tmp_path):
    name, content = resolve(write(tmp_path, """
extends = "ungp"
[days]
critical = 1
[step_kinds]
account-ban = "enforce"
[findings.overdue]
message = "Late since {due}."
[gates]
suspend = ["second-approval"]
""", name="strict.toml"))
    assert name == "strict"  # the file's stem
    p = Policy.from_content(content)
    assert p.days_for("critical") == 1 and p.days_for("high") == 14  # table merged
    assert p.rung_of("account-ban") == "enforce" and p.rung_of("dialogue") == "engage"
    assert p.gates["suspend"] == ("second-approval",)  # arrays replace
    assert p.message("overdue", due="2021-01-01") == "Late since 2021-01-01."
    assert p.source("overdue") == "UNGP 19 commentary"  # the rest of the table stays
    assert p.description.startswith("Based on ungp:")


def test_extends_another_profile_and_name_key(tmp_path):
    name, content = resolve(write(tmp_path, 'extends = "lksg"\nname = "our-lksg"\n'))
    p = Policy.from_content(content)
    assert name == "our-lksg" == p.name
    assert "plan-time-elapsed" in p.gates["terminate"]


def test_file_named_like_a_profile_may_extend_it(tmp_path):
    name, _ = resolve(write(tmp_path, 'extends = "ungp"\n', name="ungp.toml"))
    assert name == "ungp"


def test_extra_profiles_from_plugins(tmp_path):
    extra = {"platform": 'extends = "ungp"\nname = "platform"\n[days]\nlow = 60\n'}
    name, content = resolve("platform", extra)
    assert name == "platform" and Policy.from_content(content).days_for("low") == 60
    name, content = resolve(write(tmp_path, 'extends = "platform"\n'), extra)
    assert Policy.from_content(content).days_for("low") == 60


def _toml(doc: dict, prefix: str = "") -> list[str]:
    """A resolved policy written back as TOML (keys quoted, tables after values)."""
    lines = [f"[{prefix}]"] if prefix else []
    tables = []
    for key, value in doc.items():
        if isinstance(value, dict):
            tables.append((key, value))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            continue  # arrays of tables are written by the caller
        else:
            lines.append(f"{json.dumps(key)} = {json.dumps(value, ensure_ascii=False)}")
    for key, value in tables:
        lines += _toml(value, f"{prefix}.{json.dumps(key)}" if prefix else json.dumps(key))
    return lines


def test_standalone_file_without_extends(tmp_path):
    doc = json.loads(resolve("ungp")[1])
    doc["name"] = "mine"
    lines = _toml(doc)
    for rule in doc["levels"]["rights"]:
        lines.append("[[levels.rights]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in rule.items()]
    name, content = resolve(write(tmp_path, "\n".join(lines) + "\n"))
    assert name == "mine"
    assert Policy.from_content(content).days == default_policy().days
    assert json.loads(content) == doc


# -- refusals, each one line naming the key ----------------------------------------------


def test_unknown_key_is_refused_naming_it(tmp_path):
    message = refused(tmp_path, 'extends = "ungp"\n[days]\ncritcal = 2\n')
    assert message.endswith("policy.toml: days.critcal: unknown key")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('extends = "ungp"\nfoo = 1\n', "foo: unknown key"),
        ('extends = "ungp"\n[ladder]\nrungz = []\n', "ladder.rungz: unknown key"),
        ('extends = "ungp"\n[findings.overdue]\nmesage = "x"\n',
         "findings.overdue.mesage: unknown key"),
        ('extends = "ungp"\n[findings.no-such-code]\nmessage = "x"\n',
         "findings.no-such-code: unknown key"),
        ('extends = "ungp"\n[gates]\nsuspnd = []\n', "gates.suspnd: unknown key"),
        ('extends = "ungp"\n[checks.prior-step]\nmin_rnug = "x"\n',
         "checks.prior-step.min_rnug: unknown key"),
    ],
)
def test_unknown_keys_anywhere(tmp_path, text, key):
    assert refused(tmp_path, text).endswith(key)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[days]\nhigh = 40\n", "days.high: 40 days is more than days.moderate (30)"),
        ("[days]\nlow = 20\n", "days.moderate: 30 days is more than days.low (20)"),
        ("[review.days]\ncritical = 60\n", "review.days.critical: 60 days is more than"),
    ],
)
def test_days_that_do_not_shrink_are_refused(tmp_path, text, key):
    assert key in refused(tmp_path, 'extends = "ungp"\n' + text)


def test_equal_days_are_allowed(tmp_path):
    _, content = resolve(write(tmp_path, 'extends = "ungp"\n[days]\nhigh = 30\n'))
    assert Policy.from_content(content).days_for("high") == 30


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[step_kinds]\ndialogue = "engagee"\n', "step_kinds.dialogue: unknown rung 'engagee'"),
        ('[ladder.proportionate]\nenforcee = "low"\n',
         "ladder.proportionate.enforcee: unknown rung"),
        ('[checks.prior-step]\nmin_rung = "notise"\n', "checks.prior-step.min_rung: unknown rung"),
        ('[ladder.decisions]\nsuspend = "pause"\n',
         "ladder.decisions.suspend: unknown rung 'pause'"),
        ('[next.first_step]\nlow = "talk"\n', "next.first_step.low: unknown rung 'talk'"),
        ('[next.urgent]\nrung = "halt"\n', "next.urgent.rung: unknown rung"),
        ('[review]\nrung = "halt"\n', "review.rung: unknown rung"),
        ('[ladder.low_leverage]\nrung = "peers"\n', "ladder.low_leverage.rung: unknown rung"),
        ('[ladder]\ninitial = "idle"\n', "ladder.initial: unknown rung"),
        ('[step_kinds]\nban = "suspend"\n',
         "step_kinds.ban: rung suspend is reached by a decision"),
        (
            '[ladder]\nrungs = ["monitor", "engage", "notice", "enforce", "suspend",'
            ' "terminate"]\n',
            "ladder.proportionate.collective: unknown rung 'collective'",
        ),
        (
            '[ladder]\nrungs = ["monitor", "engage", "engage", "notice", "enforce", "collective",'
            ' "suspend", "terminate"]\n',
            "ladder.rungs[2]: duplicate rung engage",
        ),
    ],
)
def test_unknown_rungs_are_refused_naming_the_key(tmp_path, text, key):
    assert key in refused(tmp_path, 'extends = "ungp"\n' + text)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[days]\nhigh = "two"\n', "days.high: 'two' is not of type 'integer'"),
        ("[days]\nhigh = -1\n", "days.high: -1 is less than the minimum of 0"),
        ('[gates]\nsuspend = ["nope"]\n', "gates.suspend[0]: 'nope' is not one of: proportionate"),
        ('[levels.worst]\nhigh = 9\n', "levels.worst.high: 9 is greater than the maximum of 5"),
        ('[[levels.rights]]\nrights = ["lfe"]\nmin_scale = 4\nlevel = "critical"\n',
         "levels.rights[0].rights[0]: 'lfe' is not one of: life"),
        ('[[levels.rights]]\nrights = ["life"]\nlevel = "critical"\n',
         "levels.rights[0].min_scale: missing"),
        ('[next.first_step]\nlow = 3\n', "next.first_step.low: 3 is not of type 'string'"),
        ('description = 5\n', "description: 5 is not of type 'string'"),
        ('name = "has space"\n', "name: 'has space' does not match"),
    ],
)
def test_schema_failures_name_the_json_path(tmp_path, text, key):
    assert key in refused(tmp_path, 'extends = "ungp"\n' + text)


def test_standalone_file_may_leave_out_its_name(tmp_path):
    doc = json.loads(resolve("ungp")[1])
    del doc["name"]
    path = tmp_path / "house-rules.toml"
    lines = _toml(doc)
    for rule in doc["levels"]["rights"]:
        lines.append("[[levels.rights]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in rule.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    name, content = resolve(str(path))
    assert name == "house-rules" == json.loads(content)["name"]


def test_converter_reports_paths():
    from leverage.policy import _structure

    doc = json.loads(resolve("ungp")[1])
    doc["days"]["low"] = "many"
    with pytest.raises(PolicyError, match=r"^here: days.low: invalid value for type, expected int"):
        _structure(doc, "here")
    doc = json.loads(resolve("ungp")[1])
    doc["ladder"]["extra"] = 1
    with pytest.raises(PolicyError, match=r"^here: ladder"):
        _structure(doc, "here")


def test_file_without_extends_must_be_complete(tmp_path):
    message = refused(tmp_path, 'name = "mine"\n[days]\nlow = 9\n')
    assert "policy.toml: description: missing" in message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[findings.overdue]\nmessage = "Due {due} {bogus}"\n',
         "findings.overdue.message: unknown placeholder {bogus}"),
        ('[findings.overdue]\nmessage = "Due {due"\n', "findings.overdue.message: unbalanced"),
        ('[reasons.level]\nmessage = "{level.__class__}"\n',
         "reasons.level.message: bad placeholder"),
        ('[gates]\nterminate = ["very-serious"]\n',
         "gates.terminate[0]: check very-serious needs its parameters in [checks.very-serious]"),
        ('[checks.enhanced-plan]\nstep_kind = "big-plan"\n',
         "checks.enhanced-plan.step_kind: unknown step kind 'big-plan'"),
        ('[levels.worst]\nlow = 2\n', "levels.worst.low: must be 1"),
        ('[levels.worst]\nhigh = 2\n',
         "levels.worst.high: 2 is less than levels.worst.moderate (3)"),
    ],
)
def test_semantic_problems_name_the_key(tmp_path, text, key):
    assert key in refused(tmp_path, 'extends = "ungp"\n' + text)


def test_gate_codes_need_their_texts(tmp_path):
    # a standalone policy using a check whose finding has no text: name the missing text
    doc = json.loads(resolve("ungp")[1])
    doc["gates"]["terminate"] = ["leverage-promising"]
    with pytest.raises(PolicyError, match="findings.missing-leverage-assessment: missing"):
        Policy.from_content(json.dumps(doc))


def test_escaped_braces_in_messages(tmp_path):
    _, content = resolve(write(tmp_path, """
extends = "ungp"
[findings.overdue]
message = "{{literal}} due {due}"
"""))
    assert Policy.from_content(content).message("overdue", due="x") == "{literal} due x"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('extends = "nope"\n', "extends: unknown profile 'nope' (known: csddd, lksg, ungp)"),
        ("[days\n", "invalid TOML"),
    ],
)
def test_bad_extends_and_bad_toml(tmp_path, text, key):
    assert key in refused(tmp_path, text)


def test_circular_extends_is_refused():
    extra = {"a": 'extends = "b"\n', "b": 'extends = "a"\n'}
    with pytest.raises(PolicyError, match="circular"):
        resolve("a", extra)


def test_unknown_name_and_missing_file(tmp_path):
    with pytest.raises(PolicyError, match=r"^nope: no such policy profile or file \(profiles: "):
        resolve("nope")
    missing = str(tmp_path / "missing.toml")
    with pytest.raises(PolicyError, match="missing.toml: no such policy file"):
        resolve(missing)


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ("not json", "stored policy: not JSON"),
        ("[]", "stored policy: must be a JSON object"),
        ('{"extends": "ungp", "name": "x"}', "policy x: extends: a stored policy must be resolved"),
    ],
)
def test_from_content_refuses_bad_content(content, key):
    with pytest.raises(PolicyError, match=key):
        Policy.from_content(content)


def test_from_content_validates_stored_policies():
    doc = json.loads(resolve("ungp")[1])
    doc["days"]["critcal"] = 1
    with pytest.raises(PolicyError, match=r"^policy ungp: days.critcal: unknown key$"):
        Policy.from_content(json.dumps(doc))


# -- the registries, the schema, the engine and the docs agree ---------------------------


def test_schema_lists_every_code_and_check():
    schema = json.loads(_schema_text())
    findings = schema["properties"]["findings"]["properties"]
    reasons = schema["properties"]["reasons"]["properties"]
    assert set(findings) == set(FINDING_TEXTS)
    assert set(reasons) == set(REASON_TEXTS)
    for code, variants in FINDING_TEXTS.items():
        assert set(findings[code]["properties"]) == {"source", *variants}
    for code, variants in REASON_TEXTS.items():
        assert set(reasons[code]["properties"]) == {"source", *variants}
    assert schema["$defs"]["gate_list"]["items"]["enum"] == list(GATE_CHECKS)
    assert set(engine.GATES) == set(GATE_CHECKS)
    assert _schema_text() == (ROOT / "schemas" / "policy.schema.json").read_text()


def test_docs_list_every_code_and_key():
    docs = (ROOT / "docs" / "policy.md").read_text()
    for code in [*FINDING_TEXTS, *REASON_TEXTS, *GATE_CHECKS, *BASE_FINDINGS]:
        assert f"`{code}`" in docs, code
    for key in ("levels.worst", "levels.rights", "days", "ladder.rungs", "ladder.initial",
                "ladder.decisions", "ladder.proportionate", "ladder.low_leverage",
                "step_kinds", "next.first_step", "next.urgent", "review", "reassessment",
                "gates", "checks", "findings", "reasons", "extends", "name", "description"):
        assert f"`{key}" in docs, key
