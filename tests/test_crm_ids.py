"""leverage_crm: Salesforce 15/18-character Ids and the ids the importer makes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from leverage_crm.ids import (
    account_relationship_id,
    as_slug_part,
    parent_relationship_id,
    salesforce_18,
    salesforce_suffix,
    suffix_number,
)

from leverage.events import SLUG

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
ids15 = st.text(st.sampled_from(ALNUM), min_size=15, max_size=15)


@pytest.mark.parametrize(("id15", "id18"), [
    ("001A0000006Vm9r", "001A0000006Vm9rIAC"),    # the example Salesforce documents
    ("0015g00000XyZ12", "0015g00000XyZ12AAF"),   # X (bit 0) + Z (bit 2) = 5 -> F
    ("000000000000000", "000000000000000AAA"),
    ("ABCDEABCDEABCDE", "ABCDEABCDEABCDE555"),     # every letter upper: 31 -> "5"
    ("abcdeabcdeabcde", "abcdeabcdeabcdeAAA"),
])
def test_15_to_18(id15: str, id18: str):
    assert salesforce_18(id15) == id18
    assert salesforce_18(id18) == id18


def test_suffix_bits_per_chunk():
    # bit i of each chunk of 5 is set by an uppercase letter at position i
    assert salesforce_suffix("A0000" "0B000" "0000C") == "BCQ"
    assert salesforce_suffix("Aa0aa" "aaaaa" "aaaAA") == "BAY"


@pytest.mark.parametrize("value", [
    "", "001A0000006Vm9", "001A0000006Vm9rI", "001A0000006Vm9rIACX", "001A0000006Vm9-", "001A0000006Vm9rIAD",
    "001A0000006Vm9RIAC",    # case changed in a mixed-case Id: the checksum no longer matches
])
def test_not_salesforce_ids(value: str):
    assert salesforce_18(value) is None


def test_case_lost_on_the_way_is_restored_from_the_checksum():
    assert salesforce_18("001a0000006vm9riac") == "001A0000006Vm9rIAC"
    assert salesforce_18("001A0000006VM9RIAC") == "001A0000006Vm9rIAC"


@given(ids15)
def test_18_character_form_round_trips(id15: str):
    id18 = salesforce_18(id15)
    assert id18 is not None and id18[:15] == id15
    assert salesforce_18(id18) == id18
    assert salesforce_18(id18.lower()) == id18
    assert salesforce_18(id18.upper()) == id18


@given(ids15, st.integers(0, 14))
def test_ids_differing_only_in_case_differ_ignoring_case_once_18(a: str, i: int):
    """What the checksum is for: two Ids that differ only in case stay apart in a tool that
    ignores case."""
    b = a[:i] + a[i].swapcase() + a[i + 1:]
    if a != b:
        assert salesforce_18(a).lower() != salesforce_18(b).lower()


@given(st.text(max_size=60))
def test_slug_parts(value: str):
    part = as_slug_part(value)
    assert all(c.isascii() and (c.isalnum() or c in "._:-") for c in part)


def test_relationship_ids_are_slugs():
    party = "sf:001A0000006Vm9rIAC"
    assert account_relationship_id(party, "downstream") == "sf:001A0000006Vm9rIAC:downstream"
    assert account_relationship_id(party, "upstream", 3) == "sf:001A0000006Vm9rIAC:upstream.3"
    owns = parent_relationship_id(party, "sf:001A0000006Vm9sIAC")
    assert owns == "sf:001A0000006Vm9rIAC:owned-by:sf:001A0000006Vm9sIAC"
    assert SLUG.match(owns)


@pytest.mark.parametrize(("rest", "n"), [("", 1), (".2", 2), (".17", 17), (".1", None), (".02", None),
                                          (".x", None), ("x", None), (".", None)])
def test_suffix_numbers(rest: str, n: int | None):
    assert suffix_number(rest) == n
