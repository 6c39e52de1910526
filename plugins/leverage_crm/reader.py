"""Reading a CSV export: streamed, line-numbered, with clear errors for the files people
actually get (a workbook saved as .xlsx, Excel's Windows-1252 text, a byte order mark)."""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Callable, Iterator
from typing import IO

from leverage import LeverageError

BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_WIDE = ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be")


class Position:
    """How far the reader is in the file, in bytes (for a progress bar)."""

    def __init__(self) -> None:
        self._fh: IO[bytes] | None = None

    @property
    def bytes(self) -> int:
        try:
            return self._fh.tell() if self._fh is not None else 0
        except (OSError, ValueError):
            return 0


def codec_name(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise LeverageError(f"unknown encoding {encoding!r} (try utf-8 or cp1252)") from None


def read_rows(path: str | os.PathLike[str], *, encoding: str, delimiter: str,
              name: str | None = None, position: Position | None = None,
              header_of: Callable[[], list[str] | None] | None = None,
              ) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line, cells)`` for every non-blank record, the header first; ``line`` is the
    physical line on which the record starts (1 for the header).

    ``header_of()`` returns the header once known, to name the column of a decoding error.
    """
    name = name or str(path)
    codec = codec_name(encoding)
    try:
        fh = open(path, "rb")
    except IsADirectoryError:
        raise LeverageError(f"{name}: is a directory, not a CSV file") from None
    except OSError as exc:
        raise LeverageError(f"{name}: cannot read: {exc.strerror}") from None
    if position is not None:
        position._fh = fh
    with fh:
        _check_signature(fh.read(8), name, codec)
        fh.seek(0)
        text_codec = "utf-8-sig" if codec in ("utf-8", "utf-8-sig") else codec
        if codec.startswith(("utf-16", "utf-32")):
            text_codec = codec  # the codec itself reads and drops its byte order mark
        text = io.TextIOWrapper(fh, encoding=text_codec, errors="strict", newline="")
        reader = csv.reader(text, delimiter=delimiter, strict=True)
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                reason = str(exc)
                if reason == "unexpected end of data":
                    reason = "a quoted field that begins here is never closed (a missing \")"
                raise LeverageError(f"{name}:{start}: not valid CSV: {reason}") from None
            except UnicodeDecodeError as exc:
                header = header_of() if header_of is not None else None
                raise LeverageError(_locate_decode_error(path, name, codec, delimiter, header, exc)) from None
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            yield start, cells


def _check_signature(head: bytes, name: str, codec: str) -> None:
    if head.startswith(b"PK\x03\x04"):
        raise LeverageError(f"{name}: looks like an Excel workbook (.xlsx): save it as CSV "
                            "(File > Save As > CSV UTF-8)")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise LeverageError(f"{name}: looks like an Excel 97-2003 workbook (.xls): save it as CSV "
                            "(File > Save As > CSV UTF-8)")
    if head.startswith(b"%PDF"):
        raise LeverageError(f"{name}: looks like a PDF document, not a CSV file")
    wide = codec.startswith(("utf-16", "utf-32"))
    if head.startswith(_UTF16_BOMS) and not wide:
        raise LeverageError(f"{name}: looks like UTF-16 text (Excel's \"Unicode Text\"): save it as "
                            "CSV UTF-8, or pass --encoding utf-16")
    if head.startswith(BOM) and codec not in ("utf-8", "utf-8-sig"):
        raise LeverageError(f"{name}: starts with a UTF-8 byte order mark, but the encoding is "
                            f"{codec}: leave out --encoding (UTF-8 is the default)")


def _locate_decode_error(path: str | os.PathLike[str], name: str, codec: str, delimiter: str,
                         header: list[str] | None, exc: UnicodeDecodeError) -> str:
    """The error message for the first line that does not decode (the file is read again
    line by line: this happens once, on the way out)."""
    hint = "; if the file came from Excel, try --encoding cp1252" if codec in ("utf-8", "utf-8-sig") else ""
    if codec.startswith(("utf-16", "utf-32")):
        return f"{name}: not valid {codec} text ({exc.reason})"
    decoder = "utf-8" if codec == "utf-8-sig" else codec
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if lineno == 1:
                if raw.startswith(BOM):
                    raw = raw[3:]
                if header is None:
                    first = raw.decode(decoder, errors="replace").rstrip("\r\n")
                    header = [h.strip() for h in next(csv.reader([first], delimiter=delimiter), [])]
            try:
                raw.decode(decoder)
            except UnicodeDecodeError as bad:
                before = raw[:bad.start].decode(decoder, errors="replace")
                try:
                    index = len(next(csv.reader([before], delimiter=delimiter), [""])) - 1
                except csv.Error:
                    index = 0
                index = max(index, 0)
                column = (header[index] if header and index < len(header) and header[index].strip()
                          else str(index + 1))
                return (f"{name}:{lineno}: column {column}: not valid {codec} text "
                        f"(byte 0x{raw[bad.start:bad.start + 1].hex()}){hint}")
    return f"{name}: not valid {codec} text ({exc.reason}){hint}"
