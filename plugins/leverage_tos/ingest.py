"""From enforcement-log rows to ledger events (``leverage tos ingest``).

:class:`Ingest` turns the rows of a :class:`~leverage_tos.logfile.Log` into events, lazily,
so that a log of any size streams into one ``Ledger.append`` (one transaction). Before the
first row it reads the ledger once (:class:`LedgerView`, one pass over the events, without
building the full state): the parties and their relationships, the impacts and whether they
are suspended, the terminated relationships, and which rows earlier ingests wrote
(``attributes.tos`` of their steps and decisions), so that a row is written once however
often its log is ingested.
"""

from __future__ import annotations

import sys
from collections import Counter, deque
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import attrs

from leverage import LeverageError
from leverage.events import SLUG
from leverage.timeutil import day_of, parse_at

from .actions import ACTIONS, NOT_STRIKES
from .logfile import Log, Row
from .rules import Rule, Rules

AMBIGUOUS = "\x00ambiguous"


class Known:
    """The rows ingested already: by row id (-> content hash and where) and by content hash."""

    def __init__(self) -> None:
        #: row id -> (content hash, log file, line)
        self.by_id: dict[str, tuple[str, str, Any]] = {}
        self.hashes: set[str] = set()

    def add(self, tos: dict[str, Any]) -> None:
        row_hash = tos.get("row_hash")
        if not isinstance(row_hash, str):
            return
        self.hashes.add(row_hash)
        row_id = tos.get("row_id")
        if isinstance(row_id, str) and row_id not in self.by_id:
            self.by_id[row_id] = (row_hash, sys.intern(str(tos.get("file"))), tos.get("line"))


@attrs.define
class PartyView:
    name: str
    kind: str
    tos: str | None


@attrs.define
class RelView:
    source: str
    target: str
    since: str | None
    added_at: str


@attrs.define
class LedgerView:
    """What an ingest needs to know of the ledger (as of now, voided events left out)."""

    parties: dict[str, PartyView] = attrs.Factory(dict)
    relationships: dict[str, RelView] = attrs.Factory(dict)
    #: impact id -> its relationship
    impacts: dict[str, str] = attrs.Factory(dict)
    #: impact id -> (when, seq, suspended) of its latest suspend or reinstate decision
    suspension: dict[str, tuple[datetime, int, bool]] = attrs.Factory(dict)
    #: relationship id -> ``at`` of its first terminate decision
    terminated: dict[str, str] = attrs.Factory(dict)
    #: rows written by earlier ingests, voided ones included (a row once ingested and voided
    #: as a mistake is not written again when its log is ingested again)
    known: Known = attrs.Factory(Known)

    @classmethod
    def read(cls, ledger: Any) -> LedgerView:
        """One pass over the ledger's events (``Ledger.iter_events``)."""
        view = cls()
        voided = ledger.voided_seqs()
        updates: list[Any] = []
        parties, rels, impacts = view.parties, view.relationships, view.impacts
        for e in ledger.iter_events():
            t, d = e.type, e.data
            if t == "step.taken" or t == "decision.made":
                tos = (d.get("attributes") or {}).get("tos")
                if isinstance(tos, dict):
                    view.known.add(tos)
            if e.seq in voided:
                continue
            if t == "party.added":
                parties[d["id"]] = PartyView(d["name"], d["kind"], (d.get("external_ids") or {}).get("tos"))
            elif t == "relationship.added":
                rels[d["id"]] = RelView(d["source"], d["target"], d.get("since"), e.at)
            elif t == "impact.opened":
                impacts[d["id"]] = d["relationship"]
            elif t == "decision.made":
                decision = d["decision"]
                if decision in ("suspend", "reinstate"):
                    key = (parse_at(e.at), e.seq, decision == "suspend")
                    current = view.suspension.get(d["impact"])
                    if current is None or key[:2] > current[:2]:
                        view.suspension[d["impact"]] = key
                elif decision == "terminate" and d["impact"] in impacts:
                    view.terminated.setdefault(impacts[d["impact"]], e.at)
            elif t == "party.updated" or t == "relationship.updated":
                updates.append(e)
        # updates apply in business-time order, as the state applies them
        updates.sort(key=lambda e: (parse_at(e.at), e.seq))
        for e in updates:
            d = e.data
            if e.type == "party.updated":
                party = parties.get(d["id"])
                if party is not None:
                    party.name = d.get("name", party.name)
                    party.kind = d.get("kind", party.kind)
                    if "external_ids" in d:
                        party.tos = (d["external_ids"] or {}).get("tos")
            else:
                rel = rels.get(d["id"])
                if rel is not None and "since" in d:
                    rel.since = d["since"]
        return view


class Ingest:
    """The events of one ingest, generated row by row (see :meth:`events`)."""

    def __init__(self, log: Log, rules: Rules, view: LedgerView, *, actor: str):
        self.log = log
        self.rules = rules
        self.view = view
        self.actor = actor
        self.known = view.known
        self.name = log.path
        self.file = log.file
        self.current_line = 0
        self.counts: Counter[str] = Counter()
        self.rows = 0
        self.skipped = 0
        self.forced: list[tuple[int, str, list[str]]] = []
        # parties and their relationships with a self party
        self._by_tos: dict[str, str] = {}
        self._self_rels: dict[str, list[str]] = {}
        self._accounts: dict[str, str] = {}
        self._index_parties()
        # impacts: id -> relationship (the ledger's, then also those opened by this ingest)
        self._impact_rel: dict[str, str] = view.impacts
        self._suspended: dict[str, bool] = {i: s[2] for i, s in view.suspension.items()}
        self._began: dict[str, tuple[str | None, str | None]] = {}
        self._terminated: dict[str, str] = view.terminated
        # per-rule attribute values shared by every event of the rule (never mutated)
        self._rule_attr: dict[str, dict[str, Any]] = {}
        self._appeal = rules.appeal()
        self._strikes = rules.strikes()

    # -- indexes ---------------------------------------------------------------------------
    def _index_parties(self) -> None:
        parties = self.view.parties
        for pid, party in parties.items():
            if party.tos:
                self._by_tos[party.tos] = AMBIGUOUS if party.tos in self._by_tos else pid
        for rid, rel in self.view.relationships.items():
            source = parties.get(rel.source)
            target = parties.get(rel.target)
            if source is None or target is None:
                continue
            if source.kind == "self" and target.kind != "self":
                self._self_rels.setdefault(rel.target, []).append(rid)
            elif target.kind == "self" and source.kind != "self":
                self._self_rels.setdefault(rel.source, []).append(rid)

    def _fail(self, row: Row, message: str) -> LeverageError:
        return LeverageError(f"{self.name}:{row.line}: {message}")

    def _party(self, row: Row) -> str:
        account = row.account
        found = self._accounts.get(account)
        if found is not None:
            return found
        pid: Any
        if account in self.view.parties:
            pid = account
        else:
            pid = self._by_tos.get(account)
            if pid == AMBIGUOUS:
                owners = sorted(p for p, party in self.view.parties.items() if party.tos == account)
                raise self._fail(row, f"account {account!r} is the tos id of several parties "
                                      f"({', '.join(owners)})")
            if pid is None:
                raise self._fail(row, f"account {account!r} resolves to no party (neither a party id nor "
                                      "a party's external id `tos`; add it with `leverage party add ... "
                                      f"--external-id tos={account}`)")
        self._accounts[account] = pid
        return pid

    def _rule(self, row: Row) -> Rule:
        rule = self.rules.rules.get(row.rule)
        if rule is None:
            known = ", ".join(sorted(self.rules.rules))
            raise self._fail(row, f"rule: unknown rule {row.rule!r} (the rules file {self.rules.file} "
                                  f"lists: {known})")
        return rule

    def _check_began(self, row: Row, rel_id: str, party: str) -> None:
        began = self._began.get(rel_id)
        if began is None:
            rel = self.view.relationships.get(rel_id)
            since = rel.since if rel is not None else None
            added = day_of(rel.added_at).isoformat() if rel is not None else None
            began = self._began[rel_id] = (since, added)
        since, added = began
        day = day_of(row.at).isoformat()
        if since is not None and day < since:
            raise self._fail(row, f"at: dated {row.at}, before the relationship {rel_id} with account "
                                  f"{party} began ({since})")
        if added is not None and day < added:
            raise self._fail(row, f"at: dated {row.at}, before the relationship {rel_id} with account "
                                  f"{party} was recorded in the ledger ({added}); record the "
                                  "relationship with an earlier --at")

    def _impact_for(self, row: Row, party: str, rule: Rule) -> tuple[str, str, bool]:
        """(impact id, relationship id, whether it must be opened)."""
        if row.impact is not None:
            iid = row.impact
            rel_id = self._impact_rel.get(iid)
            if rel_id is None:
                raise self._fail(row, f"impact: unknown impact {iid!r} (leave the column empty to use "
                                      f"tos:{party}:{rule.id})")
            rel = self.view.relationships.get(rel_id)
            if rel is not None and party not in (rel.source, rel.target):
                raise self._fail(row, f"impact: impact {iid!r} is about relationship {rel_id}, which "
                                      f"account {party} is not part of")
            return iid, rel_id, False
        iid = f"tos:{party}:{rule.id}"
        if not SLUG.match(iid):
            raise self._fail(row, f"the impact id {iid!r} would be longer than 128 characters: open an "
                                  "impact and name it in the impact column")
        rel_id = self._impact_rel.get(iid)
        if rel_id is not None:
            return iid, rel_id, False
        rels = self._self_rels.get(party, [])
        if not rels:
            raise self._fail(row, f"account {party} has no relationship with a self party (add one with "
                                  "`leverage rel add`, or name an impact in the impact column)")
        if len(rels) > 1:
            raise self._fail(row, f"account {party} has several relationships with a self party "
                                  f"({', '.join(sorted(rels))}): name an impact in the impact column")
        return iid, rels[0], True

    def _is_suspended(self, iid: str) -> bool:
        return self._suspended.get(iid, False)

    def _rule_attribute(self, rule: Rule) -> dict[str, Any]:
        found = self._rule_attr.get(rule.id)
        if found is None:
            found = self._rule_attr[rule.id] = rule.as_attribute()
        return found

    # -- the events ------------------------------------------------------------------------
    def where(self, n: int) -> str:
        """The log line of the event being written (for the core's error messages)."""
        return f"{self.name}:{self.current_line}"

    def force_reason(self, data: dict[str, Any], failures: list[Any]) -> str | None:
        """A suspension or ban the enforcement system took outside the policy's gates is
        recorded as it happened, forced, with the log file and line as the reason."""
        tos = (data.get("attributes") or {}).get("tos")
        if not isinstance(tos, dict):
            return None
        codes = list(dict.fromkeys(f.code for f in failures))
        self.forced.append((tos["line"], data["decision"], codes))
        return (f"taken in the enforcement system, ingested from {tos['file']}:{tos['line']} "
                f"(fails {', '.join(codes)})")

    def events(self) -> Iterator[dict[str, Any]]:
        """The events of every row not ingested before, in time order. The log's rows are
        consumed: each is let go once its events are out (a large log's rows would otherwise
        stay in memory next to the ledger's write buffers)."""
        known = self.known
        rules = self.rules
        pending = deque(self.log.rows)
        self.log.rows.clear()
        while pending:
            row = pending.popleft()
            self.rows += 1
            self.current_line = row.line
            if row.id is not None:
                seen = known.by_id.get(row.id)
                if seen is not None:
                    if seen[0] != row.hash:
                        raise self._fail(row, f"id: action {row.id!r} was ingested already "
                                              f"({seen[1]}:{seen[2]}) with different content")
                    self.skipped += 1
                    continue
            elif row.hash in known.hashes:
                self.skipped += 1
                continue
            rule = self._rule(row)
            party = self._party(row)
            iid, rel_id, must_open = self._impact_for(row, party, rule)
            self._check_began(row, rel_id, party)
            event_type, kind = ACTIONS[row.action]
            actor = row.moderator or self.actor
            if event_type == "decision.made":
                self._check_decision(row, iid, rel_id, party, kind)
            if must_open:
                yield self._opening(row, iid, rel_id, party, rule)
            tos: dict[str, Any] = {
                "file": self.file, "line": row.line, "row_hash": row.hash, "action": row.action,
                "account": row.account, "strike": row.action not in NOT_STRIKES,
                "rule": self._rule_attribute(rule), "strikes": self._strikes, "appeal": self._appeal,
                "effect": rules.effect(row.action),
            }
            if row.id is not None:
                tos["row_id"] = row.id
            for name in ("detected_by", "evidence", "moderator", "approved_by"):
                value = getattr(row, name)
                if value is not None:
                    tos[name] = value
            data: dict[str, Any] = {"impact": iid}
            if event_type == "step.taken":
                data["kind"] = kind
                data["summary"] = row.reason or _generated(row.action, rule)
                data["id"] = _step_id(row)
                data["policy_refs"] = rule.policy_refs()
            else:
                data["decision"] = kind
                data["rationale"] = row.reason or _generated(row.action, rule)
                data["policy_refs"] = rule.policy_refs()
                if row.approved_by is not None:
                    data["approved_by"] = row.approved_by
            data["attributes"] = {"tos": tos}
            self.counts[event_type] += 1
            if row.id is not None:
                known.by_id[row.id] = (row.hash, self.file, row.line)
            known.hashes.add(row.hash)
            yield {"type": event_type, "at": row.at, "actor": actor, "data": data}

    def _check_decision(self, row: Row, iid: str, rel_id: str, party: str, decision: str) -> None:
        ended = self._terminated.get(rel_id)
        if ended is not None:
            raise self._fail(row, f"{row.action}: the relationship {rel_id} with account {party} was "
                                  f"terminated (ban) at {ended}: no later suspension, ban or "
                                  "reinstatement can be recorded")
        if decision == "reinstate":
            if not self._is_suspended(iid):
                others = sorted(i for i, rel in self._impact_rel.items()
                                if rel == rel_id and i != iid and self._is_suspended(i))
                hint = (f"; the suspension is on {', '.join(others)}: use its rule or name it in "
                        "the impact column") if others else ""
                raise self._fail(row, f"reinstate: impact {iid} is not suspended{hint}")
            self._suspended[iid] = False
        elif decision == "suspend":
            self._suspended[iid] = True
        elif decision == "terminate":
            self._terminated[rel_id] = row.at

    def _opening(self, row: Row, iid: str, rel_id: str, party: str, rule: Rule) -> dict[str, Any]:
        self._impact_rel[iid] = rel_id
        self.counts["impact.opened"] += 1
        name = self.view.parties[party].name
        return {
            "type": "impact.opened", "at": row.at, "actor": self.actor,
            "data": {
                "id": iid, "relationship": rel_id, "rights": list(rule.rights),
                "summary": f"{name} breached the terms-of-service rule {rule.id} ({rule.title}).",
                "severity": dict(rule.severity),
                "attributes": {"tos": {"rule": rule.id, "account": party, "file": self.file,
                                       "line": row.line}},
            },
        }


_VERBS = {
    "warning": "Warning", "label": "Warning label", "downrank": "Reduced distribution",
    "remove": "Content removed", "restrict": "Features restricted", "suspend": "Account suspended",
    "ban": "Account terminated", "reinstate": "Account reinstated",
}


def _generated(action: str, rule: Rule) -> str:
    return f"{_VERBS[action]} under rule {rule.id} ({rule.title})."


def _step_id(row: Row) -> str:
    if row.id is not None:
        candidate = f"tos:{row.id}"
        if SLUG.match(candidate):
            return candidate
    return f"tos:{row.hash[:16]}"
