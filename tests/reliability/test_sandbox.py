"""Hostile files against the program sandbox (actors/sandbox/): each attack is shown contained.

A fake DATA_DIR holds this job, another job's output, a library file and a database. Each attack is
also run once with the sandbox off, to show the file really is hostile (the test could fail).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest
import trio

from actors import catalog, sandbox
from actors.documents import _proc
from actors.image import _exiftool
from actors.media import _ffmpeg as ff
from actors.media import ffprobe
from actors.media.actor import create
from protocols.errors import ToolError
from protocols.jobs import Done, Failed, Job
from protocols.tools import ToolCall

pytestmark = pytest.mark.skipif(not sandbox.bwrap_works(), reason="bubblewrap cannot start a sandbox here: install it (deps/core.apt) and allow user namespaces (kernel.unprivileged_userns_clone=1)")


class Box:
    def __init__(self, root: Path) -> None:
        self.data = root / "data"
        self.job = self.data / "workspace" / "job-a"
        self.inputs = self.job / "in"
        self.out = self.job / "out"
        self.other = self.data / "workspace" / "job-b" / "out"
        self.library = self.data / "files" / "f1"
        self.db = self.data / "lutra.db"
        for folder in (self.inputs, self.out, self.other, self.library):
            folder.mkdir(parents=True)
        self.db.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
        (self.library / "private.txt").write_text("LIBRARY-SECRET\n")
        (self.other / "secret.txt").write_text("OTHER-JOB-SECRET\n")


@pytest.fixture
def box(tmp_path):
    saved = sandbox.policy()
    made = Box(tmp_path)
    sandbox.use(sandbox.Policy(data_dir=str(made.data)))
    yield made
    sandbox.use(saved)


def _unsandboxed(box: Box) -> None:
    sandbox.use(sandbox.Policy(enabled=False, data_dir=str(box.data)))


# ---- a running converter's view ------------------------------------------------------------------------
async def test_a_running_converter_has_its_own_namespaces_and_sees_only_its_job(box):
    call = ToolCall(inputs=[], names=[], settings=None, workdir=box.out)  # type: ignore[arg-type]
    seen: dict = {}

    async def encode():
        with sandbox.job_scope(box.out, []):
            await ff.run(["-re", "-f", "lavfi", "-i", "testsrc2=s=64x64:r=10:d=600", "-f", "null", "-"],
                         call=call, duration=600)

    def program_pid() -> int | None:
        for pid in sandbox.descendants(os.getpid()):
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == "ffmpeg":
                    return pid
            except OSError:
                continue
        return None

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(encode)
            while (pid := program_pid()) is None:
                await trio.sleep(0.05)
            root = f"/proc/{pid}/root"
            seen["net"] = os.readlink(f"/proc/{pid}/ns/net")
            seen["mnt"] = os.readlink(f"/proc/{pid}/ns/mnt")
            seen["pid"] = os.readlink(f"/proc/{pid}/ns/pid")
            seen["exists"] = {name: os.path.exists(root + str(path)) for name, path in {
                "own job": box.out, "data dir listing": box.data / "files", "library file":
                box.library / "private.txt", "database": box.db, "other job": box.other / "secret.txt",
                "passwd": Path("/etc/passwd"), "home": Path("/root")}.items()}
            nursery.cancel_scope.cancel()
    assert seen["net"] != os.readlink("/proc/self/ns/net")
    assert seen["mnt"] != os.readlink("/proc/self/ns/mnt")
    assert seen["pid"] != os.readlink("/proc/self/ns/pid")
    assert seen["exists"] == {"own job": True, "data dir listing": False, "library file": False, "database": False,
                              "other job": False, "passwd": False, "home": False}
    assert program_pid() is None  # cancelled: gone, not orphaned


# ---- ffmpeg: HLS playlists that reach for local files ------------------------------------------------
def _secret_media(box: Box) -> Path:
    """Another job's output: 3 s of audio the attacker wants to copy into their own result."""
    secret = box.other / "result.ts"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=440:d=3", "-c:a", "aac", "-f", "mpegts",
                    str(secret)], check=True)
    return secret


def _playlist(target: str) -> bytes:
    return (f"#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:3.0,\n{target}\n"
            "#EXT-X-ENDLIST\n").encode()


async def _run_media_job(tool_id: str, call: ToolCall) -> Done | Failed:
    catalog.load()
    actor = create(1, 8, {})
    events: list = []
    async with trio.open_nursery() as nursery:
        await nursery.start(actor.run)
        actor.submit(Job(id=f"job-{tool_id}", tool_id=tool_id, call=call, deadline_s=60, reply=events.append))
        with trio.fail_after(60):
            while not any(isinstance(e, (Done, Failed)) for e in events):
                await trio.sleep(0.02)
        nursery.cancel_scope.cancel()
    return events[-1]


@pytest.mark.parametrize("name", ["upload.m3u8", "holiday.avi", "holiday.mp4"])
async def test_an_hls_playlist_cannot_pull_another_jobs_output(box, name):
    secret = _secret_media(box)
    upload = box.inputs / name
    upload.write_bytes(_playlist(f"file:{secret}"))
    catalog.load()
    spec = catalog.load()["extract-audio"]

    def call() -> ToolCall:
        shutil.rmtree(box.out)
        box.out.mkdir()
        return ToolCall(inputs=[upload], names=[name], settings=spec.settings.model_validate({"format": "mp3"}),
                        workdir=box.out)

    contained = await _run_media_job("extract-audio", call())
    assert isinstance(contained, Failed) and contained.status == 400
    assert not any(box.out.iterdir())

    _unsandboxed(box)  # the same file without the sandbox: the attack works, so the test can fail
    leaked = await _run_media_job("extract-audio", call())
    assert isinstance(leaked, Done)
    info = await ffprobe.probe(Path(leaked.result.outputs[0]))
    assert info.duration == pytest.approx(3.0, abs=0.2)


async def test_an_hls_playlist_naming_etc_passwd_is_refused(box):
    upload = box.inputs / "clip.mp4"
    upload.write_bytes(_playlist("file:///etc/passwd"))
    with pytest.raises(ToolError) as err, sandbox.job_scope(box.out, [upload]):
        await ffprobe.probe(upload, "clip.mp4")
    assert err.value.status == 400 and "passwd" not in err.value.message and "root:" not in err.value.message


# ---- ghostscript: file operators and %pipe% ------------------------------------------------------------
def _gs_attack(box: Box) -> tuple[Path, Path]:
    """PostScript that copies another job's file and the library into its output and runs a shell through
    %pipe%. Run with -dNOSAFER, as if ghostscript's own SAFER mode had a hole (it has had several)."""
    marker = box.other / "pwned"
    ps = box.inputs / "attack.ps"
    ps.write_text(f"""%!PS
/Helvetica findfont 10 scalefont setfont
/steal {{ (r) file 200 string readstring pop }} def
72 700 moveto ({box.other / 'secret.txt'}) steal show
72 680 moveto ({box.library / 'private.txt'}) steal show
(%pipe%touch {marker}) (w) file closefile
showpage
""")
    return ps, marker


def _gs(box: Box, ps: Path) -> tuple[subprocess.CompletedProcess | None, str]:
    out = box.out / "out.txt"
    out.unlink(missing_ok=True)
    try:
        with sandbox.job_scope(box.out, [ps]):
            done = _proc.run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dNOSAFER", "-sDEVICE=txtwrite",
                              f"-sOutputFile={out}", str(ps)], timeout=60, what="Rendering", ok_codes=(0, 1))
    except ToolError:
        done = None
    return done, out.read_text(errors="replace") if out.exists() else ""


def test_ghostscript_file_operators_and_pipe_are_contained(box):
    ps, marker = _gs_attack(box)
    _done, text = _gs(box, ps)
    assert "OTHER-JOB-SECRET" not in text and "LIBRARY-SECRET" not in text
    assert not marker.exists()

    _unsandboxed(box)
    _done, text = _gs(box, ps)
    assert "OTHER-JOB-SECRET" in text and "LIBRARY-SECRET" in text and marker.exists()


# ---- ExifTool: values that look like shell -----------------------------------------------------------
@pytest.mark.skipif(not _exiftool.available(), reason="ExifTool is not installed: run ./run setup (deps/image1.apt)")
def test_exiftool_values_that_look_like_shell_stay_text(box):
    from PIL import Image

    image = box.out / "photo.jpg"
    Image.new("RGB", (16, 16), "red").save(image)
    marker = box.out / "pwned"
    values = [f"$(touch {marker})", f"`touch {marker}`", f"x; touch {marker}", f"| touch {marker}"]
    with sandbox.job_scope(box.out, []):
        _exiftool.write(image, [f"-Artist={values[0]}", f"-ImageDescription={values[1]}", f"-Copyright={values[2]}",
                                f"-XMP-dc:Title={values[3]}"])
        tags = _exiftool.read(image)
    assert tags["EXIF"]["Artist"] == values[0] and tags["EXIF"]["ImageDescription"] == values[1]
    assert tags["EXIF"]["Copyright"] == values[2] and tags["XMP"]["Title"] == values[3]
    assert not marker.exists()


# ---- the off switch ------------------------------------------------------------------------------------
def test_the_off_switch_keeps_limits_and_says_so(box):
    _unsandboxed(box)
    launch = sandbox.prepare(["ffprobe", "-version"])
    assert not launch.sandboxed and "bwrap" not in " ".join(launch.argv)
    assert any(a.startswith("--data=") for a in launch.argv)  # limits stay
    assert sandbox.status()["programs"]["mechanism"] == "none"
    assert "warning" in sandbox.status()["programs"]


def test_a_program_over_its_memory_limit_fails_alone(box):
    sandbox.use(sandbox.Policy(data_dir=str(box.data), memory_mb=64))
    with sandbox.job_scope(box.out, []):
        done = sandbox.run(["/usr/bin/python3", "-c", "b = bytearray(256 << 20); print('allocated')"], timeout=30)
        small = sandbox.run(["/usr/bin/python3", "-c", "b = bytearray(8 << 20); print('allocated')"], timeout=30)
    assert done.returncode != 0 and b"MemoryError" in done.stderr
    assert small.returncode == 0 and b"allocated" in small.stdout


# ---- LibreOffice: macros and external links, in its sandbox ----------------------------------------------
def _hostile_odt(path: Path, secret: Path, marker: Path) -> None:
    """A text document whose load event runs a Basic macro writing `marker`, and whose section is a link
    to `secret` (another job's file), to be pulled in when links are updated."""
    import zipfile

    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0" '
          'xmlns:xlink="http://www.w3.org/1999/xlink"')
    content = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-content {ns} office:version="1.2">
<office:scripts><office:event-listeners>
<script:event-listener script:language="ooo:script" script:event-name="dom:load"
 xlink:href="vnd.sun.star.script:Standard.Module1.Main?language=Basic&amp;location=document"/>
</office:event-listeners></office:scripts>
<office:body><office:text>
<text:p>VISIBLE-TEXT</text:p>
<text:section text:name="Linked"><text:section-source xlink:href="file://{secret}" text:filter-name="Text"/>
<text:p>placeholder</text:p></text:section>
</office:text></office:body></office:document-content>"""
    module = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" script:language="StarBasic">
Sub Main
  Open "{marker}" For Output As #1
  Print #1, "macro ran"
  Close #1
End Sub
</script:module>"""
    library = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE library:library PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "library.dtd">
<library:library xmlns:library="http://openoffice.org/2000/library" library:name="Standard" library:readonly="false"
 library:passwordprotected="false"><library:element library:name="Module1"/></library:library>"""
    libraries = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE library:libraries PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "libraries.dtd">
<library:libraries xmlns:library="http://openoffice.org/2000/library" xmlns:xlink="http://www.w3.org/1999/xlink">
<library:library library:name="Standard" library:link="false"/></library:libraries>"""
    manifest = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
<manifest:file-entry manifest:full-path="Basic/Standard/Module1.xml" manifest:media-type="text/xml"/>
<manifest:file-entry manifest:full-path="Basic/Standard/script-lb.xml" manifest:media-type="text/xml"/>
<manifest:file-entry manifest:full-path="Basic/script-lc.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", content)
        zf.writestr("Basic/Standard/Module1.xml", module)
        zf.writestr("Basic/Standard/script-lb.xml", library)
        zf.writestr("Basic/script-lc.xml", libraries)
        zf.writestr("META-INF/manifest.xml", manifest)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed: run ./run setup (deps/documents.apt)")
def test_libreoffice_macros_and_links_are_contained(box):
    from actors.documents._office import OfficeListener

    secret, marker = box.other / "secret.txt", box.other / "macro-ran"
    src = box.inputs / "letter.odt"
    _hostile_odt(src, secret, marker)
    out = box.out / "letter.pdf"
    office = OfficeListener(box.data / "office")
    try:
        with sandbox.job_scope(box.out, [src]):  # started lazily by a job: it must not keep that job's folder
            office.start()
        soffice = next((p for p in sandbox.descendants(office.proc.pid)
                        if Path(f"/proc/{p}/comm").read_text().strip().startswith("soffice")), None)
        assert soffice is not None
        assert os.readlink(f"/proc/{soffice}/ns/net") != os.readlink("/proc/self/ns/net")
        assert os.readlink(f"/proc/{soffice}/ns/mnt") != os.readlink("/proc/self/ns/mnt")
        root = f"/proc/{soffice}/root"
        for hidden in (box.db, box.library / "private.txt", secret, box.inputs, box.out, Path("/etc/passwd")):
            assert not os.path.exists(root + str(hidden)), hidden
        office.convert_sync(src, out)
    finally:
        office.stop()
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, check=True).stdout.decode()
    assert "VISIBLE-TEXT" in text
    assert "OTHER-JOB-SECRET" not in text
    assert not marker.exists()
    assert not any((box.data / "office" / "exchange").iterdir())  # nothing of the job stays behind


# ---- the policy reaches worker processes through their init ----------------------------------------------
async def test_the_shared_workers_get_the_policy_through_their_init(box):
    """trio-parallel's shared workers (library previews) start with the server's policy (here: the off
    switch, so their programs do not ask for bubblewrap), given in their init, with no environment variable."""
    import trio_parallel

    off = sandbox.Policy(enabled=False, data_dir=str(box.data), memory_mb=777)
    sandbox.configure(off)
    try:
        seen = await trio_parallel.run_sync(_policy_and_environment)
    finally:
        sandbox.use(sandbox.Policy(data_dir=str(box.data)))
        with warnings.catch_warnings():  # the previous default workers are left to retire
            warnings.simplefilter("ignore")
            trio_parallel.configure_default_context()
    assert seen == (off, None)


def _policy_and_environment() -> tuple[sandbox.Policy, str | None]:
    return sandbox.policy(), os.environ.get("LUTRA_SANDBOX_POLICY")


# ---- a cgroup per program, where the service has one to manage -------------------------------------------
def _fake_cgroup(root: Path, members: list[int]) -> Path:
    """A cgroup v2 folder as the kernel shows it (interface files): the service's, before set-up."""
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (root / "cgroup.subtree_control").write_text("\n")
    (root / "cgroup.procs").write_text("".join(f"{pid}\n" for pid in members))
    return root


def test_a_program_gets_a_cgroup_of_its_own_with_memory_max(box, tmp_path, monkeypatch):
    """Where the service's cgroup is its own: the server moves into a leaf, hands the memory controller
    down, and each program starts in a cgroup of its own whose memory.max is the policy's; admin health
    says so. (The kernel's cgroup files are plain files here: what is checked is what the server writes.)"""
    from actors.sandbox import cgroup

    monkeypatch.setattr(cgroup, "_programs", None)
    assert sandbox.status()["programs"]["memoryLimit"] == "rlimit"
    base = _fake_cgroup(tmp_path / "lutra.service", [os.getpid()])
    programs = cgroup.setup(base)
    assert programs == base / "programs"
    assert (base / "server" / "cgroup.procs").read_text() == str(os.getpid())
    assert (base / "cgroup.subtree_control").read_text() == "+memory"
    assert (programs / "cgroup.subtree_control").read_text() == "+memory"

    sandbox.use(sandbox.Policy(data_dir=str(box.data), memory_mb=300))
    with sandbox.job_scope(box.out, []):
        done = sandbox.run(["/usr/bin/python3", "-c", "print('ran')"], timeout=30)
    assert done.returncode == 0 and done.stdout == b"ran\n"
    (group,) = [g for g in programs.iterdir() if g.is_dir()]
    assert (group / "memory.max").read_text() == str(300 << 20) and (group / "memory.swap.max").read_text() == "0"
    assert int((group / "cgroup.procs").read_text()) > 1  # the program's shell wrote its pid, then exec'd it
    assert sandbox.status()["programs"]["memoryLimit"] == "cgroup"


def test_a_cgroup_shared_with_other_processes_is_left_alone(box, tmp_path, monkeypatch):
    """A server started from a login shell shares the shell's cgroup: it must not move the shell. The
    rlimits stay, and a program's command is unchanged."""
    from actors.sandbox import cgroup

    monkeypatch.setattr(cgroup, "_programs", None)
    base = _fake_cgroup(tmp_path / "session.scope", [os.getppid(), os.getpid()])
    assert cgroup.setup(base) is None
    assert not (base / "server").exists() and (base / "cgroup.subtree_control").read_text() == "\n"
    assert sandbox.prepare(["ffprobe", "-version"]).argv[0].endswith("prlimit")
    assert sandbox.status()["programs"]["memoryLimit"] == "rlimit"
