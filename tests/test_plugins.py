"""Discovery, selection, tracing and the registries' refusals (issue 4).

Plugins here are either objects registered for one test (``leverage_plugins`` /
``leverage_cli`` of :mod:`leverage.testing`) or modules installed as real distributions in
``tmp_path`` (:class:`test_plugins_support.FakePlugins`), so that discovery goes through
``importlib.metadata`` as for a third-party plugin. No test loads a plugin installed on the
machine: ``LEVERAGE_LOAD_PLUGINS`` names exactly what a test wants.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from test_plugins_support import FakePlugins, count, make_ledger, verified

from leverage import LeverageError, __version__, hookimpl, plugins
from leverage.cli import cli
from leverage.errors import PluginError

BUILTINS = ("leverage_crm", "leverage_graphviz", "leverage_tos")


pytestmark = pytest.mark.plugins()  # the core alone: never the plugins installed


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    fake = FakePlugins(tmp_path, monkeypatch)
    yield fake
    fake.close()


def one_line_error(result, *fragments: str) -> str:
    assert result.exit_code == 1, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


# -- discovery -----------------------------------------------------------------------------

def test_builtin_plugins_are_entry_points_of_this_project():
    eps = {ep.name: ep for ep in importlib.metadata.entry_points(group="leverage")}
    for name in BUILTINS:
        assert name in eps, f"{name} is not an entry point of group leverage"
        assert eps[name].value == name
        dist = eps[name].dist
        assert dist is not None and dist.metadata["Name"] == "leverage"


def test_builtin_plugins_load_like_third_party_ones(monkeypatch, leverage_cli):
    monkeypatch.setenv("LEVERAGE_LOAD_PLUGINS", ",".join(BUILTINS))
    rows = json.loads(leverage_cli()("plugins", "--json").stdout)
    by_name = {r["name"]: r for r in rows}
    assert rows[0]["name"] == "leverage" and rows[0]["builtin"] is True
    for name in BUILTINS:
        assert by_name[name]["status"] == "loaded", by_name[name]
        assert by_name[name]["builtin"] is True
        assert by_name[name]["version"] == __version__
    # nothing is registered for them by the core: they use only the public hooks
    assert "register_importers" in by_name["leverage_crm"]["hooks"]


def test_plugins_json_shape(monkeypatch, leverage_cli, fakes):
    fakes.add("broken_one", "raise ImportError('needs libfoo')", also=("leverage_crm",))

    class Local:
        __version__ = "2.5"

        @hookimpl
        def register_checks(self, register):
            pass

    invoke = leverage_cli(local=Local())
    result = invoke("plugins", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert isinstance(rows, list)
    for row in rows:
        assert set(row) == {"name", "version", "hooks", "status", "builtin", "reason"}, row
        assert row["status"] in ("loaded", "broken", "disabled")
        assert isinstance(row["hooks"], list) and row["hooks"] == sorted(row["hooks"])
        assert (row["reason"] is not None) == (row["status"] == "broken")
    by_name = {r["name"]: r for r in rows}
    assert by_name["leverage"]["hooks"] == ["register_checks", "register_commands", "register_policies",
                                            "register_schemas", "register_step_kinds"]
    assert by_name["leverage_crm"]["status"] == "loaded"
    assert by_name["leverage_tos"]["status"] == "disabled" and by_name["leverage_tos"]["hooks"] == []
    assert by_name["broken_one"] == {"name": "broken_one", "version": "1.0", "hooks": [], "status": "broken",
                                     "builtin": False,
                                     "reason": "cannot import fake_broken_one: ImportError: needs libfoo"}
    assert by_name["local"] == {"name": "local", "version": "2.5", "hooks": ["register_checks"],
                                "status": "loaded", "builtin": False, "reason": None}


def test_plugins_table(leverage_cli, fakes):
    fakes.add("broken_two", "import not_a_module_anywhere")
    result = leverage_cli()("plugins")
    assert result.exit_code == 0, result.output
    assert "broken_two" in result.stdout and "broken" in result.stdout
    assert "not_a_module_anywhere" in result.stdout
    assert "register_commands" in result.stdout


def test_plugins_load_once_per_process(leverage_cli, tmp_path):
    calls = {"register_commands": 0, "register_step_kinds": 0}

    class Counter:
        @hookimpl
        def register_commands(self, cli):
            calls["register_commands"] += 1

        @hookimpl
        def register_step_kinds(self, register):
            calls["register_step_kinds"] += 1

    invoke = leverage_cli(counter=Counter())
    pm = plugins.get_plugin_manager()
    assert plugins.load_plugins() is pm and plugins.get_plugin_manager() is pm
    make_ledger(tmp_path / "leverage.db")
    for _ in range(3):
        assert invoke("status", "--json").exit_code == 0
        assert invoke("--help").exit_code == 0
    assert calls == {"register_commands": 1, "register_step_kinds": 1}
    assert plugins.get_plugin_manager() is pm


def test_a_reset_attaches_the_commands_again(leverage_plugins):
    @click.command("hello")
    def hello():
        """Say hello."""
        click.echo("hello")

    class Hello:
        @hookimpl
        def register_commands(self, cli):
            cli.add_command(hello)

    leverage_plugins(hello_plugin=Hello())
    assert CliRunner().invoke(cli, ["hello"]).stdout == "hello\n"
    plugins.remove_plugin("hello_plugin")
    result = CliRunner().invoke(cli, ["hello"])
    assert result.exit_code == 1 and "hello" in result.stderr


# -- LEVERAGE_LOAD_PLUGINS -------------------------------------------------------------------

def test_empty_selection_loads_no_plugin_and_the_core_works(monkeypatch, tmp_path, leverage_cli):
    monkeypatch.setenv("LEVERAGE_LOAD_PLUGINS", "")
    invoke = leverage_cli()
    rows = json.loads(invoke("plugins", "--json").stdout)
    assert [r["status"] for r in rows if r["name"] in BUILTINS] == ["disabled"] * 3
    assert plugins.get_plugin_manager().get_plugins() and len(plugins.get_plugin_manager().get_plugins()) == 1

    steps = [
        ("--actor", "ana", "init", "--at", "2021-01-01"),
        ("party", "add", "we", "--name", "We", "--kind", "self", "--at", "2021-01-01"),
        ("party", "add", "acme", "--name", "Acme", "--kind", "client", "--at", "2021-01-01"),
        ("rel", "add", "r1", "--source", "we", "--target", "acme", "--type", "hosts", "--at", "2021-01-02"),
        ("impact", "open", "i1", "--rel", "r1", "--right", "expression", "--scale", "4", "--scope", "3",
         "--irremediability", "3", "--summary", "Harm", "--at", "2021-01-03"),
        ("step", "add", "i1", "--kind", "dialogue", "--summary", "Call", "--at", "2021-01-04"),
    ]
    for args in steps:
        result = invoke(*args)
        assert result.exit_code == 0, (args, result.output)
    status = json.loads(invoke("status", "--json", "--as-of", "2021-01-05").stdout)
    assert status[0]["impact"] == "i1" and status[0]["rung"] == "engage"
    assert json.loads(invoke("next", "i1", "--json", "--as-of", "2021-01-05").stdout)["next"] == "notice"
    for args in (("log",), ("verify",), ("party", "list"), ("policy", "show"), ("schema",), ("schema", "event"),
                 ("--help",), ("import", "--help"), ("render", "--help"), ("graph", "--help")):
        result = invoke(*args)
        assert result.exit_code == 0, (args, result.output)
    export = tmp_path / "out.jsonl"
    assert invoke("export", "-o", export).exit_code == 0
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "restored.db"), "load", str(export)])
    assert result.exit_code == 0, result.output
    assert verified(tmp_path / "restored.db") == verified(tmp_path / "leverage.db")
    one_line_error(invoke("import", "crm", "x.csv"), "no importer 'crm'", "known: none", "leverage plugins")


def test_selection_restricts_entry_points(monkeypatch, leverage_cli):
    monkeypatch.setenv("LEVERAGE_LOAD_PLUGINS", " leverage_crm , ")
    result = leverage_cli()("plugins", "--json")
    status = {r["name"]: r["status"] for r in json.loads(result.stdout)}
    assert status["leverage_crm"] == "loaded"
    assert status["leverage_tos"] == status["leverage_graphviz"] == "disabled"
    assert result.stderr == ""


def test_selection_naming_no_installed_plugin_is_reported(monkeypatch, leverage_cli):
    monkeypatch.setenv("LEVERAGE_LOAD_PLUGINS", "leverage_crm,leverage_crn")
    result = leverage_cli()("plugins", "--json")
    assert result.exit_code == 0
    assert result.stderr == "leverage: LEVERAGE_LOAD_PLUGINS names no installed plugin: leverage_crn\n"


def test_added_plugins_load_whatever_the_selection(monkeypatch, leverage_cli):
    class Mine:
        @hookimpl
        def register_step_kinds(self, register):
            register("mine-step", "engage", "Mine")

    monkeypatch.setenv("LEVERAGE_LOAD_PLUGINS", "")
    leverage_cli(mine=Mine())
    assert plugins.registries().step_kinds["mine-step"].owner == "mine"


def test_without_the_variable_every_installed_plugin_loads(monkeypatch, fakes):
    fakes.add("everyone", "")
    monkeypatch.delenv("LEVERAGE_LOAD_PLUGINS")
    infos = plugins.plugin_infos()
    assert infos["everyone"].status == "loaded"
    for name in BUILTINS:
        assert infos[name].status == "loaded"


# -- tracing ---------------------------------------------------------------------------------

class Traced:
    @hookimpl
    def register_step_kinds(self, register):
        register("traced-step", "engage", "Traced")

    @hookimpl
    def validate_event(self, event):
        pass

    @hookimpl
    def event_recorded(self, event, ledger):
        pass


def test_trace_prints_every_hook_call_and_its_duration(monkeypatch, leverage_cli, tmp_path):
    make_ledger(tmp_path / "leverage.db")
    monkeypatch.setenv("LEVERAGE_TRACE_PLUGINS", "1")
    invoke = leverage_cli(traced=Traced())
    result = invoke("step", "add", "imp-1", "--kind", "traced-step", "--summary", "Traced", "--at", "2021-02-01")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("leverage trace: ")]
    text = "\n".join(lines)
    for expected in ("register_commands [leverage]", "register_step_kinds [leverage]",
                     "register_step_kinds [traced]", "register_policies [leverage]",
                     "validate_event [traced]", "event_recorded [traced]", "loaded plugins (traced)"):
        assert expected in text, (expected, text)
    assert all(line.endswith(" ms") or " ms" in line for line in lines)
    assert result.stderr.count("validate_event [traced]") == 1
    assert "recorded step.taken imp-1" in result.stdout


def test_trace_reports_an_implementation_that_raises(monkeypatch, leverage_cli, tmp_path):
    class Veto:
        @hookimpl
        def validate_event(self, event):
            raise LeverageError("no")

    make_ledger(tmp_path / "leverage.db")
    monkeypatch.setenv("LEVERAGE_TRACE_PLUGINS", "1")
    result = leverage_cli(veto=Veto())("party", "add", "x", "--name", "X", "--kind", "other")
    assert result.exit_code == 1
    assert "validate_event [veto]" in result.stderr and "(raised LeverageError)" in result.stderr
    assert result.stderr.splitlines()[-1] == "Error: refused by plugin veto: no"


def test_trace_of_calls_through_the_hook_relay(monkeypatch, leverage_plugins, capsys):
    monkeypatch.setenv("LEVERAGE_TRACE_PLUGINS", "1")
    leverage_plugins(traced=Traced())
    plugins.get_plugin_manager().hook.event_recorded(event=None, ledger=None)
    err = capsys.readouterr().err
    assert "hook event_recorded called (implementations: traced)" in err
    assert "event_recorded [traced]" in err and "hook event_recorded done in" in err


def test_no_trace_without_the_variable(leverage_cli, tmp_path):
    make_ledger(tmp_path / "leverage.db")
    result = leverage_cli(traced=Traced())("party", "add", "x", "--name", "X", "--kind", "other")
    assert result.exit_code == 0
    assert result.stderr == ""


def test_trace_in_a_real_process(tmp_path):
    env = {**os.environ, "LEVERAGE_TRACE_PLUGINS": "1", "LEVERAGE_LOAD_PLUGINS": "leverage_crm",
           "LEVERAGE_DB": str(tmp_path / "l.db")}
    proc = subprocess.run([sys.executable, "-c", "from leverage.cli import cli; cli(['schema'])"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "leverage trace: import leverage_crm" in proc.stderr
    assert "leverage trace: register_schemas [leverage_crm]" in proc.stderr


# -- misspelled hooks ------------------------------------------------------------------------

def test_a_misspelled_hook_fails_at_load_naming_the_plugin(fakes):
    fakes.add("typo", """
        from leverage import hookimpl

        @hookimpl
        def register_comands(cli):
            pass
    """)
    result = CliRunner().invoke(cli, ["--help"])
    line = one_line_error(result, "plugin typo", "'register_comands' is not a leverage hook",
                          "did you mean 'register_commands'?")
    assert line.startswith("Error: ")
    with pytest.raises(PluginError, match="plugin typo"):
        plugins.get_plugin_manager()


def test_a_misspelled_hook_argument_fails_at_load(leverage_plugins):
    class Typo:
        @hookimpl
        def validate_event(self, evnt, ledger):
            pass

    leverage_plugins(argtypo=Typo())
    result = CliRunner().invoke(cli, ["plugins"])
    one_line_error(result, "plugin argtypo", "hook validate_event has no argument 'evnt'", "event, ledger")


def test_an_optional_unknown_hook_is_allowed(leverage_plugins):
    class Future:
        @hookimpl(optionalhook=True)
        def register_something_new(self, register):
            pass

    leverage_plugins(future=Future())
    assert plugins.plugin_infos()["future"].status == "loaded"


def test_check_pending_is_the_last_word(leverage_plugins, monkeypatch):
    """Even when our own check were to miss something, pluggy's check_pending runs."""
    monkeypatch.setattr(plugins, "_check_impls", lambda pm, plugin, name: None)

    class Typo:
        @hookimpl
        def event_recordd(self, event):
            pass

    leverage_plugins(late=Typo())
    with pytest.raises(PluginError, match="plugin late: .*event_recordd"):
        plugins.get_plugin_manager()


# -- broken plugins --------------------------------------------------------------------------

def test_a_plugin_that_fails_to_import_is_reported_once_and_the_rest_works(fakes, tmp_path):
    fakes.add("fragile", "raise RuntimeError('config file missing')", also=("leverage_crm",))
    db = tmp_path / "l.db"
    runner = CliRunner()
    first = runner.invoke(cli, ["--db", str(db), "init", "--at", "2021-01-01"])
    assert first.exit_code == 0, first.output
    assert first.stderr == ("leverage: plugin fragile is broken and was not loaded: "
                            "cannot import fake_fragile: RuntimeError: config file missing\n")
    plugins.reset()  # even when loaded again in the same process: reported once
    second = runner.invoke(cli, ["--db", str(db), "party", "add", "we", "--name", "We", "--kind", "self"])
    assert second.exit_code == 0, second.output
    assert second.stderr == ""
    assert "crm" in plugins.registries().importers
    assert verified(db)[0] == count(db) == 2


def test_a_broken_plugin_in_a_real_process_is_reported_once(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "fake_crash.py").write_text("raise ImportError('no libcrash')\n")
    info = site / "fake_crash-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-crash\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[leverage]\ncrash = fake_crash\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path]),
           "LEVERAGE_LOAD_PLUGINS": "crash", "LEVERAGE_DB": str(tmp_path / "l.db")}
    code = "from leverage.cli import cli; cli(['plugins', '--json'])"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("plugin crash is broken") == 1, proc.stderr
    crash = next(r for r in json.loads(proc.stdout) if r["name"] == "crash")
    assert crash["status"] == "broken" and "no libcrash" in crash["reason"]


def test_a_syntax_error_or_sys_exit_in_a_plugin_is_a_broken_plugin(fakes, leverage_cli):
    fakes.add("exits", "import sys\nsys.exit(3)")
    fakes.add("syntax", "def (:")
    rows = {r["name"]: r for r in json.loads(leverage_cli()("plugins", "--json").stdout)}
    assert rows["exits"]["status"] == "broken" and "SystemExit" in rows["exits"]["reason"]
    assert rows["syntax"]["status"] == "broken" and "SyntaxError" in rows["syntax"]["reason"]


def test_two_entry_points_with_one_name(fakes):
    fakes.add("twin", "")
    fakes.add("twin2", "", dist="fake-other")
    # a second distribution declaring entry point "twin" too
    info = fakes.site / "fake_third-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-third\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[leverage]\ntwin = fake_twin2\n")
    plugins.reset()
    infos = plugins.plugin_infos()
    assert infos["twin"].status == "loaded"
    [clash] = [i for n, i in infos.items() if n.startswith("twin (")]
    assert clash.status == "broken" and "taken by another entry point" in (clash.reason or "")


def test_a_plugin_cannot_take_the_core_s_name(fakes):
    fakes.add("leverage", "")
    [clash] = [i for i in plugins.plugin_infos().values() if i.status != "disabled"]
    assert clash.status == "broken" and "taken by the core" in (clash.reason or "")


# -- the registries refuse duplicates, wrong types and unknown rungs --------------------------

def _registers(hook: str, *args):
    """A plugin class whose ``hook`` calls ``register(*args)``."""

    def impl(self, register):
        register(*args)

    impl.__name__ = hook
    return type(f"Registers_{hook}", (), {hook: hookimpl(impl)})()


@click.command("tool")
def a_command():
    """A command."""


SCHEMA = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}


@pytest.mark.parametrize(("hook", "args", "core_name", "kind"), [
    ("register_step_kinds", ("dialogue", "engage", "Talk"), "dialogue", "step kind"),
    ("register_policies", ("ungp", Path(__file__)), "ungp", "policy"),
    ("register_schemas", ("event", SCHEMA), "event", "schema"),
], ids=["step kind", "policy", "schema"])
def test_a_name_the_core_owns_is_refused_naming_both(leverage_cli, hook, args, core_name, kind):
    invoke = leverage_cli(thief=_registers(hook, *args))
    with pytest.raises(PluginError) as info:
        plugins.registries()
    assert str(info.value) == f"{kind} {core_name!r} is registered by both leverage and thief"
    one_line_error(invoke("schema"), f"{kind} {core_name!r} is registered by both leverage and thief")


@pytest.mark.parametrize(("hook", "args", "kind"), [
    ("register_step_kinds", ("shared-kind", "notice", "Shared"), "step kind"),
    ("register_policies", ("shared", Path(__file__)), "policy"),
    ("register_schemas", ("shared", SCHEMA), "schema"),
    ("register_importers", ("shared", a_command), "importer"),
    ("register_renderers", ("shared", a_command), "renderer"),
], ids=["step kind", "policy", "schema", "importer", "renderer"])
def test_duplicates_between_plugins_are_refused_naming_both(leverage_cli, hook, args, kind):
    invoke = leverage_cli(first=_registers(hook, *args), second=_registers(hook, *args))
    name = args[0]
    one_line_error(invoke("schema"), f"{kind} {name!r} is registered by both first and second")


def test_duplicate_commands_are_refused_naming_both(leverage_cli):
    class Status:
        @hookimpl
        def register_commands(self, cli):
            cli.add_command(a_command, "status")

    one_line_error(leverage_cli(mine=Status())("--help"), "command 'status' is registered by both leverage and mine")


def test_duplicate_commands_between_plugins(leverage_cli):
    class One:
        @hookimpl
        def register_commands(self, cli):
            @cli.command("tool")
            def tool():
                """One's tool."""

    class Two:
        @hookimpl
        def register_commands(self, cli):
            @cli.command
            def tool():
                """Two's tool."""

    one_line_error(leverage_cli(one=One(), two=Two())("plugins"), "command 'tool' is registered by both one and two")


@pytest.mark.parametrize(("hook", "args", "reason"), [
    ("register_step_kinds", ("local-kind", "escalate", "x"), "names rung 'escalate', which does not exist"),
    ("register_step_kinds", ("local-kind", "suspend", "x"), "which is reached by a decision, not a step"),
    ("register_step_kinds", ("local-kind", "monitor", "x"), "names rung 'monitor'"),
    ("register_step_kinds", ("Local Kind", "engage", "x"), "a step kind must be a slug"),
    ("register_step_kinds", ("local-kind", "engage", 3), "description of step kind 'local-kind' must be a string"),
    ("register_importers", ("mine", lambda: None), "importer 'mine' must be a click command, not a function"),
    ("register_renderers", ("mine", "leverage render mine"), "renderer 'mine' must be a click command, not a str"),
    ("register_schemas", ("mine", '{"type": "object"}'), "schema 'mine' must be a dict or the path of a JSON file"),
    ("register_schemas", ("mine", Path("/nonexistent/x.json")), "schema 'mine': /nonexistent/x.json is not a file"),
    ("register_schemas", ("mine", {"type": {1, 2}}), "schema 'mine' is not JSON"),
    ("register_policies", ("mine", "policy.toml"), "policy 'mine' must be a pathlib.Path"),
    ("register_policies", ("mine", Path("/nonexistent.toml")), "policy 'mine' must be the path of a TOML file"),
    ("register_policies", ("my/policy", Path(__file__)), "policy name must be a non-empty string"),
    ("register_importers", ("", a_command), "importer name must be a non-empty string"),
    ("register_checks", ("not callable",), "a check must be callable, not a str"),
    ("register_checks", (lambda impact, ledger: [],), "requires 'ledger'; a check is called with keyword"),
], ids=lambda v: v if isinstance(v, str) and " " not in v else None)
def test_wrong_registrations_are_refused_with_plugin_and_reason(leverage_cli, hook, args, reason):
    invoke = leverage_cli(wrong=_registers(hook, *args))
    line = one_line_error(invoke("schema"), "plugin wrong", reason)
    assert line.startswith("Error: plugin wrong: ")


def test_a_registry_hook_returning_a_value_is_refused(leverage_cli):
    class Returns:
        @hookimpl
        def register_importers(self, register):
            return {"mine": a_command}

    one_line_error(leverage_cli(ret=Returns())("schema"),
                   "plugin ret: register_importers must call register(...) and return None, not a dict")


def test_register_commands_returning_or_adding_the_wrong_type(leverage_cli):
    class Returns:
        @hookimpl
        def register_commands(self, cli):
            return a_command

    one_line_error(leverage_cli(ret=Returns())("--help"),
                   "plugin ret: register_commands must call cli.add_command(...) and return None, not a Command")
    plugins.remove_plugin("ret")

    class Adds:
        @hookimpl
        def register_commands(self, cli):
            cli.add_command(lambda: None)

    one_line_error(leverage_cli(adds=Adds())("--help"), "plugin adds: register_commands must add click commands")


def test_a_registry_hook_that_raises_names_the_plugin(leverage_cli):
    class Raises:
        @hookimpl
        def register_step_kinds(self, register):
            raise KeyError("rungs")

    one_line_error(leverage_cli(raises=Raises())("schema"),
                   "plugin raises failed in register_step_kinds: KeyError: 'rungs'")


def test_register_commands_that_raises_names_the_plugin(leverage_cli):
    class Raises:
        @hookimpl
        def register_commands(self, cli):
            raise RuntimeError("boom")

    invoke = leverage_cli(raises=Raises())
    one_line_error(invoke("--help"), "plugin raises failed in register_commands: RuntimeError: boom")
    one_line_error(invoke("status"), "plugin raises failed in register_commands")  # again, not half-loaded


def test_register_is_closed_after_the_hook_returns(leverage_cli):
    kept = []

    class Keeps:
        @hookimpl
        def register_step_kinds(self, register):
            kept.append(register)

    leverage_cli(keeps=Keeps())
    plugins.registries()
    with pytest.raises(PluginError, match="plugin keeps: register\\(\\) of register_step_kinds was called after"):
        kept[0]("late-kind", "engage", "Late")
    assert "late-kind" not in plugins.registries().step_kinds


def test_a_registration_error_does_not_stop_leverage_plugins(leverage_cli):
    """Diagnosis stays possible: ``plugins`` and ``--help`` do not need the registries."""
    invoke = leverage_cli(wrong=_registers("register_step_kinds", "x-kind", "escalate", "x"))
    assert invoke("plugins").exit_code == 0
    assert invoke("--help").exit_code == 0
    assert invoke("schema").exit_code == 1


def test_add_plugin_refuses_a_name_twice():
    class P:
        pass

    plugins.add_plugin(P(), "twice")
    try:
        with pytest.raises(PluginError, match="added already"):
            plugins.add_plugin(P(), "twice")
    finally:
        plugins.remove_plugin("twice")


def test_the_testing_fixtures_name_anonymous_plugins_apart(leverage_plugins):
    class Anonymous:
        @hookimpl
        def register_checks(self, register):
            pass

    leverage_plugins(Anonymous(), Anonymous())
    infos = plugins.plugin_infos()
    assert infos["test-plugin-1"].status == infos["test-plugin-2"].status == "loaded"



# -- the kit for plugin authors (leverage.testing) -------------------------------------------

def test_fixture_leverage_ledger_is_empty_under_the_default_policy(leverage_ledger, leverage_db):
    assert leverage_ledger.count() == 1
    [event] = list(leverage_ledger.iter_events())
    assert event.type == "policy.set" and event.data["name"] == "ungp"
    assert leverage_db.exists() and leverage_db.parent.name.startswith("test_fixture_leverage_ledger")


def test_fixture_leverage_example_ledger_default(leverage_example_ledger):
    from leverage.testing import SAMPLE_EVENTS

    ledger = leverage_example_ledger()
    assert ledger.count() == 1 + len(SAMPLE_EVENTS)
    assert "imp-1" in ledger.state().impacts
    ledger.verify()


def test_fixture_leverage_example_ledger_from_an_example_file(leverage_example_ledger):
    path = Path(__file__).resolve().parent.parent / "examples" / "platform-hosting" / "events.jsonl"
    ledger = leverage_example_ledger(path)
    assert ledger.count() == 1 + len(path.read_text().splitlines())
    assert ledger.status()


def test_fixture_leverage_example_ledger_from_events(leverage_example_ledger):
    ledger = leverage_example_ledger([{"type": "party.added", "at": "2021-01-01", "actor": "ana",
                                       "data": {"id": "we", "name": "We", "kind": "self"}}])
    assert list(ledger.state().parties) == ["we"]
    with pytest.raises(RuntimeError, match="once per test"):
        leverage_example_ledger()


def test_fixture_leverage_cli_registers_for_one_test_only(leverage_cli, leverage_ledger):
    class Kind:
        @hookimpl
        def register_step_kinds(self, register):
            register("fixture-kind", "notice", "From a fixture")

    invoke = leverage_cli(fixture_plugin=Kind())
    kinds = json.loads(invoke("step", "kinds", "--json").stdout)
    assert {"kind": "fixture-kind", "rung": "notice", "description": "From a fixture",
            "owner": "fixture_plugin"} in kinds
    result = invoke("party", "add", "we", "--name", "We", "--kind", "self", "--at", "2021-01-01")
    assert result.exit_code == 0 and "by tester" in result.stdout
    assert leverage_ledger.count() == 2  # the same ledger


def test_fixture_leverage_cli_left_nothing_behind():
    """Runs after the test above (file order): its plugin is gone."""
    assert all(name != "fixture_plugin" for _plugin, name in plugins._state.extra)
    assert "fixture-kind" not in plugins.registries().step_kinds
