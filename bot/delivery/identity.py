"""Who holds a claim: a delivery worker is named `host:pid:token:slot`.

`host` names where its pid means something: the host name, the machine's boot and the pid
namespace (two containers given one host name each run a pid 1, and must not count as one
host); `token` is drawn once per process life and `slot` tells apart the workers of one
process. A claim carries its worker's name, so a process can tell, without waiting for a lease
to run out, that the holder of some claims is gone: a claimant in this pid namespace whose
process no longer runs, or an earlier life of this very pid. Their claims are taken back at
once; claimants elsewhere (another machine, another container) are trusted until their lease
ends.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True, slots=True)
class WorkerId:
    host: str
    pid: int
    token: str
    slot: int = 0

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.token}:{self.slot}"

    @classmethod
    def parse(cls, name: str) -> WorkerId | None:
        """The identity in a claim's `claimed_by`; None for a name not made by `current`."""
        parts = name.rsplit(":", 3)
        if len(parts) != 4 or not parts[0] or not (parts[1] + parts[3]).isdigit():
            return None
        host, pid, token, slot = parts
        return cls(host, int(pid), token, int(slot))

    def is_orphan(self, claimant: WorkerId) -> bool:
        """Whether `claimant`'s claims can be taken back now, as seen from this process."""
        if claimant.host != self.host or (claimant.pid, claimant.token) == (self.pid, self.token):
            return False
        return claimant.pid == self.pid or not process_alive(claimant.pid)


def current(slot: int = 0) -> WorkerId:
    """The identity of this process's worker number `slot`."""
    return WorkerId(*_process(), slot=slot)


@cache
def _process() -> tuple[str, int, str]:
    """Where the pid is valid, pid and a random token, fixed for the life of this process."""
    return pid_space(), os.getpid(), secrets.token_hex(4)


def pid_space() -> str:
    """`hostname/boot/namespace`: the host name, the start of the machine's boot id and the
    inode of this process's pid namespace, as Linux reports them (the host name alone where
    /proc does not say)."""
    parts = [socket.gethostname()]
    try:
        parts.append(Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8])
        parts.append(os.readlink("/proc/self/ns/pid").strip("pid:[]"))
    except OSError:
        return parts[0]
    return "/".join(parts)


def process_alive(pid: int) -> bool:
    """Whether a process with `pid` runs on this host (a zombie, killed but not yet reaped,
    does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]
