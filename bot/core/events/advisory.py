"""`advisory`: a security advisory (OSV) names a watched package.

One alert per vulnerability per channel however many records and aliases it has (a PYSEC and
a GHSA record sharing a CVE are one; `bot.core.advisories.group`). The poll of OSV
(`bot.refresh.advisory_compare`) decides what is news and calls `advisory_change`: a new
vulnerability (`new`), one whose affected or fixed versions moved (`updated`), or one whose
records were all withdrawn (`withdrawn`: delivery marks the posted alert withdrawn in place,
or posts this one-line retraction where it cannot). A channel that imported its requirements
(`/watch import`) gets the alert worded against its pin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from bot.core.advisories import URGENT_SEVERITIES, Vulnerability
from bot.core.events.base import (
    Card,
    Change,
    Data,
    Event,
    EventKind,
    Fact,
    Markup,
)

Status = Literal["new", "updated", "withdrawn"]
#: How a retraction's key ends: `…:advisory:KEY:withdrawn` retracts `…:advisory:KEY` (and the
#: `…:advisory:KEY:MATERIAL` updates that followed it).
WITHDRAWN = ":withdrawn"


def is_retraction(event: str, payload: Mapping[str, Any]) -> bool:
    """Whether an alert is an advisory's retraction."""
    return event == Event.ADVISORY and payload.get("status") == "withdrawn"


def retracted_key(dedup_key: str) -> str:
    """The dedup key of the alert a retraction (by its dedup key) retracts."""
    return dedup_key.removesuffix(WITHDRAWN)


def withdrawn_on(payload: Mapping[str, Any], noticed: datetime) -> str:
    """The date a retraction says the advisory was withdrawn: OSV's, else when it was noticed."""
    stamp = payload.get("withdrawn_at")
    try:
        when = datetime.fromisoformat(stamp) if isinstance(stamp, str) else noticed
    except ValueError:  # upstream text: only a timestamp becomes a date
        when = noticed
    return when.date().isoformat()


@dataclass(frozen=True, slots=True)
class PinView:
    """A channel's imported requirement for the package: `version` pinned or locked (None for
    a bare range), and the `specifier` as written."""

    specifier: str
    version: str | None


def pin_facts(vulnerability: Vulnerability, pin: PinView) -> dict[str, Any]:
    """What the alert says of the pin: a pinned version affected or not and what to upgrade
    to; a range admitting affected versions or not, and whether it admits the fix."""
    if pin.version:
        return {
            "version": pin.version,
            "specifier": pin.specifier,
            "affected": vulnerability.affects(pin.version),
            "fix": vulnerability.fixed_for(pin.version),
        }
    try:
        specifier = SpecifierSet(pin.specifier)
    except InvalidSpecifier:
        return {"version": None, "specifier": pin.specifier, "affected": False, "fix": None}
    met, fix = vulnerability.in_range(specifier)
    return {
        "version": None,
        "specifier": pin.specifier,
        "affected": False,  # a range is not a version: it is never urgent on its own
        "range_affected": met,
        "fix": fix,
        "fix_allowed": specifier.contains(fix, prereleases=True) if fix else None,
    }


def pin_sentence(pin: Mapping[str, Any]) -> str:
    """ "your pin 3.14.0 is affected, fixed in 3.15.1"; "3.16.0 is outside your range `<3.16`"."""
    version, fix, specifier = pin.get("version"), pin.get("fix"), pin.get("specifier")
    if version:
        if not pin.get("affected"):
            return f"your pin {version} is not affected"
        return f"your pin {version} is affected, " + (
            f"fixed in {fix}" if fix else "no fixed release yet"
        )
    shown = f"your range `{specifier}`" if specifier else "your requirement (any version)"
    if not pin.get("range_affected"):
        return f"{shown} admits no affected version"
    if not fix:
        return f"{shown} admits affected versions, no fixed release yet"
    if pin.get("fix_allowed") is False:
        return f"{fix} is outside your range `{specifier}`"
    return f"{shown} admits affected versions: upgrade to {fix} or later"


def is_urgent(data: Mapping[str, Any]) -> bool:
    """A HIGH or CRITICAL advisory affecting the latest release or the channel's pin."""
    pin = data.get("pin") or {}
    return (
        data.get("status") != "withdrawn"
        and data.get("severity") in URGENT_SEVERITIES
        and bool(data.get("affects_latest") or pin.get("affected"))
    )


def _wording(data: Mapping[str, Any]) -> str:
    name, key, status = data["package"], data["key"], data["status"]
    if status == "withdrawn":
        return f"{name}: advisory {key} was withdrawn"
    severity = f"{data['severity']} " if data.get("severity") else ""
    head = f"{name}: {severity}security advisory {key}"
    if status == "updated":
        head = f"{name}: {severity}advisory {key} updated"
    latest = data.get("latest")
    fixed = data.get("fixed") or []
    if latest and data.get("affects_latest"):
        fix = data.get("fixed_for_latest")
        tail = f"latest release {latest} is affected" + (
            f", fixed in {fix}" if fix else ", no fixed release yet"
        )
    elif latest:
        tail = f"latest release {latest} is not affected"
    else:
        tail = f"fixed in {', '.join(fixed)}" if fixed else "no fixed release yet"
    pin = pin_sentence(data["pin"]) if data.get("pin") else ""
    return f"{head}: {tail}" + (f"; {pin}" if pin else "")


def advisory_change(
    subject: str,
    package_id: int,
    package: str,
    vulnerability: Vulnerability,
    *,
    status: Status,
    latest: str | None,
    pin: PinView | None = None,
) -> Change:
    """The change one channel hears of: `subject` keys it (a listing's id, or `pypi:NAME` for
    an imported requirement not on Django Packages, whose `package_id` is 0); `pin` is that
    channel's requirement, if any."""
    data: dict[str, Any] = {
        "package": package,
        "key": vulnerability.key,
        "ids": list(vulnerability.ids),
        "status": status,
        "summary": vulnerability.summary,
        "severity": vulnerability.severity,
        "ranges": [span.text() for span in vulnerability.spans],
        "fixed": list(vulnerability.fixed),
        "latest": latest,
        "affects_latest": vulnerability.affects(latest),
        "fixed_for_latest": vulnerability.fixed_for(latest) if latest else None,
        "published": vulnerability.published,
        "withdrawn_at": vulnerability.withdrawn_at,
        "links": vulnerability.links()[:5],
        "pin": pin_facts(vulnerability, pin) if pin else None,
    }
    suffix = {"new": "", "updated": f":{vulnerability.material()}", "withdrawn": WITHDRAWN}
    return Change(
        event=Event.ADVISORY,
        package_id=package_id,
        key=f"{subject}:advisory:{vulnerability.key}{suffix[status]}",
        summary=_wording(data),
        data=data,
    )


def _latest_fact(data: Data) -> str:
    """ "4.0.3 (affected)", or "unknown" before the package has a release."""
    latest = data.get("latest")
    if not latest:
        return "unknown"
    return f"{latest} ({'affected' if data.get('affects_latest') else 'not affected'})"


def card(data: Data, markup: Markup) -> Card:
    if data.get("status") == "withdrawn":
        return Card([Fact("Ids", markup.text(", ".join(data.get("ids") or [])), False)])
    facts = [
        Fact("Severity", markup.text(data.get("severity") or "not rated")),
        Fact("Affected", markup.text(", ".join(data.get("ranges") or []) or "unknown")),
        Fact("Fixed in", markup.text(", ".join(data.get("fixed") or []) or "no fix yet")),
        Fact("Latest release", markup.text(_latest_fact(data))),
    ]
    if data.get("pin"):
        facts.append(Fact("Your pin", markup.text(pin_sentence(data["pin"])), False))
    if data.get("summary"):
        facts.append(Fact("Summary", markup.text(data["summary"]), False))
    facts.append(Fact("Ids", markup.text(", ".join(data.get("ids") or [])), False))
    if data.get("links"):
        facts.append(Fact("Links", markup.urls(data["links"]), False))
    return Card(facts)


KIND = EventKind(Event.ADVISORY, colour=0xC0392B, card=card)
