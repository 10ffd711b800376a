"""Landlock (Linux >= 5.13): a process gives up file access beyond a list of folders, for good.

Used by the image worker processes (they decode untrusted images with libvips and Pillow in-process):
they may read the system, Python and Lutra's code, and read and write the workspace, nothing else of
DATA_DIR (no database, no library), and make no TCP connection (ABI >= 4). Plain syscalls through
ctypes: the kernel interface is three calls and two structs (linux/landlock.h), stable since 5.13.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import struct
from collections.abc import Iterable
from pathlib import Path

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446  # same number on every architecture
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR, MAKE_REG = 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 8
MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

READ = EXECUTE | READ_FILE | READ_DIR
_FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # what a rule on a file (not a folder) may hold

try:
    _libc = ctypes.CDLL(None, use_errno=True)
    _libc.syscall.restype = ctypes.c_long
except OSError:  # pragma: no cover - not Linux
    _libc = None


class Unsupported(Exception):
    """This kernel (or seccomp filter) offers no Landlock."""


def abi() -> int:
    """The Landlock ABI version the kernel offers; 0 when none."""
    if _libc is None:
        return 0
    version = _libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(0, int(version))


def _fs_rights(version: int) -> int:
    rights = (1 << 13) - 1  # ABI 1
    if version >= 2:
        rights |= REFER
    if version >= 3:
        rights |= TRUNCATE
    if version >= 5:
        rights |= IOCTL_DEV
    return rights


def restrict(read: Iterable[Path | str], write: Iterable[Path | str], *, deny_tcp: bool = True) -> int:
    """From now on this process (and whatever it starts) may only read `read` and read/write `write`
    (each a folder with everything below it, or a file), and, on ABI >= 4, make no TCP connection nor
    listen; on ABI >= 6 it can signal no process outside its own domain (the server, other jobs) and
    reach no abstract Unix socket outside it (what a PID and network namespace of its own would hide).
    Missing paths are skipped. Returns the ABI used; raises Unsupported where there is none."""
    version = abi()
    if version < 1:
        raise Unsupported("Landlock is not available on this kernel")
    handled = _fs_rights(version)
    net = (NET_BIND_TCP | NET_CONNECT_TCP) if deny_tcp and version >= 4 else 0
    if version >= 6:
        attr = struct.pack("=QQQ", handled, net, SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL)
    elif version >= 4:
        attr = struct.pack("=QQ", handled, net)
    else:
        attr = struct.pack("=Q", handled)
    ruleset = _libc.syscall(_SYS_CREATE_RULESET, attr, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
    if ruleset < 0:
        raise Unsupported(f"landlock_create_ruleset: {os.strerror(ctypes.get_errno())}")
    try:
        writable = handled & ~(MAKE_CHAR | MAKE_BLOCK)  # no device nodes, ever
        for paths, rights in ((read, READ & handled), (write, writable)):
            for path in paths:
                _add(ruleset, Path(path), rights)
        if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise Unsupported(f"no_new_privs: {os.strerror(ctypes.get_errno())}")
        if _libc.syscall(_SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
            raise Unsupported(f"landlock_restrict_self: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(ruleset)
    return version


def _add(ruleset: int, path: Path, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if not os.path.isdir(path):
            rights &= _FILE_ONLY
        rule = struct.pack("=Qi", rights, fd)
        if _libc.syscall(_SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH), rule,
                         ctypes.c_uint32(0)) != 0:
            raise Unsupported(f"landlock_add_rule({path}): {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)


def without(paths: Iterable[Path | str], hidden: Iterable[Path | str]) -> list[Path]:
    """`paths` with every `hidden` path carved out: a folder that holds a hidden one is replaced by its
    other entries (recursively), since a Landlock rule always covers a whole tree."""
    hidden_abs = [Path(os.path.realpath(h)) for h in hidden]
    out: list[Path] = []
    todo = [Path(os.path.realpath(p)) for p in paths]
    while todo:
        path = todo.pop()
        if any(path == h or path.is_relative_to(h) for h in hidden_abs):
            continue
        if any(h.is_relative_to(path) for h in hidden_abs):
            with contextlib.suppress(OSError):
                todo += [path / name for name in os.listdir(path)]
            continue
        out.append(path)
    return out
