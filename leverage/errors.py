"""The one exception family of leverage.

Library code raises these and never exits; the CLI turns them into one line on stderr and
exit status 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def field_path(parts: Iterable[Any]) -> str:
    """A JSON path as messages name it: ``['rule', 1, 'severity']`` -> ``rule[1].severity``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


class LeverageError(Exception):
    """A user-facing error: its message is one line naming what is wrong and where."""


class ValidationError(LeverageError):
    """An event (or a file line) that does not follow the event format."""

    def __init__(self, message: str, *, path: str | None = None, where: str | None = None):
        self.path = path
        self.where = where
        self.reason = message
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [p for p in (self.where, self.path) if p]
        return ": ".join([*parts, self.reason])

    def located(self, where: str) -> ValidationError:
        """The same error with its location (``file:line`` or ``event 3``) set."""
        return ValidationError(self.reason, path=self.path, where=where)


class GateError(LeverageError):
    """A decision that the policy's gates refuse; ``codes`` lists each missing requirement."""

    def __init__(self, message: str, codes: list[str]):
        self.codes = codes
        super().__init__(message)


class StoreError(LeverageError):
    """The database is missing, not a ledger, or written by a newer version."""


class ChainError(LeverageError):
    """A hash chain that does not verify."""

    def __init__(self, message: str, seq: int | None = None):
        self.seq = seq
        super().__init__(message)


class PluginError(LeverageError):
    """A plugin that cannot be loaded or registers something invalid."""
