"""``leverage import`` and ``leverage render``: groups owned by the core, filled by plugins
through ``register_importers`` and ``register_renderers``."""

from __future__ import annotations

from typing import Any

import click


class RegistryGroup(click.Group):
    """A group whose subcommands are the commands of one plugin registry."""

    def __init__(self, *args: Any, registry: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.registry = registry

    def _table(self) -> dict[str, tuple[Any, str]]:
        from .. import plugins

        table: dict[str, tuple[Any, str]] = getattr(plugins.registries(), self.registry)
        return table

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self._table())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = self._table().get(cmd_name)
        return entry[0] if entry else None

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                            list[str]]:
        name = click.utils.make_str(args[0])
        if self.get_command(ctx, name) is None and not ctx.resilient_parsing and not name.startswith("-"):
            kind = self.registry.removesuffix("s")
            known = ", ".join(sorted(self._table())) or "none"
            raise click.UsageError(
                f"no {kind} {name!r} (known: {known}); {self.registry} come from plugins, "
                f"see `leverage plugins`", ctx)
        return super().resolve_command(ctx, args)


@click.group("import", cls=RegistryGroup, registry="importers")
def import_group() -> None:
    """Import data from other systems (importers come from plugins)."""


@click.group("render", cls=RegistryGroup, registry="renderers")
def render_group() -> None:
    """Render pictures and reports (renderers come from plugins)."""


COMMANDS: list[click.Command] = [import_group, render_group]
