"""Guards added for what the full hostile cross-product found (tests/reliability/test_hostile_inputs.py, -m slow):

- a PNG whose zTXt chunk inflates to 200 MB kept strip-metadata (ExifTool inflates it, twice) and
  images-to-video (FFmpeg inflates it on every frame of the slideshow) busy past their deadline: refused
  up front now (actors/png_text.py), while a PNG with ordinary compressed text is processed as before;
- split-audio listed every cut of an audio file whose header declares 2^32 s before counting them:
  143 million floats built on the server's event loop blocked every other request for ~100 s (and a webm
  declaring 31700 years ran the server out of memory);
- merge-videos padded each clip's audio to the container's declared duration (136 years over 1 s of video):
  the audio ran on alone and FFmpeg buffered the rest, 20 GB in 12 s. A clip now lasts as long as its video.
"""

from __future__ import annotations

import io
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from actors import png_text
from protocols.errors import ErrorCode, ToolError
from tests.helpers import run_tool
from tests.reliability import corpus


def _png(extra: bytes = b"") -> bytes:
    return corpus.png_image(64, 48, zlib.compress(b"\x00" * (48 * 65)), extra=extra)


def _ztxt_bomb(mb: int = 200) -> bytes:
    stream, _, _ = corpus.zeros_deflate(mb, raw=False)
    return _png(corpus.png_chunk(b"zTXt", b"Comment\x00\x00" + stream))


def _itxt_bomb(mb: int = 64) -> bytes:
    stream, _, _ = corpus.zeros_deflate(mb, raw=False)
    return _png(corpus.png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x01\x00en\x00\x00" + stream))


def _iccp_bomb(mb: int = 64) -> bytes:
    stream, _, _ = corpus.zeros_deflate(mb, raw=False)
    return _png(corpus.png_chunk(b"iCCP", b"icc\x00\x00" + stream))


def _pillow_png_with_text() -> bytes:
    """An ordinary PNG with a compressed comment (Pillow writes zTXt for zip=True) of a few kB."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "made by the hostile suite " * 200, zip=True)
    info.add_itxt("Description", "ordinary text " * 50, zip=True)
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


# ---- the measure -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("make", "kind"), [(_ztxt_bomb, "zTXt"), (_itxt_bomb, "iTXt"), (_iccp_bomb, "iCCP")])
def test_compressed_chunk_bombs_are_refused(tmp_path, make, kind):
    path = tmp_path / "b.png"
    path.write_bytes(make())
    sizes = png_text.compressed_text_sizes(path)
    assert [k for k, _ in sizes] == [kind]
    assert sizes[0][1] == png_text.MAX_CHUNK_BYTES + 1  # counted no further than the limit
    with pytest.raises(ToolError) as err:
        png_text.check(path, "b.png")
    assert err.value.code == ErrorCode.VALIDATION_ERROR and "b.png" in err.value.message


def test_ordinary_pngs_and_other_files_pass(tmp_path):
    ordinary = tmp_path / "ok.png"
    ordinary.write_bytes(_pillow_png_with_text())
    sizes = dict(png_text.compressed_text_sizes(ordinary))
    assert 5000 <= sizes["zTXt"] < 10000 and 600 <= sizes["iTXt"] < 1000  # what the text really inflates to
    png_text.check(ordinary, "ok.png")
    for name, data in (("j.jpg", corpus._image_bytes("jpeg")), ("t.png", _ztxt_bomb()[:60]), ("e.png", b"")):
        path = tmp_path / name
        path.write_bytes(data)
        png_text.check(path, name)  # not a PNG, or cut before any text chunk: nothing to say
    # a broken zlib stream counts what it gave before breaking, and is not an error here
    broken = tmp_path / "z.png"
    broken.write_bytes(_png(corpus.png_chunk(b"zTXt", b"Comment\x00\x00" + b"\x78\x9c" + b"\xff" * 40)))
    assert png_text.compressed_text_sizes(broken) == [("zTXt", 0)]


def test_many_bombs_add_up(tmp_path):
    stream, _, _ = corpus.zeros_deflate(7, raw=False)  # each under the per-chunk limit, 35 MB together
    path = tmp_path / "m.png"
    path.write_bytes(_png(b"".join(corpus.png_chunk(b"zTXt", b"C%d\x00\x00" % i + stream) for i in range(5))))
    with pytest.raises(ToolError):
        png_text.check(path, "m.png")


# ---- through the tools -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("tool_id", ["strip-metadata", "edit-metadata", "images-to-video"])
def test_the_tools_refuse_a_ztxt_bomb_at_once(tmp_path, tool_id):
    path = tmp_path / "z.png"
    path.write_bytes(_ztxt_bomb())
    settings = {"title": "x"} if tool_id == "edit-metadata" else {}
    with pytest.raises(ToolError) as err:
        run_tool(tool_id, path, settings, tmp_path)
    assert err.value.code == ErrorCode.VALIDATION_ERROR and "decompression bomb" in err.value.message


def test_strip_metadata_still_strips_ordinary_text(tmp_path):
    path = tmp_path / "ok.png"
    path.write_bytes(_pillow_png_with_text())
    result = run_tool("strip-metadata", path, {}, tmp_path)
    with Image.open(result.outputs[0]) as img:
        assert img.size == (40, 30) and "Comment" not in img.info and "Description" not in img.info


def test_split_audio_refuses_an_absurd_declared_duration_without_listing_it(tmp_path):
    clip = tmp_path / "v.mp4"
    corpus.ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=1", "-f", "lavfi", "-i", "sine=d=1", "-c:v",
                  "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(clip))
    # mvhd and mdhd declare 2^32 s (136 years) over 1 s of media, as in the corpus
    absurd = corpus._patch(clip.read_bytes(), b"mvhd", 16, struct.pack(">II", 1, 0xFFFFFFFF))
    absurd = corpus._patch(absurd, b"mdhd", 20, struct.pack(">I", 0xFFFFFFFF))
    path = tmp_path / "d.mp4"
    path.write_bytes(absurd)
    with pytest.raises(ToolError) as err:
        run_tool("split-audio", path, {"mode": "time", "segmentS": 30}, tmp_path)
    # refused from the count alone ("at least"), before a list of 143 million cuts is built
    assert err.value.code == ErrorCode.VALIDATION_ERROR and "at least" in err.value.message


def _clip(tmp_path: Path, name: str, *extra: str, video_s: float = 1, audio_s: float = 1) -> Path:
    path = tmp_path / name
    corpus.ffmpeg("-f", "lavfi", "-i", f"testsrc2=s=160x120:r=10:d={video_s:g}", "-f", "lavfi", "-i",
                  f"sine=d={audio_s:g}", *extra, str(path))
    return path


def _duration(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    return float(out)


def _absurd_mp4(tmp_path: Path) -> Path:
    clip = _clip(tmp_path, "v.mp4", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
                 "-shortest")
    absurd = corpus._patch(clip.read_bytes(), b"mvhd", 16, struct.pack(">II", 1, 0xFFFFFFFF))
    path = tmp_path / "d.mp4"
    path.write_bytes(corpus._patch(absurd, b"mdhd", 20, struct.pack(">I", 0xFFFFFFFF)))
    return path


def _absurd_webm(tmp_path: Path) -> Path:
    data = _clip(tmp_path, "v.webm", "-c:v", "libvpx-vp9", "-deadline", "realtime", "-c:a", "libopus",
                 "-shortest").read_bytes()
    at = data.find(b"\x44\x89")  # Segment Info Duration: 10^15 ms
    width = 8 if data[at + 2] == 0x88 else 4
    value = struct.pack(">d", 1e15) if width == 8 else struct.pack(">f", 1e15)
    path = tmp_path / "d.webm"
    path.write_bytes(data[: at + 3] + value + data[at + 3 + width:])
    return path


@pytest.mark.parametrize("make", [_absurd_mp4, _absurd_webm])
def test_merge_videos_uses_the_clips_real_length_not_the_declared_one(tmp_path, make):
    absurd = make(tmp_path)
    assert _duration(absurd) > 1e9  # what the header claims
    normal = _clip(tmp_path, "n.mp4", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
                   "-shortest")
    result = run_tool("merge-videos", [absurd, normal], {}, tmp_path)
    assert 1.8 < _duration(result.outputs[0]) < 2.3  # one second of each clip


def test_merge_videos_cuts_audio_that_outlasts_its_picture(tmp_path):
    long_audio = _clip(tmp_path, "la.mp4", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a",
                       "aac", video_s=1, audio_s=4)
    normal = _clip(tmp_path, "n.mp4", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
                   "-shortest")
    result = run_tool("merge-videos", [long_audio, normal], {}, tmp_path)
    out = result.outputs[0]
    assert 1.8 < _duration(out) < 2.3
    streams = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,duration", "-of", "csv=p=0",
                              str(out)], capture_output=True, text=True, timeout=30, check=True).stdout.split()
    lengths = {kind: float(value) for kind, value in (line.split(",") for line in streams)}
    assert abs(lengths["video"] - lengths["audio"]) < 0.15  # picture and sound end together
