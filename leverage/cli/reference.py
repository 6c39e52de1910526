"""The command-line reference (``docs/cli.md``), generated from the commands' own help.

Regenerate with ``python -m leverage.cli.reference > docs/cli.md``; a test fails when the
file and the commands drift apart.
"""

from __future__ import annotations

import click

Entry = tuple[list[str], click.Command, click.Context]


def _walk(cmd: click.Command, ctx: click.Context, path: list[str]) -> list[Entry]:
    out = [(path, cmd, ctx)]
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            sub_ctx = click.Context(sub, info_name=name, parent=ctx, terminal_width=100,
                                    max_content_width=100,
                                    help_option_names=["-h", "--help"])
            out += _walk(sub, sub_ctx, [*path, name])
    return out


def cli_reference() -> str:
    """Markdown: every command with its usage, help and options."""
    from . import cli

    root = click.Context(cli, info_name="leverage", terminal_width=100, max_content_width=100,
                         help_option_names=["-h", "--help"])
    lines = [
        "# Command-line reference",
        "",
        "Generated from the commands' own help (`python -m leverage.cli.reference > docs/cli.md`)",
        "with the built-in plugins loaded. `leverage COMMAND --help` prints the same.",
        "",
    ]
    for path, cmd, ctx in _walk(cli, root, []):
        title = " ".join(["leverage", *path])
        lines += [f"## `{title}`", "", "```", cmd.get_help(ctx).rstrip(), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    import os

    os.environ.setdefault("LEVERAGE_LOAD_PLUGINS", "leverage_crm,leverage_tos,leverage_graphviz")
    os.environ.setdefault("COLUMNS", "100")
    print(cli_reference(), end="")
