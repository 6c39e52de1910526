"""Parsing of the two clocks: business time ``at`` and recording time ``recorded_at``.

``at`` is kept verbatim; for ordering it is mapped to an *at key*, the UTC instant written
as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (a date means 00:00 UTC). Keys of that fixed width sort
as strings in time order, which is what the store indexes.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from .errors import LeverageError

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_DATETIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d{1,9})?([Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)\Z"
)
KEY_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class TimeFormatError(LeverageError):
    pass


@lru_cache(maxsize=4096)
def parse_at(value: str) -> datetime:
    """Parse a date (00:00 UTC) or an RFC 3339 date-time with offset into an aware UTC datetime."""
    if not isinstance(value, str):
        raise TimeFormatError(f"must be a date YYYY-MM-DD or an RFC 3339 date-time, got {value!r}")
    try:
        if _DATE.match(value):
            return datetime.combine(date.fromisoformat(value), time(0), UTC)
        m = _DATETIME.match(value)
        if m:
            day, clock, frac, offset = m.groups()
            frac = (frac or "")[:7]  # microseconds at most
            offset = "+00:00" if offset in ("Z", "z") else offset
            return datetime.fromisoformat(f"{day}T{clock}{frac}{offset}").astimezone(UTC)
    except (ValueError, OverflowError):
        pass
    raise TimeFormatError(f"must be a date YYYY-MM-DD or an RFC 3339 date-time, got {value!r}")


_WHOLE_SECONDS_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\Z")


@lru_cache(maxsize=4096)
def at_key(value: str) -> str:
    """The sortable UTC key of an ``at`` value; raises :class:`TimeFormatError` for what
    :func:`parse_at` refuses. (The two usual shapes, a date and whole seconds in UTC, skip
    building a datetime: ``leverage load`` keys every line.)"""
    if type(value) is str:
        n = len(value)
        try:
            if n == 10 and _DATE.match(value):
                date.fromisoformat(value)  # a real calendar date
                return value + "T00:00:00.000000Z"
            if n == 20 and _WHOLE_SECONDS_Z.match(value):
                datetime.fromisoformat(value[:19])  # a real date and time of day
                return value[:19] + ".000000Z"
        except ValueError:
            pass  # parse_at gives the error
    return parse_at(value).strftime(KEY_FORMAT)


def parse_date(value: str) -> date:
    """A calendar date ``YYYY-MM-DD`` only."""
    if not isinstance(value, str) or not _DATE.match(value):
        raise TimeFormatError(f"must be a date YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise TimeFormatError(f"must be a date YYYY-MM-DD, got {value!r}") from None


def day_of(value: str) -> date:
    """The UTC calendar day of an ``at`` value."""
    return parse_at(value).date()


def end_of_day_key(day: date) -> str:
    """The at key of the first instant after ``day`` (exclusive upper bound of ``--as-of``)."""
    if day >= date.max:
        return "9999-12-32"  # above every key
    return datetime.combine(day + timedelta(days=1), time(0), UTC).strftime(KEY_FORMAT)


def now_utc() -> datetime:
    return datetime.now(UTC)


def format_recorded(moment: datetime) -> str:
    """``recorded_at`` as written by the store: RFC 3339, UTC, microseconds, ``Z``."""
    return moment.astimezone(UTC).strftime(KEY_FORMAT)


def parse_known_at(value: str) -> str:
    """A ``--known-at`` value (a date means the end of that day) as a recorded_at bound."""
    if _DATE.match(value):
        day = parse_date(value)
        if day >= date.max:
            return "9999-12-31T23:59:59.999999Z"
        end = datetime.combine(day + timedelta(days=1), time(0), UTC)
        return (end - timedelta(microseconds=1)).strftime(KEY_FORMAT)
    return parse_at(value).strftime(KEY_FORMAT)
