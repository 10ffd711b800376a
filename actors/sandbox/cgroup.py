"""A memory limit per sandboxed program in a cgroup of its own, where the service has a cgroup v2 subtree of
its own (systemd's Delegate=yes in deploy/lutra.service, or any cgroup only the server's processes are in,
writable, with the memory controller). memory.max then counts the whole program (bwrap, its children,
page cache it dirties) and the kernel's OOM killer stops that program alone. Elsewhere (cgroup v1, no
delegation, a cgroup shared with a login shell) only the RLIMIT_DATA limits apply; admin health says which.

Layout under the service's cgroup: `server/` holds the server and its workers (a cgroup with processes
cannot hand the memory controller to its children), `programs/<name>/` one cgroup per program started.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from pathlib import Path

from actors.sandbox.policy import log

_programs: Path | None = None  # where programs' cgroups are made; None: no cgroup limits here
_counter = itertools.count()
STALE_S = 60  # an empty program cgroup this old is removed (a younger one may be about to get its program)


def own_cgroup() -> Path | None:
    """This process's cgroup v2 folder, or None (cgroup v1 only, or not mounted)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    path = next((line[3:] for line in lines if line.startswith("0::")), None)
    mount = next((m.split()[4] for m in mounts if " - cgroup2 " in m), None)
    if path is None or mount is None:
        return None
    return Path(mount) / path.lstrip("/")


def setup(base: Path | None = None) -> Path | None:
    """At start: make the programs' cgroup folder under `base` (this process's cgroup) when it is ours to
    manage. Returns it, or None where the rlimits alone apply."""
    global _programs
    _programs = None
    base = base if base is not None else own_cgroup()
    if base is None:
        return None
    try:
        if "memory" not in (base / "cgroup.controllers").read_text().split():
            return None
        if "memory" not in (base / "cgroup.subtree_control").read_text().split():
            members = [int(p) for p in (base / "cgroup.procs").read_text().split()]
            if any(not _ours(pid) for pid in members):
                log.info("cgroup %s holds other processes than the server's: program memory limits are rlimits", base)
                return None
            server = base / "server"
            server.mkdir(exist_ok=True)
            for pid in members:  # the server and its workers into a leaf, so that the parent may delegate memory
                with contextlib.suppress(ProcessLookupError):
                    (server / "cgroup.procs").write_text(str(pid))
            (base / "cgroup.subtree_control").write_text("+memory")
        programs = base / "programs"
        programs.mkdir(exist_ok=True)
        (programs / "cgroup.subtree_control").write_text("+memory")
    except (OSError, ValueError) as err:
        log.info("no cgroup for programs (%s): program memory limits are rlimits", err)
        return None
    _programs = programs
    return programs


def _ours(pid: int) -> bool:
    """`pid` is this process or one it started (a worker), not a login shell sharing the cgroup."""
    me = os.getpid()
    while pid > 1:
        if pid == me:
            return True
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            pid = int(stat.rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            return False
    return False


def active() -> bool:
    return _programs is not None


def enter(argv: list[str], memory_mb: int) -> list[str]:
    """`argv` started in a new cgroup with memory.max (and no swap): a shell writes its own pid into the
    cgroup, then execs the command (about a millisecond). Unchanged where there are no cgroup limits."""
    if _programs is None:
        return argv
    sweep()
    group = _programs / f"p{os.getpid()}-{next(_counter)}"
    try:
        group.mkdir()
        (group / "memory.max").write_text(str(memory_mb << 20))
        with contextlib.suppress(OSError):
            (group / "memory.swap.max").write_text("0")
    except OSError as err:
        log.warning("no cgroup for a program (%s): its memory limit is the rlimit", err)
        return argv
    return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(group / "cgroup.procs"), *argv]


def sweep() -> None:
    """Remove the program cgroups whose program has ended (kept a minute: a new one waits for its program)."""
    if _programs is None:
        return
    cutoff = time.time() - STALE_S
    with contextlib.suppress(OSError):
        for group in _programs.iterdir():
            with contextlib.suppress(OSError):
                if (group.is_dir() and group.stat().st_mtime < cutoff
                        and "populated 0" in (group / "cgroup.events").read_text()):
                    group.rmdir()
