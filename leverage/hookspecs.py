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

    :param cli: the top-level group; call ``cli.add_command(command)`` or decorate with
        ``@cli.command()`` / ``@cli.group()``.

    Called once per process, the first time the command line lists or looks up its
    commands (``leverage --help`` included), the core's implementation first. A command
    name that exists already is refused with an error naming both plugins; an exception
    (or a return value other than None) fails the command line with one line naming the
    plugin.
    """


@hookspec
def register_step_kinds(register: Callable[[str, str, str], None]) -> None:
    """Add step kinds to rungs of the escalation ladder.

    :param register: ``register(kind, rung, description)``; ``kind`` is a slug of lowercase
        letters, digits and ``-`` (at most 64), ``rung`` a rung that steps reach
        (``engage``, ``notice``, ``enforce``, ``collective``), ``description`` one line.

    Called once per process, when a command first needs the registries (``step add``,
    ``status``, ``load``...). A kind that exists (the core's or another plugin's) is an
    error naming both owners; a bad kind, rung or description is refused naming the plugin.
    """


@hookspec
def register_policies(register: Callable[[str, Any], None]) -> None:
    """Add policy profiles, by name.

    ``leverage init --policy NAME``, ``leverage policy set NAME`` and a policy file's
    ``extends = "NAME"`` can name them.

    :param register: ``register(name, path)``; ``path`` a TOML policy file (a
        ``pathlib.Path`` or an ``importlib.resources`` traversable) that exists.

    Called once per process with the other registries. A name that exists is an error
    naming both owners. The file is validated when a command uses it.
    """


@hookspec
def register_importers(register: Callable[[str, Any], None]) -> None:
    """Add a click command under ``leverage import``.

    :param register: ``register(name, command)``; ``command`` a ``click.Command``.

    Called once per process with the other registries. A name that exists is an error
    naming both owners; anything but a click command is refused naming the plugin.
    """


@hookspec
def register_renderers(register: Callable[[str, Any], None]) -> None:
    """Add a click command under ``leverage render``.

    :param register: ``register(name, command)``; ``command`` a ``click.Command``.

    Called once per process with the other registries. A name that exists is an error
    naming both owners; anything but a click command is refused naming the plugin.
    """


@hookspec
def register_checks(register: Callable[[Callable[..., Any]], None]) -> None:
    """Add a check the engine runs on every impact it evaluates.

    :param register: ``register(check)``. The engine calls
        ``check(impact=..., state=..., policy=..., as_of=...)`` (a check may take any
        subset), which returns an iterable of findings (``leverage.engine.Finding`` or
        dicts with ``code``, ``message``, ``source``) added to that impact's status.

    Called once per process with the other registries. A check that requires another
    argument is refused at registration; a check that raises becomes a ``plugin-error``
    finding naming the plugin, and the status is still computed. A check may carry
    ``check.applies_to = predicate(impact) -> bool`` (see ``leverage.engine.APPLIES_TO``):
    it is then called only on impacts for which the predicate is true, and ``leverage
    status`` does not replay the whole log for it.
    """


@hookspec
def register_schemas(register: Callable[[str, Any], None]) -> None:
    """Add a JSON Schema that ``leverage schema NAME`` prints.

    :param register: ``register(name, schema)``; ``schema`` a dict or the path of a JSON
        file (``pathlib.Path`` or ``importlib.resources`` traversable) that exists.

    Called once per process with the other registries. A name that exists is an error
    naming both owners.
    """


@hookspec
def validate_event(event: Event, ledger: Ledger) -> None:
    """Called before each event is written; raise ``LeverageError`` to refuse it.

    :param event: the event about to be written (``leverage.model.Event``; ``seq`` and
        ``hash`` not set yet). Treat it as read-only.
    :param ledger: the ledger, inside the write transaction: what it returns includes the
        events written earlier in the same command or load.

    Called for every event on every path (CLI commands, ``load``, importers, the Python
    API), after the core's own checks. A ``LeverageError`` refuses the event: the command
    fails with ``refused by plugin NAME: message`` and nothing of the command or load is
    written. Any other exception refuses it too, reported as
    ``plugin NAME failed in validate_event: ...``.
    """


@hookspec
def event_recorded(event: Event, ledger: Ledger) -> None:
    """Called after each event is committed (notifications, mirrors, metrics).

    :param event: the committed event (``leverage.model.Event``), chain fields set.
    :param ledger: the ledger (the write transaction is over).

    Called once per event, in ``seq`` order, after the whole command or load committed;
    never on a dry run or a refused write. An exception is reported on stderr as
    ``plugin NAME failed in event_recorded: message``, the next plugins still run, and the
    ledger stays exactly as committed.
    """
