"""A pytest plugin for plugin authors (loaded through the ``pytest11`` entry point).

Fixtures:

- ``leverage_ledger``: an empty, initialised ledger (default policy) in ``tmp_path``.
- ``leverage_example_ledger``: a factory ``(path_to_jsonl) -> Ledger`` loading an example.
- ``leverage_cli``: a factory ``(*plugins) -> invoke`` returning a function that runs the
  ``leverage`` command line against the fixture ledger with the given plugin objects
  registered for this test only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


def _init(db: Path, actor: str = "tester") -> Any:
    import hashlib

    from . import plugins
    from .ledger import open_ledger
    from .policy import resolve

    name, content = resolve("ungp", plugins.registries().policy_texts())
    ledger = open_ledger(db, create=True)
    ledger.append([{"type": "policy.set", "at": "2000-01-01", "actor": actor,
                    "data": {"name": name, "sha256": hashlib.sha256(content.encode()).hexdigest(),
                             "content": content}}])
    return ledger


@pytest.fixture
def leverage_db(tmp_path: Path) -> Path:
    """The path of the fixture ledger (not created)."""
    return tmp_path / "leverage.db"


@pytest.fixture
def leverage_ledger(leverage_db: Path) -> Iterator[Any]:
    """An empty ledger under the default policy, in ``tmp_path``."""
    ledger = _init(leverage_db)
    yield ledger
    ledger.close()


@pytest.fixture
def leverage_example_ledger(leverage_db: Path) -> Iterator[Callable[[str | Path], Any]]:
    """A factory: ``leverage_example_ledger("examples/x/events.jsonl")`` loads that file into
    the fixture ledger and returns it."""
    opened: list[Any] = []

    def make(path: str | Path) -> Any:
        ledger = _init(leverage_db)
        ledger.load(path)
        opened.append(ledger)
        return ledger

    yield make
    for ledger in opened:
        ledger.close()


@pytest.fixture
def leverage_cli(leverage_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """A factory: ``invoke = leverage_cli(my_plugin_module)`` registers the plugins for this
    test; ``invoke("status", "--json")`` runs the command line against ``leverage_db`` and
    returns click's ``Result``."""
    from click.testing import CliRunner

    from . import plugins
    from .cli import cli

    names: list[str] = []
    monkeypatch.setenv("LEVERAGE_ACTOR", "tester")

    def make(*plugin_objects: Any) -> Callable[..., Any]:
        for i, obj in enumerate(plugin_objects):
            name = getattr(obj, "__name__", None) or f"test-plugin-{i}"
            plugins.add_plugin(obj, name)
            names.append(name)
        _reset_cli(cli)
        runner = CliRunner()

        def invoke(*args: str, input: str | None = None) -> Any:
            return runner.invoke(cli, ["--db", str(leverage_db), *args], input=input)

        return invoke

    yield make
    for name in names:
        plugins.remove_plugin(name)
    _reset_cli(cli)


def _reset_cli(cli: Any) -> None:
    """Forget the commands attached to the group so the next run attaches them again."""
    cli.commands.clear()
    cli._loaded = False
