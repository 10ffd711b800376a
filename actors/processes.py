"""Environments for external programs: built from what they need, not inherited wholesale.

A child gets a PATH that finds the program itself, this Python and the system directories, a UTF-8
locale, and what the caller adds (HOME, proxies, toolkit switches): nothing of the server's own
settings or secrets leaks into ffmpeg, pandoc or LibreOffice.
"""

from __future__ import annotations

import os
import shutil
import sys

SYSTEM_DIRS = ("/usr/local/bin", "/usr/bin", "/bin")


def child_env(*programs: str, **extra: str) -> dict[str, str]:
    dirs = [os.path.dirname(found) for found in (shutil.which(p) for p in programs) if found]
    dirs += [os.path.dirname(sys.executable), *SYSTEM_DIRS]
    return {"PATH": os.pathsep.join(dict.fromkeys(dirs)), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", **extra}
