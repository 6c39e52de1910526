"""leverage_crm: keeping the ledger in step with later exports: idempotence, change
detection, reversed directions, disappeared rows, --end-missing (issue 5, "Sync semantics")."""

from __future__ import annotations

import csv
import io
import json
import random
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from crm_support import ERP, ERP_MAPPING, HS, SF, SF_CHANGED, make_ledger, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leverage.cli import cli
from leverage.ledger import open_ledger

pytestmark = pytest.mark.plugins("leverage_crm")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return make_ledger(tmp_path / "crm.db")


def sf(db: Path, path: Path, *args: object, at: str = "2024-06-30"):
    result = run(db, path, "--format", "salesforce", "--at", at, *args)
    assert result.exit_code == 0, result.output
    return result


def events(db: Path) -> list:
    with open_ledger(db) as ledger:
        return list(ledger.iter_events())


def state_of(db: Path):
    with open_ledger(db) as ledger:
        return ledger.state()


def ids_by_name(path: Path = SF) -> dict[str, str]:
    with open(path, encoding="utf-8", newline="") as fh:
        return {row["Name"]: "sf:" + row["Id"] for row in csv.DictReader(fh)}


ID = ids_by_name()


# -- idempotence ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "args"), [
    (SF, ["--format", "salesforce"]),
    (HS, ["--format", "hubspot"]),
    (ERP, ["--format", "csv", "--mapping", ERP_MAPPING]),
])
def test_importing_the_same_file_twice_writes_nothing_the_second_time(db: Path, path: Path, args: list):
    first = run(db, path, *args, "--at", "2024-06-30")
    assert first.exit_code == 0, first.output
    before = events(db)
    again = run(db, path, *args)          # later, without --at: still nothing to write
    assert again.exit_code == 0, again.output
    assert "the ledger is in step already: nothing to write" in again.stdout
    assert events(db) == before


def test_whatever_the_file_is_called_and_however_rows_are_ordered(db: Path, tmp_path: Path):
    sf(db, SF)
    before = len(events(db))
    text = SF.read_text(encoding="utf-8")
    renamed = tmp_path / "Accounts export 2024-07-01.csv"
    renamed.write_text(text, encoding="utf-8")
    assert "nothing to write" in sf(db, renamed).stdout
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    random.Random(5).shuffle(body)
    shuffled = tmp_path / "shuffled.csv"
    with open(shuffled, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *body])
    assert "nothing to write" in sf(db, shuffled).stdout
    assert len(events(db)) == before


def test_15_and_18_character_ids_name_the_same_accounts(db: Path, tmp_path: Path):
    sf(db, SF)
    before = len(events(db))
    text = SF.read_text(encoding="utf-8")
    for pid in ID.values():
        text = text.replace(pid[3:], pid[3:18])
    short = tmp_path / "report.csv"
    short.write_text(text, encoding="utf-8")
    assert "nothing to write" in sf(db, short).stdout
    assert len(events(db)) == before


def test_a_bom_and_crlf_change_nothing(db: Path, tmp_path: Path):
    sf(db, SF)
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + SF.read_bytes().replace(b"\r\n", b"\n"))
    assert "nothing to write" in sf(db, bom).stdout


# -- change detection ------------------------------------------------------------------------------

def test_a_later_export_writes_only_the_changes(db: Path):
    sf(db, SF)
    seq = len(events(db))
    result = sf(db, SF_CHANGED, at="2024-09-30")
    new = [e for e in events(db) if e.seq > seq]
    by = {(e.type, e.data["id"]): e.data for e in new}
    acme, sakura, dhaka = ID["Acme Media SARL"], ID["株式会社サクラ電子"], ID["Dhaka Knitwear Ltd."]
    logistics, holding, retail = ID["Globex Logistics B.V."], ID["Globex Holdings plc"], ID["Globex Retail Ltd"]
    severny, brasil = ID["ООО «Северный Ветер»"], ID["Empresa Brasileira de Logística S.A."]
    source = {"file": "salesforce_accounts_changed.csv", "system": "salesforce"}
    # a renamed account: only the name (and the provenance)
    assert by[("party.updated", acme)] == {"id": acme, "name": "Acme Media SAS",
                                           "attributes": {"source": {**source, "row": 2}}}
    assert set(by[("party.updated", brasil)]) == {"id", "country", "attributes"}
    # Customer - Channel -> Channel Partner / Reseller: same direction, the type changes
    assert by[("relationship.updated", f"{sakura}:downstream")]["type"] == "resells"
    assert by[("party.updated", sakura)]["kind"] == "partner"
    # Vendor -> Customer - Direct: the direction reverses: ended, and a new relationship
    assert by[("relationship.ended", f"{dhaka}:upstream")]["reason"].startswith("CRM import: ")
    assert by[("relationship.added", f"{dhaka}:downstream")]["source"] == "we"
    # a new parent: the old owns relationship ends, a new one begins
    assert ("relationship.ended", f"{logistics}:owned-by:{holding}") in by
    assert by[("relationship.added", f"{logistics}:owned-by:{retail}")]["source"] == retail
    # a prospect that became a customer
    assert by[("relationship.added", f"{severny}:downstream")]["type"] == "serves"
    # a new account
    assert [d["name"] for (t, _), d in by.items() if t == "party.added"] == ["Baltic Cloud UAB"]
    assert len(new) == 14
    assert "wrote 14 events" in result.stdout
    # what disappeared is reported, never silently ended
    nordlicht, equals = ID["Nordlicht Verlag GmbH"], ID["=SUM(A1:A9) Design Studio"]
    insurance = ID["Globex Insurance DAC"]
    assert f"1 salesforce party in the ledger is not in salesforce_accounts_changed.csv: {nordlicht}" in result.stderr
    assert "3 relationships no longer in salesforce_accounts_changed.csv stay active" in result.stderr
    state = state_of(db)
    for rid in (f"{nordlicht}:downstream", f"{equals}:downstream", f"{insurance}:owned-by:{holding}"):
        assert rid in result.stderr
        assert not state.relationships[rid].ended
    # and importing the later export again writes nothing
    assert "nothing to write" in sf(db, SF_CHANGED, at="2024-09-30").stdout


def test_end_missing_ends_what_disappeared(db: Path):
    sf(db, SF)
    sf(db, SF_CHANGED, at="2024-09-30")
    seq = len(events(db))
    result = sf(db, SF_CHANGED, "--end-missing", at="2024-10-01")
    ended = {e.data["id"]: e.data for e in events(db) if e.seq > seq}
    nordlicht, equals = ID["Nordlicht Verlag GmbH"], ID["=SUM(A1:A9) Design Studio"]
    insurance, holding = ID["Globex Insurance DAC"], ID["Globex Holdings plc"]
    assert set(ended) == {f"{nordlicht}:downstream", f"{equals}:downstream", f"{insurance}:owned-by:{holding}"}
    assert ended[f"{nordlicht}:downstream"]["reason"] == (
        f"CRM import: {nordlicht} is no longer in salesforce_accounts_changed.csv")
    assert ended[f"{nordlicht}:downstream"]["attributes"] == {
        "source": {"file": "salesforce_accounts_changed.csv", "system": "salesforce"}}
    assert "3 relationships ended" in result.stdout
    # the party stays: the ledger is a record
    assert nordlicht in state_of(db).parties
    assert "nothing to write" in sf(db, SF_CHANGED, "--end-missing", at="2024-10-01").stdout


def test_end_missing_in_the_same_run_as_the_changes(db: Path):
    sf(db, SF)
    result = sf(db, SF_CHANGED, "--end-missing", at="2024-09-30")
    assert "17 events" in result.stdout
    assert "stay active" not in result.stderr


def test_a_direction_that_reverses_back_gets_a_new_relationship(db: Path, tmp_path: Path):
    def export(type_: str) -> Path:
        path = tmp_path / f"{type_}.csv"
        path.write_text(f"Id,Name,Type\n001A0000006Vm9rIAC,Acme,{type_}\n", encoding="utf-8")
        return path

    sf(db, export("Vendor"), at="2024-01-01")
    sf(db, export("Customer - Direct"), at="2024-02-01")
    sf(db, export("Vendor"), at="2024-03-01")
    rels = state_of(db).relationships
    pid = "sf:001A0000006Vm9rIAC"
    assert rels[f"{pid}:upstream"].ended and rels[f"{pid}:downstream"].ended
    assert not rels[f"{pid}:upstream.2"].ended
    assert rels[f"{pid}:upstream.2"].source == pid
    assert "nothing to write" in sf(db, export("Vendor"), at="2024-03-01").stdout


def test_a_relationship_ended_by_a_person_is_not_added_again(db: Path):
    sf(db, SF)
    rid = ID["Acme Media SARL"] + ":downstream"
    ended = CliRunner().invoke(cli, ["--db", str(db), "rel", "end", rid, "--reason", "contract expired",
                                     "--at", "2024-07-15"])
    assert ended.exit_code == 0, ended.output
    result = sf(db, SF, at="2024-08-01")
    assert "nothing to write" in result.stdout
    assert f"1 relationship was ended in the ledger and not added again: {rid}" in result.stderr
    assert "contract expired" in result.stderr


def test_a_prospect_that_comes_back_after_end_missing_is_added_again(db: Path, tmp_path: Path):
    path = tmp_path / "a.csv"
    path.write_text("Id,Name,Type\n001A0000006Vm9rIAC,Acme,Customer - Direct\n", encoding="utf-8")
    sf(db, path, at="2024-01-01")
    path.write_text("Id,Name,Type\n001A0000006Vm9rIAC,Acme,Prospect\n", encoding="utf-8")
    sf(db, path, "--end-missing", at="2024-02-01")
    path.write_text("Id,Name,Type\n001A0000006Vm9rIAC,Acme,Customer - Direct\n", encoding="utf-8")
    sf(db, path, at="2024-03-01")
    rels = state_of(db).relationships
    assert rels["sf:001A0000006Vm9rIAC:downstream"].ended
    assert not rels["sf:001A0000006Vm9rIAC:downstream.2"].ended


def test_a_party_edited_in_the_ledger_is_brought_back_in_step(db: Path):
    sf(db, SF)
    acme = ID["Acme Media SARL"]
    edit = CliRunner().invoke(cli, ["--db", str(db), "party", "update", acme, "--name", "ACME (typo)"])
    assert edit.exit_code == 0, edit.output
    dry = run(db, SF, "--format", "salesforce", "--dry-run", "--json")
    (event,) = [json.loads(line) for line in dry.stdout.split("\n")[:-1]]
    assert event["type"] == "party.updated"
    assert event["data"] == {"id": acme, "name": "Acme Media SARL",
                             "attributes": {"source": {"file": "salesforce_accounts.csv", "row": 2,
                                                       "system": "salesforce"}}}


def test_a_blank_cell_does_not_clear_a_field(db: Path, tmp_path: Path):
    path = tmp_path / "a.csv"
    path.write_text("Id,Name,Type,BillingCountry\n001A0000006Vm9rIAC,Acme,Prospect,France\n", encoding="utf-8")
    sf(db, path)
    path.write_text("Id,Name,Type,BillingCountry\n001A0000006Vm9rIAC,Acme,Prospect,\n", encoding="utf-8")
    assert "nothing to write" in sf(db, path).stdout
    assert state_of(db).parties["sf:001A0000006Vm9rIAC"].country == "France"


def test_a_missing_optional_column_changes_nothing(db: Path, tmp_path: Path):
    """An export without ParentId says nothing about parents: nothing is reported missing."""
    sf(db, SF)
    rows = list(csv.DictReader(io.StringIO(SF.read_text(encoding="utf-8"), newline="")))
    path = tmp_path / "no-parents.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, ["Id", "IsDeleted", "Name", "Type", "BillingCountry", "Industry"],
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    result = sf(db, path)
    assert "nothing to write" in result.stdout
    assert result.stderr == ""


# -- any table of names and types survives import -> export ------------------------------------------

SF_TYPES = ["Customer - Direct", "Customer - Channel", "Channel Partner / Reseller", "Installation Partner",
            "Technology Partner", "Prospect", "Vendor", "Other", "", "Competitor", "customer - direct "]
KIND = {"customer - direct": "client", "customer - channel": "client", "channel partner / reseller": "partner",
        "installation partner": "partner", "technology partner": "partner", "vendor": "supplier"}

names = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1,
                max_size=40).filter(lambda s: s.strip())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=st.lists(st.tuples(names, st.sampled_from(SF_TYPES)), min_size=1, max_size=12))
def test_any_table_of_names_and_types_survives_import_and_export(table: list[tuple[str, str]]):
    with tempfile.TemporaryDirectory() as tmp:
        db = make_ledger(Path(tmp) / "l.db")
        path = Path(tmp) / "accounts.csv"
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerow(["Id", "Name", "Type"])
            for i, (name, type_) in enumerate(table):
                writer.writerow([f"001{i:012d}", name, type_])
        result = run(db, path, "--format", "salesforce", "--at", "2024-06-30")
        assert result.exit_code == 0, result.output
        exported = CliRunner().invoke(cli, ["--db", str(db), "export"])
        assert exported.exit_code == 0
        parties = {}
        for line in exported.stdout.split("\n")[:-1]:
            event = json.loads(line)
            if event["type"] == "party.added" and event["data"]["id"] != "we":
                parties[event["data"]["external_ids"]["salesforce"][:15]] = event["data"]
        assert len(parties) == len(table)
        for i, (name, type_) in enumerate(table):
            party = parties[f"001{i:012d}"]
            assert party["name"] == name
            assert party["kind"] == KIND.get(type_.strip().casefold(), "other")
        assert "nothing to write" in run(db, path, "--format", "salesforce").stdout


def test_a_party_added_by_hand_with_the_crm_id_is_that_account(db: Path, tmp_path: Path):
    """A party made before the first import, with the Salesforce Id as its external id (even the
    15-character form), is the account: updated, not duplicated."""
    added = CliRunner().invoke(cli, ["--db", str(db), "party", "add", "acme", "--name", "ACME", "--kind", "client",
                                     "--external-id", "salesforce=001A0000006Vm9r", "--at", "2021-01-01"])
    assert added.exit_code == 0, added.output
    path = tmp_path / "a.csv"
    path.write_text("Id,Name,Type,ParentId\n001A0000006Vm9rIAC,Acme Media,Customer - Direct,\n"
                    "001A0000006Vm9sIAC,Acme Subsidiary,Customer - Direct,001A0000006Vm9rIAC\n", encoding="utf-8")
    sf(db, path)
    state = state_of(db)
    assert "sf:001A0000006Vm9rIAC" not in state.parties
    acme = state.parties["acme"]
    assert (acme.name, acme.external_ids) == ("Acme Media", {"salesforce": "001A0000006Vm9rIAC"})
    assert state.relationships["acme:downstream"].target == "acme"
    assert state.relationships["sf:001A0000006Vm9sIAC:owned-by:acme"].source == "acme"
    result = sf(db, path)
    assert "nothing to write" in result.stdout
    assert result.stderr == ""
