"""leverage_crm: bad input gives one clear error naming the file, the line and the column,
and writes nothing (issue 5, "Bad input")."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from crm_support import ERP, ERP_MAPPING, make_ledger

from leverage.cli import cli
from leverage.ledger import open_ledger

SF_HEADER = "Id,Name,Type,ParentId\n"


pytestmark = pytest.mark.plugins("leverage_crm")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return make_ledger(tmp_path / "crm.db")


@pytest.fixture
def refused(db: Path, tmp_path: Path):
    """``refused(content, *args, name="accounts.csv")``: import a file (text, or bytes as they
    are) and check the run is a user error: exit 1, one line on stderr, nothing written.
    Returns that line."""

    def check(content: str | bytes, *args: object, name: str = "accounts.csv") -> str:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        with open_ledger(db) as ledger:
            head = ledger.head()
        fmt = [] if any(str(a).startswith("--format") or str(a) == "--mapping" for a in args) else [
            "--format", "salesforce"]
        result = CliRunner().invoke(cli, ["--db", str(db), "import", "crm", str(path), *fmt,
                                          *(str(a) for a in args)])
        assert result.exit_code == 1, (result.output, result.exception)
        assert isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output
        lines = result.stderr.splitlines()
        assert len(lines) == 1, lines
        with open_ledger(db) as ledger:
            assert ledger.head() == head
        return lines[0]

    return check


def test_missing_required_column(refused, tmp_path: Path):
    line = refused("Id,Type\n001A0000006Vm9rIAC,Prospect\n")
    assert f"{tmp_path / 'accounts.csv'}:1: missing column 'Name'" in line
    assert "the salesforce mapping needs Id, Name, Type; the header has: Id, Type" in line


def test_wrong_delimiter(refused):
    line = refused("Id;Name;Type\n001A0000006Vm9rIAC;Acme;Prospect\n")
    assert "accounts.csv:1: missing column 'Id'" in line
    assert "the file's delimiter looks like ';', not ','" in line


def test_missing_type_column(refused):
    assert "missing column 'Type'" in refused("Id,Name\n001A0000006Vm9rIAC,Acme\n")


def test_duplicate_crm_id(refused):
    line = refused(SF_HEADER + "001A0000006Vm9rIAC,Acme,Prospect,\n001A0000006Vm9rIAC,Acme again,Prospect,\n")
    assert "accounts.csv:3: column Id: duplicate id '001A0000006Vm9rIAC' (also on line 2)" in line


def test_duplicate_crm_id_in_its_15_and_18_character_forms(refused):
    line = refused(SF_HEADER + "001A0000006Vm9rIAC,Acme,Prospect,\n001A0000006Vm9r,Acme again,Prospect,\n")
    assert "accounts.csv:3: column Id: duplicate id '001A0000006Vm9r' (also on line 2 as '001A0000006Vm9rIAC')" in line


def test_unknown_type_under_a_strict_mapping(refused):
    text = ERP.read_bytes().decode("cp1252").replace("Kooperation", "Freundschaft", 1)
    line = refused(text.encode("cp1252"), "--format", "csv", "--mapping", ERP_MAPPING, name="erp.csv")
    assert line.endswith("erp.csv:7: column Beziehung: unknown value 'Freundschaft' under a strict mapping")


def test_unknown_kind_under_a_strict_mapping(refused):
    text = ERP.read_bytes().decode("cp1252").replace("Behörde", "Verein", 1)
    line = refused(text.encode("cp1252"), "--format", "csv", "--mapping", ERP_MAPPING, name="erp.csv")
    assert line.endswith("erp.csv:6: column Kategorie: unknown value 'Verein' under a strict mapping")


def test_parent_that_points_nowhere(refused):
    line = refused(SF_HEADER + "001A0000006Vm9rIAC,Acme,Prospect,001A0000006Vm9s\n")
    assert "accounts.csv:2: column ParentId: parent '001A0000006Vm9s' points nowhere" in line


def test_parent_that_is_not_an_id(refused):
    line = refused(SF_HEADER + "001A0000006Vm9rIAC,Acme,Prospect,Acme Holding\n")
    assert "accounts.csv:2: column ParentId: 'Acme Holding' is not a Salesforce Id" in line


def test_own_parent(refused):
    line = refused(SF_HEADER + "001A0000006Vm9rIAC,Acme,Prospect,001A0000006Vm9r\n")
    assert "accounts.csv:2: column ParentId: an account cannot be its own parent" in line


def test_parent_name_that_names_several_accounts(refused):
    text = ("Record ID,Company name,Type,Lifecycle Stage,Parent Company\n"
            "1,Nimbus,,Customer,\n2,Nimbus,,Customer,\n3,Nimbus Ireland,,Customer,Nimbus\n")
    line = refused(text, "--format", "hubspot")
    assert "accounts.csv:4: column Parent Company: 'Nimbus' names several accounts (lines 2, 3)" in line


def test_not_a_salesforce_id(refused):
    line = refused(SF_HEADER + "ACME-1,Acme,Prospect,\n")
    assert "accounts.csv:2: column Id: 'ACME-1' is not a Salesforce Id" in line


def test_empty_id_and_empty_name(refused):
    assert "accounts.csv:3: column Id: empty id" in refused(
        SF_HEADER + "001A0000006Vm9rIAC,Acme,Prospect,\n ,Nobody,Prospect,\n")
    assert "accounts.csv:2: column Name: empty name" in refused(SF_HEADER + "001A0000006Vm9rIAC,  ,Prospect,\n")


def test_bad_encoding_names_line_and_column(refused):
    line = refused(ERP.read_bytes(), "--format", "csv", "--mapping", ERP_MAPPING, "--encoding", "utf-8",
                   name="erp.csv")
    assert line.endswith("erp.csv:2: column Firma: not valid utf-8 text (byte 0xfc); "
                         "if the file came from Excel, try --encoding cp1252")


def test_windows_1252_with_encoding_option(db: Path, tmp_path: Path):
    path = tmp_path / "excel.csv"
    path.write_bytes("Id,Name,Type\r\n001A0000006Vm9rIAC,Café Olé – Straße €,Prospect\r\n".encode("cp1252"))
    result = CliRunner().invoke(cli, ["--db", str(db), "import", "crm", str(path), "--format", "salesforce"])
    assert result.exit_code == 1
    assert "excel.csv:2: column Name: not valid utf-8 text (byte 0xe9)" in result.stderr
    result = CliRunner().invoke(cli, ["--db", str(db), "import", "crm", str(path), "--format", "salesforce",
                                      "--encoding", "cp1252"])
    assert result.exit_code == 0, result.output
    with open_ledger(db) as ledger:
        assert ledger.state().parties["sf:001A0000006Vm9rIAC"].name == "Café Olé – Straße €"


def test_utf8_bom_with_another_encoding(refused):
    line = refused(b"\xef\xbb\xbfId,Name,Type\n001A0000006Vm9rIAC,Acme,Prospect\n", "--encoding", "cp1252")
    assert "starts with a UTF-8 byte order mark, but the encoding is cp1252" in line


def test_utf16_text(refused):
    line = refused("Id,Name,Type\n001A0000006Vm9rIAC,Acme,Prospect\n".encode("utf-16"))
    assert "looks like UTF-16 text" in line


def test_utf16_with_encoding_option(db: Path, tmp_path: Path):
    path = tmp_path / "unicode.csv"
    path.write_bytes("Id\tName\tType\r\n001A0000006Vm9rIAC\t株式会社\tProspect\r\n".encode("utf-16"))
    mapping = tmp_path / "tabs.toml"
    mapping.write_text('system = "salesforce"\nid_prefix = "sf"\nid_format = "salesforce"\ndelimiter = "\\t"\n'
                       '[columns]\nid = "Id"\nname = "Name"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--db", str(db), "import", "crm", str(path), "--mapping", str(mapping),
                                      "--encoding", "utf-16"])
    assert result.exit_code == 0, result.output
    with open_ledger(db) as ledger:
        assert ledger.state().parties["sf:001A0000006Vm9rIAC"].name == "株式会社"


def test_unknown_encoding(refused):
    assert "unknown encoding 'latin-42'" in refused(SF_HEADER, "--encoding", "latin-42")


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n\n  \r\n"])
def test_empty_file(refused, content: bytes):
    assert refused(content).endswith("accounts.csv: empty file: no header and no rows")


def test_header_only(refused):
    assert refused(SF_HEADER).endswith("accounts.csv:1: no rows below the header")


def test_xlsx_saved_instead_of_csv(refused):
    line = refused(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml", name="accounts.xlsx.csv")
    assert "accounts.xlsx.csv: looks like an Excel workbook (.xlsx): save it as CSV" in line


def test_xls_saved_instead_of_csv(refused):
    assert "looks like an Excel 97-2003 workbook (.xls)" in refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64)


def test_unclosed_quote(refused):
    line = refused(SF_HEADER + '001A0000006Vm9rIAC,"Acme,Prospect,\n001A0000006Vm9sIAC,B,Prospect,\n')
    assert "accounts.csv:2: not valid CSV: a quoted field that begins here is never closed" in line


def test_binary_data(refused):
    line = refused(b"Id,Name,Type\n001A0000006Vm9rIAC,A\x00cme,Prospect\n")
    assert "accounts.csv:2: column Name: binary data" in line


def test_missing_file(db: Path, tmp_path: Path):
    result = CliRunner().invoke(cli, ["--db", str(db), "import", "crm", str(tmp_path / "nope.csv"),
                                      "--format", "salesforce"])
    assert result.exit_code == 1
    assert "nope.csv: cannot read: No such file or directory" in result.stderr


def test_format_csv_needs_a_mapping(refused):
    assert "--format csv needs --mapping FILE" in refused(SF_HEADER, "--format", "csv")


def test_no_format(db: Path, tmp_path: Path):
    path = tmp_path / "a.csv"
    path.write_text(SF_HEADER, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--db", str(db), "import", "crm", str(path)])
    assert result.exit_code == 1
    assert "say which export this is: --format salesforce, --format hubspot, or --format csv --mapping FILE" in (
        result.stderr)


def test_account_that_is_the_self_party(refused, tmp_path: Path):
    mapping = tmp_path / "plain.toml"
    mapping.write_text('system = "erp"\nid_prefix = ""\n[columns]\nid = "No"\nname = "Name"\n', encoding="utf-8")
    line = refused("No,Name\nwe,Ourselves\n", "--format", "csv", "--mapping", mapping)
    assert "accounts.csv:2: column No: we is the self party, not an account" in line


def test_id_too_long(refused, tmp_path: Path):
    mapping = tmp_path / "plain.toml"
    mapping.write_text('system = "erp"\n[columns]\nid = "No"\nname = "Name"\n', encoding="utf-8")
    line = refused("No,Name\n" + "x" * 130 + ",Long\n", "--format", "csv", "--mapping", mapping)
    assert "accounts.csv:2: column No:" in line and "longer than 128 characters" in line


def test_a_refused_event_names_the_row(db: Path, tmp_path: Path, refused):
    """A plugin's (or the core's) refusal of one event refuses the whole import, naming its row."""
    line = refused(SF_HEADER + "001A0000006Vm9rIAC,Acme,Customer - Direct,\n", "--at", "2019-12-31")
    assert "accounts.csv:2: at: dated 2019-12-31, before party 'we' was added (2020-01-01)" in line


def test_no_ledger(tmp_path: Path):
    path = tmp_path / "a.csv"
    path.write_text(SF_HEADER + "001A0000006Vm9rIAC,Acme,Prospect,\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "none.db"), "import", "crm", str(path),
                                      "--format", "salesforce"])
    assert result.exit_code == 1
    assert "no ledger here" in result.stderr
    assert not (tmp_path / "none.db").exists()
