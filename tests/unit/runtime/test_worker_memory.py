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
# for it, and whether its bytes stay free in the heap afterwards (glibc's mallinfo2).
PROBE = """
import ctypes, sys
from actors import workers
class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.mallinfo2.restype = Info
applied = workers.keep_freed_memory() if sys.argv[1] == "keep" else None
size = 8 << 20
before = libc.mallinfo2().hblks
block = libc.malloc(size)
ctypes.memset(block, 1, size)
mapped = libc.mallinfo2().hblks - before
libc.free(block)
print(applied, mapped, libc.mallinfo2().fordblks >= size)
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
