"""The `lutra` command: serve, and operator commands."""

from __future__ import annotations

import argparse
import sys
from functools import partial


def serve(args: argparse.Namespace) -> None:
    import trio
    from hypercorn.config import Config as HypercornConfig
    from hypercorn.trio import serve as hypercorn_serve
    from hypercorn.trio import tcp_server

    from service import logs, receive_buffer
    from service.app import create_app
    from service.config import Config

    config = Config.from_env(host=args.host, port=args.port, role=args.role)
    logs.setup(config.log_level)
    _require_database(config.db_url)
    app = create_app(config)
    hc = HypercornConfig()
    hc.bind = [f"{config.host}:{config.port}"]
    hc.worker_class = "trio"
    # a connection with no request in progress (idle, or still sending its headers) is dropped after this long
    hc.keep_alive_timeout = config.keep_alive_timeout_s
    # no read timeout here: Hypercorn's cuts any response (progress streams, a long batch) whose client is
    # quiet for that long; a request body that stalls is timed out by the app instead (READ_TIMEOUT_S)
    hc.read_timeout = None
    hc.graceful_timeout = 10
    hc.accesslog = None
    hc.errorlog = "-"
    # read the socket in 1 MiB slices, not 64 KiB: a 3 MB upload is then a few events through h11 and
    # the app instead of ~50 (fewer copies and task switches per upload)
    tcp_server.MAX_RECV = 1 << 20
    receive_buffer.install()  # and h11 hands those slices on without copying them three times
    _close_connections_even_when_cancelled(tcp_server)
    print(f"Lutra listening on http://{config.host}:{config.port} (data: {config.data_dir})", file=sys.stderr, flush=True)
    trio.run(partial(hypercorn_serve, app, hc, shutdown_trigger=partial(_until_stop, app, config.clustered)))
    if app.runtime_failed.is_set():
        sys.exit(RUNTIME_FAILED)


RUNTIME_FAILED = 70  # EX_SOFTWARE: the runtime stopped while serving; systemd restarts the service


async def _until_stop(app, clustered: bool) -> None:
    """Serving ends when the runtime fails, or, on one of several nodes, at SIGTERM/SIGINT."""
    import trio

    async with trio.open_nursery() as nursery:
        async def first(wait) -> None:
            await wait()
            nursery.cancel_scope.cancel()

        nursery.start_soon(first, app.runtime_failed.wait)
        if clustered:
            nursery.start_soon(first, _on_stop_signal)


async def _on_stop_signal() -> None:
    """Several nodes: SIGTERM (systemctl stop) or SIGINT stops the node cleanly, so that it hands its running
    jobs back to the queue at once instead of leaving them to a lease. (A single box keeps the old default:
    the process ends at once and its running jobs are marked failed at the next start.)"""
    import signal

    import trio

    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for _ in signals:
            return


def _require_database(url: str) -> None:
    """A database server that cannot be reached ends start-up at once with one clear line (which database,
    why) and exit status 2, rather than a traceback from inside the app's start-up."""
    from actors.store.actor import DatabaseUnreachable, check_reachable

    try:
        check_reachable(url)
    except DatabaseUnreachable as err:
        print(f"Lutra: {err}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def _close_connections_even_when_cancelled(tcp_server) -> None:
    """Hypercorn closes a connection that must close (a 408 or 413 sent with `Connection: close` while the
    client still owes body bytes) from inside the app's task. Quart-Trio cancels that task as soon as the
    request's receive side ends, which happens during that very close: the cancellation lands in the
    socket's send_eof, the close is skipped and the connection stays open until the client goes away (a
    stalled client then holds its socket forever). Shielding the close makes it always happen."""
    import trio

    original = tcp_server.TCPServer._close
    if getattr(original, "_lutra_shielded", False):
        return

    async def _close(self) -> None:
        with trio.CancelScope(shield=True):
            await original(self)

    _close._lutra_shielded = True  # type: ignore[attr-defined]
    tcp_server.TCPServer._close = _close


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="lutra", description="Lutra: a self-hosted media toolkit REST service")
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="run the HTTP server")
    p_serve.add_argument("--host", default=None, help="overrides HOST")
    p_serve.add_argument("--port", type=int, default=None, help="overrides PORT")
    p_serve.add_argument("--role", choices=("all", "web", "worker"), default=None,
                         help="overrides ROLE: web takes requests only, worker runs queued jobs only (PostgreSQL)")
    p_serve.set_defaults(func=serve)
    for extension in _extensions():
        extension(sub)
    args = parser.parse_args(argv)
    args.func(args)


def _extensions():
    """Other modules add subcommands (admin, models, call, bench) through `register(subparsers)`."""
    import importlib

    for name in ("service.cli_admin", "service.cli_models", "service.cli_client", "load.cli"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:
                continue
            raise
        yield module.register


if __name__ == "__main__":
    main()
