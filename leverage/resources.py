"""Files shipped inside the package: JSON Schemas and bundled policy profiles.

Read through :mod:`importlib.resources`, so they are found in a wheel, an editable install
and a source checkout alike.
"""

from __future__ import annotations

import json
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
