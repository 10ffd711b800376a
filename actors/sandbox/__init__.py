"""Every external program that parses an upload runs in a bubblewrap sandbox.

`prepare(argv)` (bwrap.py) turns a command into one that runs inside `bwrap`, under resource limits:

- the file system is built from nothing: the system's programs and libraries read-only (/usr and the
  merged-usr links, a few /etc entries such as the linker cache, fonts and alternatives), the program's
  own folder read-only when it lives elsewhere, a private /tmp, /proc of its own PID namespace, a
  minimal /dev. Of DATA_DIR only the job's own folder is there (writable) and the job's inputs
  (read-only): no library, no database, no other job, no models. /etc/passwd, /root, /home are absent;
- no network (a new, empty network namespace), no IPC, its own PID and UTS namespaces, all
  capabilities dropped, a new session (no terminal to inject into), and it is SIGKILLed when the
  process that started it dies (`--die-with-parent`: also the "no orphans" guarantee);
- limits set by `prlimit` before bwrap starts (inherited): data memory (RLIMIT_DATA: counts what a
  process really allocates, not address space it reserves, which RLIMIT_AS would and which breaks
  threaded encoders and V8), CPU seconds, largest file, open files, no core dumps;
- a clean environment: only what the caller passes (child_env), never the server's.

Which job's folder: `job_scope(call)` (set where a tool runs: worker, media actor) says it; outside one
(unit tests, scripts) the folders named on the command line are what is bound.

Worker processes that decode untrusted files in Python (the image, document, data and vision families)
are confined with Landlock and a memory limit (`confine.WorkerInit`, their trio-parallel init, which
also hands them the policy).

The off switch (`SANDBOX=off`, for systems without user namespaces) keeps the limits, the clean
environment and death-with-parent (setpriv --pdeathsig), and says so loudly in the log and in admin
health.
"""

from __future__ import annotations

from actors.sandbox.bwrap import Launch, bwrap_works, prepare, run
from actors.sandbox.confine import WorkerInit, confined
from actors.sandbox.policy import Policy, configure, job_folders, job_scope, policy, use
from actors.sandbox.tree import descendants, kill, popen_lasting, running

__all__ = ["Launch", "Policy", "WorkerInit", "bwrap_works", "configure", "confined", "descendants", "job_folders",
           "job_scope", "kill", "policy", "popen_lasting", "prepare", "run", "running", "status", "use"]


def status() -> dict:
    """What admin health shows."""
    from actors import landlock
    from actors.sandbox import cgroup

    p = policy()
    # per program: a cgroup's memory.max over the whole program where the service has a cgroup v2 subtree
    # of its own, else RLIMIT_DATA per process (which a program that forks can exceed in total)
    memory_limit = "cgroup" if cgroup.active() else "rlimit"
    if not p.enabled:
        programs = {"mechanism": "none", "enabled": False, "memoryLimit": memory_limit,
                    "warning": "SANDBOX=off: external programs run unconfined"}
    else:
        programs = {"mechanism": "bubblewrap" if bwrap_works() else "unavailable", "enabled": True,
                    "network": False, "pidNamespace": True, "memoryMb": p.memory_mb, "memoryLimit": memory_limit,
                    "fileMb": p.file_mb, "openFiles": p.open_files}
    abi = landlock.abi()
    if not p.enabled:
        workers = {"mechanism": "none", "enabled": False}
    elif abi:
        workers = {"mechanism": "landlock", "abi": abi, "tcp": abi < 4, "memoryMb": p.memory_mb,
                   "families": list(CONFINED_FAMILIES)}
    else:
        workers = {"mechanism": "memory limit only", "memoryMb": p.memory_mb,
                   "warning": "this kernel has no Landlock: worker processes can read and write what the server can"}
    return {"programs": programs, "workers": workers}


# the families whose worker processes start confined (actors.pool.WorkerPoolActor)
CONFINED_FAMILIES = ("image", "documents", "data", "vision")
