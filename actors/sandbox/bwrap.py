"""The command that runs a program in bubblewrap, under resource limits (see actors/sandbox/__init__.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from actors.sandbox import cgroup, confine
from actors.sandbox.policy import current_jail, folder_for, forbidden, log, named_paths, policy
from protocols.errors import ErrorCode, ToolError

BWRAP = shutil.which("bwrap")
PRLIMIT = shutil.which("prlimit")
SETPRIV = shutil.which("setpriv")

# read-only inside every sandbox; missing ones are skipped
SYSTEM_TREES = ("/usr", "/opt")
MERGED_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_ENTRIES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "fonts", "localtime", "mime.types",
               "ghostscript", "ImageMagick-6", "libreoffice", "chromium", "chromium.d", "perl", "magic",
               "magic.mime", "gtk-3.0", "xdg", "papersize", "libpaper.d", "java-17-openjdk", "ssl", "timezone")

_bwrap_works: bool | None = None


@dataclass(frozen=True)
class Launch:
    argv: list[str]
    env: dict[str, str]  # for the process started (bwrap gets the program's through --setenv)
    sandboxed: bool
    preexec_fn: Callable[[], None] | None = None  # only inside a Landlock-confined worker (see confine)


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


def _binds(argv: Sequence[str], cwd: str | None, writable: Sequence[Path], readable: Sequence[Path],
           in_job: bool = True) -> list[str]:
    jail = current_jail() if in_job else None
    rw: list[Path] = [Path(p) for p in writable]
    ro: list[Path] = [Path(p) for p in readable]
    named: list[Path] = []
    if jail is not None:
        rw += jail.writable
        ro += jail.readable
    elif not rw and not ro:
        named = [f for f in (folder_for(p) for p in named_paths(argv, cwd)) if f is not None]
    binds: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for path, mode, is_named in [*((p, "--ro-bind", False) for p in ro), *((p, "--bind", False) for p in rw),
                                 *((p, "--bind", True) for p in named)]:
        real = os.path.realpath(path)
        if real in seen or not os.path.exists(real) or forbidden(Path(real), named=is_named):
            continue
        seen.add(real)
        binds.append((mode, real, real))
        alias = os.path.abspath(path)
        if alias != real and not forbidden(Path(alias), named=is_named):  # the caller's name for it (a link)
            binds.append((mode, real, alias))
    # A bound folder that holds DATA_DIR (code checked out with ./data inside) must not show it: an empty
    # tmpfs goes over DATA_DIR, and only then the job's own folders are bound back in.
    roots = [os.path.realpath(r) for r in policy().roots()]
    inside = [b for b in binds if any((b[2] + "/").startswith(r + "/") for r in roots)]
    outside = [b for b in binds if b not in inside]
    args = [a for b in outside for a in b]
    for root in roots:
        if any((root + "/").startswith(b[2].rstrip("/") + "/") for b in outside):
            args += ["--tmpfs", root]
    return args + [a for b in inside for a in b]


def program_binds(program: str, env_path: str) -> tuple[str, list[str]]:
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
        return Launch(cgroup.enter([*_limits(cpu_s), *death, *args], p.memory_mb), env, False)
    if confine.confined():
        found = program_binds(args[0], env.get("PATH", os.defpath))[0]
        temp = confine.job_temp_folder()  # no private /tmp here: the job's own temporary folder instead
        if temp is not None:
            env.update({k: str(temp) for k in ("TMPDIR", "HOME") if env.get(k, "/tmp") == "/tmp"})
        return Launch([found, *args[1:]], env, True, confine.program_preexec(found, args, cwd_text, writable,
                                                                            readable, cpu_s))
    if not bwrap_works():
        raise ToolError("The sandbox for external programs is not available on this server.",
                        ErrorCode.FEATURE_NOT_INSTALLED, 501)
    program, binds = program_binds(args[0], env.get("PATH", os.defpath))
    if os.path.basename(program) == "nice" and len(args) > 3:  # lowered(): the program is after `nice -n N`
        binds += program_binds(args[3], env.get("PATH", os.defpath))[1]
    box = [BWRAP, *_base_args(), *binds, *_binds(args, cwd_text, writable, readable, in_job)]
    box.append("--clearenv")
    for key, value in env.items():
        box += ["--setenv", key, value]
    if cwd_text:
        box += ["--chdir", os.path.abspath(cwd_text)]
    return Launch(cgroup.enter([*_limits(cpu_s), *box, "--", program, *args[1:]], p.memory_mb), env, True)


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
