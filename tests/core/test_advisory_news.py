"""What is news among a package's OSV records, how an alert speaks to a pin, and what is
urgent: the pure decisions behind the `advisory` alerts, on real records."""

from __future__ import annotations

import pytest

from bot.core.advisories import Advisory, Seen, group, news, parse_records
from bot.core.events.advisory import PinView, advisory_change, is_urgent, pin_sentence
from tests.fakes.osv_api import real_records

RECORDS = real_records()
PAIR = ("PYSEC-2021-10", "GHSA-pghf-347x-c2gj")


def toolbar(*ids: str, **changes: object) -> list[Advisory]:
    records = [{**RECORDS[vuln_id], **changes} for vuln_id in ids]
    return parse_records(records, "django-debug-toolbar")[0]


def seen(*ids: str, withdrawn: bool = False) -> dict[str, Seen]:
    return {a.id: Seen(a.material(), withdrawn, a.modified) for a in toolbar(*ids)}


def test_the_first_check_is_a_silent_baseline() -> None:
    assert news(None, toolbar(*PAIR)) == []


def test_a_new_pair_is_one_piece_of_news() -> None:
    [item] = news({}, toolbar(*PAIR))

    assert item.status == "new"
    assert item.vulnerability.ids == ("GHSA-pghf-347x-c2gj", "PYSEC-2021-10", "CVE-2021-30459")


def test_a_record_joining_a_known_vulnerability_is_not_news() -> None:
    assert news(seen("PYSEC-2021-10"), toolbar(*PAIR)) == []


def test_modified_alone_is_not_news_but_a_new_fix_is() -> None:
    moved = toolbar(*PAIR, modified="2026-12-01T00:00:00Z")
    narrowed = dict(RECORDS["GHSA-pghf-347x-c2gj"])
    narrowed["affected"] = narrowed["affected"][-1:]

    assert news(seen(*PAIR), moved) == []
    [item] = news(
        seen(*PAIR), parse_records([RECORDS["PYSEC-2021-10"], narrowed], "django-debug-toolbar")[0]
    )
    assert item.status == "updated"


def test_withdrawal_is_news_once() -> None:
    withdrawn = toolbar(*PAIR, withdrawn="2026-12-01T00:00:00Z")

    [item] = news(seen(*PAIR), withdrawn)
    assert item.status == "withdrawn"
    assert news(seen(*PAIR, withdrawn=True), withdrawn) == []
    assert news({}, withdrawn) == []  # first seen withdrawn: nothing to retract


@pytest.mark.parametrize(
    ("pin", "sentence"),
    [
        (PinView("==3.2", "3.2"), "your pin 3.2 is affected, fixed in 3.2.1"),
        (PinView("==3.2.1", "3.2.1"), "your pin 3.2.1 is not affected"),
        (PinView("<3.2,>=3.0", None), "3.2.1 is outside your range `<3.2,>=3.0`"),
        (
            PinView(">=3.0", None),
            "your range `>=3.0` admits affected versions: upgrade to 3.2.1 or later",
        ),
        (PinView(">=4", None), "your range `>=4` admits no affected version"),
        (
            PinView("", None),
            "your requirement (any version) admits affected versions: upgrade to 1.11.1 or later",
        ),
    ],
    ids=[
        "pinned-affected",
        "pinned-fixed",
        "range-excludes-fix",
        "range-admits-fix",
        "range-clear",
        "bare",
    ],
)
def test_the_alert_speaks_to_the_pin(pin: PinView, sentence: str) -> None:
    [vulnerability] = group(toolbar(*PAIR))
    change = advisory_change(
        "34", 34, "django-debug-toolbar", vulnerability, status="new", latest="6.0.0", pin=pin
    )

    assert pin_sentence(change.data["pin"]) == sentence
    assert change.summary.endswith(sentence)


@pytest.mark.parametrize(
    ("latest", "pin", "urgent"),
    [
        ("3.2", None, True),  # HIGH, the latest release affected
        ("6.0.0", None, False),
        ("6.0.0", PinView("==3.2", "3.2"), True),  # HIGH, the pin affected
        ("6.0.0", PinView(">=3.0", None), False),  # a range is not a version
    ],
)
def test_urgent_is_high_or_critical_affecting_the_latest_release_or_the_pin(
    latest: str, pin: PinView | None, urgent: bool
) -> None:
    [vulnerability] = group(toolbar(*PAIR))
    change = advisory_change("34", 34, "t", vulnerability, status="new", latest=latest, pin=pin)

    assert is_urgent(change.data) is urgent


def test_an_unrated_advisory_is_never_urgent() -> None:
    [vulnerability] = group(toolbar("PYSEC-2021-10"))  # PYSEC records carry no severity
    change = advisory_change("34", 34, "t", vulnerability, status="new", latest="3.2")

    assert change.data["severity"] is None
    assert not is_urgent(change.data)
