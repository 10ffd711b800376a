"""ArrivingFile: a job reads an upload as it is written, and learns whether it completed."""

from __future__ import annotations

import pytest
import trio

from protocols.arrival import ArrivingFile, InputAborted
from protocols.errors import ErrorCode


async def test_a_reader_gets_every_byte_as_it_arrives_then_the_end(tmp_path):
    path = tmp_path / "up.bin"
    arriving = ArrivingFile(path, b"head")
    got = bytearray()
    with open(path, "wb") as fh:
        async with trio.open_nursery() as nursery:

            async def read():
                async for chunk in arriving.chunks(size=3):
                    got.extend(chunk)

            nursery.start_soon(read)
            for piece in (b"hello ", b"arriving ", b"world"):
                fh.write(piece)
                fh.flush()
                arriving.grew(fh.tell())
                await trio.sleep(0)
            arriving.complete()
            await arriving.wait()
    assert bytes(got) == b"hello arriving world"


async def test_a_failed_upload_ends_readers_and_waiters(tmp_path):
    path = tmp_path / "up.bin"
    path.write_bytes(b"part")
    arriving = ArrivingFile(path, b"")
    arriving.grew(4)
    outcomes = []

    async def read():
        try:
            async for _ in arriving.chunks():
                pass
        except InputAborted as err:
            outcomes.append(("reader", err.code))

    async def wait():
        try:
            await arriving.wait()
        except InputAborted as err:
            outcomes.append(("waiter", err.code))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(read)
        nursery.start_soon(wait)
        await trio.sleep(0.01)
        arriving.fail()
        arriving.complete()  # too late: a failed upload stays failed
    assert sorted(outcomes) == [("reader", ErrorCode.CANCELED), ("waiter", ErrorCode.CANCELED)]
    with pytest.raises(InputAborted):
        await arriving.wait()
