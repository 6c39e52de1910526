"""Reading an enforcement log: CSV or JSON Lines, one action per row (``tos-log.schema.json``).

The format is chosen by the file's extension (``.csv``; ``.jsonl``, ``.ndjson``, ``.json``),
else by its first character (``{``: JSON Lines). Values are trimmed; an empty value is a
missing one. The checks here are the schema's, written out by hand because a log has
hundreds of thousands of rows (a test keeps the two in step).
"""

from __future__ import annotations

import csv
import hashlib
import os
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson

from leverage import LeverageError
from leverage.events import SLUG
from leverage.timeutil import TimeFormatError, parse_at

from .actions import ACTIONS, DETECTION

COLUMNS = ("id", "account", "action", "rule", "at", "reason", "detected_by", "moderator",
           "approved_by", "evidence", "impact")
REQUIRED = ("account", "action", "rule", "at")
_TEXT = ("account", "action", "rule", "at", "reason", "detected_by", "moderator", "approved_by",
         "impact")
#: columns with few distinct values: one string object each, shared by every row
_SHARED = ("account", "action", "rule", "detected_by", "moderator", "approved_by", "impact")
_KNOWN = ", ".join(COLUMNS)


class Row:
    """One action of the log, checked and normalised."""

    __slots__ = ("line", "id", "account", "action", "rule", "at", "reason", "detected_by",
                 "moderator", "approved_by", "evidence", "impact", "hash")

    line: int
    id: str | None
    account: str
    action: str
    rule: str
    at: str
    reason: str | None
    detected_by: str | None
    moderator: str | None
    approved_by: str | None
    evidence: str | list[str] | None
    impact: str | None
    hash: str

    def content(self) -> dict[str, Any]:
        """Everything but the id and the line: what makes two rows the same action."""
        out: dict[str, Any] = {}
        for name in COLUMNS[1:]:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


class Log:
    """A read log: its rows in time order (then file order)."""

    def __init__(self, path: str, rows: list[Row], fmt: str, was_sorted: bool):
        self.path = path
        self.file = os.path.basename(path)
        self.rows = rows
        self.format = fmt
        self.was_sorted = was_sorted


def read_log(path: str | os.PathLike[str]) -> Log:
    """Read and check every row of the log at ``path``; rows come back sorted by ``at``."""
    name = str(path)
    fmt = _format_of(name)
    rows: list[Row] = []
    previous: datetime | None = None
    in_order = True
    reader = _read_csv(name) if fmt == "csv" else _read_jsonl(name)
    for line, raw in reader:
        row = make_row(raw, name, line)
        rows.append(row)
        if in_order:
            when = parse_at(row.at)
            if previous is not None and when < previous:
                in_order = False
            previous = when
    if not in_order:
        rows.sort(key=lambda r: (parse_at(r.at), r.line))
    return Log(name, rows, fmt, in_order)


def _format_of(name: str) -> str:
    ext = os.path.splitext(name)[1].lower()
    if ext == ".csv":
        return "csv"
    if ext in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    try:
        with open(name, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise LeverageError(f"{name}: cannot read: {exc.strerror}") from None
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return "jsonl" if head.startswith(b"{") else "csv"


def _open_text(name: str) -> Any:
    try:
        return open(name, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise LeverageError(f"{name}: cannot read: {exc.strerror}") from None


def _read_csv(name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    fh = _open_text(name)
    with fh:
        reader = csv.reader(fh)
        header: list[str] | None = None
        start = 1
        try:
            for cells in reader:
                line = start
                start = reader.line_num + 1
                if not cells or all(not c.strip() for c in cells):
                    continue
                if header is None:
                    header = _header(cells, name, line)
                    continue
                if len(cells) > len(header):
                    extra = cells[len(header):]
                    if any(c.strip() for c in extra):
                        raise LeverageError(f"{name}:{line}: {len(cells)} cells, but the header names "
                                            f"{len(header)} columns")
                yield line, dict(zip(header, cells, strict=False))
        except csv.Error as exc:
            raise LeverageError(f"{name}:{reader.line_num}: not valid CSV: {exc}") from None
        except UnicodeDecodeError as exc:
            raise LeverageError(f"{name}: not UTF-8 text (byte {exc.start} of a block near line "
                                f"{reader.line_num + 1})") from None
    if header is None:
        raise LeverageError(f"{name}: empty file: no header row")


def _header(cells: list[str], name: str, line: int) -> list[str]:
    header = [c.strip().lower() for c in cells]
    seen: set[str] = set()
    for column in header:
        if column not in COLUMNS:
            raise LeverageError(f"{name}:{line}: unknown column {column!r} (known: {_KNOWN})")
        if column in seen:
            raise LeverageError(f"{name}:{line}: column {column!r} appears twice")
        seen.add(column)
    missing = [c for c in REQUIRED if c not in seen]
    if missing:
        raise LeverageError(f"{name}:{line}: missing column {missing[0]!r} (required: "
                            f"{', '.join(REQUIRED)})")
    return header


def _read_jsonl(name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        fh = open(name, "rb")
    except OSError as exc:
        raise LeverageError(f"{name}: cannot read: {exc.strerror}") from None
    loads = orjson.loads
    with fh:
        for line, raw in enumerate(fh, 1):
            if line == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if not raw.strip():
                continue
            try:
                obj = loads(raw)
            except orjson.JSONDecodeError as exc:
                raise LeverageError(f"{name}:{line}: invalid JSON: {str(exc).split(':')[0]}") from None
            if type(obj) is not dict:
                raise LeverageError(f"{name}:{line}: a row must be a JSON object")
            for key in obj:
                if key not in COLUMNS:
                    raise LeverageError(f"{name}:{line}: unknown column {key!r} (known: {_KNOWN})")
            yield line, obj


def _fail(name: str, line: int, column: str, message: str) -> LeverageError:
    return LeverageError(f"{name}:{line}: {column}: {message}")


_intern = sys.intern
_SHARED_SET = frozenset(_SHARED)
_dumps = orjson.dumps
_SORT = orjson.OPT_SORT_KEYS
_sha256 = hashlib.sha256


def make_row(raw: dict[str, Any], name: str, line: int) -> Row:
    """Check one row (a dict of column -> value) and normalise it."""
    row = Row()
    row.line = line
    content: dict[str, Any] = {}
    get = raw.get
    for column in _TEXT:
        value = get(column)
        if value is not None:
            if type(value) is not str:
                raise _fail(name, line, column, f"must be text, got {value!r}")
            value = value.strip()
            if value:
                if column in _SHARED_SET:
                    value = _intern(value)
                content[column] = value
            else:
                value = None
        setattr(row, column, value)
    ident = get("id")
    if ident is not None:
        if type(ident) is int:
            ident = str(ident)
        elif type(ident) is not str:
            raise _fail(name, line, "id", f"must be text or a whole number, got {ident!r}")
        else:
            ident = ident.strip() or None
            if ident is not None and len(ident) > 200:
                raise _fail(name, line, "id", "longer than 200 characters")
    row.id = ident
    evidence = get("evidence")
    if evidence is not None:
        if type(evidence) is str:
            evidence = evidence.strip() or None
        elif type(evidence) is list:
            if not all(type(e) is str and e.strip() for e in evidence):
                raise _fail(name, line, "evidence", "a list of evidence must hold non-empty text only")
            evidence = [e.strip() for e in evidence] or None
        else:
            raise _fail(name, line, "evidence", f"must be text or a list of text, got {evidence!r}")
        if evidence is not None:
            content["evidence"] = evidence
    row.evidence = evidence
    for column in REQUIRED:
        if column not in content:
            raise _fail(name, line, column, "is required")
    if row.action not in ACTIONS:
        raise _fail(name, line, "action", f"unknown action {row.action!r} (known: {', '.join(ACTIONS)})")
    try:
        parse_at(row.at)
    except TimeFormatError as exc:
        raise _fail(name, line, "at", str(exc)) from None
    if row.detected_by is not None and row.detected_by not in DETECTION:
        raise _fail(name, line, "detected_by", f"must be automated or human, got {row.detected_by!r}")
    if row.impact is not None and not SLUG.match(row.impact):
        raise _fail(name, line, "impact", f"{row.impact!r} is not an impact id")
    row.hash = _sha256(_dumps(content, option=_SORT)).hexdigest()
    return row
