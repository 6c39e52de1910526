"""The stand-alone verifier printed in docs/events.md works, on exports built here and by the CLI.

The test extracts the script from the documentation, so the documented code is the tested
code. Hashes of the hand-built exports are computed by an implementation of RFC 8785 written
independently here (keys ordered by explicit UTF-16 code units), checked against the key
ordering example of RFC 8785 section 3.2.3.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

DOC = Path(__file__).parent.parent / "docs" / "events.md"
FIRST_LINE = "# verify.py: check a leverage export (standard library only)"
CHAIN_KEYS = ("seq", "recorded_at", "prev", "type", "at", "actor", "data")
ZEROS = "0" * 64


# -- the documentation --------------------------------------------------------------------

def _blocks(info: str) -> list[str]:
    """The contents of the fenced code blocks whose info string is ``info``."""
    blocks: list[str] = []
    current: list[str] | None = None
    current_info = ""
    for line in DOC.read_text(encoding="utf-8").splitlines(keepends=True):
        if current is None:
            if line.startswith("```"):
                current, current_info = [], line[3:].strip()
        elif line.rstrip("\n") == "```":
            if current_info == info:
                blocks.append("".join(current))
            current = None
        else:
            current.append(line)
    assert current is None, "unclosed code block in docs/events.md"
    return blocks


def verifier_source() -> str:
    found = [b for b in _blocks("python") if b.startswith(FIRST_LINE + "\n")]
    assert len(found) == 1, f"docs/events.md must hold one python block starting {FIRST_LINE!r}"
    return found[0]


@pytest.fixture
def verifier(tmp_path: Path) -> Path:
    script = tmp_path / "verify.py"
    script.write_text(verifier_source(), encoding="utf-8")
    return script


def run(script: Path, export: Path) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, str(script), str(export)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    assert done.stderr == "", done.stderr
    return done.returncode, done.stdout


# -- an independent RFC 8785 for this value space -----------------------------------------

def utf16_units(key: str) -> list[int]:
    units: list[int] = []
    for ch in key:
        cp = ord(ch)
        if cp > 0xFFFF:
            cp -= 0x10000
            units += [0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF)]
        else:
            units.append(cp)
    return units


def _ordered(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _ordered(value[k]) for k in sorted(value, key=utf16_units)}
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    assert not isinstance(value, float), "the ledger has no fractional numbers"
    return value


def canonical(value: Any) -> str:
    return json.dumps(_ordered(value), ensure_ascii=False, separators=(",", ":"))


def chain_hash(line: dict[str, Any]) -> str:
    """The hash of an export line, by the independent canonical JSON."""
    return hashlib.sha256(canonical({k: line[k] for k in CHAIN_KEYS}).encode()).hexdigest()


def test_independent_canonical_json_follows_rfc8785_key_order() -> None:
    # RFC 8785, section 3.2.3 (sorting of object properties).
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    )
    assert canonical(value) == expected
    assert canonical({"s": "\u001f\"\\/\u2028é", "n": -(2**53 - 1), "l": [True, None]}) == (
        '{"l":[true,null],"n":-9007199254740991,"s":"\\u001f\\"\\\\/\u2028é"}'
    )


# -- a hand-built export --------------------------------------------------------------------

POLICY_TEXT = 'name = "ungp"\n[levels]\ncritical = 3\n'
EVENTS: list[dict[str, Any]] = [
    {
        "type": "policy.set",
        "at": "2021-01-01",
        "actor": "ana",
        "data": {
            "name": "ungp",
            "sha256": hashlib.sha256(POLICY_TEXT.encode()).hexdigest(),
            "content": POLICY_TEXT,
        },
    },
    {
        "type": "party.added",
        "at": "2021-01-04T09:30:00+01:00",
        "actor": "ana",
        "data": {
            "id": "acme",
            "name": "Acme Ünïcode 株式会社 \u2028 \"quoted\" \\ back",
            "kind": "client",
            "external_ids": {"salesforce": "0015g00000XyZ"},
            "attributes": {
                "\U0001f600": "astral key: sorts before U+E000 in UTF-16",
                "\ue000": "private-use key",
                "\uffee": "halfwidth key",
                "source": {"system": "crm", "row": 17, "nested": [{"deep": [None, True, -3]}]},
                "big": 9007199254740991,
                "ctl": "tab\tand\u001funit separator",
            },
        },
    },
    {
        "type": "impact.opened",
        "at": "2021-01-07",
        "actor": "bø",
        "data": {
            "id": "imp-1",
            "relationship": "rel-1",
            "rights": ["expression", "security-of-person"],
            "summary": "Aufrufe zur Gewalt gegen eine Minderheit",
            "severity": {"scale": 4, "scope": 3, "irremediability": 4},
        },
    },
    {
        "type": "step.taken",
        "at": "2021-01-08",
        "actor": "ana",
        "data": {
            "impact": "imp-1",
            "kind": "formal-notice",
            "summary": "Avis formel: clause 4.2 des conditions",
            "deadline": "2021-01-15",
            "with": ["peer-1"],
        },
    },
    {
        "type": "decision.made",
        "at": "2021-01-20",
        "actor": "ana",
        "data": {
            "impact": "imp-1",
            "decision": "suspend",
            "rationale": "Keine Änderung nach der Frist",
            "policy_refs": ["ToS 4.2", "UNGP 19"],
            "approved_by": "bø",
        },
    },
]


def chain(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events with chain fields, hashes computed by the independent canonical JSON."""
    out = []
    prev = ZEROS
    for seq, event in enumerate(events, 1):
        line = {**json.loads(json.dumps(event)), "seq": seq, "prev": prev}
        line["recorded_at"] = f"2024-03-0{seq}T10:00:00.{seq:06d}Z"
        line["hash"] = chain_hash(line)
        prev = line["hash"]
        out.append(line)
    return out


def export_text(lines: list[dict[str, Any]]) -> str:
    """As ``leverage export`` writes: compact JSON, sorted keys, one event per line."""
    return "".join(
        json.dumps(line, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
        for line in lines
    )


def write(tmp_path: Path, text: str, name: str = "export.jsonl") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_export_exercises_utf16_key_order() -> None:
    """Ordering by code point would give another canonical form (and another hash)."""
    attributes = EVENTS[1]["data"]["attributes"]
    by_code_point = json.dumps(attributes, ensure_ascii=False, sort_keys=True,
                               separators=(",", ":"))
    assert canonical(attributes) != by_code_point
    assert canonical(attributes).index("\U0001f600") < canonical(attributes).index("\ue000")


def test_documented_verifier_accepts_a_valid_export(verifier: Path, tmp_path: Path) -> None:
    lines = chain(EVENTS)
    code, out = run(verifier, write(tmp_path, export_text(lines)))
    assert (code, out) == (0, f"ok {lines[-1]['hash']}\n")


def test_documented_verifier_ignores_layout_and_escaping(verifier: Path, tmp_path: Path) -> None:
    """The hash is of the canonical form: key order, spaces and \\u escapes do not matter."""
    lines = chain(EVENTS)
    text = "".join(json.dumps(dict(reversed(list(line.items())))) + "\n" for line in lines)
    code, out = run(verifier, write(tmp_path, text))
    assert (code, out) == (0, f"ok {lines[-1]['hash']}\n")


def _changed(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines[2]["data"]["summary"] += "."
    return lines


def _changed_and_rehashed(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines[2]["data"]["summary"] += "."
    lines[2]["hash"] = chain_hash(lines[2])
    return lines


def _attribute_changed(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines[1]["data"]["attributes"]["source"]["nested"][0]["deep"][2] = -4
    return lines


def _recorded_at_changed(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines[3]["recorded_at"] = "2024-03-04T10:00:00.000005Z"
    return lines


def _actor_changed(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines[4]["actor"] = "eve"
    return lines


def _deleted(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    del lines[1]
    return lines


def _swapped(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines[1], lines[2] = lines[2], lines[1]
    return lines


def _inserted(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A forged event that is itself well chained after event 2: event 3 then breaks."""
    forged = {
        "type": "step.outcome",
        "at": "2021-01-09",
        "actor": "eve",
        "data": {"impact": "imp-1", "outcome": "remediated", "summary": "Nothing to see."},
        "seq": 3,
        "prev": lines[1]["hash"],
        "recorded_at": "2024-03-02T11:00:00.000000Z",
    }
    forged["hash"] = chain_hash(forged)
    return [*lines[:2], forged, *lines[2:]]


def _duplicated(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [lines[0], *lines]


def _first_prev_not_zeros(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An export that does not start the chain (a fragment) is not a full export."""
    return lines[1:]


def _field_missing(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    del lines[3]["recorded_at"]
    return lines


TAMPERINGS = [
    ("changed field", _changed, 3),
    ("changed field with its hash recomputed", _changed_and_rehashed, 4),
    ("changed nested attribute", _attribute_changed, 2),
    ("changed recorded_at", _recorded_at_changed, 4),
    ("changed actor", _actor_changed, 5),
    ("deleted line", _deleted, 2),
    ("swapped lines", _swapped, 2),
    ("inserted forged line", _inserted, 4),
    ("duplicated first line", _duplicated, 2),
    ("fragment without the first line", _first_prev_not_zeros, 1),
    ("chain field missing", _field_missing, 4),
]


@pytest.mark.parametrize(
    ("tamper", "bad"), [t[1:] for t in TAMPERINGS], ids=[t[0] for t in TAMPERINGS]
)
def test_documented_verifier_refuses_tampering(verifier: Path, tmp_path: Path, tamper: Any,
                                               bad: int) -> None:
    text = export_text(tamper(chain(EVENTS)))
    code, out = run(verifier, write(tmp_path, text))
    assert (code, out) == (1, f"bad seq {bad}\n")


@pytest.mark.parametrize(
    ("text", "bad"),
    [("not json\n", 2), ("[1, 2]\n", 2), ("\n", 2), ('{"seq": 2}\n', 2)],
    ids=["not JSON", "not an object", "blank line", "not an event"],
)
def test_documented_verifier_refuses_junk_lines(verifier: Path, tmp_path: Path, text: str,
                                                bad: int) -> None:
    lines = export_text(chain(EVENTS)).splitlines(keepends=True)
    code, out = run(verifier, write(tmp_path, lines[0] + text + "".join(lines[1:])))
    assert (code, out) == (1, f"bad seq {bad}\n")


def test_documented_verifier_refuses_invalid_utf8(verifier: Path, tmp_path: Path) -> None:
    raw = export_text(chain(EVENTS)).encode("utf-8").replace("Ünïcode".encode(), b"\xdcn\xefcode")
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(raw)
    assert run(verifier, path) == (1, "bad seq 2\n")


# -- the example export printed in the documentation -----------------------------------------

def test_documented_example_export_verifies(verifier: Path, tmp_path: Path) -> None:
    blocks = _blocks("jsonl")
    assert len(blocks) == 1, "docs/events.md holds one jsonl block: the example export"
    lines = [json.loads(raw) for raw in blocks[0].splitlines()]
    assert blocks[0] == export_text(lines), "the example is written as export writes"
    code, out = run(verifier, write(tmp_path, blocks[0]))
    assert (code, out) == (0, f"ok {lines[-1]['hash']}\n")
    assert all(line["hash"] == chain_hash(line) for line in lines)
    # The canonical body printed for event 2 is the one hashed.
    (body,) = [b for b in _blocks("") if b.startswith('{"actor"')]
    assert body.rstrip("\n") == canonical({k: lines[1][k] for k in CHAIN_KEYS})
    assert hashlib.sha256(body.rstrip("\n").encode()).hexdigest() == lines[1]["hash"]
    # And the policy's sha256 is that of its content.
    assert lines[0]["data"]["sha256"] == hashlib.sha256(
        lines[0]["data"]["content"].encode()
    ).hexdigest()


# -- an export written by the CLI -------------------------------------------------------------

def test_documented_verifier_accepts_cli_export(verifier: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from leverage.cli import cli

    monkeypatch.setenv("LEVERAGE_LOAD_PLUGINS", "")
    runner = CliRunner()
    db = str(tmp_path / "ledger.db")
    out = tmp_path / "export.jsonl"
    for args in (
        ["--db", db, "--actor", "ana", "init"],
        ["--db", db, "--actor", "ana", "party", "add", "we", "--name", "We Ltd", "--kind", "self"],
        ["--db", db, "--actor", "ana", "party", "add", "acme", "--name", "Acme Ünïcode",
         "--kind", "client"],
        ["--db", db, "export", "-o", str(out)],
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, (args, result.output)

    lines = [json.loads(raw) for raw in out.read_text(encoding="utf-8").splitlines()]
    assert [line["type"] for line in lines][-2:] == ["party.added", "party.added"]
    assert lines[-1]["data"]["name"] == "Acme Ünïcode"
    assert [line["seq"] for line in lines] == list(range(1, len(lines) + 1))
    code, printed = run(verifier, out)
    assert (code, printed) == (0, f"ok {lines[-1]['hash']}\n")
    # The hashes are also those of the independent canonical JSON of this test.
    assert lines[-1]["hash"] == chain_hash(lines[-1])
    # leverage verify prints the same head.
    result = runner.invoke(cli, ["--db", db, "verify"])
    assert result.exit_code == 0, result.output
    assert lines[-1]["hash"] in result.output



@settings(max_examples=300, deadline=None)
@given(seq=st.integers(min_value=1, max_value=2**53),
       text=st.lists(st.text(max_size=12), min_size=5, max_size=5))
def test_the_event_hash_is_the_hash_of_the_canonical_json(seq: int, text: list[str]) -> None:
    """The hash the store writes is SHA-256 of the RFC 8785 JSON of the event, whatever the
    text of its fields."""
    import hashlib

    from leverage.canonical import canonical, event_hash, jcs_reference

    recorded_at, prev, type_, at, actor = text
    data = {"summary": actor, "n": seq}
    expected = hashlib.sha256(jcs_reference({
        "seq": seq, "recorded_at": recorded_at, "prev": prev, "type": type_, "at": at,
        "actor": actor, "data": data}).encode()).hexdigest()
    assert event_hash(seq=seq, recorded_at=recorded_at, prev=prev, type=type_, at=at, actor=actor,
                      data_json=canonical(data)) == expected
    usual = {"recorded_at": "2026-01-02T03:04:05.000006Z", "prev": "0" * 64, "type": "step.taken",
             "at": "2021-01-07"}
    expected = hashlib.sha256(jcs_reference({**usual, "seq": seq, "actor": actor, "data": data})
                              .encode()).hexdigest()
    assert event_hash(seq=seq, actor=actor, data_json=canonical(data), **usual) == expected
