"""Commands about the ledger as a whole: init, policy, log, verify, export, load, schema,
plugins."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from ..errors import LeverageError
from .app import AT, App, echo_json, json_option, now_at, pass_app, print_table


@click.command()
@click.option("--policy", "policy_name", default="ungp", show_default=True,
              metavar="NAME|PATH", help="A bundled policy profile, else a policy file.")
@click.option("--at", "at", type=AT, default=None,
              help="When the policy takes effect (default now).")
@pass_app
def init(app: App, policy_name: str, at: str | None) -> None:
    """Create a new ledger and record the policy in force."""
    from .. import store

    if store.exists(app.db):
        raise LeverageError(f"{app.db}: a ledger exists here already (init refuses to touch it)")
    data = _policy_data(policy_name)
    at = at or now_at()
    with new_ledger(app.db) as ledger:
        ledger.append([{"type": "policy.set", "at": at, "actor": app.actor, "data": data}],
                      actor=app.actor)
    click.echo(f"created ledger {app.db} with policy {data['name']} (sha256 {data['sha256'][:12]}...)")


def _policy_data(name_or_path: str) -> dict[str, Any]:
    import hashlib

    from .. import plugins
    from ..policy import resolve

    name, content = resolve(name_or_path, plugins.registries().policy_texts())
    return {"name": name, "sha256": hashlib.sha256(content.encode()).hexdigest(),
            "content": content}


@contextmanager
def new_ledger(db: str) -> Iterator[Any]:
    """A new ledger built at a temporary path beside ``db`` and moved into place only when
    everything was written: a failure leaves nothing behind, and a ledger that another
    process created at ``db`` meanwhile is never touched."""
    import os

    from ..ledger import open_ledger

    target = Path(db)
    if not target.parent.is_dir():
        raise LeverageError(f"{db}: the directory {target.parent} does not exist")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.new")
    ledger = open_ledger(tmp, create=True)
    try:
        # Nobody sees this file before it is complete, and a failure deletes it: write it
        # straight into the database file (a rollback journal in memory, no write-ahead log to
        # copy back, no sync per commit), sync it once, then give it the ledger's settings.
        conn = ledger.store.conn
        conn.execute("PRAGMA journal_mode = MEMORY")
        conn.execute("PRAGMA synchronous = OFF")
        yield ledger
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        ledger.close()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        try:
            os.link(tmp, target)
        except FileExistsError:
            raise LeverageError(f"{db}: a ledger was created there meanwhile; nothing written") from None
        except OSError:  # a file system without hard links: best effort
            if target.exists():
                raise LeverageError(f"{db}: a ledger exists there; nothing written") from None
            os.replace(tmp, target)
    finally:
        ledger.close()
        for suffix in ("", "-wal", "-shm"):
            Path(str(tmp) + suffix).unlink(missing_ok=True)


@click.group()
def policy() -> None:
    """The policy in force: show it, or record a change of policy."""


@policy.command("show")
@click.option("--as-of", "as_of", type=AT, default=None, help="The policy in force at this time.")
@json_option
@pass_app
def policy_show(app: App, as_of: str | None, as_json: bool) -> None:
    """Show the policy in force (its name, hash and resolved content)."""
    from ..timeutil import parse_at

    state = app.ledger().state()
    when = parse_at(as_of or now_at())
    record = state.policy_record_at(when)
    if record is None:
        raise LeverageError("no policy is recorded in this ledger (the default ungp applies)")
    if as_json:
        echo_json({"name": record.name, "sha256": record.sha256, "seq": record.seq,
                   "at": record.at, "content": json.loads(record.content)})
        return
    click.echo(f"policy {record.name} (seq {record.seq}, in force from {record.at}, "
               f"sha256 {record.sha256})")
    click.echo(json.dumps(json.loads(record.content), indent=2, ensure_ascii=False))


@policy.command("set")
@click.argument("name_or_path")
@click.option("--at", "at", type=AT, default=None,
              help="When the new policy takes effect (default now).")
@pass_app
def policy_set(app: App, name_or_path: str, at: str | None) -> None:
    """Record a change of policy (a bundled name or a policy file)."""
    app.record("policy.set", _policy_data(name_or_path), at)


@click.command()
@click.option("--impact", "impact_id", default=None, help="Only the events of this impact.")
@json_option
@pass_app
def log(app: App, impact_id: str | None, as_json: bool) -> None:
    """The audit trail: every event, who recorded it and when, with its hash."""
    ledger = app.ledger()
    events = ledger.iter_events(subject=f"impact:{impact_id}" if impact_id else None)
    voided = ledger.voided_seqs()
    if as_json:
        from ..canonical import canonical, export_line

        out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
        for e in events:
            assert e.seq is not None and e.recorded_at and e.prev and e.hash
            line = export_line(seq=e.seq, recorded_at=e.recorded_at, prev=e.prev, hash=e.hash,
                               type=e.type, at=e.at, actor=e.actor,
                               data_json=canonical(e.data)).decode()
            if out is not None:
                sys.stdout.flush()
            click.echo(line)
        return
    rows = []
    for e in events:
        summary = _describe(e.type, e.data)
        if e.seq in voided:
            summary = "[voided] " + summary
        rows.append((e.seq, e.at, e.recorded_at, e.actor, e.type, summary, (e.hash or "")[:12]))
    print_table("Audit trail", ["seq", "at", "recorded", "actor", "type", "what", "hash"], rows)


def _describe(type_: str, d: dict[str, Any]) -> str:
    if type_ == "event.voided":
        return f"voids seq {d['seq']}: {d['reason']}"
    if type_ == "policy.set":
        return f"policy {d['name']}"
    ident = d.get("id") or ""
    what = d.get("summary") or d.get("name") or d.get("rationale") or d.get("reason") or ""
    kind = d.get("kind") or d.get("decision") or d.get("outcome") or d.get("type") or ""
    subject = d.get("impact") or ident
    return " ".join(str(x) for x in (subject, kind, what) if x)


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--expect", metavar="HASH", help="Also check that this head hash is in the chain.")
@pass_app
def verify(app: App, file: str | None, expect: str | None) -> None:
    """Check the hash chain of the ledger (or of an export FILE); print the head hash."""
    from ..errors import ChainError
    from ..ledger import verify_file

    try:
        if file:
            count, head = verify_file(file, expect=expect)
        else:
            count, head = app.ledger().verify(expect=expect)
    except ChainError as exc:
        raise LeverageError(f"{file or app.db}: chain broken: {exc}") from None
    click.echo(f"ok: {count} events, head {head}")


@click.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              help="The file to write (default stdout).")
@pass_app
def export(app: App, output: str) -> None:
    """Export every event as JSON Lines, chain fields included."""
    ledger = app.ledger()
    if output == "-":
        ledger.export(sys.stdout.buffer)
        return
    target = Path(output)
    if target.exists() and not target.is_file():  # a pipe or a device: write into it
        try:
            with open(target, "wb") as fh:
                ledger.export(fh)
        except OSError as exc:
            raise LeverageError(f"{output}: cannot write: {exc.strerror}") from None
        return
    tmp = target.with_name(target.name + ".part")
    try:
        with open(tmp, "wb") as fh:
            count = ledger.export(fh)
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise LeverageError(f"{output}: cannot write: {exc.strerror}") from None
    click.echo(f"exported {count} events to {output}", err=True)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@pass_app
def load(app: App, file: str) -> None:
    """Append the events of a JSON Lines FILE, all or none.

    A file of plain events is checked and chained by the store. An export (with chain
    fields) is accepted into a new ledger (a restore) or when it continues this ledger's
    head.
    """
    from .. import store

    if not Path(file).is_file():
        raise LeverageError(f"{file}: no such file")
    if store.exists(app.db):
        ledger = app.ledger()
        count = ledger.load(file, actor=app.actor)
    else:
        with new_ledger(app.db) as ledger:
            count = ledger.load(file, actor=app.actor)
    seq, head = ledger.last_head
    click.echo(f"loaded {count} events from {file} (head seq {seq}, {head})")


@click.command()
@click.argument("name", required=False)
@json_option
def schema(name: str | None, as_json: bool) -> None:
    """Print a JSON Schema (event, policy, ...); without NAME, list them and their owners.

    Plugins add schemas through the ``register_schemas`` hook.
    """
    from .. import plugins

    schemas = plugins.registries().schemas
    if name is None:
        if as_json:
            echo_json([{"name": key, "owner": schemas[key][1]} for key in sorted(schemas)])
            return
        for key in sorted(schemas):
            click.echo(f"{key}\t({schemas[key][1]})")
        return
    if name not in schemas:
        raise LeverageError(f"no schema {name!r}; known: {', '.join(sorted(schemas))}")
    value, owner = schemas[name]
    if isinstance(value, dict):
        text = json.dumps(value, indent=2, ensure_ascii=False)
    else:
        try:
            text = value.read_text(encoding="utf-8")
        except OSError as exc:
            raise LeverageError(f"schema {name!r} of plugin {owner}: cannot read {value}: {exc}") from None
    click.echo(text.rstrip("\n"))


@click.command("plugins")
@json_option
def plugins_cmd(as_json: bool) -> None:
    """List the plugins: name, version, status, whether built in, and the hooks implemented.

    Status is ``loaded``, ``broken`` (it failed to import; the reason is shown) or
    ``disabled`` (left out by ``LEVERAGE_LOAD_PLUGINS``). The core comes first.
    """
    from .. import __version__, plugins

    infos = plugins.plugin_infos()
    rows: list[dict[str, Any]] = [{
        "name": plugins.CORE_NAME, "version": __version__,
        "hooks": plugins.plugin_hooks(plugins.CORE_NAME), "status": "loaded", "builtin": True,
        "reason": None,
    }]
    for name in sorted(infos):
        info = infos[name]
        rows.append({"name": name, "version": info.version,
                     "hooks": plugins.plugin_hooks(name) if info.status == "loaded" else [],
                     "status": info.status, "builtin": info.builtin, "reason": info.reason})
    if as_json:
        echo_json(rows)
        return
    print_table("Plugins", ["name", "version", "status", "builtin", "hooks"],
                [(r["name"], r["version"] or "",
                  r["status"] + (f": {r['reason']}" if r["reason"] else ""),
                  "yes" if r["builtin"] else "", ", ".join(r["hooks"])) for r in rows])


COMMANDS: list[click.Command] = [init, policy, log, verify, export, load, schema, plugins_cmd]
