"""Worker processes decode untrusted files in-process (images with pyvips/Pillow, PDFs with pikepdf and
pypdfium2, spreadsheets with openpyxl and pandas, seam carving with OpenCV): the image, document, data
and vision families' workers are confined with Landlock and a memory limit. They read and write the
workspace, and cannot open the database or the library, write anywhere else or connect out; vision's may
read the models; a decompression bomb that slips past the checks fails its own job."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import trio

from actors import catalog, landlock, sandbox
from actors.data.actor import DataActor
from actors.documents.actor import DocumentActor
from actors.image.actor import ImageActor
from actors.vision.actor import VisionActor
from protocols.jobs import Done, Job
from tests.helpers import run_tool  # noqa: F401 - the catalog's tools import cleanly

pytestmark = pytest.mark.skipif(landlock.abi() < 1, reason="this kernel has no Landlock: run on Linux >= 5.13 with Landlock enabled (lsm=...,landlock)")


def attempt(paths: dict[str, tuple[str, str]], port: int, server_pid: int) -> dict[str, str]:
    """Runs inside a worker: what each access does ('ok' or the error's name), and the policy it got."""
    out: dict[str, str] = {"policy": sandbox.policy().data_dir, "policy env": str(os.environ.get("LUTRA_SANDBOX_POLICY"))}
    for name, (path, mode) in paths.items():
        try:
            with open(path, mode) as fh:
                fh.read(1) if "r" in mode else fh.write("x")
            out[name] = "ok"
        except OSError as err:
            out[name] = type(err).__name__
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            out["tcp"] = "ok"
    except OSError as err:
        out["tcp"] = type(err).__name__
    try:
        os.kill(server_pid, 0)  # signal 0: only asks whether a signal could be sent
        out["signal server"] = "ok"
    except OSError as err:
        out["signal server"] = type(err).__name__
    return out


def allocate(mb: int) -> int:
    block = bytearray(mb << 20)
    return len(block)


@pytest.fixture
def data_dir(tmp_path):
    saved = sandbox.policy()
    data = tmp_path / "data"
    for folder in ("workspace/job-a/out", "files/f1", "models/face-detection"):
        (data / folder).mkdir(parents=True)
    (data / "lutra.db").write_bytes(b"SQLite format 3\x00")
    (data / "files/f1/photo.jpg").write_bytes(b"\xff\xd8library")
    (data / "models/face-detection/face.xml").write_text("<cascade/>")
    sandbox.use(sandbox.Policy(data_dir=str(data), memory_mb=512))
    yield data
    sandbox.use(saved)


FAMILIES = {
    "image": lambda data: ImageActor(1),
    "documents": lambda data: DocumentActor(1, 8, {"data_dir": str(data)}),
    "data": lambda data: DataActor(1),
    "vision": lambda data: VisionActor(1, 8, data / "models"),
}


@pytest.mark.parametrize("family", FAMILIES)
async def test_a_worker_reaches_the_workspace_only(data_dir, tmp_path, family):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    outside = tmp_path / "outside.txt"
    paths = {
        "workspace write": (str(data_dir / "workspace/job-a/out/result.txt"), "w"),
        "workspace read": (str(data_dir / "workspace/job-a/out/result.txt"), "r"),
        "database": (str(data_dir / "lutra.db"), "rb"),
        "library": (str(data_dir / "files/f1/photo.jpg"), "rb"),
        "outside write": (str(outside), "w"),
        "system read": ("/etc/hostname" if Path("/etc/hostname").exists() else "/etc/passwd", "r"),
        "models read": (str(data_dir / "models/face-detection/face.xml"), "r"),
        "models write": (str(data_dir / "models/face-detection/face.xml"), "a"),
    }
    actor = FAMILIES[family](data_dir)
    async with trio.open_nursery() as nursery:
        await nursery.start(actor.run)
        seen = await in_confined_worker(actor, attempt, paths, port, os.getpid())
        with pytest.raises(MemoryError):
            await in_confined_worker(actor, allocate, 1024)  # a bomb over the 512 MB limit fails alone
        assert await in_confined_worker(actor, allocate, 64) == 64 << 20  # and the same worker goes on
        nursery.cancel_scope.cancel()
    listener.close()
    assert seen["workspace write"] == "ok" and seen["workspace read"] == "ok" and seen["system read"] == "ok"
    assert seen["database"] == "PermissionError" and seen["library"] == "PermissionError"
    assert seen["outside write"] == "PermissionError" and not outside.exists()
    assert seen["policy"] == str(data_dir) and seen["policy env"] == "None"  # through the init, not the environment
    assert seen["models write"] == "PermissionError"  # no family may change a model
    assert seen["models read"] == ("ok" if family == "vision" else "PermissionError")  # face cascades
    if landlock.abi() >= 4:
        assert seen["tcp"] == "PermissionError"
    if landlock.abi() >= 6:  # nor kill the server (nor another job's process)
        assert seen["signal server"] == "PermissionError"
    # the server process itself is not confined by its workers
    assert (data_dir / "lutra.db").read_bytes().startswith(b"SQLite")


async def test_a_confined_worker_runs_image_tools(data_dir, tmp_path):
    from PIL import Image

    job_dir = data_dir / "workspace" / "job-a"
    source = job_dir / "in.png"
    Image.new("RGB", (400, 300), "teal").save(source)
    catalog.load()
    spec = catalog.load()["resize"]
    from protocols.tools import ToolCall

    call = ToolCall(inputs=[source], names=["in.png"], settings=spec.settings.model_validate({"width": 100}),
                    workdir=job_dir / "out")
    events: list = []
    actor = ImageActor(1)
    async with trio.open_nursery() as nursery:
        await nursery.start(actor.run)
        actor.submit(Job(id="job-a", tool_id="resize", call=call, deadline_s=60, reply=events.append))
        with trio.fail_after(60):
            while not any(isinstance(e, Done) for e in events) and not any(hasattr(e, "status") for e in events):
                await trio.sleep(0.02)
        nursery.cancel_scope.cancel()
    done = events[-1]
    assert isinstance(done, Done), done
    assert Image.open(done.result.outputs[0]).size == (100, 75)


async def test_a_confined_workers_temporary_files_go_to_its_job(data_dir):
    """/tmp is not writable from a confined worker: Python's and libvips' temporary files (TMPDIR) go to
    the job's own folder, which is removed with the job; between jobs the worker is back to its own."""
    actor = DataActor(1)
    async with trio.open_nursery() as nursery:
        await nursery.start(actor.run)
        inside, after = await in_confined_worker(actor, temp_in_job, str(data_dir / "workspace/job-a/out"))
        nursery.cancel_scope.cancel()
    folder = data_dir / "workspace" / "job-a" / ".tmp"
    assert inside["tempdir"] == inside["TMPDIR"] == str(folder)
    assert Path(inside["file"]).parent == folder and inside["written"] == "ok"
    assert after == {"tempdir": None, "TMPDIR": None}
    assert inside["/tmp"] == "PermissionError"


def temp_in_job(workdir: str) -> tuple[dict, dict]:
    import tempfile

    from actors import workers

    def probe(_call) -> dict:
        seen = {"tempdir": tempfile.gettempdir(), "TMPDIR": os.environ.get("TMPDIR")}
        with tempfile.NamedTemporaryFile(delete=False) as fh:
            fh.write(b"x")
            seen["file"], seen["written"] = fh.name, "ok"
        try:
            open("/tmp/lutra-confined-probe", "w").close()
            seen["/tmp"] = "ok"
        except OSError as err:
            seen["/tmp"] = type(err).__name__
        return seen

    seen: dict = {}

    def tool(call):
        seen.update(probe(call))
        from protocols.tools import ToolResult

        out = Path(workdir) / "done.txt"
        out.write_text("ok")
        return ToolResult([out])

    from protocols.tools import ToolCall

    workers.run_here(tool, ToolCall(inputs=[], names=[], settings=None, workdir=Path(workdir)))  # type: ignore[arg-type]
    return seen, {"tempdir": tempfile.tempdir, "TMPDIR": os.environ.get("TMPDIR")}


@pytest.mark.parametrize("reference", ["file://{path}", "{path}", "../../job-b/out/secret.png"])
async def test_an_svg_cannot_draw_another_jobs_image(data_dir, reference):
    """An uploaded SVG that references another job's output (absolute, file:// or relative path) renders
    without it, through the confined image workers."""
    from PIL import Image

    from protocols.jobs import Failed
    from protocols.tools import ToolCall

    other = data_dir / "workspace" / "job-b" / "out"
    other.mkdir(parents=True)
    secret = other / "secret.png"
    Image.new("RGB", (40, 40), (255, 0, 0)).save(secret)
    job_dir = data_dir / "workspace" / "job-a"
    (job_dir / "in").mkdir()
    source = job_dir / "in" / "drawing.svg"
    href = reference.format(path=secret)
    source.write_text('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
                      'width="40" height="40"><rect width="40" height="40" fill="#0000ff"/>'
                      f'<image href="{href}" xlink:href="{href}" width="40" height="40"/></svg>')
    spec = catalog.load()["svg-to-raster"]
    call = ToolCall(inputs=[source], names=["drawing.svg"], settings=spec.settings.model_validate({}),
                    workdir=job_dir / "out")
    events: list = []
    actor = ImageActor(1)
    async with trio.open_nursery() as nursery:
        await nursery.start(actor.run)
        actor.submit(Job(id="job-a", tool_id="svg-to-raster", call=call, deadline_s=60, reply=events.append))
        with trio.fail_after(60):
            while not any(isinstance(e, (Done, Failed)) for e in events):
                await trio.sleep(0.02)
        nursery.cancel_scope.cancel()
    if isinstance(events[-1], Done):
        image = Image.open(events[-1].result.outputs[0]).convert("RGB")
        assert image.getpixel((20, 20)) == (0, 0, 255)  # the SVG's own blue, never the other job's red
    else:
        assert events[-1].status < 500


async def test_a_worker_with_a_separate_storage_root_reaches_its_workspace_only(data_dir, tmp_path):
    """With STORAGE_ROOT (shared by several nodes) the workspace and the library are there, not in
    DATA_DIR: the worker writes that workspace, and reads neither that library nor DATA_DIR's database."""
    storage = tmp_path / "shared"
    for folder in ("workspace/job-b/out", "files/f2"):
        (storage / folder).mkdir(parents=True)
    (storage / "files/f2/photo.jpg").write_bytes(b"\xff\xd8library")
    sandbox.use(sandbox.Policy(data_dir=str(data_dir), storage=str(storage), memory_mb=512))
    paths = {
        "workspace write": (str(storage / "workspace/job-b/out/result.txt"), "w"),
        "library": (str(storage / "files/f2/photo.jpg"), "rb"),
        "database": (str(data_dir / "lutra.db"), "rb"),
        "old workspace": (str(data_dir / "workspace/job-a/out/x.txt"), "w"),
    }
    actor = ImageActor(1)
    async with trio.open_nursery() as nursery:
        await nursery.start(actor.run)
        seen = await in_confined_worker(actor, attempt, paths, 9, os.getpid())
        nursery.cancel_scope.cancel()
    assert seen["workspace write"] == "ok"
    assert seen["library"] == seen["database"] == seen["old workspace"] == "PermissionError"
    # programs started for a job get its whole folder in the storage root
    assert sandbox.job_folders(storage / "workspace/job-b/out") == (storage / "workspace/job-b",)


async def in_confined_worker(actor, fn, *args):
    """Run `fn` in one of the actor's own (confined) worker processes, as its image tools run."""
    return await actor.worker_context.run_sync(fn, *args, kill_on_cancel=True, limiter=actor.worker_limiter)


async def test_a_confined_vision_worker_reads_the_face_models(data_dir):
    """content-aware-resize with protectFaces runs in the vision family's confined workers: they get the
    models folder in their init and may read it (the face cascades), nothing else of DATA_DIR."""
    from PIL import Image
    from skimage import data as samples

    from actors import models
    from protocols.tools import ToolCall

    models.configure(data_dir / "models")
    if not models.is_installed("face-detection"):
        models.install("face-detection")  # from the opencv-python-headless wheel already installed
    job_dir = data_dir / "workspace" / "job-a"
    source = job_dir / "astronaut.png"
    Image.fromarray(samples.astronaut()).save(source)
    spec = catalog.load()["content-aware-resize"]
    call = ToolCall(inputs=[source], names=["astronaut.png"],
                    settings=spec.settings.model_validate({"width": 470, "protectFaces": True}), workdir=job_dir / "out")
    events: list = []
    actor = VisionActor(1, 8, data_dir / "models")
    async with trio.open_nursery() as nursery:
        await nursery.start(actor.run)
        actor.submit(Job(id="job-a", tool_id="content-aware-resize", call=call, deadline_s=120, reply=events.append))
        with trio.fail_after(120):
            while not any(hasattr(e, "result") or hasattr(e, "status") for e in events):
                await trio.sleep(0.05)
        nursery.cancel_scope.cancel()
    done = events[-1]
    assert isinstance(done, Done), done
    assert done.result.extra["facesProtected"] >= 1 and Image.open(done.result.outputs[0]).width == 470
