"""create_app(config): the Quart-Trio app, its error handling, and the lifespan that starts the actors."""

from __future__ import annotations

import logging
import os
import time
from collections import deque

import trio
from quart import g, request
from quart_trio import QuartTrio
from quart_trio.wrappers.request import TrioBody, TrioRequest
from quart_trio.wrappers.response import TrioFileBody, TrioResponse
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from actors import catalog, families, sandbox
from actors.store.actor import StoreActor
from actors.supervisor import Supervisor
from protocols.errors import ApiError, ErrorCode
from service.auth import Authenticator
from service.config import Config
from service.jobs import JobManager
from service.responses import error_response, json_response
from service.runtime_settings import RuntimeSettings
from service.state import Services

log = logging.getLogger("lutra.http")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}

# what a worker node (ROLE=worker) still answers over HTTP: its health, for probes and operators
WORKER_PATHS = frozenset({"/api/v1/health", "/api/v1/admin/health"})

HTTP_CODES = {
    400: ErrorCode.VALIDATION_ERROR, 401: ErrorCode.AUTH_REQUIRED, 403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED, 408: ErrorCode.VALIDATION_ERROR,
    413: ErrorCode.PAYLOAD_TOO_LARGE, 415: ErrorCode.UNSUPPORTED_MEDIA_TYPE, 429: ErrorCode.RATE_LIMITED,
}


class FileBody(TrioFileBody):
    """File responses (downloads, previews, batch ZIPs) from a descriptor of their own, read with `pread` at
    a position kept here. Quart-Trio's body went to a thread for the open, the seek, and for each chunk a
    `tell` and a `read`, then the close: ten thread round trips for a 20 KB download and 128 per MB at its
    8 KiB chunks. Opening and closing a local file do not wait on the disk; a chunk of up to INLINE_READ is
    read on the loop (a result just written is in the page cache, and a miss costs one small read); larger
    chunks are read on a thread, BUFFER bytes at a time."""

    buffer_size = 1 << 20
    INLINE_READ = 256 << 10

    def __init__(self, file_path, *, buffer_size: int | None = None) -> None:  # noqa: ANN001
        super().__init__(file_path, buffer_size=buffer_size)
        self._fd: int | None = None
        self._position = 0

    async def __aenter__(self) -> FileBody:
        self._fd = os.open(self.file_path, os.O_RDONLY | os.O_CLOEXEC)
        self._position = self.begin
        return self

    async def __aexit__(self, exc_type, exc_value, tb) -> None:  # noqa: ANN001
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    async def __anext__(self) -> bytes:
        if self._fd is None or self._position >= self.end:
            raise StopAsyncIteration()
        size = min(self.buffer_size, self.end - self._position)
        if size <= self.INLINE_READ:
            chunk = os.pread(self._fd, size, self._position)
        else:
            chunk = await trio.to_thread.run_sync(os.pread, self._fd, size, self._position)
        if not chunk:
            raise StopAsyncIteration()
        self._position += len(chunk)
        return chunk


class LutraResponse(TrioResponse):
    file_body_class = FileBody


class ChunkBody(TrioBody):
    """The request body as the chunks Hypercorn delivered, handed on as they are. Quart's Body joins every
    chunk into one bytearray and copies it out again on each read: two extra copies of every upload byte
    in the event loop's thread (uploads stream through `async for chunk in request.body`)."""

    def __init__(self, expected_content_length: int | None, max_content_length: int | None) -> None:
        super().__init__(expected_content_length, max_content_length)
        self._chunks: deque[bytes] = deque()
        self._size = 0

    def append(self, data: bytes) -> None:
        if not data or self._must_raise is not None:
            return
        self._chunks.append(data)
        self._size += len(data)
        self._has_data.set()
        if self._max_content_length is not None and self._size > self._max_content_length:
            self._must_raise = RequestEntityTooLarge()
            self.set_complete()

    async def __anext__(self) -> bytes:
        while True:
            if self._must_raise is not None:
                raise self._must_raise
            if self._chunks:
                chunk = self._chunks.popleft()
                if not self._chunks and not self._complete.is_set():
                    self._has_data.clear()
                return chunk
            if self._complete.is_set():
                raise StopAsyncIteration
            await self._has_data.wait()

    def __await__(self):
        if self._must_raise is not None:
            raise self._must_raise
        yield from self._complete.wait().__await__()
        if self._must_raise is not None:
            raise self._must_raise
        if len(self._chunks) > 1:
            self._chunks = deque([b"".join(self._chunks)])
        return self._chunks[0] if self._chunks else b""

    def clear(self) -> None:
        self._chunks.clear()


class LutraRequest(TrioRequest):
    body_class = ChunkBody


def create_app(config: Config) -> QuartTrio:
    app = QuartTrio("lutra")
    app.response_class = LutraResponse
    app.request_class = LutraRequest
    app.config.update(
        MAX_CONTENT_LENGTH=None,  # uploads enforce MAX_UPLOAD_SIZE_MB while streaming
        BODY_TIMEOUT=3600,
        RESPONSE_TIMEOUT=3600,
        PROVIDE_AUTOMATIC_OPTIONS=True,
        JSON_SORT_KEYS=False,
    )
    app.lutra = None  # type: ignore[attr-defined]  # Services, set at start-up
    # set when the runtime (store, job manager, supervisor) stops while the server runs: `lutra serve`
    # then shuts the server down and exits non-zero, so that systemd restarts it
    app.runtime_failed = trio.Event()  # type: ignore[attr-defined]

    from service.routes import auth as auth_routes
    from service.routes import jobs as job_routes
    from service.routes import system as system_routes
    from service.routes import tools as tool_routes

    for module in (system_routes, auth_routes, tool_routes, job_routes):
        app.register_blueprint(module.bp)
    for module in _optional_route_modules():
        app.register_blueprint(module.bp)

    @app.errorhandler(ApiError)
    async def _api_error(err: ApiError):
        return error_response(err)

    @app.errorhandler(HTTPException)
    async def _http_error(err: HTTPException):
        status = err.code or 500
        code = HTTP_CODES.get(status, ErrorCode.INTERNAL_ERROR if status >= 500 else ErrorCode.VALIDATION_ERROR)
        message = {404: "Not found."}.get(status, err.description or err.name)
        headers = {}
        if status == 405:  # say which methods the URL takes (werkzeug's MethodNotAllowed knows them)
            allowed = sorted(m for m in (getattr(err, "valid_methods", None) or ()) if m not in ("HEAD", "OPTIONS"))
            message = f"{request.method} is not allowed here; use {' or '.join(allowed) or 'another method'}."
            if allowed:
                headers["Allow"] = ", ".join(allowed)
        return json_response({"error": message, "code": code.value}, status, headers)

    @app.errorhandler(Exception)
    async def _unexpected(err: Exception):
        if isinstance(err, (OperationalError, InterfaceError)):  # the database server is gone (or going)
            log.error("the database is unreachable on %s %s: %s", request.method, request.path,
                      str(getattr(err, "orig", err)).strip().splitlines()[0] if str(err).strip() else type(err).__name__)
            return json_response({"error": "The database is unreachable; try again shortly.",
                                  "code": ErrorCode.BUSY.value}, 503, headers={"Retry-After": "5"})
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_response({"error": "Internal server error.", "code": ErrorCode.INTERNAL_ERROR.value}, 500)

    @app.before_request
    async def _start_clock():
        g.started = time.perf_counter()
        if config.role == "worker" and request.path not in WORKER_PATHS:
            raise ApiError(ErrorCode.NOT_FOUND, "This node only runs queued jobs (ROLE=worker); send requests "
                                                "to a web node.")

    @app.after_request
    async def _finish(response):
        response.headers.update(SECURITY_HEADERS)
        await _drain_or_close(response)
        if log.isEnabledFor(logging.INFO):
            ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
            log.info('{"event":"request","method":"%s","path":"%s","status":%d,"ms":%.1f}',
                     request.method, request.path.replace('"', ""), response.status_code, ms)
        return response

    @app.before_serving
    async def _start():
        app.lutra = await start_services(app, config)

    @app.after_serving
    async def _stop():
        if app.lutra is not None:
            if app.lutra.cluster is not None:
                await app.lutra.cluster.leave()
            await app.lutra.store.drain()

    return app


MAX_DRAIN_BYTES = 1 << 20


async def _drain_or_close(response) -> None:
    """A response sent before the request body was read (an early 4xx) would leave the rest of that
    body on a kept-alive connection, which then cannot carry the next request. Read a small rest so
    the connection stays usable; for a large one, tell the client the connection closes."""
    body = request.body
    complete = getattr(body, "_complete", None)
    if complete is None or (complete.is_set() and not getattr(body, "_data", b"")):
        return
    drained = 0
    with trio.move_on_after(1.0) as scope:
        try:
            async for chunk in body:
                drained += len(chunk)
                if drained > MAX_DRAIN_BYTES:
                    break
        except Exception:
            drained = MAX_DRAIN_BYTES + 1
    if scope.cancelled_caught or drained > MAX_DRAIN_BYTES:
        response.headers["Connection"] = "close"


def _optional_route_modules():
    """Blueprints of areas that live in their own modules (identity, files, pipelines, ...)."""
    import importlib
    import pkgutil

    import service.routes as routes_pkg

    core = {"auth", "jobs", "system", "tools"}
    for info in sorted(pkgutil.iter_modules(routes_pkg.__path__), key=lambda i: i.name):
        if info.name in core or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"service.routes.{info.name}")
        if hasattr(module, "bp"):
            yield module


async def start_services(app: QuartTrio, config: Config) -> Services:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    config.workspace.mkdir(parents=True, exist_ok=True)
    # the sandbox's data folder is the one whose workspace/ the jobs run in: STORAGE_ROOT when it is set (the
    # storage shared by several nodes), else DATA_DIR; workers could not read their inputs otherwise
    sandbox.configure(sandbox.Policy(enabled=config.sandbox, memory_mb=config.sandbox_memory_mb,
                                     file_mb=config.sandbox_file_mb, data_dir=str(config.storage.resolve())))
    store = StoreActor(config.db_url)
    await store.start()
    catalog.load()
    options = {k: getattr(config, k) for k in config.__dataclass_fields__}
    # a web node runs no jobs, so it starts no actors (and no worker processes)
    actors = [] if config.role == "web" else families.build(config.workers, config.queue_size, options)
    supervisor = Supervisor(actors)
    jobs = JobManager(config, store, supervisor)
    await jobs.recover()
    auth = Authenticator(store, config)
    try:
        await auth.seed()
    except IntegrityError:  # several nodes on one database: another one seeded it at the same moment
        await auth.seed()
    settings = RuntimeSettings(store)
    await settings.load()
    services = Services(config=config, store=store, supervisor=supervisor, jobs=jobs, auth=auth, settings=settings)
    if config.clustered:
        from service.cluster import ClusterNode

        services.cluster = jobs.cluster = ClusterNode(config, store, jobs, supervisor, settings)
        settings.on_change = services.cluster.settings_changed
    await app.nursery.start(_run_runtime, services, app.runtime_failed)
    for hook in _startup_hooks():
        await hook(app, services)
    return services


def _startup_hooks():
    """Modules of other areas may define `async def on_startup(app, services)`."""
    for module in _optional_route_modules():
        hook = getattr(module, "on_startup", None)
        if hook is not None:
            yield hook


async def _run_runtime(services: Services, failed: trio.Event, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
    """Owns the store, the supervisor and the job manager for the life of the server. They run until the
    server shuts down (which cancels them); if they stop before that, the server cannot do its work and
    `failed` is set, on which `lutra serve` shuts down and exits non-zero. Nothing here escapes into the
    app's nursery, which would break the requests still being answered."""
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(services.store.run)
            await nursery.start(services.jobs.run)
            await nursery.start(services.supervisor.run)
            if services.cluster is not None:
                await nursery.start(services.cluster.run)
            task_status.started()
        log.critical("the runtime stopped")
    except Exception:
        log.critical("the runtime stopped unexpectedly", exc_info=True)
    failed.set()
