"""A pytest plugin for plugin authors, loaded through the ``pytest11`` entry point wherever
``leverage`` is installed (docs/plugins.md, "Testing a plugin").

Fixtures (all function-scoped; nothing outlives the test):

- ``leverage_plugins``: ``leverage_plugins(my_plugin, other=OtherPlugin())`` registers
  plugin objects for this test only. Entry-point plugins installed on the machine do not
  load in tests that use these fixtures unless ``LEVERAGE_LOAD_PLUGINS`` names them, so a
  test sees the core and exactly the plugins it registers.
- ``leverage_db``: the path of the test's ledger in ``tmp_path`` (not created).
- ``leverage_ledger``: an empty ledger at ``leverage_db`` under the default policy ``ungp``
  (one ``policy.set`` event dated 2000-01-01), as :class:`leverage.ledger.Ledger`.
- ``leverage_example_ledger``: a factory: ``leverage_example_ledger()`` loads
  :data:`SAMPLE_EVENTS` (a small hosting scenario with one open impact), or
  ``leverage_example_ledger(path_or_events)`` a JSON Lines file (for instance one of the
  project's ``examples/*/events.jsonl``) or a list of event dicts; returns the ledger.
- ``leverage_cli``: a factory: ``invoke = leverage_cli(my_plugin)`` registers the plugins
  for this test and returns ``invoke(*args, input=None)``, which runs
  ``leverage --db LEVERAGE_DB ARGS`` with click's ``CliRunner`` (actor ``tester``) and
  returns click's ``Result`` (``exit_code``, ``stdout``, ``stderr``).

The helpers are imported lazily so that loading this plugin costs pytest nothing.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

#: The actor of events written by the fixtures (and of the CLI runner).
ACTOR = "tester"

#: A small realistic scenario: a hosting company, a client, the relationship, an impact
#: on expression and security of person, and a first dialogue.
SAMPLE_EVENTS: list[dict[str, Any]] = [
    {"type": "party.added", "at": "2021-01-01", "actor": "ana",
     "data": {"id": "we", "name": "We Host GmbH", "kind": "self", "country": "DE"}},
    {"type": "party.added", "at": "2021-01-01", "actor": "ana",
     "data": {"id": "acme", "name": "Acme Media SARL", "kind": "client", "country": "FR",
              "sector": "Media"}},
    {"type": "relationship.added", "at": "2021-01-02", "actor": "ana",
     "data": {"id": "rel-acme", "source": "we", "target": "acme", "type": "hosts",
              "leverage": 3, "since": "2019-05-01"}},
    {"type": "impact.opened", "at": "2021-01-07", "actor": "ana",
     "data": {"id": "imp-1", "relationship": "rel-acme", "rights": ["expression"],
              "summary": "A forum hosted for Acme carries calls for violence against journalists.",
              "severity": {"scale": 4, "scope": 3, "irremediability": 3}, "likelihood": 4}},
    {"type": "step.taken", "at": "2021-01-08", "actor": "ana",
     "data": {"impact": "imp-1", "kind": "dialogue", "id": "step-1",
              "summary": "Call with Acme's trust and safety lead."}},
]


def init_ledger(db: Path, actor: str = ACTOR, at: str = "2000-01-01") -> Any:
    """Create a ledger at ``db`` with the default policy recorded; returns it open."""
    import hashlib

    from . import plugins
    from .ledger import open_ledger
    from .policy import resolve

    name, content = resolve("ungp", plugins.registries().policy_texts())
    ledger = open_ledger(db, create=True)
    ledger.append([{"type": "policy.set", "at": at, "actor": actor,
                    "data": {"name": name, "sha256": hashlib.sha256(content.encode()).hexdigest(),
                             "content": content}}], actor=actor)
    return ledger


class PluginRegistrar:
    """What the ``leverage_plugins`` fixture returns: call it to register plugin objects
    for the current test; everything is undone when the test ends."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self._names: list[str] = []
        if "LEVERAGE_LOAD_PLUGINS" not in os.environ:
            monkeypatch.setenv("LEVERAGE_LOAD_PLUGINS", "")
        _forget()

    def __call__(self, *objects: object, **named: object) -> None:
        """Register each object (named by its ``__name__``, or ``test-plugin-N``) and each
        ``name=object``."""
        from . import plugins

        pending: list[tuple[str, object]] = []
        for obj in objects:
            name = getattr(obj, "__name__", None)
            if not isinstance(name, str) or not name:
                name = f"test-plugin-{len(self._names) + len(pending) + 1}"
            pending.append((name, obj))
        for name, obj in [*pending, *named.items()]:
            plugins.add_plugin(obj, name)
            self._names.append(name)

    def close(self) -> None:
        from . import plugins

        for name in self._names:
            plugins.remove_plugin(name)
        self._names.clear()
        _forget()


def _forget() -> None:
    """Forget loaded plugins and registries; the command line attaches commands again."""
    from . import plugins

    plugins.reset()


@pytest.fixture
def leverage_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginRegistrar]:
    """``leverage_plugins(plugin, name=plugin)``: register plugin objects for this test only."""
    registrar = PluginRegistrar(monkeypatch)
    yield registrar
    registrar.close()


@pytest.fixture
def leverage_db(tmp_path: Path) -> Path:
    """The path of the test's ledger in ``tmp_path`` (not created)."""
    return tmp_path / "leverage.db"


@pytest.fixture
def leverage_ledger(leverage_db: Path, leverage_plugins: PluginRegistrar) -> Iterator[Any]:
    """An empty ledger under the default policy, at ``leverage_db``."""
    ledger = init_ledger(leverage_db)
    yield ledger
    ledger.close()


@pytest.fixture
def leverage_example_ledger(leverage_db: Path, leverage_plugins: PluginRegistrar
                            ) -> Iterator[Callable[..., Any]]:
    """``leverage_example_ledger(source=None)``: the ledger at ``leverage_db`` holding the
    policy and ``source``: :data:`SAMPLE_EVENTS` when None, else a JSON Lines file or a
    list of event dicts. Call it once per test."""
    opened: list[Any] = []

    def make(source: str | Path | Iterable[dict[str, Any]] | None = None) -> Any:
        if opened:
            raise RuntimeError("leverage_example_ledger: call it once per test")
        ledger = init_ledger(leverage_db)
        opened.append(ledger)
        if source is None:
            source = copy.deepcopy(SAMPLE_EVENTS)
        if isinstance(source, str | os.PathLike):
            ledger.load(source, actor=ACTOR)
        else:
            ledger.append(list(source), actor=ACTOR)
        return ledger

    yield make
    for ledger in opened:
        ledger.close()


@pytest.fixture
def leverage_cli(leverage_db: Path, leverage_plugins: PluginRegistrar,
                 monkeypatch: pytest.MonkeyPatch) -> Callable[..., Callable[..., Any]]:
    """``invoke = leverage_cli(*plugins, **named_plugins)``; ``invoke("status", "--json")``
    runs the command line against ``leverage_db`` and returns click's ``Result``."""
    from click.testing import CliRunner

    from .cli import cli

    monkeypatch.setenv("LEVERAGE_ACTOR", ACTOR)
    monkeypatch.delenv("LEVERAGE_DB", raising=False)

    def make(*objects: object, **named: object) -> Callable[..., Any]:
        leverage_plugins(*objects, **named)
        runner = CliRunner()

        def invoke(*args: Any, input: str | None = None) -> Any:
            argv = ["--db", str(leverage_db), *(str(a) for a in args)]
            return runner.invoke(cli, argv, input=input)

        return invoke

    return make


def json_output(result: Any) -> Any:
    """The JSON a command printed, after asserting it succeeded."""
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _reset_cli(cli: Any) -> None:
    """Detach the commands attached to the group so the next run attaches them again.

    Kept for older tests: ``plugins.reset()`` is enough now, the group notices.
    """
    forget = getattr(cli, "forget_commands", None)
    if forget is not None:
        forget()
