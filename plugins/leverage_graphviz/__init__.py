"""Built-in plugin leverage_graphviz: pictures and a review pack of the relationship graph
(``leverage render graph``, ``render timeline``, ``render pack``; docs/graph.md).

Only the hook implementation lives here; the commands are imported when the registries are
filled, and graphviz, networkx and the engine only when a command runs. Rendering needs
Graphviz's ``dot`` (the system package ``graphviz``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from leverage import hookimpl


@hookimpl
def register_renderers(register: Callable[[str, Any], None]) -> None:
    from .commands import graph_command, pack_command, timeline_command

    register("graph", graph_command)
    register("timeline", timeline_command)
    register("pack", pack_command)
