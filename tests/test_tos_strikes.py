"""Strikes: the window's exact edge, thresholds, the egregious bypass, reinstatement, the
``strike-threshold`` check and ``leverage tos strikes`` (issue 6, item 3)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from leverage_tos.strikes import Action, summarize
from test_tos_support import (
    RULES,
    codes,
    findings,
    ingest,
    make_ledger,
    ok,
    row,
    run,
    write_log,
)

pytestmark = pytest.mark.plugins("leverage_tos")


@pytest.fixture
def ledger_db(tmp_path: Path) -> Path:
    return make_ledger(tmp_path / "l.db")


def act(day: date, action: str = "remove", *, seq: int = 1, egregious: bool = False, window: int = 90,
        restrict: int = 2, suspend: int = 3, impact: str = "i1") -> Action:
    when = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    return Action(party="p", impact=impact, seq=seq, at=when.isoformat(), when=when, day=day, action=action,
                  rule="r", egregious=egregious, strike=action not in ("warning", "reinstate"),
                  window_days=window, restrict=restrict, suspend=suspend)


D0 = date(2024, 1, 1)


# -- the window's edge ------------------------------------------------------------------------
@pytest.mark.parametrize(("days_later", "counts"), [
    (0, True),     # the strike's own day
    (1, True),
    (89, True),    # the last day it counts: day 89
    (90, False),   # expired on day 90 (window_days after it)
    (91, False),
])
def test_a_strike_counts_while_as_of_is_before_its_day_plus_the_window(days_later: int, counts: bool):
    summary = summarize("p", [act(D0)], D0 + timedelta(days=days_later))
    assert (summary.count == 1) is counts
    assert (len(summary.expired) == 1) is (not counts)


def test_the_edge_in_calendar_terms():
    assert D0 + timedelta(days=89) == date(2024, 3, 30)
    assert summarize("p", [act(D0)], date(2024, 3, 30)).count == 1
    assert summarize("p", [act(D0)], date(2024, 3, 31)).count == 0


def test_a_strike_after_as_of_does_not_count_yet():
    assert summarize("p", [act(D0)], D0 - timedelta(days=1)).count == 0


def test_each_strike_keeps_its_own_window():
    actions = [act(D0, window=30, seq=1), act(D0 + timedelta(days=1), window=90, seq=2)]
    assert summarize("p", actions, D0 + timedelta(days=45)).count == 1


# -- thresholds -------------------------------------------------------------------------------
@pytest.mark.parametrize(("actions", "recommendation"), [
    (["remove"], None),
    (["remove", "label"], "restrict"),
    (["remove", "label", "downrank"], "suspend"),
    (["warning", "warning", "warning", "remove"], None),    # warnings are not strikes
    (["remove", "warning", "label"], "restrict"),
])
def test_thresholds_recommend_the_next_action(actions: list[str], recommendation: str | None):
    summary = summarize("p", [act(D0 + timedelta(days=i), a, seq=i + 1) for i, a in enumerate(actions)],
                        D0 + timedelta(days=10))
    assert summary.recommendation == recommendation


def test_configured_thresholds():
    actions = [act(D0, restrict=1, suspend=2)]
    assert summarize("p", actions, D0).recommendation == "restrict"
    actions.append(act(D0 + timedelta(days=1), seq=2, restrict=1, suspend=2))
    assert summarize("p", actions, D0 + timedelta(days=1)).recommendation == "suspend"


def test_an_egregious_breach_recommends_suspension_at_once():
    summary = summarize("p", [act(D0, egregious=True)], D0)
    assert summary.count == 1
    assert summary.recommendation == "suspend"
    assert "egregious breach of rule r on 2024-01-01" in summary.reason()
    later = summarize("p", [act(D0, egregious=True)], D0 + timedelta(days=90))
    assert later.recommendation is None  # once expired, it no longer bypasses the count


def test_a_reinstatement_clears_the_strikes_before_it():
    actions = [act(D0, seq=1), act(D0, "suspend", seq=2), act(D0 + timedelta(days=5), "reinstate", seq=3),
               act(D0 + timedelta(days=6), "label", seq=4)]
    summary = summarize("p", actions, D0 + timedelta(days=7))
    assert summary.count == 1
    assert len(summary.cleared) == 2
    assert summary.reinstated is not None and summary.reinstated.seq == 3
    assert summary.recommendation is None


def test_the_measure_in_force_and_whether_the_recommendation_is_due():
    two = [act(D0, seq=1), act(D0, "label", seq=2)]
    assert summarize("p", two, D0).due  # restrict recommended, only a label in force
    restricted = [act(D0, seq=1), act(D0, "restrict", seq=2)]
    s = summarize("p", restricted, D0)
    assert (s.recommendation, s.in_force, s.due) == ("restrict", "restrict", False)
    suspended = [act(D0, seq=1), act(D0, "label", seq=2), act(D0, "suspend", seq=3)]
    s = summarize("p", suspended, D0)
    assert (s.recommendation, s.in_force, s.due) == ("suspend", "suspend", False)
    # a suspension stays in force after its strike expired, until a reinstatement
    assert summarize("p", suspended, D0 + timedelta(days=100)).in_force == "suspend"


# -- through the ledger -----------------------------------------------------------------------
def _strikes(db: Path, party: str, as_of: str) -> dict:
    return json.loads(ok(run(db, "tos", "strikes", party, "--as-of", as_of, "--json")).stdout)


def test_strikes_at_the_edge_through_the_cli(ledger_db: Path, tmp_path: Path):
    ok(ingest(ledger_db, write_log(tmp_path / "log.csv", [
        row(id="1", action="remove", at="2024-01-01T09:00:00Z"),
        row(id="2", action="label", at="2024-01-20"),
    ])))
    on_day_89 = _strikes(ledger_db, "acme", "2024-03-30")
    assert on_day_89["strikes"] == 2
    assert on_day_89["recommendation"] == "restrict"
    assert on_day_89["active"][0]["last_day"] == "2024-03-30"
    assert on_day_89["active"][0]["expires"] == "2024-03-31"
    on_day_90 = _strikes(ledger_db, "acme", "2024-03-31")
    assert on_day_90["strikes"] == 1
    assert on_day_90["recommendation"] is None
    assert [x["id"] for x in on_day_90["expired"]] == ["1"]
    assert _strikes(ledger_db, "u-100", "2024-03-31") == on_day_90  # the account's tos id works too


def test_strikes_count_across_rules_of_one_account(ledger_db: Path, tmp_path: Path):
    ok(ingest(ledger_db, write_log(tmp_path / "log.csv", [
        row(id="1", rule="spam", action="remove"),
        row(id="2", rule="hateful-conduct", action="label", at="2024-03-05"),
        row(id="3", rule="election-misinformation", action="downrank", at="2024-03-06"),
        row(id="4", account="beta", action="remove", at="2024-03-06"),
    ])))
    summary = _strikes(ledger_db, "acme", "2024-03-10")
    assert summary["strikes"] == 3
    assert summary["recommendation"] == "suspend"
    assert summary["due"] is True
    assert _strikes(ledger_db, "beta", "2024-03-10")["strikes"] == 1


def test_the_check_reports_on_the_impact_of_the_latest_strike(ledger_db: Path, tmp_path: Path):
    ok(ingest(ledger_db, write_log(tmp_path / "log.csv", [
        row(id="1", rule="spam", action="remove"),
        row(id="2", rule="hateful-conduct", action="label", at="2024-03-05"),
    ])))
    assert "strike-threshold" not in codes(ledger_db, "tos:acme:spam", "2024-03-06")
    (finding,) = [f for f in findings(ledger_db, "tos:acme:hateful-conduct", "2024-03-06")
                  if f["code"] == "strike-threshold"]
    assert "Account acme: 2 strikes within 90 days reach the threshold for a feature restriction" \
        in finding["message"]
    assert finding["source"] == "Santa Clara Principles; platform strike policies (Google Ads, YouTube)"
    assert "strike-threshold" not in codes(ledger_db, "tos:acme:spam", "2024-03-04")  # one strike only
    assert "strike-threshold" not in codes(ledger_db, "tos:acme:hateful-conduct", "2024-06-03")


def test_no_finding_once_the_recommended_measure_is_in_force(ledger_db: Path, tmp_path: Path):
    ok(ingest(ledger_db, write_log(tmp_path / "log.csv", [
        row(id="1", action="remove"), row(id="2", action="label", at="2024-03-05"),
        row(id="3", action="restrict", at="2024-03-06"),
        row(id="4", action="suspend", at="2024-03-07T10:00:00Z", approved_by="ben"),
    ])))
    assert "strike-threshold" in codes(ledger_db, "tos:acme:hateful-conduct", "2024-03-06")
    assert "strike-threshold" not in codes(ledger_db, "tos:acme:hateful-conduct", "2024-03-07")


def test_the_egregious_bypass_through_the_ledger(ledger_db: Path, tmp_path: Path):
    ok(ingest(ledger_db, write_log(tmp_path / "log.csv", [
        row(id="1", rule="violent-incitement", action="remove", reason="Call to attack the council meeting"),
    ])))
    summary = _strikes(ledger_db, "acme", "2024-03-04")
    assert (summary["strikes"], summary["egregious"], summary["recommendation"]) == (1, True, "suspend")
    (finding,) = [f for f in findings(ledger_db, "tos:acme:violent-incitement", "2024-03-04")
                  if f["code"] == "strike-threshold"]
    assert "egregious breach of rule violent-incitement" in finding["message"]


def test_the_rules_files_window_and_thresholds(ledger_db: Path, tmp_path: Path):
    rules = tmp_path / "strict.toml"
    rules.write_text(RULES.read_text().replace("window_days = 90", "window_days = 30")
                     .replace("restrict = 2 ", "restrict = 1 ").replace("suspend = 3 ", "suspend = 2 "))
    ok(ingest(ledger_db, write_log(tmp_path / "log.csv", [row(id="1", action="remove", at="2024-03-01")]),
              rules=rules))
    summary = _strikes(ledger_db, "acme", "2024-03-30")
    assert (summary["window_days"], summary["thresholds"]) == (30, {"restrict": 1, "suspend": 2})
    assert summary["recommendation"] == "restrict"
    assert _strikes(ledger_db, "acme", "2024-03-31")["strikes"] == 0


def test_a_reinstatement_clears_strikes_through_the_ledger(ledger_db: Path, tmp_path: Path):
    ok(ingest(ledger_db, write_log(tmp_path / "log.csv", [
        row(id="1", action="remove"), row(id="2", action="restrict", at="2024-03-05"),
        row(id="3", action="suspend", at="2024-03-06T10:00:00Z", approved_by="ben"),
        row(id="4", action="reinstate", at="2024-03-08T10:00:00Z", approved_by="ben"),
    ])))
    summary = _strikes(ledger_db, "acme", "2024-03-09")
    assert summary["strikes"] == 0
    assert len(summary["cleared"]) == 3
    assert summary["reinstated_at"] == "2024-03-08T10:00:00Z"


def test_the_human_output(ledger_db: Path, tmp_path: Path):
    ok(ingest(ledger_db, write_log(tmp_path / "log.csv", [row(id="1"), row(id="2", at="2024-03-05")])))
    out = ok(run(ledger_db, "tos", "strikes", "acme", "--as-of", "2024-03-06")).stdout
    assert "acme (Acme Media SARL): 2 strikes counting as of 2024-03-06" in out
    assert "recommendation: restrict (due; in force: label)" in out


def test_an_account_without_actions_has_no_strikes(ledger_db: Path):
    summary = _strikes(ledger_db, "gamma", "2024-03-06")
    assert (summary["strikes"], summary["recommendation"]) == (0, None)


def test_an_unknown_party(ledger_db: Path, assert_user_error):
    assert_user_error(run(ledger_db, "tos", "strikes", "nobody"), "unknown party or account 'nobody'")


# -- the window as a property ----------------------------------------------------------------
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(offset=st.integers(-400, 400), window=st.integers(1, 365))
def test_the_window_property(offset: int, window: int):
    summary = summarize("p", [act(D0, window=window)], D0 + timedelta(days=offset))
    assert (summary.count == 1) is (0 <= offset < window)
    assert (len(summary.expired) == 1) is (offset >= window)
