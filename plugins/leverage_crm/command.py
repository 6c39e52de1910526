"""``leverage import crm``: the command line of the CRM importer."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from leverage import LeverageError
from leverage.cli.app import AT, App, now_at, pass_app

FORMATS = ("salesforce", "hubspot", "csv")
#: a progress bar (on a terminal only) for files with more rows than this
PROGRESS_ROWS = 5000
#: a dry run prints a rich table up to this many events, plain tab-separated lines beyond
TABLE_MAX = 1000

_LABELS = {
    "party.added": ("party", "parties", "added"),
    "party.updated": ("party", "parties", "updated"),
    "relationship.added": ("relationship", "relationships", "added"),
    "relationship.updated": ("relationship", "relationships", "updated"),
    "relationship.ended": ("relationship", "relationships", "ended"),
}


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


@click.command("crm")
@click.argument("file", type=click.Path(dir_okay=False), metavar="FILE")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="The export's format: a bundled mapping (salesforce, hubspot) or csv with --mapping.")
@click.option("--mapping", "mapping_file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="A TOML mapping file (`leverage schema crm-mapping`); replaces the bundled one.")
@click.option("--self", "self_id", default=None, metavar="PARTY",
              help="The company's own party (default: the only party of kind self).")
@click.option("--encoding", default=None, metavar="ENC",
              help="The file's text encoding (default utf-8, with or without BOM; cp1252 for "
                   "Excel's Windows CSV).")
@click.option("--at", "at", type=AT, default=None,
              help="When the export was taken: a date or an RFC 3339 date-time (default now).")
@click.option("--dry-run", is_flag=True, help="Print the events that would be written; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the events as JSON Lines (notes go to stderr).")
@click.option("--end-missing", is_flag=True,
              help="End the relationships the export no longer lists (default: report them).")
@pass_app
def crm_command(app: App, file: str, fmt: str | None, mapping_file: str | None, self_id: str | None,
                encoding: str | None, at: str | None, dry_run: bool, as_json: bool,
                end_missing: bool) -> None:
    """Import a CRM export and keep the ledger in step with it.

    FILE is a Salesforce Account export (--format salesforce), a HubSpot companies export
    (--format hubspot) or any CSV described by a mapping (--format csv --mapping FILE).
    Each account becomes a party (ids sf:<18-character Id>, hs:<Record ID>, or
    <id_prefix>:<id>) with a relationship to the self party; a parent account owns its
    children. Importing the same export again writes nothing; a changed row writes only what
    changed; what disappeared is reported (--end-missing ends those relationships). All
    events are written in one transaction, or none. See docs/crm.md.
    """
    import gc

    from . import importer
    from .mapping import BUNDLED, load_bundled, load_file
    from .reader import codec_name

    if mapping_file is not None:
        mapping = load_file(mapping_file)
    elif fmt in BUNDLED:
        mapping = load_bundled(fmt)
    elif fmt == "csv":
        raise LeverageError("--format csv needs --mapping FILE (a TOML mapping; "
                            "`leverage schema crm-mapping` prints its schema)")
    else:
        raise LeverageError("say which export this is: --format salesforce, --format hubspot, "
                            "or --format csv --mapping FILE")
    if encoding is not None:
        codec_name(encoding)
    ledger = app.ledger()
    progress = _Progress(file)
    # Folding the state and building 100,000s of small dicts: the cyclic garbage collector
    # would only rescan them over and over (none of them form cycles).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        parsed = importer.parse(file, mapping, encoding=encoding, on_row=progress.reading)
        state = ledger.state()
        me = importer.self_party(state, self_id)
        plan = importer.plan(parsed, state, self_id=me, at=at or now_at(), actor=app.actor,
                             end_missing=end_missing)
        del state
        if plan.events:
            lines = plan.lines
            name = parsed.name

            def where(n: int) -> str:
                line = lines[n - 1] if 0 < n <= len(lines) else None
                return f"{name}:{line}" if line is not None else name

            progress.writing(len(plan.events))
            ledger.append(plan.events, actor=app.actor, where=where, progress=progress.wrote_callback,
                          dry_run=dry_run)
    finally:
        progress.stop()
        if gc_was_enabled:
            gc.enable()
    _report(plan, parsed, ledger, dry_run=dry_run, as_json=as_json)


def _report(plan: Any, parsed: Any, ledger: Any, *, dry_run: bool, as_json: bool) -> None:
    if as_json:
        from leverage.cli.app import echo_json_lines

        echo_json_lines(plan.events)
    elif dry_run and plan.events:
        rows = ((line if line is not None else "", e["type"], e["data"]["id"], _what(e))
                for e, line in zip(plan.events, plan.lines, strict=True))
        if len(plan.events) <= TABLE_MAX:
            from leverage.cli.app import print_table

            print_table(f"Events that would be written ({parsed.file}, dry run)", ["line", "type", "id", "what"],
                        rows)
        else:  # a rich table of 100,000 rows takes minutes: plain tab-separated lines
            out = click.get_text_stream("stdout")
            out.write("line\ttype\tid\twhat\n")
            for row in rows:
                out.write("\t".join(str(c).replace("\n", " ").replace("\t", " ") for c in row) + "\n")
    counts = ", ".join(f"{_n(plan.counts[t], one, many)} {verb}"
                       for t, (one, many, verb) in _LABELS.items() if plan.counts[t])
    accounts = _n(plan.accounts, "account", "accounts") + (
        f" ({_n(plan.skipped, 'row', 'rows')} skipped)" if plan.skipped else "")
    events = _n(len(plan.events), "event", "events")
    if not plan.events:
        summary = f"{parsed.file}: {accounts}; the ledger is in step already: nothing to write"
    elif dry_run:
        summary = f"dry run: {parsed.file}: {accounts}; would write {events} ({counts}); nothing written"
    else:
        seq, _head = ledger.last_head
        summary = f"{parsed.file}: {accounts}; wrote {events}, seq {seq - len(plan.events) + 1}-{seq} ({counts})"
    click.echo(summary, err=as_json)
    for note in plan.notes:
        click.echo(f"note: {note}", err=True)


def _what(event: dict[str, Any]) -> str:
    data = event["data"]
    if event["type"] == "relationship.added":
        return f"{data['source']} -> {data['target']} ({data['type']})"
    parts = []
    for key, value in data.items():
        if key in ("id", "attributes"):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items())
        parts.append(f"{key}={value}")
    return "; ".join(parts)


class _Progress:
    """A rich progress bar on stderr, only on a terminal and only for large files."""

    def __init__(self, path: str):
        self.enabled = sys.stderr.isatty()
        self.path = path
        self.bar: Any = None
        self.task: Any = None
        self.size = 0

    def reading(self, position: Any, rows: int) -> None:
        if not self.enabled or rows <= PROGRESS_ROWS:
            return
        if self.bar is None:
            from rich.console import Console
            from rich.progress import Progress

            try:
                self.size = os.path.getsize(self.path)
            except OSError:
                self.size = 0
            self.bar = Progress(console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task(f"reading {os.path.basename(self.path)}", total=self.size or None)
        self.bar.update(self.task, completed=position.bytes)

    def writing(self, total: int) -> None:
        if self.bar is None:
            return
        self.bar.update(self.task, completed=self.size)
        self.task = self.bar.add_task("checking and writing events", total=total)

    @property
    def wrote_callback(self) -> Any:
        if self.bar is None:
            return None

        def wrote(n: int) -> None:
            self.bar.update(self.task, completed=n)

        return wrote

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
