"""leverage_crm: first imports of Salesforce, HubSpot and mapped-CSV exports, dry runs,
JSON output and the plugin's wiring (issue 5)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from crm_support import ERP, ERP_MAPPING, FIXTURES, HS, SF, make_ledger, run

from leverage import plugins
from leverage.cli import cli
from leverage.ledger import open_ledger
from leverage.testing import _reset_cli

AT = "2024-06-30"


pytestmark = pytest.mark.plugins("leverage_crm")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return make_ledger(tmp_path / "crm.db")


def state_of(db: Path):
    with open_ledger(db) as ledger:
        return ledger.state()


def count_of(db: Path) -> int:
    with open_ledger(db) as ledger:
        return ledger.count()


def sf_rows() -> dict[str, dict[str, str]]:
    """The Salesforce fixture's rows by Name."""
    with open(SF, encoding="utf-8", newline="") as fh:
        return {row["Name"]: row for row in csv.DictReader(fh)}


def sf_party(name: str) -> str:
    return "sf:" + sf_rows()[name]["Id"]


# -- Salesforce --------------------------------------------------------------------------------

# Name -> (party kind, relationship type or None, direction: "down" self->account, "up" account->self)
SALESFORCE_EXPECTED = {
    "Acme Media SARL": ("client", "serves", "down"),                        # Customer - Direct
    "株式会社サクラ電子": ("client", "serves", "down"),                        # Customer - Channel
    "Al-Noor Trading LLC / شركة النور للتجارة": ("partner", "resells", "down"),  # Channel Partner / Reseller
    "Installers & Co": ("partner", "partners-with", "down"),                # Installation Partner
    "Initech Cloud Services, Inc.": ("partner", "partners-with", "down"),   # Technology Partner
    "ООО «Северный Ветер»": ("other", None, None),                          # Prospect: party only
    "Dhaka Knitwear Ltd.": ("supplier", "other", "up"),                     # Vendor
    "Anadolu Tekstil San. ve Tic. A.Ş.": ("supplier", "other", "up"),       # Supplier
    "Ελληνική Ναυτιλιακή Α.Ε.": ("other", "other", "down"),                 # Other
    "Rival Hosting AG": ("other", "other", "down"),                         # Competitor: not listed
    "Nørrebro Data ApS": ("other", "other", "down"),                        # blank Type
}


def test_salesforce_import_maps_every_type(db: Path):
    result = run(db, SF, "--format", "salesforce", "--at", AT)
    assert result.exit_code == 0, result.output
    assert "37 accounts (1 row skipped)" in result.stdout
    state = state_of(db)
    for name, (kind, rel_type, direction) in SALESFORCE_EXPECTED.items():
        pid = sf_party(name)
        party = state.parties[pid]
        assert (party.name, party.kind) == (name, kind)
        rels = [r for r in state.relationships.values() if pid in (r.source, r.target) and r.type != "owns"]
        if rel_type is None:
            assert rels == [], name
            continue
        (rel,) = rels
        assert rel.type == rel_type, name
        if direction == "down":
            assert (rel.id, rel.source, rel.target) == (f"{pid}:downstream", "we", pid)
        else:
            assert (rel.id, rel.source, rel.target) == (f"{pid}:upstream", pid, "we")


def test_salesforce_party_fields_and_provenance(db: Path):
    assert run(db, SF, "--format", "salesforce", "--at", AT).exit_code == 0
    state = state_of(db)
    row = sf_rows()["Acme Media SARL"]
    acme = state.parties["sf:" + row["Id"]]
    assert acme.country == "France" and acme.sector == "Media"
    assert acme.external_ids == {"salesforce": row["Id"]}
    assert acme.attributes == {"source": {"file": "salesforce_accounts.csv", "row": 2,
                                          "system": "salesforce"}}
    assert acme.added_at == AT
    rel = state.relationships["sf:" + row["Id"] + ":downstream"]
    assert rel.attributes == {"source": {"file": "salesforce_accounts.csv", "row": 2,
                                         "system": "salesforce"}}
    # the row is the line the record starts on (Acme's street spans two lines)
    nordlicht = state.parties[sf_party("Nordlicht Verlag GmbH")]
    assert nordlicht.attributes["source"]["row"] == 4


def test_salesforce_parents_become_owns_relationships(db: Path):
    assert run(db, SF, "--format", "salesforce", "--at", AT).exit_code == 0
    state = state_of(db)
    owns = {(r.source, r.target): r for r in state.relationships.values() if r.type == "owns"}
    holding, retail = sf_party("Globex Holdings plc"), sf_party("Globex Retail Ltd")
    expected = {
        (holding, retail),
        (holding, sf_party("Globex Logistics B.V.")),
        (holding, sf_party("Globex Insurance DAC")),
        (retail, sf_party("Globex Retail Polska Sp. z o.o.")),        # a grandchild
        (sf_party("株式会社サクラ電子"), sf_party("Sakura Electronics America, Inc.")),
    }
    assert set(owns) == expected
    assert owns[(holding, retail)].id == f"{retail}:owned-by:{holding}"


def test_salesforce_deleted_rows_are_skipped(db: Path):
    assert run(db, SF, "--format", "salesforce", "--at", AT).exit_code == 0
    assert sf_party("Old Duplicate Account (do not use)") not in state_of(db).parties


def test_names_and_values_are_stored_exactly(db: Path):
    assert run(db, SF, "--format", "salesforce", "--at", AT).exit_code == 0
    names = {p.name for p in state_of(db).parties.values()}
    for name in ["=SUM(A1:A9) Design Studio", "+49 Solutions GmbH", "-Minus Architects",
                 "@Home Networks Inc.", 'O\'Brien & Sons "The Good" Bakery', 'חברת אור בע"מ',
                 "Zhejiang Huaxin Textiles Co., Ltd. (浙江华信纺织有限公司)", "भारत डिजिटल सेवाएँ प्रा. लि.",
                 "한빛 소프트 주식회사", "Công ty TNHH May Mặc Sài Gòn"]:
        assert name in names


def test_newlines_and_spaces_inside_names_are_kept(db: Path, tmp_path: Path):
    path = tmp_path / "multi.csv"
    path.write_text('Id,Name,Type\n001000000000001,"Two\nLines, Inc.",Prospect\n'
                    '001000000000002,"  Padded  ",Prospect\n', encoding="utf-8")
    assert run(db, path, "--format", "salesforce", "--at", AT).exit_code == 0
    names = sorted(p.name for p in state_of(db).parties.values() if p.id != "we")
    assert names == ["  Padded  ", "Two\nLines, Inc."]


def test_salesforce_15_character_ids_become_18(db: Path, tmp_path: Path):
    path = tmp_path / "report.csv"
    path.write_text("Id,Name,Type\n001A0000006Vm9r,Acme,Customer - Direct\n", encoding="utf-8")
    assert run(db, path, "--format", "salesforce", "--at", AT).exit_code == 0
    party = state_of(db).parties["sf:001A0000006Vm9rIAC"]
    assert party.external_ids == {"salesforce": "001A0000006Vm9rIAC"}


def test_headers_match_ignoring_case(db: Path, tmp_path: Path):
    """Data Loader writes the API names in capitals."""
    path = tmp_path / "dataloader.csv"
    path.write_text('"ID","NAME","TYPE","PARENTID","BILLINGCOUNTRY","INDUSTRY"\n'
                    '"001A0000006Vm9rIAC","Acme","Customer - Direct","","France","Media"\n',
                    encoding="utf-8")
    assert run(db, path, "--format", "salesforce", "--at", AT).exit_code == 0
    party = state_of(db).parties["sf:001A0000006Vm9rIAC"]
    assert (party.country, party.sector) == ("France", "Media")


# -- HubSpot -------------------------------------------------------------------------------------

def test_hubspot_import(db: Path):
    result = run(db, HS, "--format", "hubspot", "--at", AT)
    assert result.exit_code == 0, result.output
    state = state_of(db)
    rels = {r.id: r for r in state.relationships.values()}

    def rel(record: str):
        return [r for r in rels.values() if f"hs:{record}" in (r.source, r.target) and r.type != "owns"
                and r.id.startswith(f"hs:{record}:")]

    assert state.parties["hs:5723895201"].name == "Brightwave Analytics"           # the BOM is gone
    assert state.parties["hs:5723895201"].external_ids == {"hubspot": "5723895201"}
    assert [r.type for r in rel("5723895201")] == ["partners-with"]               # Type Partner
    assert [r.type for r in rel("5723895205")] == ["resells"]                     # Type Reseller
    (vendor,) = rel("5723895203")                                                 # Type Vendor
    assert (vendor.type, vendor.source, vendor.target) == ("supplies", "hs:5723895203", "we")
    assert state.parties["hs:5723895203"].kind == "supplier"
    assert [r.type for r in rel("5723895202")] == ["serves"]                      # Lifecycle Customer
    assert state.parties["hs:5723895202"].kind == "client"
    assert rel("5723895204") == []                                                # Prospect / Lead
    assert rel("5723895213") == []                                                # nothing
    assert rel("5723895207") == []                                                # Opportunity
    assert [r.type for r in rel("5723895208")] == ["partners-with"]               # Type before stage
    owns = {(r.source, r.target) for r in rels.values() if r.type == "owns"}
    assert owns == {
        ("hs:5723895205", "hs:5723895206"),   # Parent Company by Record ID
        ("hs:5723895201", "hs:5723895216"),
        ("hs:5723895209", "hs:5723895210"),   # Parent Company by the parent's exact name
    }
    assert state.parties["hs:5723895211"].name == "=cmd|' /C calc'!A0"


# -- mapped CSV ----------------------------------------------------------------------------------

def test_mapped_csv_with_strict_mapping_semicolons_and_cp1252(db: Path):
    result = run(db, ERP, "--format", "csv", "--mapping", ERP_MAPPING, "--at", AT)
    assert result.exit_code == 0, result.output
    state = state_of(db)
    assert state.parties["erp:K-10002"].name == "Bäckerei Groß & Söhne"
    assert state.parties["erp:K-10009"].name == "€uro-Rack Systeme GmbH"
    assert state.parties["erp:K-10005"].kind == "government"                      # from the kind column
    assert state.parties["erp:K-10006"].kind == "civil-society"
    # an id with a character ids cannot hold: the raw id is kept as the external id
    assert state.parties["erp:K-10010"].external_ids == {"erp": "K/10010"}
    supplier = state.relationships["erp:K-10001:upstream"]
    assert (supplier.source, supplier.target, supplier.type) == ("erp:K-10001", "we", "supplies")
    assert state.relationships["erp:K-10003:downstream"].type == "hosts"
    assert not [r for r in state.relationships if r.startswith("erp:K-10005:")]   # keine
    assert state.relationships["erp:K-10004:owned-by:erp:K-10003"].type == "owns"


def test_mapping_replaces_the_bundled_one(db: Path, tmp_path: Path):
    mapping = tmp_path / "sf-vendors.toml"
    text = (FIXTURES.parent.parent.parent / "plugins" / "leverage_crm" / "mappings" / "salesforce.toml")
    mapping.write_text(text.read_text(encoding="utf-8").replace(
        '"Vendor" = { relationship = "other"', '"Vendor" = { relationship = "supplies"'), encoding="utf-8")
    assert run(db, SF, "--format", "salesforce", "--mapping", mapping, "--at", AT).exit_code == 0
    pid = sf_party("Dhaka Knitwear Ltd.")
    assert state_of(db).relationships[f"{pid}:upstream"].type == "supplies"


# -- self ------------------------------------------------------------------------------------------

def test_self_defaults_to_the_only_self_party(db: Path):
    assert run(db, SF, "--format", "salesforce", "--at", AT).exit_code == 0
    assert state_of(db).relationships[sf_party("Acme Media SARL") + ":downstream"].source == "we"


def test_self_option_chooses_among_several(db: Path):
    with open_ledger(db) as ledger:
        ledger.append([{"type": "party.added", "at": "2020-01-01", "actor": "t",
                        "data": {"id": "we-uk", "name": "We UK Ltd", "kind": "self"}}])
    result = run(db, SF, "--format", "salesforce", "--at", AT)
    assert result.exit_code == 1
    assert "several parties of kind self (we, we-uk): pass --self PARTY" in result.stderr
    assert run(db, SF, "--format", "salesforce", "--at", AT, "--self", "we-uk").exit_code == 0
    assert state_of(db).relationships[sf_party("Acme Media SARL") + ":downstream"].source == "we-uk"


def test_no_self_party_is_an_error(tmp_path: Path):
    db = tmp_path / "empty.db"
    open_ledger(db, create=True).close()
    result = run(db, SF, "--format", "salesforce")
    assert result.exit_code == 1
    assert "no party of kind self in the ledger" in result.stderr
    assert count_of(db) == 0


def test_unknown_self_party_is_an_error(db: Path):
    result = run(db, SF, "--format", "salesforce", "--self", "nobody")
    assert result.exit_code == 1
    assert "--self nobody: no such party in the ledger" in result.stderr


# -- dry run and JSON ----------------------------------------------------------------------------

def test_dry_run_writes_nothing_and_prints_every_event(db: Path):
    with open_ledger(db) as ledger:
        head = ledger.head()
    result = run(db, SF, "--format", "salesforce", "--at", AT, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would write 77 events (37 parties added, 40 relationships added); nothing written" in result.stdout
    assert "Acme Media SARL" in result.stdout and "relationship.added" in result.stdout
    with open_ledger(db) as ledger:
        assert ledger.head() == head


def test_dry_run_json_lines_are_the_events_a_real_import_writes(db: Path, tmp_path: Path):
    dry = run(db, SF, "--format", "salesforce", "--at", AT, "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert count_of(db) == 1
    lines = dry.stdout.split("\n")[:-1]
    events = [json.loads(line) for line in lines]
    assert len(events) == 77
    assert all(set(e) == {"type", "at", "actor", "data"} for e in events)
    assert "nothing written" in dry.stderr
    real = run(db, SF, "--format", "salesforce", "--at", AT, "--json")
    assert real.exit_code == 0
    assert real.stdout.split("\n")[:-1] == lines
    with open_ledger(db) as ledger:
        written = [{"type": e.type, "at": e.at, "actor": e.actor, "data": e.data}
                   for e in ledger.iter_events()][1:]
    assert written == events
    # the printed lines load into another ledger as they are
    other = tmp_path / "other.db"
    ledger = open_ledger(other, create=True)
    ledger.append([{"type": "party.added", "at": "2020-01-01", "actor": "t",
                    "data": {"id": "we", "name": "We", "kind": "self"}}])
    ledger.close()
    events_file = tmp_path / "events.jsonl"
    events_file.write_text(dry.stdout, encoding="utf-8")
    loaded = CliRunner().invoke(cli, ["--db", str(other), "load", str(events_file)])
    assert loaded.exit_code == 0, loaded.output


def test_dry_run_checks_events_like_a_write(db: Path):
    """--at before the self party existed: refused by the core's checks, even on a dry run."""
    result = run(db, SF, "--format", "salesforce", "--at", "2019-01-01", "--dry-run")
    assert result.exit_code == 1
    assert "salesforce_accounts.csv:2:" in result.stderr and "before party 'we' was added" in result.stderr
    assert count_of(db) == 1


def test_actor_and_default_at(db: Path):
    assert CliRunner().invoke(cli, ["--db", str(db), "--actor", "ana", "import", "crm", str(SF),
                                    "--format", "salesforce"]).exit_code == 0
    with open_ledger(db) as ledger:
        last = list(ledger.iter_events())[-1]
    assert last.actor == "ana"
    assert last.at.endswith("Z") and "T" in last.at


# -- wiring ----------------------------------------------------------------------------------------

def test_importer_is_registered_through_the_hook():
    result = CliRunner().invoke(cli, ["import", "--help"])
    assert result.exit_code == 0
    assert "crm" in result.stdout
    assert plugins.registries().importers["crm"][1] == "leverage_crm"
    infos = json.loads(CliRunner().invoke(cli, ["plugins", "--json"]).stdout)
    crm = next(i for i in infos if i["name"] == "leverage_crm")
    assert crm["status"] == "loaded"
    assert {"register_importers", "register_schemas"} <= set(crm["hooks"])


def test_without_the_plugin_there_is_no_crm_importer(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LEVERAGE_LOAD_PLUGINS", "")
    plugins.reset()
    _reset_cli(cli)
    result = CliRunner().invoke(cli, ["import", "crm", "x.csv"])
    assert result.exit_code != 0
    assert "crm" not in plugins.registries().importers


def test_help_does_not_import_the_importer():
    code = ("import sys; from click.testing import CliRunner; from leverage.cli import cli; "
            "r = CliRunner().invoke(cli, ['--help']); assert r.exit_code == 0, r.output; "
            "print(sorted(m for m in ('leverage_crm.command', 'leverage_crm.importer', 'jsonschema', "
            "'rich.progress') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "LEVERAGE_LOAD_PLUGINS": "leverage_crm"})
    assert out.stdout.strip() == "[]"


def test_progress_bar_only_for_large_files_on_a_terminal(tmp_path: Path):
    from leverage_crm.command import PROGRESS_ROWS, _Progress
    from leverage_crm.reader import Position

    path = tmp_path / "f.csv"
    path.write_text("x\n", encoding="utf-8")
    pos = Position()
    quiet = _Progress(str(path))          # CliRunner / pytest: stderr is not a terminal
    assert quiet.enabled is False
    quiet.reading(pos, PROGRESS_ROWS + 1000)
    assert quiet.bar is None and quiet.wrote_callback is None
    shown = _Progress(str(path))
    shown.enabled = True
    shown.reading(pos, PROGRESS_ROWS)
    assert shown.bar is None                # small files: no bar
    shown.reading(pos, PROGRESS_ROWS + 1000)
    try:
        assert shown.bar is not None
        shown.writing(10)
        shown.wrote_callback(5)
    finally:
        shown.stop()
    assert shown.bar is None


def test_no_progress_output_when_not_a_terminal(db: Path, tmp_path: Path):
    path = tmp_path / "big.csv"
    rows = ["Id,Name,Type"] + [f"{'001' + str(i).zfill(12)},Company {i},Customer - Direct" for i in range(6000)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    dry = run(db, path, "--format", "salesforce", "--at", AT, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.stderr == ""
    lines = dry.stdout.split("\n")
    assert lines[0] == "line\ttype\tid\twhat"          # too many events for a table: plain lines
    assert lines[1].startswith("2\tparty.added\tsf:001000000000000AAA\tname=Company 0; kind=client")
    assert len(lines) == 1 + 12000 + 2
    result = run(db, path, "--format", "salesforce", "--at", AT)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "6000 accounts" in result.stdout
