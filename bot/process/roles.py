"""What one `djp-sentinel run` process does: any mix of the gateway, monitor and delivery roles.

`all` (the default) is the single-process bot. Split across processes on PostgreSQL, the
gateway answers interactions (sharded), one elected monitor refreshes, and any number of
delivery workers empty the outbox.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    GATEWAY = "gateway"
    MONITOR = "monitor"
    DELIVERY = "delivery"


ALL_ROLES = frozenset(Role)
ROLE_NAMES = ("all", *(role.value for role in Role))


def parse_roles(values: Iterable[str]) -> frozenset[Role]:
    """Roles from `--role` values, each one name or a comma-separated list; none means all.

    Raises `ValueError` naming the first unknown role.
    """
    roles: set[Role] = set()
    for value in values:
        for name in filter(None, (part.strip().lower() for part in value.split(","))):
            if name == "all":
                roles |= ALL_ROLES
            elif name in Role.__members__.values():
                roles.add(Role(name))
            else:
                raise ValueError(f"unknown role {name!r}: choose from {', '.join(ROLE_NAMES)}")
    return frozenset(roles) or ALL_ROLES


def describe(roles: frozenset[Role]) -> str:
    """`all`, or the roles in a stable order, e.g. `monitor+delivery`."""
    return "all" if roles == ALL_ROLES else "+".join(role for role in Role if role in roles)


def needs_discord(roles: frozenset[Role]) -> bool:
    """Whether a process of `roles` talks to Discord (and needs `DISCORD_TOKEN`): the monitor
    alone only reads Django Packages and writes the outbox."""
    return bool(roles - {Role.MONITOR})
