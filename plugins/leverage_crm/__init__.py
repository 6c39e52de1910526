"""Built-in plugin leverage_crm: import Salesforce, HubSpot and mapped CSV exports and keep
the relationship graph in step with them (``leverage import crm``; docs/crm.md).

Only the hook implementations live here; the command and the importer are imported when
the registries are filled, and their heavy parts only when the command runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from leverage import hookimpl

SCHEMA_NAME = "crm-mapping"


@hookimpl
def register_importers(register: Callable[[str, Any], None]) -> None:
    from .command import crm_command

    register("crm", crm_command)


@hookimpl
def register_schemas(register: Callable[[str, Any], None]) -> None:
    from .mapping import schema_file

    register(SCHEMA_NAME, schema_file())
