"""leverage: record and escalate the use of leverage in business relationships.

Implements UN Guiding Principle 19: use leverage first; the more severe the abuse, the
sooner change must come; end a relationship only after a credible assessment of what
ending it does to people; be proportionate, transparent and reviewable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import LeverageError
from .hookspecs import hookimpl

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from .ledger import Ledger


def open_ledger(path: Any = "leverage.db", *, create: bool = False) -> Ledger:
    """Open the ledger at ``path``: see :mod:`leverage.ledger` and ``docs/api.md``."""
    from .ledger import open_ledger as _open

    return _open(path, create=create)


__all__ = ["LeverageError", "hookimpl", "open_ledger", "__version__"]
