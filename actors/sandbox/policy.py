"""The sandbox's settings (one Policy per process) and which job a program belongs to (the job scope).

The server sets the policy once at start (`configure`); worker processes get it in their `init`
(actors.sandbox.confine.WorkerInit), never through their environment.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("lutra.sandbox")

# never bound, whatever a command line names: the system itself
_SYSTEM_PREFIXES = ("/usr", "/etc", "/proc", "/sys", "/dev", "/boot", "/bin", "/sbin", "/lib", "/lib64", "/opt",
                    "/run", "/var/run")


@dataclass(frozen=True)
class Policy:
    enabled: bool = True
    memory_mb: int = 4096  # RLIMIT_DATA per sandboxed program (and per confined worker)
    file_mb: int = 16384  # largest file it may write
    open_files: int = 1024
    data_dir: str = ""  # never bound as a whole (nor its files/, models/, database)
    storage: str = ""  # where workspace/ and files/ are (STORAGE_ROOT, shared by nodes); "" = data_dir

    def roots(self) -> list[str]:
        """DATA_DIR and the storage root (the same folder unless STORAGE_ROOT is set), absolute."""
        found = [os.path.normpath(os.path.abspath(r)) for r in (self.data_dir, self.storage) if r]
        return list(dict.fromkeys(found))

    def workspace(self) -> str:
        """The jobs' folders: <storage root>/workspace ("" outside a server)."""
        root = self.storage or self.data_dir
        return os.path.join(os.path.normpath(os.path.abspath(root)), "workspace") if root else ""


_policy = Policy()


def configure(policy: Policy) -> None:
    """The server's settings (called once at start): this process's. Worker processes get them through
    their init (WorkerInit), trio-parallel's shared ones included."""
    from actors.sandbox import bwrap, cgroup, confine

    use(policy)
    confine.share_with_default_workers(policy)
    cgroup.setup()
    if not policy.enabled:
        log.warning("SANDBOX=off: external programs (ffmpeg, ghostscript, LibreOffice, pandoc, ExifTool, "
                    "Chromium, tesseract) run WITHOUT a sandbox: a parser exploited by an uploaded file can read "
                    "and change every user's files and the database. Only resource limits remain.")
    elif not bwrap.bwrap_works():
        raise SystemExit("The sandbox for external programs (bubblewrap) does not work on this system: install "
                         "Debian's 'bubblewrap' and allow user namespaces, or set SANDBOX=off (unsafe).")


def use(policy: Policy) -> None:
    """Set this process's policy, nothing else (a worker's init; tests)."""
    global _policy
    _policy = policy


def policy() -> Policy:
    return _policy


# ---- which job -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Jail:
    writable: tuple[Path, ...] = ()
    readable: tuple[Path, ...] = ()


_scope: ContextVar[Jail | None] = ContextVar("lutra_sandbox_job", default=None)


@contextlib.contextmanager
def job_scope(workdir: Path, inputs: Sequence[Path] = ()) -> Iterator[None]:
    """Programs started inside see the job's folder (writable: `workdir`, or in a server the job's whole
    workspace/<jobId>, whose out/, items/ or steps/ `workdir` is) and `inputs` (read-only), nothing else
    of DATA_DIR. In a confined worker, temporary files go to the job's folder too (/tmp is not writable)."""
    from actors.sandbox import confine

    folders = job_folders(Path(workdir))
    token = _scope.set(Jail(folders, tuple(Path(p) for p in inputs)))
    try:
        with confine.job_temp(folders[0]):
            yield
    finally:
        _scope.reset(token)


def current_jail() -> Jail | None:
    return _scope.get()


def job_folders(workdir: Path) -> tuple[Path, ...]:
    """In a server, workspace/<jobId>. Outside one (unit tests, scripts: no DATA_DIR configured) the
    layout is unknown: the workdir and its parent, where tools keep scratch files beside their output."""
    if not policy().workspace():
        return (Path(workdir), Path(workdir).parent)
    workspace = Path(policy().workspace())
    with contextlib.suppress(ValueError):
        relative = Path(os.path.abspath(workdir)).relative_to(workspace)
        if relative.parts:
            return (workspace / relative.parts[0],)
    return (Path(workdir),)


# ---- which paths a program may get ------------------------------------------------------------------
_PATHISH = re.compile(r"(/[^\s,;=:|]+)")


def named_paths(argv: Sequence[str], cwd: str | None) -> list[Path]:
    """Absolute paths on a command line (also inside `file:/x`, `-sOutputFile=/x`): where a command run
    outside any job scope reads and writes."""
    found: list[Path] = []
    for arg in argv[1:]:
        for match in _PATHISH.findall(arg):
            found.append(Path(match))
    if cwd:
        found.append(Path(cwd))
    return found


def forbidden(path: Path, *, named: bool) -> bool:
    """Never bound: the system, DATA_DIR and the storage root themselves, the whole workspace, the database
    and the library or models as a whole. A folder a command line merely names (`named`) must also be inside the workspace;
    a caller may bind one library file's folder explicitly (thumbnails)."""
    text = os.path.normpath(str(path))
    if text == "/" or any(text == p or text.startswith(p + "/") for p in _SYSTEM_PREFIXES):
        return True
    workspace = policy().workspace()
    for root in policy().roots():
        if text in (root, workspace) or text in {os.path.join(root, d) for d in ("files", "models", "spool")}:
            return True
        if text.startswith(os.path.join(root, "lutra.db")):
            return True
        if named and text.startswith(root + "/") and not text.startswith(workspace + "/"):
            return True
    return False


def folder_for(path: Path) -> Path | None:
    """A named path's folder to bind: itself when a folder, else its parent (outputs do not exist yet)."""
    path = Path(os.path.abspath(path))
    if path.is_dir():
        return path
    if path.parent.is_dir():
        return path.parent
    return None
