"""The CRM importer: read an export through a mapping, then compute the events that bring
the ledger in step with it.

Sync semantics (docs/crm.md): parties are matched by id, relationships by a deterministic id;
a changed row writes ``party.updated`` / ``relationship.updated`` with the changed fields
only (provenance in ``attributes`` is not a change); a relationship whose direction reverses
is ended and added anew; what disappeared from the export is reported and ended only with
``end_missing``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import attrs

from leverage import LeverageError
from leverage.model import Relationship, State

from .ids import (
    account_relationship_id,
    as_slug_part,
    is_slug,
    parent_relationship_id,
    salesforce_18,
    suffix_number,
)
from .mapping import PARTY_KINDS, Mapping, Outcome, norm
from .reader import Position, read_rows

#: every relationship.ended reason the importer writes starts with this
REASON_PREFIX = "CRM import: "
DOWN, UP = "downstream", "upstream"
_LIST_MAX = 10

Event = dict[str, Any]


class Account(NamedTuple):
    """One row of the export, checked and mapped (a named tuple: there are 100,000s)."""

    line: int
    crm_id: str
    party: str
    raw_id: str
    name: str
    kind: str
    outcome: Outcome
    country: str | None = None
    sector: str | None = None
    #: the parent's party id as the parent column names it (None: no parent)
    parent: str | None = None
    #: the parent cell as written
    parent_raw: str | None = None


@attrs.define
class Parsed:
    """An export read through a mapping."""

    name: str
    file: str
    mapping: Mapping
    accounts: list[Account]
    by_party: dict[str, Account]
    headers: dict[str, str]
    skipped: int = 0

    def column(self, role: str) -> str:
        return self.headers.get(role, self.mapping.columns.get(role, role))


@attrs.define
class Plan:
    """The events that bring the ledger in step with an export, and what to tell the user."""

    events: list[Event] = attrs.Factory(list)
    lines: list[int | None] = attrs.Factory(list)
    notes: list[str] = attrs.Factory(list)
    counts: Counter[str] = attrs.Factory(Counter)
    accounts: int = 0
    skipped: int = 0

    def add(self, event: Event, line: int | None) -> None:
        self.events.append(event)
        self.lines.append(line)
        self.counts[event["type"]] += 1


# -- reading ---------------------------------------------------------------------------------

def parse(path: str | os.PathLike[str], mapping: Mapping, *, encoding: str | None = None,
          on_row: Callable[[Position, int], None] | None = None) -> Parsed:
    """Read and check every row of ``path``; raises :class:`LeverageError` naming
    ``file:line`` and the column."""
    name = str(path)
    pos = Position()
    header: list[str] | None = None
    rows = read_rows(path, encoding=encoding or mapping.encoding, delimiter=mapping.delimiter,
                     name=name, position=pos, header_of=lambda: header)
    first = next(rows, None)
    if first is None:
        raise LeverageError(f"{name}: empty file: no header and no rows")
    header = [h.strip() for h in first[1]]
    index, headers = _locate_columns(header, mapping, name, first[0])
    parsed = Parsed(name, os.path.basename(name), mapping, [], {}, headers)
    _read_accounts(rows, parsed, index, pos, on_row)
    if not parsed.accounts and not parsed.skipped:
        raise LeverageError(f"{name}:{first[0]}: no rows below the header")
    return parsed


def _locate_columns(header: list[str], mapping: Mapping, name: str,
                    line: int = 1) -> tuple[dict[str, int], dict[str, str]]:
    exact: dict[str, list[int]] = {}
    folded: dict[str, list[int]] = {}
    for i, h in enumerate(header):
        exact.setdefault(h, []).append(i)
        folded.setdefault(norm(h), []).append(i)

    def find(column: str) -> int | None:
        hits = exact.get(column.strip()) or folded.get(norm(column)) or []
        if len(hits) > 1:
            raise LeverageError(f"{name}:{line}: column {column!r} appears {len(hits)} times in the header")
        return hits[0] if hits else None

    required = mapping.required_columns
    missing = [c for c in required if find(c) is None]
    if missing:
        shown = ", ".join(h for h in header[:12] if h) + (", ..." if len(header) > 12 else "")
        hint = ""
        others = [d for d in (";", "\t", ",", "|") if d != mapping.delimiter and len(header) == 1 and d in header[0]]
        if others:
            hint = (f"; the header is one column: the file's delimiter looks like {others[0]!r}, not "
                    f"{mapping.delimiter!r} (set `delimiter` in a mapping)")
        raise LeverageError(
            f"{name}:{line}: missing column {missing[0]!r} (the {mapping.name} mapping needs "
            f"{', '.join(required)}; the header has: {shown or 'nothing'}){hint}")
    index: dict[str, int] = {}
    headers: dict[str, str] = {}
    for role, column in mapping.columns.items():
        at = find(column)
        if at is not None:
            index[role] = at
            headers[role] = header[at]
    for n, rule in enumerate(mapping.rules):
        at = find(rule.column)
        assert at is not None
        index[f"rule{n}"] = at
        headers[f"rule{n}"] = header[at]
    if mapping.skip is not None:
        at = find(mapping.skip.column)
        if at is not None:
            index["skip"] = at
    return index, headers


def _read_accounts(rows: Iterator[tuple[int, list[str]]], parsed: Parsed, index: dict[str, int],
                   pos: Position, on_row: Callable[[Position, int], None] | None) -> None:
    mapping = parsed.mapping
    name = parsed.name
    i_id, i_name = index["id"], index["name"]
    i_kind = index.get("kind")
    i_country, i_sector, i_parent = index.get("country"), index.get("sector"), index.get("parent")
    i_skip = index.get("skip")
    skip_values = mapping.skip.values if mapping.skip else frozenset()
    rules = [(rule.values, index[f"rule{n}"], parsed.headers[f"rule{n}"]) for n, rule in enumerate(mapping.rules)]
    salesforce = mapping.id_format == "salesforce"
    by_name = mapping.parent_match == "id-or-name"
    prefix = f"{mapping.id_prefix}:" if mapping.id_prefix else ""
    kinds = mapping.kinds
    strict = mapping.strict
    otherwise, unknown = mapping.otherwise, mapping.unknown
    by_party = parsed.by_party
    accounts = parsed.accounts
    party_kinds = frozenset(PARTY_KINDS) - {"self"}
    need = max(index.values()) + 1
    count = 0

    def fail(line: int, role: str, message: str) -> LeverageError:
        return LeverageError(f"{name}:{line}: column {parsed.column(role)}: {message}")

    for line, cells in rows:
        count += 1
        if on_row is not None and count % 1000 == 0:
            on_row(pos, count)
        if len(cells) < need:
            cells = cells + [""] * (need - len(cells))
        if i_skip is not None and cells[i_skip].strip().casefold() in skip_values:
            parsed.skipped += 1
            continue
        raw_id = cells[i_id].strip()
        if not raw_id:
            raise fail(line, "id", "empty id")
        if salesforce:
            crm_id = salesforce_18(raw_id)
            if crm_id is None:
                raise fail(line, "id", f"{raw_id!r} is not a Salesforce Id (15 or 18 letters and digits, "
                                       "the last 3 a checksum of the case)")
            party = prefix + crm_id
        else:
            crm_id = raw_id
            party = prefix + as_slug_part(raw_id)
            if not is_slug(party):
                raise fail(line, "id", f"{raw_id!r} makes the id {party[:40]!r}..., longer than 128 characters"
                           if len(party) > 128 else f"{raw_id!r} cannot be an id (it must begin with a letter "
                           "or digit)")
        first = by_party.get(party)
        if first is not None:
            also = f"line {first.line}" + (f" as {first.raw_id!r}" if first.raw_id != raw_id else "")
            raise fail(line, "id", f"duplicate id {raw_id!r} (also on {also})")
        account_name = cells[i_name]
        if not account_name.strip():
            raise fail(line, "name", "empty name")
        if "\x00" in account_name:
            raise fail(line, "name", "binary data (a NUL character), not text")
        outcome = otherwise
        for values, i, column in rules:
            value = cells[i]
            key = value.strip().casefold()
            if key in values:
                found = values[key]
                if found is None:
                    continue
                outcome = found
                break
            if not key:
                continue
            if strict:
                raise LeverageError(
                    f"{name}:{line}: column {column}: unknown value {value.strip()!r} under a strict mapping")
            outcome = unknown
            break
        kind = outcome.kind
        if i_kind is not None:
            value = cells[i_kind]
            key = value.strip().casefold()
            if key:
                if key in kinds:
                    kind = kinds[key]
                elif key in party_kinds:
                    kind = key
                elif strict:
                    raise fail(line, "kind", f"unknown value {value.strip()!r} under a strict mapping")
        parent = parent_raw = None
        if i_parent is not None:
            parent_raw = cells[i_parent].strip() or None
            if parent_raw is not None:
                if salesforce:
                    sf = salesforce_18(parent_raw)
                    if sf is None and not by_name:
                        raise fail(line, "parent", f"{parent_raw!r} is not a Salesforce Id")
                    parent = prefix + sf if sf is not None else None
                else:
                    parent = prefix + as_slug_part(parent_raw)
                if parent == party:
                    raise fail(line, "parent", "an account cannot be its own parent")
        account = Account(
            line, crm_id, party, raw_id, account_name, kind, outcome,
            (cells[i_country].strip() or None) if i_country is not None else None,
            (cells[i_sector].strip() or None) if i_sector is not None else None,
            parent, parent_raw,
        )
        by_party[party] = account
        accounts.append(account)
    if on_row is not None:
        on_row(pos, count)


# -- planning --------------------------------------------------------------------------------

def self_party(state: State, given: str | None) -> str:
    """The company's own party: ``given``, else the only party of kind ``self``."""
    if given is not None:
        if given not in state.parties:
            raise LeverageError(f"--self {given}: no such party in the ledger")
        return given
    selves = sorted(p.id for p in state.parties.values() if p.kind == "self")
    if not selves:
        raise LeverageError("no party of kind self in the ledger: add the company's own party "
                            "(leverage party add ID --name N --kind self) or pass --self PARTY")
    if len(selves) > 1:
        raise LeverageError(f"several parties of kind self ({', '.join(selves[:5])}): "
                            "pass --self PARTY")
    return selves[0]


def plan(parsed: Parsed, state: State, *, self_id: str, at: str, actor: str,
         end_missing: bool = False) -> Plan:
    """The events that bring ``state`` in step with the export, in the order they are written:
    parties added, parties updated, relationships ended, added, updated."""
    return _Planner(parsed, state, self_id, at, actor, end_missing).run()


class _Planner:
    def __init__(self, parsed: Parsed, state: State, self_id: str, at: str, actor: str,
                 end_missing: bool):
        self.parsed = parsed
        self.mapping = parsed.mapping
        self.state = state
        self.self_id = self_id
        self.at = at
        self.actor = actor
        self.end_missing = end_missing
        self.plan = Plan(accounts=len(parsed.accounts), skipped=parsed.skipped)
        self.added: list[tuple[Event, int | None]] = []
        self.updated: list[tuple[Event, int | None]] = []
        self.ended: list[tuple[Event, int | None]] = []
        self.rel_added: list[tuple[Event, int | None]] = []
        self.rel_updated: list[tuple[Event, int | None]] = []
        self.unlisted: list[str] = []
        self.kept_ended: list[str] = []
        self.new_ids: set[str] = set()
        self.missing: list[str] = []
        self.by_name: dict[str, list[Account]] | None = None
        self.account_rels: dict[str, list[tuple[str, int, Relationship]]] = {}
        self.parent_rels: dict[str, list[tuple[int, Relationship]]] = {}
        self.alias: dict[str, str] = {}

    def run(self) -> Plan:
        self._index_relationships()
        self._find_aliases()
        alias = self.alias
        has_parent = "parent" in self.parsed.headers
        for account in self.parsed.accounts:
            if alias and (account.party in alias or account.parent in alias):
                account = account._replace(party=alias.get(account.party, account.party),
                                           parent=alias.get(account.parent or "", account.parent))
            if account.party == self.self_id:
                raise LeverageError(f"{self.parsed.name}:{account.line}: column {self.parsed.column('id')}: "
                                    f"{account.party} is the self party, not an account")
            self._party(account)
            self._account_relationship(account)
            if has_parent and (account.parent_raw is not None or account.party in self.parent_rels):
                self._parent_relationship(account, self._resolve_parent(account))
        self._missing_accounts()
        for bucket in (self.added, self.updated, self.ended, self.rel_added, self.rel_updated):
            for event, line in bucket:
                self.plan.add(event, line)
        self._notes()
        return self.plan

    # -- helpers ---------------------------------------------------------------------------
    def _event(self, type_: str, data: Event) -> Event:
        return {"type": type_, "at": self.at, "actor": self.actor, "data": data}

    def _source(self, line: int | None) -> dict[str, Any]:
        source: dict[str, Any] = {"file": self.parsed.file}
        if line is not None:
            source["row"] = line
        source["system"] = self.mapping.system
        return {"source": source}

    def _where(self, line: int) -> str:
        return f"{self.parsed.file}:{line}"

    # -- parties ---------------------------------------------------------------------------
    def _find_aliases(self) -> None:
        """Parties of the ledger that carry this system's id under another party id (added by
        hand with ``--external-id``): the account is that party, not a new one."""
        system = self.mapping.system
        prefix = f"{self.mapping.id_prefix}:" if self.mapping.id_prefix else ""
        salesforce = self.mapping.id_format == "salesforce"
        parties = self.state.parties
        found: dict[str, list[str]] = {}
        for party in parties.values():
            external = party.external_ids.get(system)
            if external is None or party.id == prefix + external:
                continue
            normal = salesforce_18(external.strip()) if salesforce else as_slug_part(external.strip())
            if normal is not None and prefix + normal != party.id:
                found.setdefault(prefix + normal, []).append(party.id)
        for own_id, ids in found.items():
            if own_id not in parties and len(ids) == 1:
                self.alias[own_id] = ids[0]

    def _party(self, a: Account) -> None:
        system = self.mapping.system
        existing = self.state.parties.get(a.party)
        if existing is None:
            data: Event = {"id": a.party, "name": a.name, "kind": a.kind}
            if a.country is not None:
                data["country"] = a.country
            if a.sector is not None:
                data["sector"] = a.sector
            data["external_ids"] = {system: a.crm_id}
            data["attributes"] = self._source(a.line)
            self.added.append((self._event("party.added", data), a.line))
            return
        changes: Event = {}
        if existing.name != a.name:
            changes["name"] = a.name
        if existing.kind != a.kind and existing.kind != "self":
            changes["kind"] = a.kind
        if a.country is not None and existing.country != a.country:
            changes["country"] = a.country
        if a.sector is not None and existing.sector != a.sector:
            changes["sector"] = a.sector
        if existing.external_ids.get(system) != a.crm_id:
            changes["external_ids"] = {**existing.external_ids, system: a.crm_id}
        if changes:
            data = {"id": a.party, **changes, "attributes": self._source(a.line)}
            self.updated.append((self._event("party.updated", data), a.line))

    # -- relationships ---------------------------------------------------------------------
    def _index_relationships(self) -> None:
        """Find the relationships earlier imports made, by their id pattern."""
        account_rels = self.account_rels
        for rid, rel in self.state.relationships.items():
            head, _, tail = rid.rpartition(":")
            direction, dot, number = tail.partition(".")
            if direction == DOWN or direction == UP:
                end = rel.target if direction == DOWN else rel.source
                n = suffix_number(dot + number)
                if head == end and n is not None:
                    account_rels.setdefault(end, []).append((direction, n, rel))
                    continue
            if rel.type == "owns" and rid.startswith(prefix := f"{rel.target}:owned-by:{rel.source}"):
                n = suffix_number(rid[len(prefix):])
                if n is not None:
                    self.parent_rels.setdefault(rel.target, []).append((n, rel))

    def _end(self, rel: Relationship, reason: str, line: int | None) -> None:
        data = {"id": rel.id, "reason": REASON_PREFIX + reason, "attributes": self._source(line)}
        self.ended.append((self._event("relationship.ended", data), line))

    def _unlisted(self, rel: Relationship, why: str, line: int | None) -> None:
        """A live relationship the export no longer lists: ended with --end-missing, else reported."""
        if self.end_missing:
            self._end(rel, why, line)
        else:
            self.unlisted.append(rel.id)

    def _next_id(self, history: list[tuple[int, Relationship]], make: Callable[[int], str],
                 line: int, what: str) -> str | None:
        """The id for a new relationship, or None when the latest one was ended by a person
        (the ledger's record wins: reported, not added again)."""
        n = 1
        if history:
            n, last = max(history, key=lambda item: item[0])
            reason = last.ended_reason or ""
            if not reason.startswith(REASON_PREFIX):
                self.kept_ended.append(f"{last.id} (ended: {reason!r}; {self._where(line)} lists {what})")
                return None
            n += 1
        while make(n) in self.state.relationships or make(n) in self.new_ids:
            n += 1
        new = make(n)
        self.new_ids.add(new)
        return new

    def _add_relationship(self, rid: str, source: str, target: str, type_: str, line: int) -> None:
        data = {"id": rid, "source": source, "target": target, "type": type_,
                "attributes": self._source(line)}
        self.rel_added.append((self._event("relationship.added", data), line))

    def _account_relationship(self, a: Account) -> None:
        rels = self.account_rels.get(a.party, [])
        outcome = a.outcome
        if len(rels) == 1 and outcome.relationship is not None:   # the common case: one, in step
            d, _n, rel = rels[0]
            if rel.ended_at is None and d == (DOWN if outcome.direction == "from-self" else UP):
                if rel.type != outcome.relationship:
                    data = {"id": rel.id, "type": outcome.relationship, "attributes": self._source(a.line)}
                    self.rel_updated.append((self._event("relationship.updated", data), a.line))
                return
        live = [(d, n, r) for d, n, r in rels if r.ended_at is None]
        if outcome.relationship is None:
            for _d, _n, rel in live:
                self._unlisted(rel, f"{self._where(a.line)} lists {a.party} without a relationship now",
                               a.line)
            return
        want = DOWN if outcome.direction == "from-self" else UP
        same = [(n, r) for d, n, r in live if d == want]
        for d, _n, rel in live:
            if d != want:
                ends = f"{self.self_id} -> {a.party}" if want == DOWN else f"{a.party} -> {self.self_id}"
                self._end(rel, f"{self._where(a.line)} reverses the direction (now {outcome.relationship}, "
                               f"{ends})", a.line)
        if same:
            _n, rel = max(same, key=lambda item: item[0])
            if rel.type != outcome.relationship:
                data = {"id": rel.id, "type": outcome.relationship, "attributes": self._source(a.line)}
                self.rel_updated.append((self._event("relationship.updated", data), a.line))
            return
        history = [(n, r) for d, n, r in rels if d == want]
        rid = self._next_id(history, lambda n: account_relationship_id(a.party, want, n), a.line,
                            outcome.relationship)
        if rid is None:
            return
        source, target = (self.self_id, a.party) if want == DOWN else (a.party, self.self_id)
        self._add_relationship(rid, source, target, outcome.relationship, a.line)

    def _resolve_parent(self, a: Account) -> str | None:
        raw = a.parent_raw
        if raw is None:
            return None
        parsed = self.parsed
        candidate = a.parent
        if candidate is not None and (candidate in parsed.by_party or candidate in self.state.parties):
            return candidate
        column = parsed.column("parent")
        if self.mapping.parent_match == "id-or-name":
            if self.by_name is None:
                self.by_name = {}
                for other in parsed.accounts:
                    self.by_name.setdefault(other.name.strip(), []).append(other)
            found = self.by_name.get(raw, [])
            if len(found) > 1:
                lines = ", ".join(str(f.line) for f in found[:5])
                raise LeverageError(f"{parsed.name}:{a.line}: column {column}: {raw!r} names several "
                                    f"accounts (lines {lines}): give the parent's id")
            if found:
                if found[0].line == a.line:
                    raise LeverageError(f"{parsed.name}:{a.line}: column {column}: an account cannot be "
                                        "its own parent")
                return self.alias.get(found[0].party, found[0].party)
        raise LeverageError(f"{parsed.name}:{a.line}: column {column}: parent {raw!r} points nowhere "
                            "(no account with that id in the file or the ledger)")

    def _parent_relationship(self, a: Account, parent: str | None) -> None:
        rels = self.parent_rels.get(a.party, [])
        live = [(n, r) for n, r in rels if r.ended_at is None]
        if parent is None:
            for _n, rel in live:
                self._unlisted(rel, f"{self._where(a.line)} lists {a.party} without a parent now", a.line)
            return
        kept = False
        for _n, rel in live:
            if rel.source == parent:
                kept = True
            else:
                self._end(rel, f"{self._where(a.line)} names another parent of {a.party} ({parent})", a.line)
        if kept:
            return
        history = [(n, r) for n, r in rels if r.source == parent]
        rid = self._next_id(history, lambda n: parent_relationship_id(a.party, parent, n), a.line,
                            f"{parent} as its parent")
        if rid is not None:
            self._add_relationship(rid, parent, a.party, "owns", a.line)

    def _missing_accounts(self) -> None:
        system = self.mapping.system
        in_file: Any = self.parsed.by_party
        if self.alias:
            in_file = {self.alias.get(party, party) for party in in_file}
        missing = [p.id for p in self.state.parties.values()
                   if system in p.external_ids and p.id not in in_file and p.kind != "self"]
        self.missing = sorted(missing)
        for pid in self.missing:
            why = f"{pid} is no longer in {self.parsed.file}"
            for _d, _n, rel in self.account_rels.get(pid, []):
                if rel.ended_at is None:
                    self._unlisted(rel, why, None)
            for _n, rel in self.parent_rels.get(pid, []):
                if rel.ended_at is None:
                    self._unlisted(rel, why, None)

    def _notes(self) -> None:
        notes = self.plan.notes
        file = self.parsed.file
        if self.missing:
            n = len(self.missing)
            notes.append(f"{n} {self.mapping.system} {'party' if n == 1 else 'parties'} in the ledger "
                         f"{'is' if n == 1 else 'are'} not in {file}: {_listing(self.missing)}")
        if self.unlisted:
            n = len(self.unlisted)
            notes.append(f"{n} {'relationship' if n == 1 else 'relationships'} no longer in {file} "
                         f"{'stays' if n == 1 else 'stay'} active (--end-missing ends them): "
                         f"{_listing(sorted(self.unlisted))}")
        if self.kept_ended:
            n = len(self.kept_ended)
            notes.append(f"{n} {'relationship was' if n == 1 else 'relationships were'} ended in the ledger "
                         f"and not added again: {_listing(self.kept_ended)}")


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:_LIST_MAX])
    return shown + (f" and {len(items) - _LIST_MAX} more" if len(items) > _LIST_MAX else "")
