"""Entry point of the office listener process (run by _office.py, never imported by the server).

unoserver with the system's `uno` module (argv[1]: where it lives), plus:
- it dies with the server (parent watch) and LibreOffice dies with it (PR_SET_PDEATHSIG);
- no fixed 5 s nap at start-up;
- CSV and plain-text inputs load with explicit import options (LibreOffice cannot guess them without a
  dialog): delimiter and encoding sniffed from the file, formulas never evaluated (cells kept as text
  when they start with '=');
- every document loads with macros never executed and links never updated (MacroExecutionMode,
  UpdateDocMode): a document cannot run code or pull in files or URLs;
- with `--interface` a path, the XML-RPC server listens on that Unix socket: this process and its
  LibreOffice run in a sandbox without a network (actors/sandbox/), the socket is their one door.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socketserver
import subprocess
import sys
import threading
import time
import xmlrpc.server

sys.path.extend(p for p in sys.argv[1].split(os.pathsep) if p)
PARENT = os.getppid()
LIBC = ctypes.CDLL(None)
_Popen = subprocess.Popen
_sleep = time.sleep


def _popen(*args, **kwargs):
    kwargs.setdefault("preexec_fn", lambda: LIBC.prctl(1, signal.SIGKILL))
    return _Popen(*args, **kwargs)


def _watch_parent() -> None:
    while os.getppid() == PARENT:
        _sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


def sniff_csv(path: str) -> str:
    """LibreOffice CSV FilterOptions: separator, quote ("), charset, first line, column formats."""
    with open(path, "rb") as f:
        head = f.read(65536)
    try:
        text = head.decode("utf-8-sig")
        charset = 76  # UTF-8
    except UnicodeDecodeError as err:
        if err.start >= len(head) - 4:
            text, charset = head[: err.start].decode("utf-8-sig"), 76
        else:
            text, charset = head.decode("cp1252", errors="replace"), 1
    first = [line for line in text.splitlines() if line.strip()][:5]
    counts = {sep: min((line.count(sep) for line in first), default=0) for sep in (",", ";", "\t", "|")}
    sep = max(counts, key=counts.get) if any(counts.values()) else ","
    # tokens: separator, quote, charset, first line, column formats (standard), language, quoted-as-text,
    # detect special numbers, (3 export-only), sheet, evaluate formulas = false: '=1+1' stays text
    return f"{ord(sep)},34,{charset},1,,0,false,true,false,false,false,-1,false"


class _Desktop:
    def __init__(self, desktop) -> None:
        self._desktop = desktop

    def __getattr__(self, name):
        return getattr(self._desktop, name)

    def loadComponentFromURL(self, url, frame, flags, props):  # noqa: N802 - UNO's name
        import uno
        from com.sun.star.beans import PropertyValue

        # Hidden: no frame for the document (a CSV load without it aborts headless LibreOffice).
        # MacroExecutionMode 0 = NEVER_EXECUTE, UpdateDocMode 0 = NO_UPDATE (no external links pulled in).
        forced = {"Hidden": True, "MacroExecutionMode": 0, "UpdateDocMode": 0}
        props = tuple(p for p in props if p.Name not in forced) + tuple(
            PropertyValue(Name=name, Value=value) for name, value in forced.items())
        lower = url.lower()
        if lower.endswith(".csv"):
            path = uno.fileUrlToSystemPath(url)
            props = tuple(p for p in props if p.Name not in ("FilterName", "FilterOptions")) + (
                PropertyValue(Name="FilterName", Value="Text - txt - csv (StarCalc)"),
                PropertyValue(Name="FilterOptions", Value=sniff_csv(path)),
            )
        return self._desktop.loadComponentFromURL(url, frame, flags, props)


class _QuietHandler(xmlrpc.server.SimpleXMLRPCRequestHandler):
    disable_nagle_algorithm = False  # a TCP option: not for a Unix socket

    def address_string(self) -> str:
        return "unix"


class UnixXMLRPCServer(socketserver.UnixStreamServer, xmlrpc.server.SimpleXMLRPCDispatcher):
    """unoserver's XMLRPCServer, on a Unix socket: `addr` is (path, port), the port unused."""

    allow_reuse_address = True

    def __init__(self, addr, allow_none: bool = False) -> None:
        self.logRequests = False
        with contextlib.suppress(FileNotFoundError):
            os.unlink(addr[0])
        xmlrpc.server.SimpleXMLRPCDispatcher.__init__(self, allow_none, None)
        socketserver.UnixStreamServer.__init__(self, addr[0], _QuietHandler)


def main() -> int:
    subprocess.Popen = _popen
    time.sleep = lambda s: _sleep(0.5 if s == 5 else s)
    threading.Thread(target=_watch_parent, daemon=True).start()
    from unoserver import converter, server

    original_init = converter.UnoConverter.__init__

    def patched_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.desktop = _Desktop(self.desktop)

    converter.UnoConverter.__init__ = patched_init
    if "--interface" in sys.argv and sys.argv[sys.argv.index("--interface") + 1].startswith("/"):
        server.XMLRPCServer = UnixXMLRPCServer
    sys.argv = ["unoserver", *sys.argv[2:]]
    return server.main() or 0


if __name__ == "__main__":
    sys.exit(main())
