"""File responses: any byte range of a file comes back exactly, in chunks of at most the buffer size;
small reads stay on the event loop, large ones go to a thread."""

from __future__ import annotations

import os

import pytest
import trio

from service.app import FileBody


async def read_all(body: FileBody) -> list[bytes]:
    async with body:
        return [chunk async for chunk in body]


@pytest.fixture
def data_file(tmp_path):
    data = os.urandom((5 << 20) // 2 + 123)  # 2.5 MB and a bit: two full chunks and a partial one
    path = tmp_path / "result.bin"
    path.write_bytes(data)
    return path, data


@pytest.mark.parametrize("begin, end", [(0, None), (0, 10), (10, 20), (100, 2_000_000),
                                        ((1 << 20) - 3, (1 << 20) + 3), (-5, None)])
async def test_ranges_come_back_exactly(data_file, begin, end):
    path, data = data_file
    body = FileBody(path)
    begin = begin % len(data)
    await body.make_conditional(begin, end)
    chunks = await read_all(body)
    assert b"".join(chunks) == data[begin:end]
    assert all(len(c) <= body.buffer_size for c in chunks)


async def test_small_files_never_leave_the_loop_large_chunks_do(tmp_path, data_file, monkeypatch):
    threaded = []
    real = trio.to_thread.run_sync

    async def counting(fn, *args, **kwargs):
        threaded.append(fn)
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(trio.to_thread, "run_sync", counting)
    small = tmp_path / "small.png"
    small.write_bytes(b"\x89PNG" + os.urandom(20_000))
    assert b"".join(await read_all(FileBody(small))) == small.read_bytes()
    resized = tmp_path / "resized.jpg"  # a 12 MP photo resized to 800 px is about this size
    resized.write_bytes(os.urandom(200_000))
    assert b"".join(await read_all(FileBody(resized))) == resized.read_bytes()
    assert threaded == []
    path, data = data_file
    assert b"".join(await read_all(FileBody(path))) == data
    assert len(threaded) == 3  # 1 MiB, 1 MiB, and the 0.5 MB rest


async def test_a_file_removed_after_the_response_was_built_fails_to_open(tmp_path):
    path = tmp_path / "gone.jpg"
    path.write_bytes(b"x" * 10)
    body = FileBody(path)
    path.unlink()
    with pytest.raises(FileNotFoundError):
        await read_all(body)
