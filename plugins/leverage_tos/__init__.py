"""Built-in plugin leverage_tos: terms-of-service enforcement (docs/tos.md).

Brings a trust-and-safety system's enforcement log into the ledger (``leverage tos ingest``)
and applies what makes those measures proportionate, weighed and explained: strikes with
thresholds (``strike-threshold``), the Rabat Plan of Action's six-part test
(``competing-rights-unassessed``, ``disproportionate``), notices under the Santa Clara
Principles and the numbers of a transparency report.

Only the hook implementations live here; the commands and checks are imported when the
command line or the registries need them, and their heavy parts only when they run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from leverage import hookimpl

SCHEMAS = ("tos-rules", "tos-log")


@hookimpl
def register_commands(cli: Any) -> None:
    from .cli import COMMANDS

    for command in COMMANDS:
        cli.add_command(command)


@hookimpl
def register_checks(register: Callable[[Callable[..., Any]], None]) -> None:
    from .checks import all_checks

    for check in all_checks():
        register(check)


@hookimpl
def register_schemas(register: Callable[[str, Any], None]) -> None:
    from .rules import schema_file

    for name in SCHEMAS:
        register(name, schema_file(name))
