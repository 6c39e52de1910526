"""The plugin manager and the registries it fills.

The core registers its own hook implementations (:mod:`leverage.core`) directly, so they
cannot be switched off; then the entry points of group ``leverage`` load (the built-in
plugins under ``plugins/`` too), then ``check_pending`` makes a misspelled hook fail loudly.

``LEVERAGE_LOAD_PLUGINS=a,b`` restricts which entry points load (empty: none);
``LEVERAGE_TRACE_PLUGINS=1`` prints every hook call and its duration to stderr.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import attrs
import pluggy

from . import hookspecs
from .errors import PluginError

CORE_NAME = "leverage"
RUNGS = ("monitor", "engage", "notice", "enforce", "collective", "suspend", "terminate")
STEP_RUNGS = ("engage", "notice", "enforce", "collective")


@attrs.frozen
class StepKind:
    kind: str
    rung: str
    description: str
    owner: str


@attrs.frozen
class PluginInfo:
    name: str
    version: str | None
    status: str  # loaded | broken | disabled
    builtin: bool
    reason: str | None = None


@attrs.define
class Registries:
    """Everything the core and the plugins registered, with the owner of each item."""

    step_kinds: dict[str, StepKind] = attrs.Factory(dict)
    policies: dict[str, tuple[Any, str]] = attrs.Factory(dict)
    importers: dict[str, tuple[Any, str]] = attrs.Factory(dict)
    renderers: dict[str, tuple[Any, str]] = attrs.Factory(dict)
    schemas: dict[str, tuple[Any, str]] = attrs.Factory(dict)
    checks: list[tuple[str, Callable[..., Any]]] = attrs.Factory(list)

    def step_rungs(self) -> dict[str, str]:
        return {k: v.rung for k, v in self.step_kinds.items()}

    def policy_texts(self) -> dict[str, str]:
        """Registered policy profiles as name -> TOML text."""
        out = {}
        for name, (path, _owner) in self.policies.items():
            out[name] = path.read_text(encoding="utf-8") if hasattr(path, "read_text") else str(path)
        return out


class _State:
    pm: pluggy.PluginManager | None = None
    registries: Registries | None = None
    infos: dict[str, PluginInfo] = {}
    extra: list[tuple[object, str]] = []


_state = _State()


def _dist_of(ep: importlib.metadata.EntryPoint) -> tuple[str | None, bool]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None, False
    return dist.version, dist.metadata["Name"] == "leverage"


def _trace_enabled() -> bool:
    return os.environ.get("LEVERAGE_TRACE_PLUGINS", "") not in ("", "0")


def get_plugin_manager() -> pluggy.PluginManager:
    """The process's plugin manager, loading plugins on first use (safe to call again)."""
    if _state.pm is None:
        _state.pm = _load()
    return _state.pm


load_plugins = get_plugin_manager


def _load() -> pluggy.PluginManager:
    from . import core

    pm = pluggy.PluginManager("leverage")
    pm.add_hookspecs(hookspecs)
    pm.register(core, name=CORE_NAME)
    infos: dict[str, PluginInfo] = {}
    selected = os.environ.get("LEVERAGE_LOAD_PLUGINS")
    allowed = None if selected is None else {s.strip() for s in selected.split(",") if s.strip()}
    for ep in importlib.metadata.entry_points(group="leverage"):
        version, builtin = _dist_of(ep)
        if ep.name in infos or pm.has_plugin(ep.name):
            continue
        if allowed is not None and ep.name not in allowed:
            infos[ep.name] = PluginInfo(ep.name, version, "disabled", builtin)
            continue
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
        except Exception as exc:  # a broken plugin must not break the tool
            reason = f"{type(exc).__name__}: {exc}"
            infos[ep.name] = PluginInfo(ep.name, version, "broken", builtin, reason)
            print(f"leverage: plugin {ep.name} failed to load: {reason}", file=sys.stderr)
            continue
        infos[ep.name] = PluginInfo(ep.name, version, "loaded", builtin)
    for plugin, name in _state.extra:
        pm.register(plugin, name=name)
        infos[name] = PluginInfo(name, None, "loaded", False)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or repr(exc.plugin)
        raise PluginError(f"plugin {name}: {exc}") from None
    if _trace_enabled():
        _install_trace(pm)
    _state.infos = infos
    return pm


def _install_trace(pm: pluggy.PluginManager) -> None:
    starts: list[float] = []

    def before(hook_name: str, hook_impls: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        starts.append(time.perf_counter())
        names = ", ".join(i.plugin_name for i in hook_impls)
        print(f"leverage trace: {hook_name} -> [{names}]", file=sys.stderr)

    def after(outcome: Any, hook_name: str, hook_impls: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        took = (time.perf_counter() - starts.pop()) * 1000 if starts else 0.0
        print(f"leverage trace: {hook_name} done in {took:.2f} ms", file=sys.stderr)

    pm.add_hookcall_monitoring(before, after)


def plugin_infos() -> dict[str, PluginInfo]:
    get_plugin_manager()
    return dict(_state.infos)


def reset() -> None:
    """Forget the loaded plugins and registries (tests; the next use loads them again)."""
    _state.pm = None
    _state.registries = None
    _state.infos = {}


def add_plugin(plugin: object, name: str) -> None:
    """Register ``plugin`` as if it came from an entry point (tests and embedding)."""
    _state.extra.append((plugin, name))
    reset()


def remove_plugin(name: str) -> None:
    _state.extra = [(p, n) for p, n in _state.extra if n != name]
    reset()


def call_each(hook_name: str, **kwargs: Any) -> Iterator[tuple[str, Any]]:
    """Call each implementation of ``hook_name`` on its own, yielding (plugin name, result).

    Registries need to know which plugin registers what, so their hooks are called one
    implementation at a time with arguments the implementation accepts.
    """
    pm = get_plugin_manager()
    hook = getattr(pm.hook, hook_name)
    trace = _trace_enabled()
    for impl in reversed(hook.get_hookimpls()):
        args = {k: v for k, v in kwargs.items() if k in impl.argnames}
        start = time.perf_counter()
        result = impl.function(**args)
        if trace:
            took = (time.perf_counter() - start) * 1000
            print(f"leverage trace: {hook_name} [{impl.plugin_name}] {took:.2f} ms", file=sys.stderr)
        yield impl.plugin_name, result


def _registrar(kind: str, table: dict[str, tuple[Any, str]], owner: str,
               check: Callable[[str, Any], None] | None = None) -> Callable[[str, Any], None]:
    def register(name: str, value: Any) -> None:
        if not isinstance(name, str) or not name:
            raise PluginError(f"plugin {owner}: {kind} name must be a non-empty string, got {name!r}")
        if check is not None:
            check(name, value)
        if name in table:
            raise PluginError(
                f"{kind} {name!r} is registered by both {table[name][1]} and {owner}"
            )
        table[name] = (value, owner)

    return register


def registries() -> Registries:
    """The registries, filled on first use by every plugin's ``register_*`` hooks."""
    if _state.registries is not None:
        return _state.registries
    import click

    reg = Registries()
    pm = get_plugin_manager()

    def each(hook_name: str, make: Callable[[str], Callable[..., None]]) -> None:
        hook = getattr(pm.hook, hook_name)
        for impl in reversed(hook.get_hookimpls()):
            register = make(impl.plugin_name)
            args = {k: v for k, v in {"register": register}.items() if k in impl.argnames}
            try:
                result = impl.function(**args)
            except PluginError:
                raise
            except Exception as exc:
                raise PluginError(
                    f"plugin {impl.plugin_name} failed in {hook_name}: {type(exc).__name__}: {exc}"
                ) from None
            if result is not None:
                raise PluginError(
                    f"plugin {impl.plugin_name}: {hook_name} must call register(...) and "
                    f"return None, got {type(result).__name__}"
                )

    def step_kind(owner: str) -> Callable[..., None]:
        def register(kind: str, rung: str, description: str = "") -> None:
            _register_step_kind(reg, owner, kind, rung, description)

        return register

    def command_check(kind: str) -> Callable[[str, Any], None]:
        def check(name: str, value: Any) -> None:
            if not isinstance(value, click.Command):
                raise PluginError(f"{kind} {name!r} must be a click command, got {type(value).__name__}")

        return check

    def schema_check(name: str, value: Any) -> None:
        if not (isinstance(value, dict) or hasattr(value, "read_text")):
            raise PluginError(f"schema {name!r} must be a dict or a path, got {type(value).__name__}")

    def policy_check(name: str, value: Any) -> None:
        if not hasattr(value, "read_text"):
            raise PluginError(f"policy {name!r} must be a path to a TOML file, got {type(value).__name__}")

    def checks(owner: str) -> Callable[..., None]:
        def register(check: Callable[..., Any]) -> None:
            if not callable(check):
                raise PluginError(f"plugin {owner}: a check must be callable, got {type(check).__name__}")
            reg.checks.append((owner, check))

        return register

    each("register_step_kinds", step_kind)
    each("register_policies", lambda o: _named(_registrar("policy", reg.policies, o, policy_check), o))
    each("register_importers",
         lambda o: _named(_registrar("importer", reg.importers, o, command_check("importer")), o))
    each("register_renderers",
         lambda o: _named(_registrar("renderer", reg.renderers, o, command_check("renderer")), o))
    each("register_schemas", lambda o: _named(_registrar("schema", reg.schemas, o, schema_check), o))
    each("register_checks", checks)
    _state.registries = reg
    return reg


def _named(register: Callable[[str, Any], None], owner: str) -> Callable[[str, Any], None]:
    def wrapped(name: str, value: Any) -> None:
        try:
            register(name, value)
        except PluginError as exc:
            msg = str(exc)
            raise PluginError(msg if owner in msg else f"plugin {owner}: {msg}") from None

    return wrapped


def _register_step_kind(reg: Registries, owner: str, kind: Any, rung: Any, description: Any) -> None:
    from .events import STEP_KIND

    if not isinstance(kind, str) or not STEP_KIND.match(kind):
        raise PluginError(f"plugin {owner}: step kind must be a slug of a-z, 0-9 and -, got {kind!r}")
    if rung not in STEP_RUNGS:
        raise PluginError(
            f"plugin {owner}: step kind {kind!r} names rung {rung!r}, which is not a step rung "
            f"({', '.join(STEP_RUNGS)})"
        )
    if kind in reg.step_kinds:
        raise PluginError(
            f"step kind {kind!r} is registered by both {reg.step_kinds[kind].owner} and {owner}"
        )
    reg.step_kinds[kind] = StepKind(kind, rung, str(description or ""), owner)


def hook_names() -> list[str]:
    return sorted(
        name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "leverage_spec")
    )


def plugin_hooks(name: str) -> list[str]:
    pm = get_plugin_manager()
    plugin = pm.get_plugin(name)
    if plugin is None:
        return []
    return sorted(h.name for h in pm.get_hookcallers(plugin) or [])
