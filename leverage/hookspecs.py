"""The hook specifications of leverage plugins.

Plugins implement these with ``@leverage.hookimpl`` and are found through the entry-point
group ``leverage``. Every hook is called with keyword arguments; an implementation may
accept any subset of them. See ``docs/plugins.md`` for a guide and examples.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pluggy import HookimplMarker, HookspecMarker

if TYPE_CHECKING:  # pragma: no cover
    import click

    from .ledger import Ledger
    from .model import Event

hookspec = HookspecMarker("leverage")
hookimpl = HookimplMarker("leverage")


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``leverage`` command group.

    :param cli: the top-level group; call ``cli.add_command(...)``.

    Called once per process, when the command line is first used. A command name that
    exists already is refused with an error naming both plugins.
    """


@hookspec
def register_step_kinds(register: Callable[[str, str, str], None]) -> None:
    """Add step kinds to rungs of the escalation ladder.

    :param register: ``register(kind, rung, description)``; ``kind`` is a slug of lowercase
        letters, digits and ``-``, ``rung`` an existing rung (``engage``, ``notice``,
        ``enforce``, ``collective``).

    Called once when plugins load. Adding a kind that exists is an error naming both owners.
    """


@hookspec
def register_policies(register: Callable[[str, Any], None]) -> None:
    """Add policy profiles that ``leverage init --policy NAME`` and ``extends`` can name.

    :param register: ``register(name, path)``, ``path`` a TOML file (a ``pathlib.Path`` or an
        ``importlib.resources`` traversable).
    """


@hookspec
def register_importers(register: Callable[[str, Any], None]) -> None:
    """Add a click command under ``leverage import``.

    :param register: ``register(name, command)``.
    """


@hookspec
def register_renderers(register: Callable[[str, Any], None]) -> None:
    """Add a click command under ``leverage render``.

    :param register: ``register(name, command)``.
    """


@hookspec
def register_checks(register: Callable[[Callable[..., Any]], None]) -> None:
    """Add a check the engine runs on every impact.

    :param register: ``register(check)``. The engine calls
        ``check(impact=..., state=..., policy=..., as_of=...)``, which returns an iterable of
        findings (``leverage.engine.Finding`` or dicts with ``code``, ``message``,
        ``source``) added to that impact's status. A check that raises becomes a
        ``plugin-error`` finding naming the plugin.
    """


@hookspec
def register_schemas(register: Callable[[str, Any], None]) -> None:
    """Add a JSON Schema that ``leverage schema NAME`` prints.

    :param register: ``register(name, schema)``, ``schema`` a dict or a path to a JSON file.
    """


@hookspec
def validate_event(event: Event, ledger: Ledger) -> None:
    """Called before an event is written; raise ``LeverageError`` to refuse it.

    :param event: the event about to be written (``seq`` and ``hash`` not yet set).
    :param ledger: the ledger, inside the write transaction (what it returns includes the
        events written earlier in the same transaction).

    A refusal aborts the whole command or load: nothing of it is written.
    """


@hookspec
def event_recorded(event: Event, ledger: Ledger) -> None:
    """Called after an event is committed (notifications, mirrors).

    :param event: the committed event, chain fields set.
    :param ledger: the ledger.

    An exception is reported as ``plugin NAME failed in event_recorded: ...`` and never
    undoes the write.
    """
