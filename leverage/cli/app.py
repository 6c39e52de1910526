"""Shared state and helpers of the CLI commands."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # pragma: no cover
    from ..ledger import Ledger


class App:
    """The global options and the ledger they open (lazily)."""

    def __init__(self, db: str, actor: str | None):
        self.db = db
        self._actor = actor
        self._ledger: Ledger | None = None

    @property
    def actor(self) -> str:
        from ..ledger import default_actor

        return self._actor or default_actor()

    def ledger(self, *, create: bool = False) -> Ledger:
        if self._ledger is None:
            from ..ledger import open_ledger

            self._ledger = open_ledger(self.db, create=create)
        return self._ledger

    def record(self, type_: str, data: dict[str, Any], at: str | None) -> None:
        """Write one event and print what was written."""
        ledger = self.ledger()
        event = {"type": type_, "at": at or now_at(), "actor": self.actor, "data": data}
        ledger.append([event], actor=self.actor)
        seq, digest = ledger.last_head
        subject = data.get("id") or data.get("impact") or data.get("seq") or data.get("name")
        click.echo(f"recorded {type_} {subject} (seq {seq}, at {event['at']}, by {self.actor})")


pass_app = click.make_pass_decorator(App)


def now_at() -> str:
    """The default ``--at``: now, as an RFC 3339 UTC date-time to the second."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AtType(click.ParamType):
    """A date ``YYYY-MM-DD`` or an RFC 3339 date-time with offset."""

    name = "WHEN"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from ..timeutil import TimeFormatError, parse_at

        try:
            parse_at(value)
        except TimeFormatError as exc:
            self.fail(str(exc), param, ctx)
        return str(value)


class DateType(click.ParamType):
    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, date):
            return value
        from ..timeutil import TimeFormatError, parse_date

        try:
            return parse_date(value)
        except TimeFormatError as exc:
            self.fail(str(exc), param, ctx)


class SlugType(click.ParamType):
    name = "ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from ..events import SLUG

        if not isinstance(value, str) or not SLUG.match(value):
            self.fail(f"{value!r} is not an id (letters, digits and . _ : -, at most 128, "
                      "starting with a letter or digit)", param, ctx)
        return value


AT = AtType()
DATE = DateType()
SLUG_T = SlugType()
ONE_TO_FIVE = click.IntRange(1, 5)

at_option = click.option("--at", "at", type=AT, default=None,
                         help="When it happened: a date or an RFC 3339 date-time (default now).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def echo_json(value: Any) -> None:
    """Indented JSON on stdout (orjson: fast on large listings; the standard library for what
    orjson writes differently: fractional numbers, integers beyond 64 bits, other types)."""
    import orjson

    try:
        data = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_PASSTHROUGH_DATETIME,
                            default=_strict)
    except (TypeError, orjson.JSONEncodeError):
        click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(data)  # UTF-8 bytes, written as they are (no copy through str)


def echo_json_lines(objects: Iterable[Any]) -> None:
    """One compact JSON object a line, keys sorted (events as ``--dry-run --json`` prints
    them), written in chunks so large outputs stream."""
    import orjson

    out = click.get_text_stream("stdout")
    chunk: list[str] = []
    for obj in objects:
        chunk.append(orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode())
        if len(chunk) >= 2000:
            out.write("\n".join(chunk) + "\n")
            chunk.clear()
    if chunk:
        out.write("\n".join(chunk) + "\n")
    out.flush()


def _strict(value: Any) -> Any:
    raise TypeError(type(value).__name__)


def csv_safe(value: Any) -> str:
    """A spreadsheet-safe cell: text starting with = + - @ (or tab/CR) is prefixed with '."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]],
                *, styles: Sequence[str | None] | None = None) -> None:
    """A rich table on stdout (plain text when not a terminal)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, show_lines=False, header_style="bold")
    for col in columns:
        table.add_column(col, overflow="fold")
    for i, row in enumerate(rows):
        style = styles[i] if styles else None
        table.add_row(*(Text("" if v is None else str(v)) for v in row), style=style)
    Console(soft_wrap=False, width=None if sys.stdout.isatty() else 160).print(table)


def as_of_day(app: App, as_of: date | None) -> date:
    """``--as-of``: the day asked (default today UTC); a day before the ledger's first event
    is an error (nothing had happened yet)."""
    from ..errors import LeverageError
    from ..timeutil import now_utc

    first = app.ledger().first_day()
    if as_of is not None and first is not None and as_of < first:
        raise LeverageError(
            f"--as-of {as_of} is before the ledger's first event ({first}): nothing had happened")
    return as_of or now_utc().date()


def known_at_bound(value: str | None) -> str | None:
    """``--known-at``: a date (the end of that UTC day) or an RFC 3339 time, as the bound on
    ``recorded_at``."""
    if value is None:
        return None
    from ..timeutil import TimeFormatError, parse_known_at

    try:
        return parse_known_at(value)
    except TimeFormatError as exc:
        raise click.BadParameter(str(exc), param_hint="--known-at") from None
