"""The decide step of the OSV pass, without a database: which names are due, which records
are read again, which names can have news, who hears of a name, and the alerts each piece of
news raises (on real OSV records)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.advisories import FollowedPackage, Seen, parse_records
from bot.core.alerting import Follower, NewAlert
from bot.core.events import Event
from bot.core.events.advisory import PinView
from bot.core.events.base import AlertPreferences
from bot.refresh.advisory_compare import (
    Asked,
    ChannelPin,
    Subject,
    answered_badly,
    decide_name,
    due_names,
    plan_reads,
    retracted,
    subjects,
    to_those_told,
    unlisted_channels,
)
from tests.fakes.osv_api import real_records

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
RECORDS = real_records()
NAME = "django-debug-toolbar"
PAIR = ("PYSEC-2021-10", "GHSA-pghf-347x-c2gj")
TOOLBAR = FollowedPackage(34, "django-debug-toolbar", "Django Debug Toolbar", None, "3.2")


def follower(channel_id: int, *events: Event) -> Follower:
    wanted = AlertPreferences(frozenset(events)) if events else AlertPreferences()
    return Follower(channel_id * 10, 1, channel_id, wanted)


def seen(*ids: str, withdrawn: bool = False) -> dict[str, Seen]:
    records = [RECORDS[vuln_id] for vuln_id in ids]
    return {
        a.id: Seen(a.material(), withdrawn, a.modified) for a in parse_records(records, NAME)[0]
    }


@pytest.mark.parametrize(
    ("checked", "due"),
    [
        ({}, ["a", "b"]),  # never checked
        ({"a": NOW - HOUR, "b": NOW - HOUR}, ["a", "b"]),  # an interval ago
        ({"a": NOW - HOUR / 2}, ["b"]),  # less than an interval ago
        ({"a": NOW, "b": NOW + HOUR}, []),
    ],
    ids=["never", "interval-ago", "recent", "none-due"],
)
def test_due_names(checked: dict[str, datetime], due: list[str]) -> None:
    assert due_names({"b", "a"}, checked, HOUR, NOW) == due


@pytest.mark.parametrize(
    ("listed", "known", "stored", "gone", "to_read"),
    [
        ({"GHSA-1": "t1"}, {}, {}, set(), ["GHSA-1"]),  # new id
        ({"GHSA-1": "t1"}, {"GHSA-1": False}, {"GHSA-1": "t1"}, set(), []),  # unchanged
        ({"GHSA-1": "t2"}, {"GHSA-1": False}, {"GHSA-1": "t1"}, set(), ["GHSA-1"]),  # moved
        ({}, {"GHSA-1": False}, {"GHSA-1": "t1"}, {"GHSA-1"}, ["GHSA-1"]),  # live id gone
        ({}, {"GHSA-1": True}, {"GHSA-1": "t1"}, set(), []),  # withdrawn id gone: told
    ],
    ids=["new", "unchanged", "moved", "gone", "withdrawn-gone"],
)
def test_which_records_are_read_again(
    listed: dict[str, str],
    known: dict[str, bool],
    stored: dict[str, str],
    gone: set[str],
    to_read: list[str],
) -> None:
    seen_before = {NAME: {vid: Seen("m", withdrawn, "t1") for vid, withdrawn in known.items()}}

    reads = plan_reads({NAME: listed}, seen_before, stored)

    assert reads.listed == {NAME: listed}
    assert reads.gone == {NAME: gone}
    assert reads.to_read == to_read


@pytest.mark.parametrize(
    ("listed", "known", "gone", "moved"),
    [
        ({"A": "t1"}, None, set(), True),  # a name never checked takes its baseline
        ({"A": "t1", "B": "t1"}, {"A": "t1"}, set(), True),  # a new id
        ({"A": "t1"}, {"A": "t1", "B": "t1"}, {"B"}, True),  # a known id gone
        ({"A": "t2"}, {"A": "t1"}, set(), True),  # a record modified since the name read it
        ({"A": "t1"}, {"A": None}, set(), True),  # known before the name kept `modified`
        ({"A": "t1"}, {"A": "t1"}, set(), False),  # nothing moved: nothing more to do
    ],
    ids=["first", "new-id", "gone", "record-moved", "modified-unknown", "still"],
)
def test_which_names_can_have_news(
    listed: dict[str, str], known: dict[str, str | None] | None, gone: set[str], moved: bool
) -> None:
    seen_before = (
        {} if known is None else {NAME: {vid: Seen("m", False, at) for vid, at in known.items()}}
    )
    asked = Asked({NAME: listed}, seen_before, {NAME: gone}, {})

    assert asked.moved() == ([NAME] if moved else [])
    assert asked.current_ids([NAME]) == {NAME: {*listed, *(known or {})}}


def test_a_record_two_names_share_is_news_for_each_at_its_own_check() -> None:
    """Both names read GHSA-1 at t1. It is modified (t2): `a`'s check reads it again and
    stores it; `b`'s check, later, finds the stored copy current, reads nothing, and must
    still be decided (its `updated` alert would be lost otherwise)."""
    read_at_t1 = {"GHSA-1": Seen("m", False, "t1")}
    listed = {"GHSA-1": "t2"}

    first = plan_reads({"a": listed}, {"a": read_at_t1}, {"GHSA-1": "t1"})
    later = plan_reads({"b": listed}, {"b": read_at_t1}, {"GHSA-1": "t2"})

    assert (first.to_read, later.to_read) == (["GHSA-1"], [])
    assert Asked(later.listed, {"b": read_at_t1}, later.gone, {}).moved() == ["b"]


@pytest.mark.parametrize(
    ("case", "lists", "records", "left_out"),
    [
        ("all answered well", {}, {}, {}),
        ("a name's own list", {"c": "list c"}, {}, {"c": "list c"}),
        ("a listed record: the names listing it", {}, {"GHSA-1": "bad"}, {"a": "bad", "b": "bad"}),
        ("a record gone from a list", {}, {"GHSA-3": "bad"}, {"b": "bad"}),
        ("a record no name needs", {}, {"GHSA-9": "bad"}, {}),
    ],
)
def test_names_answered_badly_are_left_for_the_next_pass(
    case: str, lists: dict[str, str], records: dict[str, str], left_out: dict[str, str]
) -> None:
    """A name is left out when its own list, or a record it needs (listed, or a known id gone
    from its list), was malformed; the others are decided."""
    known = {"b": {"GHSA-3": Seen("m", False, "t")}}
    reads = plan_reads({"a": {"GHSA-1": "t"}, "b": {"GHSA-1": "t", "GHSA-2": "t"}}, known, {})

    badly = answered_badly(reads, lists, records)
    asked = Asked(reads.listed, known, reads.gone, {}).leaving_out(badly)

    assert badly == left_out, case
    assert set(asked.listed) == {"a", "b"} - set(badly)
    assert set(asked.moved()) == {"a", "b"} - set(badly)


def test_who_hears_of_a_name() -> None:
    listed_pin = ChannelPin(7, True, PinView("==3.2", "3.2"))
    imported = [ChannelPin(8, False, PinView("", None)), ChannelPin(9, False, PinView("", None))]
    followed = {NAME: [TOOLBAR]}
    pinned = {NAME: [listed_pin], "requests": imported}
    names = [NAME, "requests"]

    unlisted = unlisted_channels(names, followed, pinned)
    found = subjects(names, followed, {34: [follower(7)]}, unlisted, {8: follower(8)})

    assert unlisted == {"requests": [8, 9]}
    assert found == {
        NAME: [Subject(34, "Django Debug Toolbar", "3.2", (follower(7),))],
        # channel 9 has no active subscription left: nobody there hears of it
        "requests": [Subject(None, "requests", None, (follower(8),))],
    }
    assert [s.key for s in found[NAME] + found["requests"]] == ["34", "pypi:requests"]


def alerts_of(
    known: dict[str, Seen] | None, followers: tuple[Follower, ...], pins: list[ChannelPin]
) -> list[NewAlert]:
    subject = Subject(34, "Django Debug Toolbar", "6.0.0", followers)
    records = [RECORDS[vuln_id] for vuln_id in PAIR]
    return decide_name(NAME, records, known, [subject], pins).alerts


@pytest.mark.parametrize(
    ("known", "followers", "pins", "heard"),
    [
        (None, (follower(7), follower(8)), [], []),  # the first check: a silent baseline
        ({}, (follower(7), follower(8)), [], [(7, None), (8, None)]),  # one each, not per record
        ({}, (follower(7),), [ChannelPin(7, True, PinView("==3.2", "3.2"))], [(7, "3.2")]),
        ({}, (follower(7, Event.RELEASE), follower(8)), [], [(8, None)]),  # filter applies
        (seen(*PAIR), (follower(7),), [], []),  # already known: no news
    ],
    ids=["baseline", "each-channel-once", "worded-to-pin", "filtered", "known"],
)
def test_the_alerts_a_name_raises(
    known: dict[str, Seen] | None,
    followers: tuple[Follower, ...],
    pins: list[ChannelPin],
    heard: list[tuple[int, str | None]],
) -> None:
    alerts = alerts_of(known, followers, pins)

    assert [(a.channel_id, (a.payload["pin"] or {}).get("version")) for a in alerts] == heard
    assert all(a.dedup_key.startswith(f"{a.channel_id}:34:advisory:") for a in alerts)


def test_a_name_keeps_what_it_read_and_counts_what_it_could_not() -> None:
    records = [RECORDS["PYSEC-2021-10"], {"summary": "no id, no modified time"}]

    decided = decide_name(NAME, records, {}, [], [])

    assert set(decided.known) == {"PYSEC-2021-10"}
    assert decided.malformed == 1
    assert [item.status for item in decided.news] == ["new"]


def alert(key: str, status: str) -> NewAlert:
    return NewAlert(1, 1, 7, "advisory", key, "", {"status": status}, 34)


@pytest.mark.parametrize(
    ("told", "kept"),
    [
        (
            {"7:34:advisory:GHSA-x": False},
            ["7:34:advisory:GHSA-x:withdrawn", "7:34:advisory:GHSA-y"],
        ),
        ({}, ["7:34:advisory:GHSA-y"]),  # never heard of it: nothing to retract
    ],
    ids=["heard", "not-heard"],
)
def test_a_retraction_goes_only_where_the_advisory_was_heard(
    told: dict[str, bool], kept: list[str]
) -> None:
    alerts = [
        alert("7:34:advisory:GHSA-x:withdrawn", "withdrawn"),
        alert("7:34:advisory:GHSA-y", "new"),
    ]

    retracts = retracted(alerts)

    assert retracts == {"7:34:advisory:GHSA-x:withdrawn": "7:34:advisory:GHSA-x"}
    assert [a.dedup_key for a in to_those_told(alerts, retracts, told)] == kept


@pytest.mark.parametrize("urgent", [True, False], ids=["urgent", "ordinary"])
def test_a_retraction_takes_the_lane_its_original_took(urgent: bool) -> None:
    alerts = [alert("7:34:advisory:GHSA-x:withdrawn", "withdrawn")]

    [retraction] = to_those_told(alerts, retracted(alerts), {"7:34:advisory:GHSA-x": urgent})

    assert retraction.urgent is urgent
