"""A worker process keeps the memory a job frees for the next job (glibc's malloc), instead of mapping
fresh pages and faulting on every one of them again."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))

# In a fresh process: malloc and free an 8 MB block; report how many blocks malloc mapped on their own
# for it, and whether its bytes stay free in the heap afterwards (glibc's mallinfo).
PROBE = """
import ctypes, sys
from actors import workers
libc = ctypes.CDLL(None)
# mallinfo2 (glibc 2.33+) has size_t fields; older glibc has only mallinfo, with int fields
info, field = (libc.mallinfo2, ctypes.c_size_t) if hasattr(libc, "mallinfo2") else (libc.mallinfo, ctypes.c_int)
class Info(ctypes.Structure):
    _fields_ = [(name, field) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
info.restype = Info
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
applied = workers.keep_freed_memory() if sys.argv[1] == "keep" else None
size = 8 << 20
before = info().hblks
block = libc.malloc(size)
ctypes.memset(block, 1, size)
mapped = info().hblks - before
libc.free(block)
print(applied, mapped, info().fordblks >= size)
"""


def probe(mode: str) -> list[str]:
    return subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True,
                          cwd=ROOT).stdout.split()


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's malloc's: run on glibc Linux")
def test_a_worker_keeps_a_freed_multi_megabyte_block_for_reuse():
    applied, mapped, kept = probe("keep")
    assert applied == "True"
    assert mapped == "0" and kept == "True"  # taken from the heap, and left there after free
    # a process without the setting maps such a block on its own and unmaps it on free
    assert probe("default")[1:] == ["1", "False"]
