"""A warm LibreOffice: one long-lived headless soffice behind unoserver, owned by the DocumentActor.

A conversion is an XML-RPC call to unoserver (tens of milliseconds for a one-page document) instead of a
LibreOffice start per file (1-3 s). The listener runs with its own profile directory, on loopback ports
picked at start; it is restarted when it dies (crash, conversion timeout, or a cancelled job, whose
conversion is stopped by killing LibreOffice). Conversions go through one at a time.

The input checks (an office file must really be the format its name claims) are in _office_input.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import xmlrpc.client
from pathlib import Path

import trio

from actors import sandbox
from actors.documents import _sheet_extent
from actors.documents._office_input import check_input, staged_input
from actors.processes import child_env, lowered
from protocols.errors import ErrorCode, ToolError, bad_input

log = logging.getLogger("lutra.documents")

UNO_PATHS = ("/usr/lib/python3/dist-packages", "/usr/lib/libreoffice/program")
START_TIMEOUT = 90.0
CONVERSION_TIMEOUT = 300  # unoserver kills LibreOffice past this; the listener is then restarted

LAUNCHER = Path(__file__).with_name("_office_launcher.py")


class OfficeUnavailable(ToolError):
    def __init__(self, message: str = "LibreOffice is not available on this server.") -> None:
        super().__init__(message, ErrorCode.FEATURE_NOT_INSTALLED, 501)

    def __reduce__(self):
        return (OfficeUnavailable, (self.message,))


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, socket_path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class _Transport(xmlrpc.client.Transport):
    """XML-RPC to the listener's Unix socket (the sandboxed listener has no network to reach)."""

    def __init__(self, timeout: float, socket_path: Path) -> None:
        super().__init__()
        self.timeout = timeout
        self.socket_path = str(socket_path)

    def make_connection(self, host):
        return _UnixConnection(self.socket_path, self.timeout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def soffice_path() -> str | None:
    for candidate in ("soffice", "libreoffice"):
        found = shutil.which(candidate)
        if found:
            return found
    fallback = "/usr/lib/libreoffice/program/soffice"
    return fallback if os.path.exists(fallback) else None


def uno_path() -> str | None:
    for folder in UNO_PATHS:
        if os.path.exists(os.path.join(folder, "uno.py")):
            return folder
    return None


class _Conversion:
    """One conversion's cancel flag, shared by the job (trio) and the thread doing the conversion."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()


class OfficeListener:
    """One unoserver + soffice pair. Thread-safe; conversions are serialised."""

    def __init__(self, profile_dir: Path, *, conversion_timeout: int = CONVERSION_TIMEOUT) -> None:
        self.profile_dir = Path(profile_dir)
        self.conversion_timeout = conversion_timeout
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.starts = 0
        self.conversions = 0
        self.wanted = False  # set once started: the watchdog keeps it alive from then on
        self.current: _Conversion | None = None  # the conversion LibreOffice is working on now
        self._lock = threading.RLock()

    # ---- life ---------------------------------------------------------------------------------
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        """Start (or restart) the listener and wait until it answers. Blocking: call from a thread."""
        with self._lock:
            if self.alive() and self._ping():
                return
            self.kill()
            soffice, uno = soffice_path(), uno_path()
            if not soffice or not uno:
                raise OfficeUnavailable("LibreOffice (with its Python UNO bridge) is not installed on this server.")
            self.profile_dir.mkdir(parents=True, exist_ok=True)
            self.exchange.mkdir(exist_ok=True)
            self.socket_path.unlink(missing_ok=True)
            self.port = uno_port = _free_port()  # the UNO port is on the sandbox's own loopback
            log_file = open(self.profile_dir / "unoserver.log", "ab")  # noqa: SIM115 - handed to the child
            argv = lowered([sys.executable, str(LAUNCHER), uno,
                            "--interface", str(self.socket_path), "--port", "0",
                            "--uno-interface", "127.0.0.1", "--uno-port", str(uno_port),
                            "--user-installation", str(self.profile_dir / "profile"),
                            "--executable", soffice, "--conversion-timeout", str(self.conversion_timeout),
                            "--quiet"])
            env = child_env(soffice, SAL_USE_VCLPLUGIN="svp", HOME=str(self.profile_dir))
            # LibreOffice and unoserver in one sandbox: no network, of DATA_DIR only this profile folder (with
            # the exchange folder the one conversion at a time passes through), the code read-only
            launch = sandbox.prepare(argv, env=env, writable=[self.profile_dir],
                                     readable=[LAUNCHER.parents[2], Path(sys.base_prefix)], in_job=False)
            try:
                self.proc = sandbox.popen_lasting(launch.argv, stdout=log_file, stderr=log_file,
                                                  stdin=subprocess.DEVNULL, env=launch.env, start_new_session=True)
            finally:
                log_file.close()
            self.starts += 1
            self.wanted = True
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline:
                if not self.alive():
                    break
                if self._ping():
                    log.info("office listener ready on port %s (start #%d)", self.port, self.starts)
                    return
                time.sleep(0.2)
            self.kill()
            raise OfficeUnavailable("LibreOffice did not start; try again shortly.")

    @property
    def socket_path(self) -> Path:
        return self.profile_dir / "rpc.sock"

    @property
    def exchange(self) -> Path:
        return self.profile_dir / "exchange"

    def _ping(self) -> bool:
        try:
            proxy = xmlrpc.client.ServerProxy("http://localhost/", allow_none=True,
                                              transport=_Transport(2, self.socket_path))
            proxy.system.listMethods()
            return True
        except (OSError, xmlrpc.client.Error, http.client.HTTPException):
            return False

    def kill(self) -> None:
        """Stop the listener and its LibreOffice (the whole process group)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        below = sandbox.descendants(proc.pid)  # the sandbox's LibreOffice: its own session, not in the group
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # anything left in the group (soffice.bin)
        for pid in below:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        self.wanted = False
        self.kill()

    # ---- work ----------------------------------------------------------------------------------
    def convert_sync(self, src: Path, out: Path, *, filtername: str | None = None,
                     filter_options: list[str] | None = None, infilter: str | None = None,
                     conversion: _Conversion | None = None) -> Path:
        """Convert src to out (format from out's extension). Blocking: call from a thread. A cancelled
        `conversion` (its job ended: deadline, cancel) is never started, nor retried on a new listener."""
        conversion = conversion or _Conversion()
        with self._lock:
            for attempt in (1, 2):
                self.current = conversion
                try:
                    if conversion.cancelled.is_set():
                        raise ToolError("The conversion was stopped.", ErrorCode.TIMEOUT, 504)
                    if not self.alive():
                        self.start()
                    proxy = xmlrpc.client.ServerProxy("http://localhost/", allow_none=True,
                                                      transport=_Transport(self.conversion_timeout + 30,
                                                                           self.socket_path))
                    with self._staged(src, out) as (inside_src, inside_out):
                        proxy.convert(str(inside_src), None, str(inside_out), None, filtername,
                                      filter_options or [], True, infilter)
                    self.conversions += 1
                    break
                except xmlrpc.client.Fault as fault:
                    text = str(fault.faultString)
                    log.warning("office conversion failed: %s", text[-500:])
                    # unoserver stops a conversion past its timeout by killing LibreOffice (and says so)
                    if not self.alive() or "TimeoutError" in text or conversion.cancelled.is_set():
                        self.kill()  # a fresh listener for the next conversion
                        raise ToolError("The conversion took too long and was stopped.", ErrorCode.TIMEOUT,
                                        504) from None
                    raise bad_input("LibreOffice could not read this document: it may be corrupt, "
                                    "password-protected, or not the format its name says.") from None
                except (OSError, http.client.HTTPException, xmlrpc.client.ProtocolError):
                    # the listener died under us: restart once (unless the job is over), then give up
                    self.kill()
                    if conversion.cancelled.is_set():
                        raise ToolError("The conversion was stopped.", ErrorCode.TIMEOUT, 504) from None
                    if attempt == 2:
                        raise ToolError("LibreOffice stopped while converting this document.") from None
                finally:
                    self.current = None
        if not out.is_file() or out.stat().st_size == 0:
            raise ToolError("LibreOffice produced no output for this document.")
        return out

    @contextlib.contextmanager
    def _staged(self, src: Path, out: Path):
        """The sandboxed LibreOffice sees only the exchange folder: the input goes in (a hard link where
        possible), the output comes out to `out`; nothing of it stays for the next conversion."""
        self.exchange.mkdir(parents=True, exist_ok=True)
        for old in self.exchange.iterdir():
            with contextlib.suppress(OSError):
                shutil.rmtree(old) if old.is_dir() and not old.is_symlink() else old.unlink()
        inside_src = self.exchange / f"input{Path(src).suffix.lower()}"
        inside_out = self.exchange / f"output{Path(out).suffix.lower()}"
        try:
            os.link(src, inside_src)
        except OSError:
            shutil.copyfile(src, inside_src)
        try:
            yield inside_src, inside_out
            if inside_out.is_file():
                shutil.move(str(inside_out), str(out))
        finally:
            inside_src.unlink(missing_ok=True)
            inside_out.unlink(missing_ok=True)

    async def convert(self, src: Path, out: Path, **kwargs) -> Path:
        """Async front: the conversion runs in a thread. A cancelled job (deadline, cancel) stops its own
        conversion by killing LibreOffice, and only its own: one still waiting for the listener just never
        starts, and the thread gives the listener up at once (the watchdog or the next conversion starts a
        fresh one), so the next conversion is not stuck behind it."""
        conversion = _Conversion()
        try:
            return await trio.to_thread.run_sync(lambda: self.convert_sync(src, out, conversion=conversion, **kwargs),
                                                 abandon_on_cancel=True)
        except trio.Cancelled:
            conversion.cancelled.set()
            if self.current is conversion:
                with trio.CancelScope(shield=True):
                    await trio.to_thread.run_sync(self.kill)
            raise

    async def keep_alive(self, interval: float = 2.0, *, eager: bool = True) -> None:
        """Owned by the actor: start the listener (at once when eager, else at the first conversion),
        then restart it whenever it dies."""
        backoff = interval
        while True:
            if not self.alive() and (eager or self.wanted):
                try:
                    await trio.to_thread.run_sync(self.start, abandon_on_cancel=True)
                    backoff = interval
                except OfficeUnavailable as err:
                    log.warning("office listener: %s", err.message)
                    backoff = min(backoff * 2, 60)
                except Exception:
                    log.exception("office listener failed to start")
                    backoff = min(backoff * 2, 60)
            await trio.sleep(backoff)


# ---- the process-wide listener --------------------------------------------------------------------
_listener: OfficeListener | None = None
_listener_lock = threading.Lock()


def install(listener: OfficeListener) -> None:
    """The actor's listener becomes the one every office tool uses."""
    global _listener
    with _listener_lock:
        if _listener is not None and _listener is not listener:
            _listener.stop()
        _listener = listener


def listener() -> OfficeListener:
    """The installed listener; outside a server (tests, scripts) one is made on first use."""
    global _listener
    with _listener_lock:
        if _listener is None:
            folder = Path(tempfile.mkdtemp(prefix="lutra-office-"))
            _listener = OfficeListener(folder)
            atexit.register(_cleanup, _listener, folder)
        return _listener


def _cleanup(office: OfficeListener, folder: Path) -> None:
    office.stop()
    shutil.rmtree(folder, ignore_errors=True)


async def convert(call, family: str, target_ext: str, *, filtername: str | None = None,
                  filter_options: list[str] | None = None, suffix: str = "") -> Path:
    """The whole office tool: check the input, convert through the warm listener, return the output."""
    src = call.inputs[0]
    ext = check_input(src, call.names[0] if call.names else src.name, family)
    if family == "spreadsheet":  # a used area of billions of cells would hold the one listener for minutes
        await trio.to_thread.run_sync(_sheet_extent.check, src, ext, target_ext, abandon_on_cancel=True)
    staged = staged_input(src, call.workdir, ext)
    out = call.workdir / f"{call.stem()}{suffix}.{target_ext}"
    if call.progress:
        call.progress(10, "converting")
    infilter = None  # by extension and content; .txt goes to Writer, .csv to Calc
    try:
        await listener().convert(staged, out, filtername=filtername, filter_options=filter_options,
                                 infilter=infilter)
    finally:
        if staged != src:
            staged.unlink(missing_ok=True)
    return out
