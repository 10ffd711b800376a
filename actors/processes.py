"""External programs and tool work: their environment and their CPU priority.

Environment: a child gets a PATH that finds the program itself, this Python and the system directories,
a UTF-8 locale, and what the caller adds (HOME, proxies, toolkit switches): nothing of the server's own
settings or secrets leaks into ffmpeg, pandoc or LibreOffice.

Priority: the server process (event loop: uploads, dispatch, progress, health) runs at normal priority;
fast tool work (the worker processes) at nice FAST_NICE; long encoders started by the server (ffmpeg,
LibreOffice) at nice LONG_NICE. On a box whose cores are all busy, a burst of video encodes (several
threads each) then cannot starve the image tools, and neither can starve the event loop (checked with
`python -m load.soak --fairness`).
"""

from __future__ import annotations

import os
import shutil
import sys

SYSTEM_DIRS = ("/usr/local/bin", "/usr/bin", "/bin")
FAST_NICE = 5
LONG_NICE = 10
_NICE = shutil.which("nice")


def lowered(argv: list[str], nice: int = LONG_NICE) -> list[str]:
    """argv run through `nice`: the program (same pid, as nice execs it) starts at the lower priority,
    threads included; unchanged where there is no `nice`."""
    return [_NICE, "-n", str(nice), *argv] if _NICE else list(argv)


def child_env(*programs: str, **extra: str) -> dict[str, str]:
    dirs = [os.path.dirname(found) for found in (shutil.which(p) for p in programs) if found]
    dirs += [os.path.dirname(sys.executable), *SYSTEM_DIRS]
    return {"PATH": os.pathsep.join(dict.fromkeys(dirs)), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", **extra}
