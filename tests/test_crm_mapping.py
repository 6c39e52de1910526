"""leverage_crm: mapping files, their schema, the bundled mappings and their documentation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from crm_support import FIXTURES
from leverage_crm.mapping import BUNDLED, Outcome, bundled_text, load_bundled, load_file, parse, schema

from leverage import LeverageError
from leverage.cli import cli

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs" / "crm.md"
MINIMAL = 'system = "erp"\n[columns]\nid = "No"\nname = "Name"\n'


pytestmark = pytest.mark.plugins("leverage_crm")


def test_schema_is_served_by_leverage_schema():
    result = CliRunner().invoke(cli, ["schema", "crm-mapping"])
    assert result.exit_code == 0, result.output
    served = json.loads(result.stdout)
    assert served == json.loads((ROOT / "schemas" / "crm-mapping.schema.json").read_text(encoding="utf-8"))
    assert served == schema()
    assert served["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "crm-mapping" in CliRunner().invoke(cli, ["schema"]).stdout


def test_schema_is_valid_json_schema():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(schema())


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_mappings_are_valid(name: str):
    mapping = load_bundled(name)
    assert mapping.system == name
    assert mapping.required_columns[:2] == [mapping.columns["id"], mapping.columns["name"]]


def test_fixture_mapping_is_valid():
    mapping = load_file(FIXTURES / "erp_partners.toml")
    assert (mapping.strict, mapping.delimiter, mapping.encoding) == (True, ";", "cp1252")


def test_defaults():
    mapping = parse(MINIMAL, "m.toml")
    assert mapping.id_prefix == "erp" and mapping.party_id("7") == "erp:7"
    assert (mapping.id_format, mapping.delimiter, mapping.strict, mapping.parent_match) == (
        "text", ",", False, "id")
    assert mapping.unknown == Outcome("other", "other", "from-self")
    assert mapping.otherwise == Outcome(None, "other", "from-self")
    assert parse(MINIMAL.replace('system = "erp"', 'system = "erp"\nid_prefix = ""'), "m").party_id("7") == "7"


@pytest.mark.parametrize(("relationship", "direction"), [
    ("supplies", "to-self"), ("advertises-on", "to-self"), ("invests-in", "to-self"),
    ("serves", "from-self"), ("hosts", "from-self"), ("resells", "from-self"), ("other", "from-self"),
])
def test_default_directions(relationship: str, direction: str):
    mapping = parse(MINIMAL + f'[[types]]\ncolumn = "T"\nvalues = {{ x = {{ relationship = "{relationship}" }} }}\n',
                    "m")
    assert mapping.rules[0].values["x"] == Outcome(relationship, "other", direction)


@pytest.mark.parametrize(("text", "message"), [
    ("system = ", "m.toml: invalid TOML"),
    ('system = "erp"\n', "m.toml: (top level): 'columns' is a required property"),
    ("colour = 1\n" + MINIMAL, "m.toml: (top level): unknown key 'colour'"),
    (MINIMAL.replace('name = "Name"', 'name = "Name"\nemail = "E"'), "m.toml: columns: unknown key 'email'"),
    ('delimiter = ";;"\n' + MINIMAL, "m.toml: delimiter:"),
    (MINIMAL + '[[types]]\ncolumn = "T"\nvalues = { x = { relationship = "friends" } }\n',
     "m.toml: types[0].values.x"),
    (MINIMAL + '[[types]]\ncolumn = "T"\nvalues = { x = "later" }\n', "m.toml: types[0].values.x"),
    (MINIMAL + '[kinds]\nK = "self"\n', "m.toml: kinds.K"),
    (MINIMAL + '[[types]]\ncolumn = "T"\nvalues = { "A" = "next", " a" = "next" }\n',
     "m.toml: types[0].values: ' a' is listed twice"),
    (MINIMAL.replace('system = "erp"', 'system = "my erp"'), "m.toml: system:"),
])
def test_bad_mappings(text: str, message: str):
    with pytest.raises(LeverageError) as info:
        parse(text, "m.toml")
    assert str(info.value).startswith(message), str(info.value)
    assert "\n" not in str(info.value)


def test_bad_mapping_from_the_command_line(tmp_path: Path):
    mapping = tmp_path / "bad.toml"
    mapping.write_text("colour = 1\n" + MINIMAL, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "x.db"), "import", "crm", "a.csv",
                                      "--format", "csv", "--mapping", str(mapping)])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {mapping}: (top level): unknown key 'colour'"


def test_missing_mapping_file(tmp_path: Path):
    with pytest.raises(LeverageError, match="cannot read the mapping"):
        load_file(tmp_path / "none.toml")


# -- documentation -----------------------------------------------------------------------------------

def test_docs_show_the_bundled_mappings_verbatim():
    text = DOCS.read_text(encoding="utf-8")
    for name in BUNDLED:
        assert f"```toml\n{bundled_text(name)}```" in text, f"docs/crm.md does not show {name}.toml as it is"


def test_docs_examples_are_valid_mappings():
    blocks = re.findall(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 3
    for block in blocks:
        parse(block, "docs/crm.md")


def test_docs_describe_every_key_of_the_schema():
    text = DOCS.read_text(encoding="utf-8")
    spec = schema()
    keys = set(spec["properties"]) | set(spec["properties"]["columns"]["properties"])
    keys |= set(spec["$defs"]["outcome"]["properties"])
    for key in sorted(keys):
        assert f"| `{key}` |" in text, f"docs/crm.md has no table row for `{key}`"
