"""RFC 8785 (JCS) canonical JSON and the event hash.

The ledger's value space has no fractional numbers (they are refused on the way in), so
canonical JSON is compact JSON with object keys sorted by UTF-16 code units and strings
escaped as ECMAScript does. orjson gives exactly that, except that it sorts keys by code
point; the two orders differ only when a key holds a character above U+FFFF, so such rare
values take the slow, exact path.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import orjson

_SORT = orjson.OPT_SORT_KEYS
_ASTRAL = re.compile(rb"[\xf0-\xf4]")


def jcs_reference(value: Any) -> str:
    """Canonical JSON by the letter of RFC 8785 for values without fractional numbers."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(
            json.dumps(k, ensure_ascii=False) + ":" + jcs_reference(value[k]) for k in keys
        ) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(jcs_reference(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes of ``value``."""
    out = orjson.dumps(value, option=_SORT)
    if not out.isascii() and _ASTRAL.search(out):
        return jcs_reference(value).encode()
    return out


def event_hash(*, seq: int, recorded_at: str, prev: str, type: str, at: str, actor: str,
               data_json: bytes) -> str:
    """SHA-256 of the canonical JSON of ``{seq, recorded_at, prev, type, at, actor, data}``.

    ``data_json`` is the canonical JSON of ``data`` (as the store keeps it).
    """
    return hash_fields(seq, recorded_at, prev, type, at, actor, data_json)


def hash_fields(seq: int, recorded_at: str, prev: str, type_: str, at: str, actor: str,
                data_json: bytes) -> str:
    """:func:`event_hash` with positional arguments (the load path calls it per line)."""
    body = orjson.dumps(  # keys written in sorted order already
        {"actor": actor, "at": at, "data": orjson.Fragment(data_json), "prev": prev,
         "recorded_at": recorded_at, "seq": seq, "type": type_},
    )
    return _sha256(body).hexdigest()


_sha256 = hashlib.sha256


def export_line(*, seq: int, recorded_at: str, prev: str, hash: str, type: str, at: str,
                actor: str, data_json: bytes | str) -> bytes:
    """One export line: compact JSON, sorted keys, chain fields included (no newline)."""
    if isinstance(data_json, str):
        data_json = data_json.encode()
    return orjson.dumps(  # keys written in sorted order already
        {"actor": actor, "at": at, "data": orjson.Fragment(data_json), "hash": hash,
         "prev": prev, "recorded_at": recorded_at, "seq": seq, "type": type},
    )
