"""Shared helpers of the leverage_crm tests (no tests here): the fixture exports and a
ledger holding only the company's own party ``we``."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from leverage.cli import cli
from leverage.ledger import open_ledger

FIXTURES = Path(__file__).parent / "fixtures" / "crm"
SF = FIXTURES / "salesforce_accounts.csv"
SF_CHANGED = FIXTURES / "salesforce_accounts_changed.csv"
HS = FIXTURES / "hubspot_companies.csv"
ERP = FIXTURES / "erp_partners.csv"
ERP_MAPPING = FIXTURES / "erp_partners.toml"


def make_ledger(path: Path) -> Path:
    """A ledger at ``path`` holding only the company's own party ``we``."""
    ledger = open_ledger(path, create=True)
    ledger.append([{"type": "party.added", "at": "2020-01-01", "actor": "t",
                    "data": {"id": "we", "name": "We", "kind": "self"}}])
    ledger.close()
    return path


def run(db: Path, *args: object) -> Result:
    """``leverage --db DB import crm ARGS``."""
    return CliRunner().invoke(cli, ["--db", str(db), "import", "crm", *(str(a) for a in args)])
