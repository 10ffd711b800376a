"""Every external program that parses an upload runs in a bubblewrap sandbox.

`prepare(argv)` turns a command into one that runs inside `bwrap`, under resource limits:

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

The off switch (`SANDBOX=off`, for systems without user namespaces) keeps the limits, the clean
environment and death-with-parent (setpriv --pdeathsig), and says so loudly in the log and in admin
health.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import queue
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from protocols.errors import ErrorCode, ToolError

log = logging.getLogger("lutra.sandbox")

# The policy reaches worker processes (spawned by trio-parallel) through their inherited environment.
POLICY_ENV = "LUTRA_SANDBOX_POLICY"
BWRAP = shutil.which("bwrap")
PRLIMIT = shutil.which("prlimit")
SETPRIV = shutil.which("setpriv")

# read-only inside every sandbox; missing ones are skipped
SYSTEM_TREES = ("/usr", "/opt")
MERGED_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_ENTRIES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "fonts", "localtime", "mime.types",
               "ghostscript", "ImageMagick-6", "libreoffice", "chromium", "chromium.d", "perl", "magic",
               "magic.mime", "gtk-3.0", "xdg", "papersize", "libpaper.d", "java-17-openjdk", "ssl", "timezone")
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

    def to_env(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_env(cls, text: str) -> Policy:
        try:
            raw = json.loads(text)
            return cls(**{f.name: raw[f.name] for f in dataclasses.fields(cls) if f.name in raw})
        except (ValueError, TypeError):
            return cls()


_policy: Policy | None = None
_bwrap_works: bool | None = None


def configure(policy: Policy) -> None:
    """The server's settings (called once at start); worker processes started later inherit them."""
    global _policy
    _policy = policy
    os.environ[POLICY_ENV] = policy.to_env()
    if not policy.enabled:
        log.warning("SANDBOX=off: external programs (ffmpeg, ghostscript, LibreOffice, pandoc, ExifTool, "
                    "Chromium, tesseract) run WITHOUT a sandbox: a parser exploited by an uploaded file can read "
                    "and change every user's files and the database. Only resource limits remain.")
    elif not bwrap_works():
        raise SystemExit("The sandbox for external programs (bubblewrap) does not work on this system: install "
                         "Debian's 'bubblewrap' and allow user namespaces, or set SANDBOX=off (unsafe).")


def policy() -> Policy:
    global _policy
    if _policy is None:
        text = os.environ.get(POLICY_ENV)
        _policy = Policy.from_env(text) if text else Policy()
    return _policy


def bwrap_works() -> bool:
    """bwrap can build a sandbox here (user namespaces allowed, or running as root): checked once."""
    global _bwrap_works
    if _bwrap_works is None:
        if BWRAP is None:
            _bwrap_works = False
        else:
            try:
                done = subprocess.run([BWRAP, *_base_args(), "--", "/usr/bin/true"], capture_output=True, timeout=10,
                                      check=False)
                _bwrap_works = done.returncode == 0
                if not _bwrap_works:
                    log.error("bubblewrap cannot start a sandbox: %s", done.stderr.decode("utf-8", "replace")[-300:])
            except (OSError, subprocess.SubprocessError):
                _bwrap_works = False
    return _bwrap_works


def status() -> dict:
    """What admin health shows."""
    p = policy()
    if not p.enabled:
        programs = {"mechanism": "none", "enabled": False,
                    "warning": "SANDBOX=off: external programs run unconfined"}
    else:
        programs = {"mechanism": "bubblewrap" if bwrap_works() else "unavailable", "enabled": True,
                    "network": False, "pidNamespace": True, "memoryMb": p.memory_mb, "fileMb": p.file_mb,
                    "openFiles": p.open_files}
    from actors import landlock

    abi = landlock.abi()
    if not p.enabled:
        workers = {"mechanism": "none", "enabled": False}
    elif abi:
        workers = {"mechanism": "landlock", "abi": abi, "tcp": abi < 4, "memoryMb": p.memory_mb,
                   "families": ["image"]}
    else:
        workers = {"mechanism": "memory limit only", "memoryMb": p.memory_mb,
                   "warning": "this kernel has no Landlock: image workers can read and write what the server can"}
    return {"programs": programs, "workers": workers}


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
    of DATA_DIR."""
    token = _scope.set(Jail(job_folders(Path(workdir)), tuple(Path(p) for p in inputs)))
    try:
        yield
    finally:
        _scope.reset(token)


def job_folders(workdir: Path) -> tuple[Path, ...]:
    """In a server, workspace/<jobId>. Outside one (unit tests, scripts: no DATA_DIR configured) the
    layout is unknown: the workdir and its parent, where tools keep scratch files beside their output."""
    data = policy().data_dir
    if not data:
        return (Path(workdir), Path(workdir).parent)
    workspace = Path(os.path.abspath(data)) / "workspace"
    with contextlib.suppress(ValueError):
        relative = Path(os.path.abspath(workdir)).relative_to(workspace)
        if relative.parts:
            return (workspace / relative.parts[0],)
    return (Path(workdir),)


# ---- building the command ------------------------------------------------------------------------
@dataclass(frozen=True)
class Launch:
    argv: list[str]
    env: dict[str, str]  # for the process started (bwrap gets the program's through --setenv)
    sandboxed: bool
    preexec_fn: Callable[[], None] | None = None  # only inside a Landlock-confined worker (see confine_worker)


def _base_args() -> list[str]:
    args = ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/dev/shm", "--dir", "/run"]
    for tree in SYSTEM_TREES:
        if os.path.isdir(tree):
            args += ["--ro-bind", tree, tree]
    for link in MERGED_LINKS:
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            args += ["--ro-bind", link, link]
    for entry in ETC_ENTRIES:
        path = f"/etc/{entry}"
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    return args


_PATHISH = re.compile(r"(/[^\s,;=:|]+)")


def _named_paths(argv: Sequence[str], cwd: str | None) -> list[Path]:
    """Absolute paths on a command line (also inside `file:/x`, `-sOutputFile=/x`): where a command run
    outside any job scope reads and writes."""
    found: list[Path] = []
    for arg in argv[1:]:
        for match in _PATHISH.findall(arg):
            found.append(Path(match))
    if cwd:
        found.append(Path(cwd))
    return found


def _forbidden(path: Path, *, named: bool) -> bool:
    """Never bound: the system, DATA_DIR itself, the whole workspace, the database and the library or
    models as a whole. A folder a command line merely names (`named`) must also be inside the workspace;
    a caller may bind one library file's folder explicitly (thumbnails)."""
    text = os.path.normpath(str(path))
    if text == "/" or any(text == p or text.startswith(p + "/") for p in _SYSTEM_PREFIXES):
        return True
    data = policy().data_dir
    if data:
        data = os.path.normpath(os.path.abspath(data))
        workspace = os.path.join(data, "workspace")
        if text in (data, workspace) or text in {os.path.join(data, d) for d in ("files", "models", "spool")}:
            return True
        if text.startswith(os.path.join(data, "lutra.db")):
            return True
        if named and text.startswith(data + "/") and not text.startswith(workspace + "/"):
            return True
    return False


def _folder_for(path: Path) -> Path | None:
    """A named path's folder to bind: itself when a folder, else its parent (outputs do not exist yet)."""
    path = Path(os.path.abspath(path))
    if path.is_dir():
        return path
    if path.parent.is_dir():
        return path.parent
    return None


def _binds(argv: Sequence[str], cwd: str | None, writable: Sequence[Path], readable: Sequence[Path],
           in_job: bool = True) -> list[str]:
    jail = _scope.get() if in_job else None
    rw: list[Path] = [Path(p) for p in writable]
    ro: list[Path] = [Path(p) for p in readable]
    named: list[Path] = []
    if jail is not None:
        rw += jail.writable
        ro += jail.readable
    elif not rw and not ro:
        named = [f for f in (_folder_for(p) for p in _named_paths(argv, cwd)) if f is not None]
    binds: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for path, mode, is_named in [*((p, "--ro-bind", False) for p in ro), *((p, "--bind", False) for p in rw),
                                 *((p, "--bind", True) for p in named)]:
        real = os.path.realpath(path)
        if real in seen or not os.path.exists(real) or _forbidden(Path(real), named=is_named):
            continue
        seen.add(real)
        binds.append((mode, real, real))
        alias = os.path.abspath(path)
        if alias != real and not _forbidden(Path(alias), named=is_named):  # the caller's name for it (a link)
            binds.append((mode, real, alias))
    # A bound folder that holds DATA_DIR (code checked out with ./data inside) must not show it: an empty
    # tmpfs goes over DATA_DIR, and only then the job's own folders are bound back in.
    data = os.path.realpath(policy().data_dir) if policy().data_dir else ""
    inside = [b for b in binds if data and (b[2] + "/").startswith(data + "/")]
    outside = [b for b in binds if b not in inside]
    args = [a for b in outside for a in b]
    if data and any((data + "/").startswith(b[2].rstrip("/") + "/") for b in outside):
        args += ["--tmpfs", data]
    return args + [a for b in inside for a in b]


def _program_binds(program: str, env_path: str) -> tuple[str, list[str]]:
    """The absolute program path, and a read-only bind of its folder when it is not a system one."""
    found = program if os.path.isabs(program) else shutil.which(program, path=env_path)
    if not found:
        raise ToolError(f"{os.path.basename(program)} is not installed on this server.",
                        ErrorCode.FEATURE_NOT_INSTALLED, 501)
    folders = [os.path.dirname(os.path.abspath(found)), os.path.dirname(os.path.realpath(found))]
    venv = os.path.dirname(folders[0])
    if os.path.isfile(os.path.join(venv, "pyvenv.cfg")):  # a virtualenv's program needs the whole env
        folders[0] = venv
    binds: list[str] = []
    for folder in dict.fromkeys(folders):
        if not any(folder == p or folder.startswith(p + "/") for p in (*SYSTEM_TREES, *MERGED_LINKS)):
            binds += ["--ro-bind", folder, folder]
    return found, binds


def _limits(cpu_s: float | None) -> list[str]:
    p = policy()
    if PRLIMIT is None:
        return []
    args = [PRLIMIT, f"--data={p.memory_mb << 20}", f"--fsize={p.file_mb << 20}", f"--nofile={p.open_files}",
            "--core=0"]
    if cpu_s:
        args.append(f"--cpu={int(cpu_s) + 1}")
    return [*args, "--"]


def prepare(argv: Sequence[str | os.PathLike], *, env: dict[str, str] | None = None, cwd: str | os.PathLike | None = None,
            writable: Sequence[Path] = (), readable: Sequence[Path] = (), timeout_s: float | None = None,
            in_job: bool = True) -> Launch:
    """The command to run instead of `argv`. `timeout_s` (wall) sets the CPU-time limit (all cores busy for
    that long); `writable`/`readable` add folders to the job's. `in_job=False`: a program
    that outlives the job that happens to start it (the warm LibreOffice) sees none of that job."""
    args = [os.fspath(a) for a in argv]
    cwd_text = os.fspath(cwd) if cwd is not None else None
    env = dict(env) if env is not None else _default_env(args[0])
    env.setdefault("HOME", "/tmp")  # programs that look for a home (pandoc) must not ask for a passwd entry
    cpu_s = timeout_s * max(1, os.cpu_count() or 1) if timeout_s else None
    p = policy()
    if not p.enabled:
        death = [SETPRIV, "--pdeathsig", "KILL", "--"] if SETPRIV else []
        return Launch([*_limits(cpu_s), *death, *args], env, False)
    if _confined:
        return _landlocked_launch(args, env, cwd_text, writable, readable, cpu_s)
    if not bwrap_works():
        raise ToolError("The sandbox for external programs is not available on this server.",
                        ErrorCode.FEATURE_NOT_INSTALLED, 501)
    program, program_binds = _program_binds(args[0], env.get("PATH", os.defpath))
    if os.path.basename(program) == "nice" and len(args) > 3:  # lowered(): the program is after `nice -n N`
        program_binds += _program_binds(args[3], env.get("PATH", os.defpath))[1]
    box = [BWRAP, *_base_args(), *program_binds, *_binds(args, cwd_text, writable, readable, in_job)]
    box.append("--clearenv")
    for key, value in env.items():
        box += ["--setenv", key, value]
    if cwd_text:
        box += ["--chdir", os.path.abspath(cwd_text)]
    return Launch([*_limits(cpu_s), *box, "--", program, *args[1:]], env, True)


def run(argv: Sequence[str | os.PathLike], *, timeout: float, cwd: str | os.PathLike | None = None,
        env: dict[str, str] | None = None, input: bytes | None = None, writable: Sequence[Path] = (),
        readable: Sequence[Path] = ()) -> subprocess.CompletedProcess[bytes]:
    """subprocess.run of a sandboxed `argv`: output captured, no check; TimeoutExpired as subprocess raises it."""
    launch = prepare(argv, env=env, cwd=cwd, writable=writable, readable=readable, timeout_s=timeout)
    return subprocess.run(launch.argv, env=launch.env, cwd=cwd, input=input, capture_output=True, timeout=timeout,
                          preexec_fn=launch.preexec_fn, check=False)


def _default_env(program: str) -> dict[str, str]:
    from actors.processes import child_env

    return child_env(program)


# ---- stopping ------------------------------------------------------------------------------------
def descendants(pid: int) -> list[int]:
    """Every process below `pid` (the sandbox's init and the program inside it), parents first."""
    found: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop(0)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{current}/task/{tid}/children") as f:
                    kids = [int(k) for k in f.read().split()]
            except (OSError, ValueError):
                continue
            found += kids
            todo += kids
    return found


def running(pid: int) -> bool:
    """Whether `pid` is alive (not gone, not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


async def kill(process) -> None:
    """Stop a started program and everything under it now, and return only once they are gone: killing
    bwrap alone would leave the program to die a moment later (its death signal), after the job ended."""
    import signal

    import trio

    below = descendants(process.pid)
    for pid in [process.pid, *below]:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    await process.wait()
    # shielded: trio.run_process cancels its deliver_cancel as soon as bwrap itself has exited, which is
    # before the program under it is gone
    with trio.CancelScope(shield=True), trio.move_on_after(5):
        while any(running(pid) for pid in below):
            await trio.sleep(0.005)


# ---- Landlock-confined worker processes -------------------------------------------------------------
_confined = 0  # the Landlock ABI this process is confined with (0: not confined)
SYSTEM_READ = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt", "/proc", "/sys",
               "/dev")


def confine_worker() -> bool:
    """trio-parallel `init` of the image workers (pyvips, Pillow decode untrusted images in-process): a
    memory limit (a decompression bomb fails its own job, or kills this worker, never the box), then
    Landlock: read the system, Python and Lutra's code; read and write the workspace; nothing else of
    DATA_DIR (no database, no library, no models); no TCP. Temporary files go to workspace/.tmp.
    Where the kernel has no Landlock the worker runs with the memory limit only (admin health says so)."""
    global _confined
    import resource
    import sys
    import tempfile

    from actors import landlock

    p = policy()
    if not p.enabled:
        return True
    limit = p.memory_mb << 20
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    if not p.data_dir:
        return True
    data = Path(os.path.realpath(p.data_dir))
    workspace = data / "workspace"
    scratch = workspace / ".tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    os.environ["TMPDIR"] = str(scratch)
    tempfile.tempdir = None
    # Lutra's own code: an editable install (`lutra serve` from .venv/bin) reaches it through an import
    # hook, not sys.path, so its root is named here (a DATA_DIR inside it is carved out below)
    project = Path(__file__).resolve().parents[1]
    code = [sys.prefix, sys.base_prefix, sys.exec_prefix, project,
            *(e for e in sys.path if e and os.path.isdir(e))]
    read = landlock.without([*SYSTEM_READ, *code], [data])
    try:
        _confined = landlock.restrict(read, [workspace, "/dev/null"])
    except landlock.Unsupported as err:
        log.warning("image workers run without Landlock (%s): only the memory limit applies", err)
    return True


def _landlocked_launch(args: list[str], env: dict[str, str], cwd: str | None, writable: Sequence[Path],
                       readable: Sequence[Path], cpu_s: float | None) -> Launch:
    """A program started from a Landlock-confined worker, where bwrap cannot build a sandbox (Landlock
    forbids mounts): a further Landlock layer narrowed to the job (system read-only, the job's folder
    writable, its inputs readable), no TCP, a new network namespace where allowed, the limits, and
    death with the worker."""
    import resource
    import signal

    from actors import landlock

    program, _ = _program_binds(args[0], env.get("PATH", os.defpath))
    jail = _scope.get()
    rw = [*writable, *(jail.writable if jail else ())]
    ro = [*readable, *(jail.readable if jail else ())]
    if jail is None and not rw and not ro:
        rw = [f for f in (_folder_for(p) for p in _named_paths(args, cwd)) if f is not None]
    rw = [p for p in rw if not _forbidden(Path(os.path.realpath(p)), named=jail is None)]
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

    return Launch([program, *args[1:]], env, True, preexec)


_CLONE_NEWNET = 0x40000000


def _libc_call(name: str, *args: int) -> int:
    import ctypes

    try:
        return int(getattr(ctypes.CDLL(None), name)(*args))
    except (OSError, AttributeError):
        return -1


# ---- long-lived programs ----------------------------------------------------------------------------
_spawner: tuple[threading.Thread, queue.SimpleQueue] | None = None
_spawner_lock = threading.Lock()


def popen_lasting(argv: list[str], **kwargs) -> subprocess.Popen:
    """subprocess.Popen from a thread that lives as long as this process. `--die-with-parent` (and any
    PR_SET_PDEATHSIG) fires when the *thread* that started the program ends; a program that outlives the
    call that started it (the warm LibreOffice, started from a trio worker thread that ends when idle)
    must be started from a thread that does not."""
    global _spawner
    with _spawner_lock:
        if _spawner is None or not _spawner[0].is_alive():
            requests: queue.SimpleQueue = queue.SimpleQueue()
            thread = threading.Thread(target=_spawn_forever, args=(requests,), name="lutra-spawner", daemon=True)
            thread.start()
            _spawner = (thread, requests)
    reply: queue.SimpleQueue = queue.SimpleQueue()
    _spawner[1].put((argv, kwargs, reply))
    ok, value = reply.get()
    if not ok:
        raise value
    return value


def _spawn_forever(requests: queue.SimpleQueue) -> None:
    while True:
        argv, kwargs, reply = requests.get()
        try:
            reply.put((True, subprocess.Popen(argv, **kwargs)))
        except BaseException as err:  # handed to the caller
            reply.put((False, err))
