"""``leverage graph``: queries of the relationship graph (DESIGN section 7)."""

from __future__ import annotations

import click


@click.group()
def graph() -> None:
    """Query the relationship graph: exposure, peers, dependents, export."""


COMMANDS: list[click.Command] = [graph]
