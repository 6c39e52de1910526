"""Files shipped inside the package: JSON Schemas and bundled policy profiles.

Read through :mod:`importlib.resources`, so they are found in a wheel, an editable install
and a source checkout alike.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any


def schemas_dir() -> Traversable:
    try:
        return resources.files("leverage.schemas")
    except ModuleNotFoundError:  # a source checkout that is not installed
        return Path(__file__).resolve().parent.parent / "schemas"


def policies_dir() -> Traversable:
    return resources.files("leverage.policies")


def schema_path(name: str) -> Traversable:
    return schemas_dir() / f"{name}.schema.json"


def load_schema(name: str) -> dict[str, Any]:
    return json.loads(schema_path(name).read_text(encoding="utf-8"))


def bundled_schema_names() -> list[str]:
    return sorted(
        p.name.removesuffix(".schema.json")
        for p in schemas_dir().iterdir()
        if p.name.endswith(".schema.json")
    )


def read_text(path: str | os.PathLike[str], what: str) -> str:
    """A UTF-8 text file (a byte-order mark is allowed), or a one-line ``LeverageError``
    naming the file and ``what`` it was meant to be."""
    from .errors import LeverageError

    name = str(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise LeverageError(f"{name}: cannot read the {what}: {exc.strerror}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LeverageError(f"{name}: the {what} is not UTF-8 text (byte {exc.start})") from None
