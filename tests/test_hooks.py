"""One ``test_hook_<name>`` per hook of :mod:`leverage.hookspecs`, each through a plugin
object registered for the test, and the meta-tests that keep hooks, tests and
``docs/plugins.md`` together: a new hook without its reference section or its test fails
the build."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import click
import pytest

from leverage import LeverageError, hookimpl, hookspecs, plugins
from leverage.cli import App, pass_app

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "plugins.md"
TESTS = Path(__file__).resolve().parent

HOOKS = plugins.hook_names()


pytestmark = pytest.mark.plugins()  # the core alone: never the plugins installed


# -- meta-tests ------------------------------------------------------------------------------

def test_the_hooks_are_the_contract_s():
    assert set(HOOKS) >= {"register_commands", "register_step_kinds", "register_policies",
                          "register_importers", "register_renderers", "register_checks",
                          "register_schemas", "validate_event", "event_recorded"}


def _doc_sections() -> dict[str, str]:
    """``## name`` / ``### `name(...)` `` headings of docs/plugins.md -> the section text."""
    text = DOC.read_text(encoding="utf-8")
    sections: dict[str, str] = {}
    parts = re.split(r"^(#{2,4} .*)$", text, flags=re.MULTILINE)
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        match = re.match(r"#{2,4} `?([a-z_]+)", heading)
        if match:
            sections[match.group(1)] = heading + body
    return sections


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_reference_section(hook):
    sections = _doc_sections()
    assert hook in sections, f"docs/plugins.md has no `### {hook}` section"
    section = sections[hook]
    params = list(inspect.signature(getattr(hookspecs, hook)).parameters)
    signature = f"{hook}({', '.join(params)})"
    assert signature in section, f"the section of {hook} does not show its signature {signature}"
    for topic in ("When", "Raising", "Example"):
        assert f"**{topic}" in section, f"the section of {hook} lacks **{topic}...**"
    assert "```python" in section and "@hookimpl" in section, f"the section of {hook} lacks an example"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test(hook):
    pattern = re.compile(rf"^def test_hook_{hook}\b", re.MULTILINE)
    found = [p.name for p in TESTS.glob("test_*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert found, f"no test named test_hook_{hook} in tests/"


def test_no_test_or_section_names_a_hook_that_does_not_exist():
    names = set()
    for path in TESTS.glob("test_*.py"):
        names |= set(re.findall(r"^def test_hook_([a-z_]+)\b", path.read_text(encoding="utf-8"), re.MULTILINE))
    assert names <= set(HOOKS), f"tests of unknown hooks: {sorted(names - set(HOOKS))}"
    reference = DOC.read_text(encoding="utf-8").split("## Hook reference", 1)[1]
    documented = set(re.findall(r"^### `([a-z_]+)\(", reference, re.MULTILINE))
    assert documented == set(HOOKS), f"sections of unknown hooks: {sorted(documented - set(HOOKS))}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hookspec_is_typed_and_documented(hook):
    spec = getattr(hookspecs, hook)
    doc = inspect.getdoc(spec) or ""
    assert doc.splitlines()[0].endswith("."), f"{hook}: the docstring starts with a one-line summary"
    for name, param in inspect.signature(spec).parameters.items():
        assert param.annotation is not inspect.Parameter.empty, f"{hook}: {name} has no type hint"
        assert f":param {name}:" in doc, f"{hook}: the docstring does not describe {name}"
    assert "Called" in doc, f"{hook}: the docstring does not say when it is called"


def test_hookimpl_is_re_exported():
    import leverage

    assert leverage.hookimpl is hookspecs.hookimpl
    assert set(vars(hookspecs)) >= {"hookspec", "hookimpl"}


# -- one test per hook -----------------------------------------------------------------------

def _ledger(invoke) -> None:
    """A small ledger through the command line."""
    for args in (("init", "--at", "2021-01-01"),
                 ("party", "add", "we", "--name", "We", "--kind", "self", "--at", "2021-01-01"),
                 ("party", "add", "acme", "--name", "Acme", "--kind", "client", "--at", "2021-01-01"),
                 ("rel", "add", "r1", "--source", "we", "--target", "acme", "--type", "hosts",
                  "--at", "2021-01-02"),
                 ("impact", "open", "i1", "--rel", "r1", "--right", "expression", "--scale", "3",
                  "--scope", "3", "--irremediability", "3", "--summary", "Harm", "--at", "2021-01-03")):
        result = invoke(*args)
        assert result.exit_code == 0, (args, result.output)


def test_hook_register_commands(leverage_cli):
    @click.command("hello")
    @click.argument("who")
    @pass_app
    def hello(app: App, who: str):
        """Greet WHO, with the ledger's event count."""
        click.echo(f"hello {who}: {app.ledger().count()} events")

    class Commands:
        @hookimpl
        def register_commands(self, cli):
            cli.add_command(hello)

            @cli.group()
            def team():
                """Team tools."""

            @team.command()
            def size():
                """How big."""
                click.echo("3")

    invoke = leverage_cli(commands=Commands())
    _ledger(invoke)
    result = invoke("hello", "world")
    assert result.exit_code == 0, result.output
    assert result.stdout == "hello world: 5 events\n"
    assert invoke("team", "size").stdout == "3\n"
    help_text = invoke("--help").stdout
    assert "hello" in help_text and "Greet WHO" in help_text and "team" in help_text
    rows = {r["name"]: r for r in json.loads(invoke("plugins", "--json").stdout)}
    assert rows["commands"]["hooks"] == ["register_commands"]


def test_hook_register_step_kinds(leverage_cli):
    class Kinds:
        @hookimpl
        def register_step_kinds(self, register):
            register("community-dialogue", "engage", "Talk with the affected community")
            register("app-store-delisting", "enforce", "Delist the app")

    invoke = leverage_cli(kinds=Kinds())
    _ledger(invoke)
    kinds = {k["kind"]: k for k in json.loads(invoke("step", "kinds", "--json").stdout)}
    assert kinds["community-dialogue"] == {"kind": "community-dialogue", "rung": "engage",
                                           "description": "Talk with the affected community", "owner": "kinds"}
    assert kinds["dialogue"]["owner"] == "leverage"
    result = invoke("step", "add", "i1", "--kind", "community-dialogue", "--summary", "Town hall",
                    "--at", "2021-01-04")
    assert result.exit_code == 0, result.output
    [status] = json.loads(invoke("status", "--json", "--as-of", "2021-01-05").stdout)
    assert status["rung"] == "engage"
    assert invoke("step", "add", "i1", "--kind", "app-store-delisting", "--summary", "Delisted",
                  "--at", "2021-01-06").exit_code == 0
    [status] = json.loads(invoke("status", "--json", "--as-of", "2021-01-07").stdout)
    assert status["rung"] == "enforce"
    # without the plugin the kind is unknown
    plugins.remove_plugin("kinds")
    result = invoke("step", "add", "i1", "--kind", "community-dialogue", "--summary", "Again", "--at", "2021-01-08")
    assert result.exit_code == 1 and "community-dialogue" in result.stderr


def test_hook_register_policies(leverage_cli, tmp_path):
    path = tmp_path / "strict.toml"
    path.write_text('extends = "ungp"\nname = "strict"\ndescription = "Faster"\n\n'
                    "[days]\nlow = 30\nmoderate = 14\nhigh = 7\ncritical = 1\n", encoding="utf-8")

    class Policies:
        @hookimpl
        def register_policies(self, register):
            register("strict", path)

    invoke = leverage_cli(policies=Policies())
    result = invoke("init", "--policy", "strict", "--at", "2021-01-01")
    assert result.exit_code == 0, result.output
    shown = json.loads(invoke("policy", "show", "--json").stdout)
    assert shown["name"] == "strict"
    assert shown["content"]["days"]["high"] == 7
    assert plugins.registries().policies["strict"][1] == "policies"


def test_hook_register_importers(leverage_cli, tmp_path):
    @click.command("names")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @pass_app
    def names(app: App, file: str):
        """Import parties from a file of names, one a line."""
        lines = Path(file).read_text(encoding="utf-8").split()
        events = [{"type": "party.added", "at": "2021-02-01", "actor": app.actor,
                   "data": {"id": n.lower(), "name": n, "kind": "supplier",
                            "attributes": {"source": {"system": "names", "file": file}}}} for n in lines]
        app.ledger().append(events, actor=app.actor)
        click.echo(f"imported {len(events)} parties")

    class Importers:
        @hookimpl
        def register_importers(self, register):
            register("names", names)

    invoke = leverage_cli(importers=Importers())
    _ledger(invoke)
    source = tmp_path / "names.txt"
    source.write_text("North\nSouth\n")
    assert "names" in invoke("import", "--help").stdout
    result = invoke("import", "names", source)
    assert result.exit_code == 0, result.output
    assert result.stdout == "imported 2 parties\n"
    parties = {p["id"] for p in json.loads(invoke("party", "list", "--json").stdout)}
    assert {"north", "south"} <= parties
    assert plugins.registries().importers["names"] == (names, "importers")


def test_hook_register_renderers(leverage_cli):
    @click.command("count")
    @pass_app
    def count(app: App):
        """Render the number of events."""
        click.echo(f"{app.ledger().count()} events")

    class Renderers:
        @hookimpl
        def register_renderers(self, register):
            register("count", count)

    invoke = leverage_cli(renderers=Renderers())
    _ledger(invoke)
    assert "Render the number of events" in invoke("render", "--help").stdout
    result = invoke("render", "count")
    assert result.exit_code == 0, result.output
    assert result.stdout == "5 events\n"


def test_hook_register_checks(leverage_cli):
    seen = {}

    class Checks:
        @hookimpl
        def register_checks(self, register):
            def no_affected_people(impact, as_of, **_):
                seen["as_of"] = as_of
                if not impact.affected:
                    yield {"code": "no-affected-people", "message": f"{impact.id} names no affected people.",
                           "source": "UNGP 18"}

            def never(state):
                return []

            register(no_affected_people)
            register(never)

    invoke = leverage_cli(checks=Checks())
    _ledger(invoke)
    [status] = json.loads(invoke("status", "--json", "--as-of", "2021-01-05").stdout)
    assert {"code": "no-affected-people", "message": "i1 names no affected people.",
            "source": "UNGP 18"} in status["findings"]
    assert str(seen["as_of"]) == "2021-01-05"
    # the core's own check (grievance findings) first, then the plugin's
    assert [owner for owner, _check in plugins.registries().checks] == ["leverage", "checks", "checks"]


def test_hook_register_schemas(leverage_cli, tmp_path):
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Mirror config",
              "type": "object", "properties": {"url": {"type": "string"}}}
    file = tmp_path / "mirror-target.schema.json"
    file.write_text(json.dumps({"type": "string"}), encoding="utf-8")

    class Schemas:
        @hookimpl
        def register_schemas(self, register):
            register("mirror-config", schema)
            register("mirror-target", file)

    invoke = leverage_cli(schemas=Schemas())
    result = invoke("schema", "mirror-config")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == schema
    assert json.loads(invoke("schema", "mirror-target").stdout) == {"type": "string"}
    listed = invoke("schema").stdout
    assert "mirror-config\t(schemas)" in listed and "event\t(leverage)" in listed
    assert {"name": "mirror-config", "owner": "schemas"} in json.loads(invoke("schema", "--json").stdout)


def test_hook_validate_event(leverage_cli):
    seen = []

    class Validator:
        @hookimpl
        def validate_event(self, event, ledger):
            seen.append((event.type, event.seq, ledger.count()))
            if event.type == "impact.opened" and "privacy" in event.data["rights"] and event.actor != "dpo":
                raise LeverageError("privacy impacts are opened by the data protection officer")

    invoke = leverage_cli(validator=Validator())
    _ledger(invoke)
    assert ("policy.set", None, 0) in seen and ("impact.opened", None, 4) in seen
    args = ("impact", "open", "i2", "--rel", "r1", "--right", "privacy", "--scale", "3", "--scope", "3",
            "--irremediability", "3", "--summary", "Leak", "--at", "2021-01-04")
    result = invoke(*args)
    assert result.exit_code == 1
    assert result.stderr == ("Error: refused by plugin validator: privacy impacts are opened by the data "
                             "protection officer\n")
    assert invoke("verify").stdout.startswith("ok: 5 events")
    assert invoke("--actor", "dpo", *args).exit_code == 0


def test_hook_event_recorded(leverage_cli, tmp_path):
    mirror = tmp_path / "mirror.jsonl"

    class Mirror:
        @hookimpl
        def event_recorded(self, event):
            with open(mirror, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"seq": event.seq, "type": event.type, "hash": event.hash}) + "\n")

    invoke = leverage_cli(mirror=Mirror())
    _ledger(invoke)
    lines = [json.loads(line) for line in mirror.read_text().splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3, 4, 5]
    assert [line["type"] for line in lines][:2] == ["policy.set", "party.added"]
    head = invoke("verify").stdout.split()[-1]
    assert lines[-1]["hash"] == head
    # a dry run or a refused write tells nobody
    assert invoke("party", "add", "we", "--name", "Again", "--kind", "self").exit_code == 1
    assert len(mirror.read_text().splitlines()) == 5
