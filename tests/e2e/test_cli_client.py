"""End to end: `lutra call` and `lutra pipeline run` against a live server, with the URL and API key from the
environment: a resize, a batch, a pipeline, a long job followed through SSE, generated --help, errors."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import ROOT


@pytest.fixture(scope="module")
def cli_env(server):
    with server.client() as c:
        r = c.post("/api/v1/api-keys", json={"name": "cli-e2e", "permissions": ["tools:use"]})
        assert r.status_code == 201, r.text
        key = r.json()["key"]
    return {**os.environ, "LUTRA_URL": server.base_url, "LUTRA_API_KEY": key}


def lutra(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "service.cli", *args], cwd=cwd, env={**env, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=300)


def make_jpeg(path: Path, size: tuple[int, int], color: tuple[int, int, int]) -> Path:
    Image.new("RGB", size, color).save(path, quality=95)
    return path


def test_call_resize_round_trip(cli_env, tmp_path):
    src = make_jpeg(tmp_path / "photo.jpg", (400, 200), (200, 40, 40))
    out = tmp_path / "small.jpg"
    done = lutra(["call", "image/resize", "photo.jpg", "--width", "100", "-o", str(out)], cli_env, tmp_path)
    assert done.returncode == 0, done.stderr
    with Image.open(out) as img:
        assert img.format == "JPEG" and img.size == (100, 50)
        assert img.getpixel((50, 25))[0] > 150  # still the red picture
    assert f"wrote {out}" in done.stderr
    assert src.exists()


def test_call_batch_round_trip(cli_env, tmp_path):
    make_jpeg(tmp_path / "a.jpg", (300, 200), (10, 200, 10))
    make_jpeg(tmp_path / "b.jpg", (120, 90), (10, 10, 200))
    out = tmp_path / "out.zip"
    done = lutra(["call", "--batch", "image/compress", "a.jpg", "b.jpg", "--quality", "40", "-o", str(out)],
                 cli_env, tmp_path)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as z:
        names = sorted(z.namelist())
        assert len(names) == 2
        sizes = sorted(Image.open(io.BytesIO(z.read(n))).size for n in names)
    assert sizes == [(120, 90), (300, 200)]


def test_pipeline_run_round_trip(cli_env, tmp_path):
    make_jpeg(tmp_path / "in.jpg", (320, 160), (250, 250, 0))
    steps = tmp_path / "steps.json"
    steps.write_text(json.dumps({"steps": [{"toolId": "resize", "settings": {"width": 64}},
                                           {"toolId": "convert", "settings": {"format": "png"}}]}))
    out = tmp_path / "out.png"
    done = lutra(["pipeline", "run", "steps.json", "in.jpg", "-o", str(out)], cli_env, tmp_path)
    assert done.returncode == 0, done.stderr
    with Image.open(out) as img:
        assert img.format == "PNG" and img.size == (64, 32)
    assert json.loads(done.stdout)["stepsCompleted"] == 2


def test_long_job_is_followed_through_its_progress_stream(cli_env, tmp_path):
    (tmp_path / "notes.md").write_text("# Release notes\n\nEverything *works*.\n")
    out = tmp_path / "notes.pdf"
    done = lutra(["call", "pdf/markdown-to-pdf", "notes.md", "-o", str(out)], cli_env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF-")
    assert "100.0% completed" in done.stderr  # the bar, fed by the SSE frames


def test_help_lists_the_settings_flags_from_the_schema(cli_env, tmp_path):
    done = lutra(["call", "image/resize", "--help"], cli_env, tmp_path)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    for flag in ("--width INT", "--height INT", "--without-enlargement", "--percentage NUM", "--batch", "-o"):
        assert flag in text
    assert "{cover,contain,fill,inside,outside}" in text and "range 1..65535" in text
    # with no tool: the list of tools
    listing = lutra(["call"], cli_env, tmp_path)
    assert listing.returncode == 0 and "image/resize" in listing.stdout and "pdf/merge-pdf" in listing.stdout


def test_errors_are_reported_with_their_code(cli_env, tmp_path):
    make_jpeg(tmp_path / "photo.jpg", (40, 40), (0, 0, 0))
    bad = lutra(["call", "image/resize", "photo.jpg", "--width", "0"], cli_env, tmp_path)
    assert bad.returncode == 1
    assert "400 VALIDATION_ERROR" in bad.stderr and "width" in bad.stderr
    wrong_kind = lutra(["call", "pdf/merge-pdf", "photo.jpg", "photo.jpg"], cli_env, tmp_path)
    assert wrong_kind.returncode == 1 and "415 UNSUPPORTED_MEDIA_TYPE" in wrong_kind.stderr
    no_key = lutra(["call", "image/resize", "photo.jpg", "--width", "10"], {**cli_env, "LUTRA_API_KEY": ""}, tmp_path)
    assert no_key.returncode == 1 and "401 AUTH_REQUIRED" in no_key.stderr
    unknown = lutra(["call", "image/no-such-tool", "photo.jpg"], cli_env, tmp_path)
    assert unknown.returncode == 2 and "unknown tool" in unknown.stderr
    assert not (tmp_path / "photo-resized.jpg").exists()


def test_installed_entry_point_with_server_and_key_as_flags(cli_env, tmp_path):
    """The `lutra` console script (pyproject [project.scripts]) with --server/--api-key instead of the
    environment; a pipeline over several files comes back as one ZIP."""
    entry = Path(sys.executable).with_name("lutra")
    assert entry.is_file(), "the lutra entry point is not installed (pip install -e .)"
    env = {k: v for k, v in cli_env.items() if k not in ("LUTRA_URL", "LUTRA_API_KEY")}
    flags = ["--server", cli_env["LUTRA_URL"], "--api-key", cli_env["LUTRA_API_KEY"]]
    make_jpeg(tmp_path / "photo.jpg", (400, 200), (200, 40, 40))
    out = tmp_path / "small.jpg"
    done = subprocess.run([str(entry), "call", "image/resize", "photo.jpg", "--width", "80", *flags, "-o", str(out)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with Image.open(out) as img:
        assert img.size == (80, 40)

    make_jpeg(tmp_path / "second.jpg", (100, 100), (0, 200, 0))
    (tmp_path / "steps.json").write_text(json.dumps([{"toolId": "resize", "settings": {"width": 50}},
                                                     {"toolId": "convert", "settings": {"format": "webp"}}]))
    zipped = tmp_path / "both.zip"
    done = subprocess.run([str(entry), "pipeline", "run", "steps.json", "photo.jpg", "second.jpg", *flags,
                           "-o", str(zipped)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(zipped) as z:
        sizes = sorted(Image.open(io.BytesIO(z.read(n))).size for n in z.namelist())
        formats = {Image.open(io.BytesIO(z.read(n))).format for n in z.namelist()}
    assert sizes == [(50, 25), (50, 50)] and formats == {"WEBP"}

    # a wrong key given as a flag is used (and refused), not silently replaced by anything else
    bad = subprocess.run([str(entry), "call", "image/resize", "photo.jpg", "--width", "10", "--server",
                          cli_env["LUTRA_URL"], "--api-key", "si_" + "0" * 96], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and "401" in bad.stderr
