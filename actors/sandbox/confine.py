"""Worker processes: how each starts (WorkerInit: the server's policy, then Landlock and a memory limit)
and how a program is started from a confined one (bubblewrap cannot build a sandbox under Landlock)."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from actors.sandbox.policy import Policy, current_jail, folder_for, forbidden, log, named_paths, policy, use

_confined = 0  # the Landlock ABI this process is confined with (0: not confined)
SYSTEM_READ = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt", "/proc", "/sys",
               "/dev")
_CLONE_NEWNET = 0x40000000
TEMP_FOLDER = ".tmp"  # inside the job's workspace folder: a confined worker's temporary files


_job_temp: Path | None = None  # the running job's temporary folder, in a confined worker


def confined() -> int:
    return _confined


def job_temp_folder() -> Path | None:
    return _job_temp


@dataclass(frozen=True)
class WorkerInit:
    """trio-parallel `init` of a family's worker processes (pickled into each): the server's policy reaches
    the worker here, never through its environment. `confine`: then a memory limit and Landlock (when the
    policy is enabled). `readable`: DATA_DIR folders the family reads (vision: the models). `before`: run
    first, unconfined (a family's own settings)."""

    policy: Policy
    confine: bool = True
    readable: tuple[str, ...] = ()
    before: Callable[[], object] | None = None

    def __call__(self) -> bool:
        use(self.policy)
        if self.before is not None:
            self.before()
        if self.confine and self.policy.enabled:
            confine_worker(self.readable)
        return True


def share_with_default_workers(p: Policy) -> None:
    """trio-parallel's shared workers (library previews) start with the policy too, unconfined."""
    import trio_parallel

    if threading.current_thread() is threading.main_thread():
        trio_parallel.configure_default_context(init=WorkerInit(p, confine=False))


def confine_worker(readable: Sequence[str] = ()) -> None:
    """A memory limit (a decompression bomb fails its own job, or kills this worker, never the box), then
    Landlock: read the system, Python and Lutra's code and `readable`; read and write the workspace;
    nothing else of DATA_DIR or the storage root (no database, no library, no models unless named); no TCP. Where the kernel
    has no Landlock the worker runs with the memory limit only (admin health says so)."""
    global _confined
    import resource
    import sys

    from actors import landlock

    p = policy()
    limit = p.memory_mb << 20
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    if not p.data_dir:
        return
    roots = [Path(os.path.realpath(r)) for r in p.roots()]
    # Lutra's own code: an editable install (`lutra serve` from .venv/bin) reaches it through an import
    # hook, not sys.path, so its root is named here (a DATA_DIR inside it is carved out below)
    project = Path(__file__).resolve().parents[2]
    code = [sys.prefix, sys.base_prefix, sys.exec_prefix, project,
            *(e for e in sys.path if e and os.path.isdir(e))]
    read = [*landlock.without([*SYSTEM_READ, *code], roots), *readable]
    try:
        _confined = landlock.restrict(read, [os.path.realpath(p.workspace()), "/dev/null"])
    except landlock.Unsupported as err:
        log.warning("worker processes run without Landlock (%s): only the memory limit applies", err)


@contextlib.contextmanager
def job_temp(job_folder: Path) -> Iterator[None]:
    """In a confined worker (where /tmp is not writable), the job's temporary files go to its own folder,
    for Python (tempfile) and for native libraries (libvips and GLib read TMPDIR); elsewhere nothing changes."""
    global _job_temp
    if not _confined:
        yield
        return
    import tempfile

    folder = Path(job_folder) / TEMP_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    tempfile.tempdir = str(folder)
    os.environ["TMPDIR"] = str(folder)
    _job_temp = folder
    try:
        yield
    finally:  # between jobs there is no temporary folder: none outside a job is writable
        _job_temp = None
        tempfile.tempdir = None
        os.environ.pop("TMPDIR", None)


def program_preexec(program: str, args: list[str], cwd: str | None, writable: Sequence[Path],
                    readable: Sequence[Path], cpu_s: float | None) -> Callable[[], None]:
    """For a program started from a Landlock-confined worker: a further Landlock layer narrowed to the job
    (system read-only, the job's folder writable, its inputs readable), no TCP, a new network namespace
    where allowed, the limits, and death with the worker."""
    import resource
    import signal

    from actors import landlock

    jail = current_jail()
    rw = [*writable, *(jail.writable if jail else ())]
    ro = [*readable, *(jail.readable if jail else ())]
    if jail is None and not rw and not ro:
        rw = [f for f in (folder_for(p) for p in named_paths(args, cwd)) if f is not None]
    rw = [p for p in rw if not forbidden(Path(os.path.realpath(p)), named=jail is None)]
    code = [os.path.dirname(os.path.abspath(program)), os.path.dirname(os.path.realpath(program))]
    p = policy()
    limits = [(resource.RLIMIT_DATA, p.memory_mb << 20), (resource.RLIMIT_FSIZE, p.file_mb << 20),
              (resource.RLIMIT_NOFILE, p.open_files), (resource.RLIMIT_CORE, 0)]
    if cpu_s:
        limits.append((resource.RLIMIT_CPU, int(cpu_s) + 1))

    def preexec() -> None:
        _libc_call("prctl", 1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        os.setsid()
        for which, value in limits:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(which, (value, value))
        _libc_call("unshare", _CLONE_NEWNET)  # root: no network at all; elsewhere Landlock's no-TCP stays
        landlock.restrict([*SYSTEM_READ, *code, *ro], [*rw, "/dev/null"])

    return preexec


def _libc_call(name: str, *args: int) -> int:
    import ctypes

    try:
        return int(getattr(ctypes.CDLL(None), name)(*args))
    except (OSError, AttributeError):
        return -1
