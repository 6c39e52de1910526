"""The plugin manager and the registries it fills.

Loading (:func:`load_plugins`, once per process; safe to call again):

1. the core's own hook implementations (:mod:`leverage.core`) are registered directly, so
   they cannot be switched off;
2. the entry points of group ``leverage`` load, the built-in plugins under ``plugins/``
   among them (this project's own ``pyproject.toml`` declares them, nothing more);
   ``LEVERAGE_LOAD_PLUGINS=a,b`` restricts which (empty: none). An entry point that fails
   to import is reported once on stderr, shown as ``broken`` by ``leverage plugins``, and
   the rest of the tool works;
3. plugin objects added with :func:`add_plugin` (tests, embedding) are registered;
4. a hook implementation whose name or arguments match no hook specification fails the load
   with one line naming the plugin (``check_pending``): a misspelled hook never goes unseen.

The registries (step kinds, policies, importers, renderers, schemas, checks) are filled the
first time a command needs them (:func:`registries`), one implementation at a time so that
every item is recorded with its owner; duplicates, wrong types and unknown rungs are refused
with the plugin's name and the reason.

``LEVERAGE_TRACE_PLUGINS=1`` prints every call of a hook implementation and its duration to
stderr (whoever makes the call: the registries, the command line, the ledger).

This module is imported by ``leverage --help``: keep it free of heavy imports.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from . import hookspecs
from .errors import PluginError

if TYPE_CHECKING:  # pragma: no cover
    import importlib.metadata

CORE_NAME = "leverage"
ENTRY_POINT_GROUP = "leverage"
LOAD_ENV = "LEVERAGE_LOAD_PLUGINS"
TRACE_ENV = "LEVERAGE_TRACE_PLUGINS"
RUNGS = ("monitor", "engage", "notice", "enforce", "collective", "suspend", "terminate")
#: The rungs a step kind can reach (``monitor`` is the start; suspend and terminate are
#: decisions, not steps).
STEP_RUNGS = ("engage", "notice", "enforce", "collective")


@dataclass(frozen=True)
class StepKind:
    kind: str
    rung: str
    description: str
    owner: str


@dataclass(frozen=True)
class PluginInfo:
    """What ``leverage plugins`` shows about an entry point or an added plugin object."""

    name: str
    version: str | None
    status: str  # loaded | broken | disabled
    builtin: bool
    reason: str | None = None


@dataclass
class Registries:
    """Everything the core and the plugins registered, with the owner of each item."""

    step_kinds: dict[str, StepKind] = field(default_factory=dict)
    #: name -> (path of a TOML file, owner)
    policies: dict[str, tuple[Any, str]] = field(default_factory=dict)
    #: name -> (click command, owner)
    importers: dict[str, tuple[Any, str]] = field(default_factory=dict)
    renderers: dict[str, tuple[Any, str]] = field(default_factory=dict)
    #: name -> (dict or path of a JSON file, owner)
    schemas: dict[str, tuple[Any, str]] = field(default_factory=dict)
    #: (owner, check) in registration order
    checks: list[tuple[str, Callable[..., Any]]] = field(default_factory=list)

    def step_rungs(self) -> dict[str, str]:
        return {k: v.rung for k, v in self.step_kinds.items()}

    def policy_texts(self) -> dict[str, str]:
        """Registered policy profiles as name -> TOML text."""
        return {name: path.read_text(encoding="utf-8") for name, (path, _owner) in self.policies.items()}


class _State:
    def __init__(self) -> None:
        self.pm: pluggy.PluginManager | None = None
        self.registries: Registries | None = None
        self.infos: dict[str, PluginInfo] = {}
        #: (plugin object, name) added with add_plugin, registered at every load
        self.extra: list[tuple[object, str]] = []
        #: plugins already reported broken on stderr (once per process, across reloads)
        self.reported: set[str] = set()
        #: incremented at every load: the command line re-attaches commands when it changes
        self.generation = 0
        #: whether infos lists the disabled entry points too (not looked up when none load)
        self.infos_complete = False


_state = _State()


# -- loading -------------------------------------------------------------------------------

def get_plugin_manager() -> pluggy.PluginManager:
    """The process's plugin manager, loading the plugins on first use (safe to call again).

    Raises :class:`~leverage.errors.PluginError` (one line naming the plugin) when a plugin
    implements a hook that does not exist or takes an argument the hook does not have.
    """
    if _state.pm is None:
        _state.pm = _load()
    return _state.pm


def load_plugins() -> pluggy.PluginManager:
    """Load the plugins (once per process) and return the plugin manager."""
    return get_plugin_manager()


def generation() -> int:
    """A number that changes whenever the plugins are loaded again (after :func:`reset`)."""
    get_plugin_manager()
    return _state.generation


def trace_enabled() -> bool:
    return os.environ.get(TRACE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _selection() -> set[str] | None:
    """The entry-point names ``LEVERAGE_LOAD_PLUGINS`` allows (None: all of them)."""
    selected = os.environ.get(LOAD_ENV)
    if selected is None:
        return None
    return {s.strip() for s in selected.split(",") if s.strip()}


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    import importlib.metadata  # ~10 ms: not needed when LEVERAGE_LOAD_PLUGINS is empty

    return list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))


def _dist_of(ep: importlib.metadata.EntryPoint, cache: dict[int, tuple[str | None, str | None]]
             ) -> tuple[str | None, str | None]:
    """(version, distribution name) of the distribution declaring ``ep``."""
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None, None
    if id(dist) not in cache:
        try:
            meta = dist.metadata  # parsed once per distribution
            cache[id(dist)] = (meta["Version"], meta["Name"])
        except Exception:  # unreadable metadata: still load the plugin
            cache[id(dist)] = (None, None)
    return cache[id(dist)]


def _disabled(infos: dict[str, PluginInfo]) -> dict[str, PluginInfo]:
    """``infos`` with every entry point it lacks, as disabled."""
    out = dict(infos)
    cache: dict[int, tuple[str | None, str | None]] = {}
    for ep in _entry_points():
        if ep.name not in out and ep.name != CORE_NAME:
            version, dist_name = _dist_of(ep, cache)
            out[ep.name] = PluginInfo(ep.name, version, "disabled", dist_name == "leverage")
    return out


def _warn(message: str) -> None:
    print(f"leverage: {message}", file=sys.stderr)


def _load() -> pluggy.PluginManager:
    from . import core

    started = time.perf_counter()
    trace = trace_enabled()
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    _register(pm, core, CORE_NAME, trace)
    registered = {id(core): CORE_NAME}  # the plugin objects, by id (tracing registers stand-ins)
    infos: dict[str, PluginInfo] = {}
    allowed = _selection()

    def broken(name: str, version: str | None, builtin: bool, reason: str) -> None:
        reason = " ".join(reason.split())
        infos[name] = PluginInfo(name, version, "broken", builtin, reason)
        if name not in _state.reported:
            _state.reported.add(name)
            _warn(f"plugin {name} is broken and was not loaded: {reason}")

    dists: dict[int, tuple[str | None, str | None]] = {}
    # With LEVERAGE_LOAD_PLUGINS empty nothing is looked up (plugin_infos() lists them later).
    for ep in _entry_points() if allowed != set() else []:
        version, dist_name = _dist_of(ep, dists)
        builtin = dist_name == "leverage"
        if ep.name == CORE_NAME or ep.name in infos:
            other = "the core" if ep.name == CORE_NAME else f"another entry point ({ep.value})"
            broken(f"{ep.name} ({ep.value})", version, builtin,
                   f"the name {ep.name!r} is taken by {other}")
            continue
        if allowed is not None and ep.name not in allowed:
            infos[ep.name] = PluginInfo(ep.name, version, "disabled", builtin)
            continue
        t0 = time.perf_counter()
        try:
            plugin = ep.load()
        except (Exception, SystemExit) as exc:  # a plugin that cannot import must not break the tool
            broken(ep.name, version, builtin, f"cannot import {ep.value}: {type(exc).__name__}: {exc}")
            continue
        if trace:
            _trace_line(f"import {ep.name} ({ep.value}) {(time.perf_counter() - t0) * 1000:.2f} ms")
        if id(plugin) in registered:
            broken(ep.name, version, builtin, f"{ep.value} is loaded already as plugin {registered[id(plugin)]}")
            continue
        _register(pm, plugin, ep.name, trace)
        registered[id(plugin)] = ep.name
        infos[ep.name] = PluginInfo(ep.name, version, "loaded", builtin)

    if allowed is not None:
        unknown = ", ".join(sorted(allowed - set(infos) - {CORE_NAME}))
        if unknown and f"{LOAD_ENV}: {unknown}" not in _state.reported:
            _state.reported.add(f"{LOAD_ENV}: {unknown}")
            _warn(f"{LOAD_ENV} names no installed plugin: {unknown}")

    for plugin, name in _state.extra:
        if id(plugin) in registered and registered[id(plugin)] == name:
            continue  # an entry point loaded it already (a plugin testing itself, installed)
        if pm.has_plugin(name):
            raise PluginError(f"plugin {name}: the name is taken by another plugin")
        if id(plugin) in registered:
            raise PluginError(f"plugin {name}: the object is loaded already as plugin {registered[id(plugin)]}")
        _register(pm, plugin, name, trace)
        registered[id(plugin)] = name
        infos[name] = PluginInfo(name, _version_attr(plugin), "loaded", False)

    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:  # _check_impls catches these first, more helpfully
        raise PluginError(f"plugin {pm.get_name(exc.plugin)}: {' '.join(str(exc).split())}") from None
    if trace:
        _install_hookcall_monitoring(pm)
        names = ", ".join(n for n, i in infos.items() if i.status == "loaded") or "none"
        _trace_line(f"loaded plugins ({names}) in {(time.perf_counter() - started) * 1000:.2f} ms")
    _state.infos = infos
    _state.infos_complete = allowed != set()
    _state.generation += 1
    return pm


def _version_attr(plugin: object) -> str | None:
    version = getattr(plugin, "__version__", None)
    return version if isinstance(version, str) else None


def _hookimpls_of(pm: pluggy.PluginManager, plugin: object) -> list[tuple[str, str, Callable[..., Any], Any]]:
    """(attribute, hook name, function, options) of each ``@hookimpl`` of ``plugin``."""
    out = []
    for attr in dir(plugin):
        try:
            opts = pm.parse_hookimpl_opts(plugin, attr)
        except Exception:  # an attribute that cannot be read is not a hook
            continue
        if opts is not None:
            out.append((attr, opts.get("specname") or attr, getattr(plugin, attr), opts))
    return out


def _required_args(function: Callable[..., Any]) -> list[str]:
    """The arguments pluggy passes to an implementation: positional ones without a default."""
    try:
        params = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]


def _check_impls(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    """Refuse hook implementations that match no hook, or take arguments it does not have:
    one line naming the plugin (what ``check_pending`` catches, said more helpfully)."""
    known = hook_names()
    for _attr, hook_name, function, opts in _hookimpls_of(pm, plugin):
        if hook_name not in known:
            if opts.get("optionalhook"):
                continue
            import difflib

            close = difflib.get_close_matches(hook_name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise PluginError(
                f"plugin {name}: {hook_name!r} is not a leverage hook{hint}; "
                f"the hooks are {', '.join(known)}"
            )
        accepted = getattr(pm.hook, hook_name).spec.argnames
        extra = [a for a in _required_args(function) if a not in accepted]
        if extra:
            raise PluginError(
                f"plugin {name}: hook {hook_name} has no argument {', '.join(map(repr, extra))} "
                f"(it takes {', '.join(accepted) or 'none'}, or any subset)"
            )


def _register(pm: pluggy.PluginManager, plugin: object, name: str, trace: bool) -> None:
    _check_impls(pm, plugin, name)
    target = _Traced(pm, plugin, name) if trace else plugin
    try:
        pm.register(target, name=name)
    except ValueError as exc:  # the name or the object is registered already
        raise PluginError(f"plugin {name}: {exc}") from None
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {name}: {' '.join(str(exc).split())}") from None


# -- tracing -------------------------------------------------------------------------------

def _trace_line(message: str) -> None:
    print(f"leverage trace: {message}", file=sys.stderr)


class _Traced:
    """A stand-in registered instead of a plugin when tracing: each hook implementation is
    wrapped to print its plugin, hook and duration, whoever calls it."""

    def __init__(self, pm: pluggy.PluginManager, plugin: object, name: str):
        self._leverage_traced = plugin
        for attr, hook_name, function, _opts in _hookimpls_of(pm, plugin):
            setattr(self, attr, _traced(function, hook_name, name))

    def __repr__(self) -> str:
        return f"<traced {self._leverage_traced!r}>"


def _traced(function: Callable[..., Any], hook_name: str, plugin_name: str) -> Callable[..., Any]:
    @functools.wraps(function)  # keeps the @hookimpl marker and the signature pluggy reads
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        outcome = ""
        try:
            return function(*args, **kwargs)
        except BaseException as exc:
            outcome = f" (raised {type(exc).__name__})"
            raise
        finally:
            took = (time.perf_counter() - start) * 1000
            _trace_line(f"{hook_name} [{plugin_name}] {took:.2f} ms{outcome}")

    return wrapper


def _install_hookcall_monitoring(pm: pluggy.PluginManager) -> None:
    """Also trace calls through ``pm.hook.NAME(...)`` (all implementations at once)."""
    starts: list[float] = []

    def before(hook_name: str, hook_impls: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        starts.append(time.perf_counter())
        names = ", ".join(i.plugin_name for i in hook_impls)
        _trace_line(f"hook {hook_name} called (implementations: {names or 'none'})")

    def after(outcome: Any, hook_name: str, hook_impls: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        took = (time.perf_counter() - starts.pop()) * 1000 if starts else 0.0
        _trace_line(f"hook {hook_name} done in {took:.2f} ms")

    pm.add_hookcall_monitoring(before, after)


# -- state for tests and embedding ---------------------------------------------------------

def plugin_infos() -> dict[str, PluginInfo]:
    """Every entry point (loaded, broken or disabled) and added plugin, by name."""
    get_plugin_manager()
    if _selection() == set() and not _state.infos_complete:
        _state.infos = _disabled(_state.infos)
        _state.infos_complete = True
    return dict(_state.infos)


def reset() -> None:
    """Forget the loaded plugins and registries (tests; the next use loads them again).

    The command line notices and attaches the commands again on its next use.
    """
    _state.pm = None
    _state.registries = None
    _state.infos = {}
    _state.infos_complete = False


def add_plugin(plugin: object, name: str) -> None:
    """Register ``plugin`` (a module, class instance or any object with ``@hookimpl``
    functions) under ``name`` at every load, as if an entry point named it, until
    :func:`remove_plugin`. ``LEVERAGE_LOAD_PLUGINS`` does not apply to it."""
    if any(n == name for _p, n in _state.extra):
        raise PluginError(f"plugin {name}: added already")
    _state.extra.append((plugin, name))
    reset()


def remove_plugin(name: str) -> None:
    """Undo :func:`add_plugin`."""
    _state.extra = [(p, n) for p, n in _state.extra if n != name]
    reset()


# -- calling hooks one implementation at a time ---------------------------------------------

@dataclass(frozen=True)
class HookCall:
    """One plugin's implementation of a hook: ``call(**kwargs)`` passes the arguments the
    implementation accepts (an implementation may take any subset of the hook's)."""

    plugin_name: str
    hook_name: str
    function: Callable[..., Any]
    argnames: tuple[str, ...]

    def __call__(self, **kwargs: Any) -> Any:
        return self.function(**{k: v for k, v in kwargs.items() if k in self.argnames})


def hook_calls(hook_name: str) -> list[HookCall]:
    """Each implementation of ``hook_name``: ``tryfirst`` ones, then the others in
    registration order (the core first, then entry points, then added plugins), then
    ``trylast`` ones. For callers that must know which plugin did what (the registries,
    the command line, the ledger's ``validate_event`` and ``event_recorded``): a duplicate
    is blamed on the later one."""
    pm = get_plugin_manager()
    order = {name: i for i, (name, _plugin) in enumerate(pm.list_name_plugin())}
    impls = sorted(getattr(pm.hook, hook_name).get_hookimpls(),
                   key=lambda i: (0 if i.tryfirst else 2 if i.trylast else 1, order.get(i.plugin_name, 0)))
    return [HookCall(i.plugin_name, hook_name, i.function, tuple(i.argnames)) for i in impls]


def call_each(hook_name: str, **kwargs: Any) -> Iterable[tuple[str, Any]]:
    """Call each implementation of ``hook_name`` on its own, yielding (plugin name, result)."""
    for call in hook_calls(hook_name):
        yield call.plugin_name, call(**kwargs)


# -- registries ----------------------------------------------------------------------------

def _is_file(value: Any) -> bool:
    try:
        return bool(value.is_file())
    except Exception:
        return False


def registries() -> Registries:
    """The registries, filled on first use by every plugin's ``register_*`` hooks.

    Raises :class:`~leverage.errors.PluginError` naming the plugin (both plugins for a
    duplicate) when a registration is refused.
    """
    if _state.registries is not None:
        return _state.registries
    reg = Registries()
    for hook_name, make in _REGISTRY_HOOKS:
        for call in hook_calls(hook_name):
            _call_registry_hook(call, make(reg, call.plugin_name))
    _state.registries = reg
    return reg


def _call_registry_hook(call: HookCall, register: Callable[..., None]) -> None:
    """Run one ``register_*`` implementation with its own callback, closed afterwards."""
    open_ = [True]

    def callback(*args: Any, **kwargs: Any) -> None:
        if not open_[0]:
            raise PluginError(f"plugin {call.plugin_name}: register() of {call.hook_name} was called "
                              f"after the hook returned")
        register(*args, **kwargs)

    try:
        result = call(register=callback)
    except PluginError:
        raise
    except Exception as exc:
        raise PluginError(
            f"plugin {call.plugin_name} failed in {call.hook_name}: {type(exc).__name__}: {exc}"
        ) from None
    finally:
        open_[0] = False
    if result is not None:
        raise PluginError(
            f"plugin {call.plugin_name}: {call.hook_name} must call register(...) and return None, "
            f"not a {type(result).__name__}"
        )


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def _check_name(owner: str, kind: str, name: Any) -> None:
    if not isinstance(name, str) or not name or not set(name) <= _NAME_CHARS or not name[0].isalnum():
        raise PluginError(
            f"plugin {owner}: {kind} name must be a non-empty string of letters, digits, '-', '_' "
            f"and '.', starting with a letter or digit, got {name!r}"
        )


def _named_registrar(table_name: str, kind: str, check: Callable[[str, str, Any], None]
                     ) -> Callable[[Registries, str], Callable[..., None]]:
    def make(reg: Registries, owner: str) -> Callable[..., None]:
        table: dict[str, tuple[Any, str]] = getattr(reg, table_name)

        def register(name: str, value: Any) -> None:
            _check_name(owner, kind, name)
            check(owner, name, value)
            if name in table:
                raise PluginError(f"{kind} {name!r} is registered by both {table[name][1]} and {owner}")
            table[name] = (value, owner)

        return register

    return make


def _command_check(kind: str) -> Callable[[str, str, Any], None]:
    def check(owner: str, name: str, value: Any) -> None:
        import click

        if not isinstance(value, click.Command):
            raise PluginError(f"plugin {owner}: {kind} {name!r} must be a click command, "
                              f"not a {type(value).__name__}")

    return check


def _policy_check(owner: str, name: str, value: Any) -> None:
    if not hasattr(value, "read_text"):
        raise PluginError(f"plugin {owner}: policy {name!r} must be a pathlib.Path or an "
                          f"importlib.resources file, not a {type(value).__name__}")
    if not _is_file(value):
        raise PluginError(f"plugin {owner}: policy {name!r} must be the path of a TOML file; "
                          f"{value!r} is not a file")


def _schema_check(owner: str, name: str, value: Any) -> None:
    if isinstance(value, dict):
        import json

        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise PluginError(f"plugin {owner}: schema {name!r} is not JSON: {exc}") from None
        return
    if not hasattr(value, "read_text"):
        raise PluginError(f"plugin {owner}: schema {name!r} must be a dict or the path of a JSON file, "
                          f"not a {type(value).__name__}")
    if not _is_file(value):
        raise PluginError(f"plugin {owner}: schema {name!r}: {value} is not a file")


def _step_kinds(reg: Registries, owner: str) -> Callable[..., None]:
    def register(kind: str, rung: str, description: str = "") -> None:
        from .events import STEP_KIND

        if not isinstance(kind, str) or not STEP_KIND.match(kind):
            raise PluginError(f"plugin {owner}: a step kind must be a slug of a-z, 0-9 and '-' "
                              f"(at most 64), got {kind!r}")
        if rung not in STEP_RUNGS:
            why = "is reached by a decision, not a step" if rung in RUNGS else "does not exist"
            raise PluginError(f"plugin {owner}: step kind {kind!r} names rung {rung!r}, which {why} "
                              f"(step rungs: {', '.join(STEP_RUNGS)})")
        if not isinstance(description, str):
            raise PluginError(f"plugin {owner}: the description of step kind {kind!r} must be a string, "
                              f"not a {type(description).__name__}")
        if kind in reg.step_kinds:
            raise PluginError(f"step kind {kind!r} is registered by both {reg.step_kinds[kind].owner} "
                              f"and {owner}")
        reg.step_kinds[kind] = StepKind(kind, rung, description, owner)

    return register


CHECK_ARGUMENTS = ("impact", "state", "policy", "as_of")


def _checks(reg: Registries, owner: str) -> Callable[..., None]:
    def register(check: Callable[..., Any]) -> None:
        if not callable(check):
            raise PluginError(f"plugin {owner}: a check must be callable, not a {type(check).__name__}")
        try:
            params = inspect.signature(check).parameters.values()
        except (TypeError, ValueError):  # a builtin without a signature: let the engine try
            params = []  # type: ignore[assignment]
        needed = [p.name for p in params
                  if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                  and p.name not in CHECK_ARGUMENTS]
        if needed:
            raise PluginError(f"plugin {owner}: check {getattr(check, '__name__', check)!r} requires "
                              f"{', '.join(map(repr, needed))}; a check is called with keyword arguments "
                              f"{', '.join(CHECK_ARGUMENTS)} (any subset)")
        reg.checks.append((owner, check))

    return register


_REGISTRY_HOOKS: list[tuple[str, Callable[[Registries, str], Callable[..., None]]]] = [
    ("register_step_kinds", _step_kinds),
    ("register_policies", _named_registrar("policies", "policy", _policy_check)),
    ("register_importers", _named_registrar("importers", "importer", _command_check("importer"))),
    ("register_renderers", _named_registrar("renderers", "renderer", _command_check("renderer"))),
    ("register_schemas", _named_registrar("schemas", "schema", _schema_check)),
    ("register_checks", _checks),
]


# -- introspection -------------------------------------------------------------------------

@functools.cache
def _hook_names() -> tuple[str, ...]:
    return tuple(sorted(
        name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "leverage_spec")
    ))


def hook_names() -> list[str]:
    """The names of every hook specification, sorted."""
    return list(_hook_names())


def plugin_hooks(name: str) -> list[str]:
    """The hooks plugin ``name`` implements (empty when it is not loaded)."""
    pm = get_plugin_manager()
    plugin = pm.get_plugin(name)
    if plugin is None:
        return []
    return sorted(h.name for h in pm.get_hookcallers(plugin) or [])


def plugin_module_path(name: str) -> Path | None:  # pragma: no cover - a debugging aid
    plugin = get_plugin_manager().get_plugin(name)
    plugin = getattr(plugin, "_leverage_traced", plugin)
    file = getattr(plugin, "__file__", None)
    return Path(file) if file else None
