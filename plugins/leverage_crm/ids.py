"""Party and relationship ids of imported accounts.

Salesforce record Ids come in two forms: 15 characters, case-sensitive, and 18 characters,
the same 15 followed by a 3-character checksum of their case, safe for tools that ignore
case. Both name the same record; the importer always uses the 18-character form.
"""

from __future__ import annotations

import re
import string

from leverage.events import SLUG

_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_SF_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?\Z")
_NOT_SLUG = re.compile(r"[^A-Za-z0-9._:-]+")
_CASE_BITS = str.maketrans({**dict.fromkeys(string.ascii_uppercase, "1"),
                            **dict.fromkeys(string.ascii_lowercase + string.digits, "0")})


def salesforce_suffix(id15: str) -> str:
    """The 3-character case checksum of a 15-character Salesforce Id (letters and digits).

    For each chunk of 5 characters, bit ``i`` is set when character ``i`` is an uppercase
    letter A-Z; the 5-bit number 0-31 is written as A-Z (0-25) or 0-5 (26-31).
    """
    bits = id15.translate(_CASE_BITS)   # "1" for A-Z, "0" for a-z and 0-9
    return (_SUFFIX_ALPHABET[int(bits[4::-1], 2)] + _SUFFIX_ALPHABET[int(bits[9:4:-1], 2)]
            + _SUFFIX_ALPHABET[int(bits[14:9:-1], 2)])


def salesforce_18(value: str) -> str | None:
    """The 18-character form of a Salesforce Id, or None when ``value`` is not one.

    An 18-character Id whose checksum does not match is repaired only when its first 15
    characters are all in one case (the case was lost on the way, which is what the
    checksum is for); otherwise it is not an Id.
    """
    if not _SF_ID.match(value):
        return None
    if len(value) == 15:
        return value + salesforce_suffix(value)
    head, suffix = value[:15], value[15:]
    if salesforce_suffix(head) == suffix:
        return value
    letters = [c for c in head if c.isalpha()]
    if letters and not (all(c.isupper() for c in letters) or all(c.islower() for c in letters)):
        return None
    restored = _restore_case(head, suffix.upper())
    if restored is None or salesforce_suffix(restored) != suffix.upper():
        return None
    return restored + suffix.upper()


def _restore_case(head: str, suffix: str) -> str | None:
    chars = list(head.lower())
    for chunk, code in enumerate(suffix):
        bits = _SUFFIX_ALPHABET.find(code)
        if bits < 0:
            return None
        for i in range(5):
            pos = chunk * 5 + i
            if bits & (1 << i):
                if not chars[pos].isalpha():
                    return None
                chars[pos] = chars[pos].upper()
    return "".join(chars)


def as_slug_part(value: str) -> str:
    """``value`` with every run of characters an id cannot hold replaced by ``-``."""
    return _NOT_SLUG.sub("-", value)


def is_slug(value: str) -> bool:
    return bool(SLUG.match(value))


def account_relationship_id(party: str, direction: str, n: int = 1) -> str:
    """``<party>:downstream`` (self -> account) or ``<party>:upstream`` (account -> self);
    ``.2``, ``.3``... for a later relationship once an earlier one has ended."""
    base = f"{party}:{direction}"
    return base if n == 1 else f"{base}.{n}"


def parent_relationship_id(child: str, parent: str, n: int = 1) -> str:
    """``<child>:owned-by:<parent>`` for the ``owns`` relationship parent -> child."""
    base = f"{child}:owned-by:{parent}"
    return base if n == 1 else f"{base}.{n}"


def suffix_number(rest: str) -> int | None:
    """1 for ``""``, n for ``".n"`` (n >= 2), None for anything else."""
    if rest == "":
        return 1
    if rest.startswith(".") and rest[1:].isdigit() and not rest[1:].startswith("0"):
        n = int(rest[1:])
        return n if n >= 2 else None
    return None
