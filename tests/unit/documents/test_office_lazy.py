"""LibreOffice starts at the first office conversion by default, and is kept alive once it has started."""

from __future__ import annotations

import trio

from actors.documents import _office
from actors.documents.actor import DocumentActor
from service.config import Config


class FakeListener:
    """What keep_alive looks at: whether the listener runs, whether it was ever wanted; start() counts."""

    def __init__(self) -> None:
        self.running = False
        self.wanted = False
        self.starts = 0

    def alive(self) -> bool:
        return self.running

    def start(self) -> None:
        self.starts += 1
        self.running = True
        self.wanted = True


async def watch(listener: FakeListener, seconds: float, *, eager: bool) -> None:
    with trio.move_on_after(seconds):
        await _office.OfficeListener.keep_alive(listener, interval=0.01, eager=eager)  # type: ignore[arg-type]


def test_office_is_not_warmed_at_start_up_by_default(tmp_path):
    assert Config.from_env({}).office_warm is False
    actor = DocumentActor(2, 8, {"data_dir": str(tmp_path)})
    assert actor.office_warm is False
    assert DocumentActor(2, 8, {"data_dir": str(tmp_path), "office_warm": True}).office_warm is True


async def test_lazy_listener_starts_on_first_use_and_is_then_kept_alive():
    listener = FakeListener()
    await watch(listener, 0.1, eager=False)
    assert listener.starts == 0  # nobody converted anything: nothing started
    listener.start()  # the first conversion starts it (OfficeListener.convert_sync -> start)
    listener.running = False  # then it dies
    await watch(listener, 0.1, eager=False)
    assert listener.running and listener.starts == 2  # restarted by the watchdog


async def test_eager_listener_starts_at_once():
    listener = FakeListener()
    await watch(listener, 0.1, eager=True)
    assert listener.starts == 1
