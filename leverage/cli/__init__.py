"""The ``leverage`` command line: the group and its wiring.

Commands live in modules by subject and are attached through the ``register_commands``
hook, the core's own included, once per process and only when the command line is used.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from .. import __version__
from ..errors import LeverageError
from .app import App, pass_app

__all__ = ["App", "cli", "pass_app"]


class LeverageGroup(click.Group):
    """A group whose commands (the core's and the plugins') are attached on first use, and
    whose user errors are one line on stderr with exit status 1.

    The commands are attached again when the plugins are loaded again (``plugins.reset()``
    in tests), so a group never shows the commands of plugins that are gone.
    """

    _generation: int | None = None
    _owners: dict[str, str]

    def _ensure_commands(self) -> None:
        from .. import plugins

        current = plugins.generation()
        if self._generation == current:
            return
        self.commands.clear()
        self._owners = {}
        try:
            for call in plugins.hook_calls("register_commands"):
                proxy = _OwnedGroup(self, call.plugin_name)
                try:
                    result = call(cli=proxy)
                except LeverageError:
                    raise
                except Exception as exc:
                    raise LeverageError(f"plugin {call.plugin_name} failed in register_commands: "
                                        f"{type(exc).__name__}: {exc}") from None
                if result is not None:
                    raise LeverageError(f"plugin {call.plugin_name}: register_commands must call "
                                        f"cli.add_command(...) and return None, not a {type(result).__name__}")
        except BaseException:
            self.commands.clear()
            self._owners = {}
            raise
        self._generation = current

    def forget_commands(self) -> None:
        """Detach every command; the next use attaches them again from the plugins."""
        self.commands.clear()
        self._generation = None

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._ensure_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._ensure_commands()
        return super().get_command(ctx, cmd_name)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        standalone = kwargs.pop("standalone_mode", True)
        try:
            return super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
        except click.exceptions.Exit as exc:
            if standalone:
                sys.exit(exc.exit_code)
            raise
        except click.ClickException as exc:
            _fail(exc.format_message())
        except click.exceptions.Abort:
            _fail("aborted")
        except LeverageError as exc:
            _fail(str(exc))
        except BrokenPipeError:
            sys.exit(1)
        except KeyboardInterrupt:
            _fail("interrupted: nothing of the interrupted command was written")


def _fail(message: str) -> None:
    line = " ".join(message.split("\n")[0:1]) if message else "error"
    click.echo(f"Error: {line}", err=True)
    sys.exit(1)


class _OwnedGroup:
    """What a plugin's ``register_commands`` sees as ``cli``: ``add_command``, ``command``
    and ``group`` record the owner of every name and refuse duplicates naming both plugins;
    anything else is the real group's."""

    def __init__(self, group: LeverageGroup, owner: str):
        self._group = group
        self._owner = owner

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        if not isinstance(cmd, click.Command):
            raise LeverageError(
                f"plugin {self._owner}: register_commands must add click commands, "
                f"not a {type(cmd).__name__}")
        name = name or cmd.name
        if not name:
            raise LeverageError(f"plugin {self._owner}: a command added by register_commands has no name")
        owners = self._group._owners
        if name in owners:
            raise LeverageError(
                f"command {name!r} is registered by both {owners[name]} and {self._owner}")
        owners[name] = self._owner
        self._group.add_command(cmd, name)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        """Like ``click.Group.command``: ``@cli.command()`` or ``@cli.command``."""
        return self._decorate(click.command, args, kwargs)

    def group(self, *args: Any, **kwargs: Any) -> Any:
        """Like ``click.Group.group``: ``@cli.group()`` or ``@cli.group``."""
        return self._decorate(click.group, args, kwargs)

    def _decorate(self, make: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if len(args) == 1 and callable(args[0]) and not kwargs:  # used without parentheses
            cmd = make()(args[0])
            self.add_command(cmd)
            return cmd

        def decorator(f: Any) -> click.Command:
            cmd = make(*args, **kwargs)(f)
            self.add_command(cmd)
            return cmd

        return decorator

    def __getattr__(self, name: str) -> Any:
        return getattr(self._group, name)


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=LeverageGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="leverage")
@click.option("--db", envvar="LEVERAGE_DB", default="leverage.db", show_default=True,
              metavar="PATH", help="The ledger database (env LEVERAGE_DB).")
@click.option("--actor", envvar="LEVERAGE_ACTOR", default=None, metavar="NAME",
              help="Who records the events (env LEVERAGE_ACTOR; default the OS user).")
@click.pass_context
def cli(ctx: click.Context, db: str, actor: str | None) -> None:
    """Record and escalate the use of leverage in business relationships.

    Keeps the relationship graph, the human-rights impacts linked to it, the leverage
    steps taken and the decisions made as a tamper-evident event log, and tells what is
    overdue and what the next proportionate step is under UN Guiding Principle 19.
    """
    ctx.obj = App(db=db, actor=actor)
    if not ctx.resilient_parsing and ctx.invoked_subcommand not in DIAGNOSTIC_COMMANDS:
        # Fill the registries before any command runs, so that a plugin whose registration
        # is refused stops every command, not only those that happen to need the registry.
        from .. import plugins

        plugins.registries()


#: Commands that run even when a plugin's registration is refused, to diagnose it.
DIAGNOSTIC_COMMANDS = frozenset({"plugins"})


def main() -> None:  # pragma: no cover - console entry point alternative
    cli()
