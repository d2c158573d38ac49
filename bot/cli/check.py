"""`djp-sentinel check FILE [--django X.Y] [--json]`: rendering and exit status.

Exit 0 when no advisory affects a pinned or locked version, 1 when one does, 2 when the
command, the file or an upstream could not be used (nothing was concluded, so CI fails).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.app.check import Checked, check_requirements
from bot.cli.main import EXIT_FAILURE, EXIT_USAGE
from bot.config import Settings
from bot.core.plural import counted
from bot.core.requirements import RequirementsError, read_requirements
from bot.errors import SentinelError


async def check(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.file)
    try:
        content = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror or exc}.", file=sys.stderr)
        return EXIT_USAGE
    try:
        requirements = read_requirements(path.name, content)
    except RequirementsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        checked = await check_requirements(settings, requirements, django=args.django)
    except SentinelError as exc:
        print(f"error: {exc.user_message} Nothing was checked.", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps([entry.as_json() for entry in checked], indent=2))
    else:
        print_checked(checked, osv=bool(settings.osv_api_url))
        if args.django and not settings.pypi_url.strip():
            print("Django support not checked: PYPI_URL is empty.")
    return EXIT_FAILURE if any(entry.pinned_affected for entry in checked) else 0


def print_checked(checked: Sequence[Checked], *, osv: bool) -> None:
    width = max((len(entry.requirement.name) for entry in checked), default=0)
    for entry in checked:
        requirement = entry.requirement
        pinned = requirement.version or requirement.specifier or "any version"
        listed = entry.listing.slug if entry.listing else "not listed"
        latest = entry.latest or "unknown"
        parts = [f"{requirement.name:<{width}}", listed, f"pinned {pinned}", f"latest {latest}"]
        if (far := entry.behind()) is not None:
            parts.append(far)
        if entry.django is not None:
            parts.append(f"Django {entry.django}")
        print("  ".join(parts))
        for view, fix in entry.advisories or ():
            others = ", ".join(view.aliases)
            print(
                f"  ! {view.id} ({view.severity or 'not rated'}{'; ' + others if others else ''})"
                f": {view.summary}; fixed in {fix or 'no release yet'}"
            )
    affected = sum(entry.pinned_affected for entry in checked)
    if not osv:
        print("Advisories not checked: OSV_API_URL is empty.")
    elif affected:
        print(f"{counted(affected, 'pinned requirement')} affected by an advisory.")
    else:
        print("No advisory affects a pinned version.")
