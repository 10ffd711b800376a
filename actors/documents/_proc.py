"""Running external programs (qpdf, ghostscript, pdftotext, pandoc) from a worker process.

Argument lists only, never a shell; in the sandbox (actors/sandbox/); a timeout on every call; the child is killed if the worker dies
(PR_SET_PDEATHSIG), so a cancelled job's worker takes its ghostscript with it. stderr is logged, never
shown to a client.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

from actors import sandbox
from protocols.errors import ErrorCode, ToolError

log = logging.getLogger("lutra.documents")

GS_TIMEOUT = 600  # ghostscript rewrites of a whole PDF
SHORT_TIMEOUT = 120  # qpdf and pdftotext

_PR_SET_PDEATHSIG = 1

try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover - not Linux
    _libc = None


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGKILL when the thread that started it exits."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def run(argv: Sequence[str | os.PathLike], *, timeout: float, what: str, cwd: Path | None = None,
        env: dict[str, str] | None = None, ok_codes: tuple[int, ...] = (0,), input: bytes | None = None,
        ) -> subprocess.CompletedProcess[bytes]:
    """Run a program; a non-zero exit or a timeout becomes a safe ToolError naming `what`."""
    args = [os.fspath(a) for a in argv]
    try:
        launch = sandbox.prepare(args, env=env, cwd=cwd, timeout_s=timeout)
        proc = subprocess.run(launch.argv, capture_output=True, timeout=timeout, cwd=cwd, env=launch.env,
                              input=input, preexec_fn=launch.preexec_fn or die_with_parent, check=False)
    except subprocess.TimeoutExpired:
        raise ToolError(f"{what} took longer than {timeout:g} s and was stopped.", ErrorCode.TIMEOUT, 504) from None
    except FileNotFoundError:
        raise ToolError(f"{what} is not installed on this server.", ErrorCode.FEATURE_NOT_INSTALLED, 501) from None
    if proc.returncode not in ok_codes:
        log.warning("%s failed (exit %s): %s", args[0], proc.returncode, proc.stderr[-2000:].decode("utf-8", "replace"))
        raise ToolError(f"{what} failed: the file may be corrupt or use features this server cannot process.")
    return proc



# ---- ghostscript ------------------------------------------------------------------------------
def ghostscript(src: Path | list[Path], out: Path, options: list[str], *, what: str,
                timeout: float = GS_TIMEOUT) -> Path:
    """Rewrite a PDF through ghostscript's pdfwrite device (-dSAFER: no file access beyond its own)."""
    argv = ["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-dNOINTERPOLATE", "-sDEVICE=pdfwrite",
            *options, f"-sOutputFile={out}", "-f", *(src if isinstance(src, list) else [src])]
    run(argv, timeout=timeout, what=what)
    if not out.is_file() or out.stat().st_size == 0:
        raise ToolError(f"{what} produced no output: the PDF may be damaged (try repair-pdf).")
    return out
