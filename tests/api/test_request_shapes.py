"""Request shapes that real clients send (issue 18): batch with a shared second input, meme-generator as a
pipeline step, pdf-to-image under both sections, unknown-setting warnings, 405 with Allow, save-result as
multipart. Against a real server; the AI shapes are in test_ai_shapes.py."""

from __future__ import annotations

import io
import json
import zipfile
from urllib.parse import unquote

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.helpers import settings_field, wait_job


@pytest.fixture(scope="module")
def slow(make_server):
    """A server whose fast tools never finish within SYNC_WAIT_MS: every tool answers 202."""
    return make_server(sync_wait_ms=0)


def photo(colour=(40, 90, 160), size=(320, 240)) -> bytes:
    """A photo-like image: a gradient with a few shapes, so a change anywhere is measurable."""
    w, h = size
    x = np.linspace(0, 1, w)[None, :, None]
    y = np.linspace(0, 1, h)[:, None, None]
    base = np.clip(np.array(colour)[None, None, :] * (0.6 + 0.4 * x) + 60 * y, 0, 255).astype(np.uint8)
    img = Image.fromarray(base)
    d = ImageDraw.Draw(img)
    d.ellipse((40, 40, 140, 140), fill=(220, 200, 60))
    d.rectangle((180, 120, 280, 200), fill=(30, 30, 30))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def mark_png() -> bytes:
    img = Image.new("RGBA", (120, 60), (255, 0, 0, 255))
    ImageDraw.Draw(img).text((10, 20), "LUTRA", fill=(255, 255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def pixels(content: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(content)).convert("RGB")).astype(int)


def two_page_pdf() -> bytes:
    pages = [Image.new("RGB", (300, 400), c) for c in ("white", (200, 230, 255))]
    for i, page in enumerate(pages):
        ImageDraw.Draw(page).text((50, 50), f"Page {i + 1}", fill="black")
    buf = io.BytesIO()
    pages[0].save(buf, "PDF", save_all=True, append_images=pages[1:], resolution=72)
    return buf.getvalue()


# ---- wrong method -------------------------------------------------------------------------------------

def test_wrong_method_is_405_with_allow_header(client):
    r = client.get("/api/v1/tools/image/resize")
    assert r.status_code == 405, r.text
    assert r.json()["code"] == "METHOD_NOT_ALLOWED"
    assert r.headers["Allow"] == "POST" and "POST" in r.json()["error"]
    batch = client.put("/api/v1/tools/image/resize/batch")
    assert batch.status_code == 405 and batch.headers["Allow"] == "POST"
    # any API route, not only tools: the header names what the URL takes
    listing = client.delete("/api/v1/tools")
    assert listing.status_code == 405 and listing.json()["code"] == "METHOD_NOT_ALLOWED"
    assert listing.headers["Allow"] == "GET"
    # an unknown URL is still 404
    assert client.get("/api/v1/no-such-thing").json()["code"] == "NOT_FOUND"


# ---- pdf-to-image in both sections -------------------------------------------------------------------

def test_pdf_to_image_answers_under_image_and_pdf(client):
    pdf = two_page_pdf()
    for section in ("image", "pdf"):
        r = client.post(f"/api/v1/tools/{section}/pdf-to-image", files={"file": ("doc.pdf", pdf)},
                        data=settings_field({"format": "png", "pages": "2", "dpi": 72}))
        assert r.status_code == 200, (section, r.text)
        page = pixels(client.get(r.json()["downloadUrl"]).content)
        assert page.shape[:2] == (400, 300)
        assert tuple(page[300, 150]) == (200, 230, 255)  # the second page's colour
    info = client.post("/api/v1/tools/image/pdf-to-image/info", files={"file": ("doc.pdf", pdf)})
    assert info.status_code == 200 and info.json()["pageCount"] == 2, info.text
    # other tools still answer only in their own section
    wrong = client.post("/api/v1/tools/pdf/resize", files={"file": ("a.png", photo())})
    assert wrong.status_code == 404


# ---- unknown settings: warnings ----------------------------------------------------------------------

def test_misspelt_setting_is_ignored_with_a_warning(client):
    r = client.post("/api/v1/tools/image/resize", files={"file": ("a.png", photo())},
                    data=settings_field({"width": 160, "height": 160, "fitt": "contain"}))
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["warnings"]) == 1
    assert "'fitt'" in body["warnings"][0] and "did you mean 'fit'" in body["warnings"][0]
    out = pixels(client.get(body["downloadUrl"]).content)
    assert out.shape[:2] == (160, 160)  # answered as before: the default fit, the misspelt one ignored
    clean = client.post("/api/v1/tools/image/resize", files={"file": ("a.png", photo())},
                        data=settings_field({"width": 160, "fileId": None}))
    assert clean.status_code == 200 and "warnings" not in clean.json()
    # a JSON-body tool too; a name with nothing close says so without a guess
    qr = client.post("/api/v1/tools/image/qr-generate", json={"data": "https://example.org", "sizee": 300,
                                                              "zzqqxx": 1})
    assert qr.status_code == 200, qr.text
    warnings = qr.json()["warnings"]
    assert any("'sizee'" in w and "did you mean 'size'" in w for w in warnings)
    assert any("'zzqqxx'" in w and "did you mean" not in w for w in warnings)


def test_warnings_in_202_bodies_and_the_final_result(slow):
    with slow.client() as c:
        r = c.post("/api/v1/tools/image/rotate", files={"file": ("a.png", photo())},
                   data=settings_field({"angle": 90, "backgroud": "#ff0000"}))
        assert r.status_code == 202, r.text
        assert "did you mean 'background'" in r.json()["warnings"][0]
        frame = wait_job(c, r.json()["jobId"])
        assert frame["status"] == "completed"
        assert frame["result"]["warnings"] == r.json()["warnings"]
        assert c.get(f"/api/v1/jobs/{r.json()['jobId']}").json()["result"]["warnings"] == r.json()["warnings"]


def test_batch_warnings_travel_as_a_header(client):
    r = client.post("/api/v1/tools/image/resize/batch",
                    files=[("files", ("a.png", photo())), ("files", ("b.png", photo((200, 60, 60))))],
                    data=settings_field({"width": 100, "widht": 5}))
    assert r.status_code == 200, r.text
    warnings = json.loads(unquote(r.headers["X-Warnings"]))
    assert len(warnings) == 1 and "did you mean 'width'" in warnings[0]
    job = client.get(f"/api/v1/jobs/{r.headers['X-Job-Id']}").json()
    assert job["result"]["warnings"] == warnings


def test_pipeline_step_warnings(client):
    steps = [{"toolId": "resize", "settings": {"width": 120, "fitt": "cover"}},
             {"toolId": "rotate", "settings": {"angle": 90}}]
    r = client.post("/api/v1/pipeline/execute", files={"file": ("a.png", photo())},
                    data={"pipeline": json.dumps({"steps": steps})})
    assert r.status_code == 200, r.text
    assert len(r.json()["warnings"]) == 1 and r.json()["warnings"][0].startswith("Step 1: Unknown setting 'fitt'")
    assert "did you mean 'fit'" in r.json()["warnings"][0]


# ---- batch with a shared second input -----------------------------------------------------------------

def batch_outputs(r) -> dict[str, np.ndarray]:
    assert r.status_code == 200, r.text
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    return {name: pixels(archive.read(name)) for name in archive.namelist()}


def test_watermark_image_batch_shares_one_watermark(client):
    sources = {"a.png": photo(), "b.png": photo((180, 60, 60)), "c.png": photo((60, 160, 60))}
    parts = [("files", (name, data)) for name, data in sources.items()] + [("watermark", ("mark.png", mark_png()))]
    outs = batch_outputs(client.post("/api/v1/tools/image/watermark-image/batch", files=parts,
                                     data=settings_field({"opacity": 100, "position": "top-left", "scale": 30})))
    assert len(outs) == 3
    for name, source in sources.items():
        out_name = next(n for n in outs if n.startswith(name.split(".")[0]))
        out, before = outs[out_name], pixels(source)
        assert out.shape == before.shape
        corner = out[5:20, 5:60]  # the red watermark, fully opaque, in the top-left corner
        assert corner[..., 0].mean() > 200 and corner[..., 1].mean() < 80, name
        assert np.abs(out[200:, 200:] - before[200:, 200:]).max() <= 2  # the rest untouched
    missing = client.post("/api/v1/tools/image/watermark-image/batch",
                          files=[("files", ("a.png", photo())), ("files", ("b.png", photo()))])
    assert missing.status_code == 400 and "watermark" in missing.json()["error"]
    twice = client.post("/api/v1/tools/image/watermark-image/batch",
                        files=[("files", ("a.png", photo())), ("watermark", ("m.png", mark_png())),
                               ("watermark", ("n.png", mark_png()))])
    assert twice.status_code == 400


def test_beautify_batch_with_and_without_a_shared_background(client):
    files = [("files", ("a.png", photo())), ("files", ("b.png", photo((200, 60, 60))))]
    plain = batch_outputs(client.post("/api/v1/tools/image/beautify/batch", files=files,
                                      data=settings_field({"padding": 40, "backgroundType": "solid",
                                                           "backgroundColor": "#00ff00", "shadowPreset": "none"})))
    assert len(plain) == 2
    for out in plain.values():
        assert out.shape[:2] == (240 + 80, 320 + 80) and tuple(out[5, 5]) == (0, 255, 0)
    background = Image.new("RGB", (50, 50), (255, 0, 255))
    buf = io.BytesIO()
    background.save(buf, "PNG")
    shared = batch_outputs(client.post(
        "/api/v1/tools/image/beautify/batch", files=[*files, ("background", ("bg.png", buf.getvalue()))],
        data=settings_field({"padding": 40, "backgroundType": "image", "shadowPreset": "none"})))
    assert len(shared) == 2
    for out in shared.values():
        assert np.abs(out[5, 5] - (255, 0, 255)).max() < 10  # the shared background behind every file


def test_meme_generator_batch_captions_each_file(client):
    sources = [photo(), photo((60, 160, 60))]
    r = client.post("/api/v1/tools/image/meme-generator/batch",
                    files=[("files", (f"m{i}.png", s)) for i, s in enumerate(sources)],
                    data=settings_field({"textBoxes": [{"text": "TOP"}, {"text": "BOTTOM"}],
                                         "textColor": "#ffffff"}))
    outs = batch_outputs(r)
    assert len(outs) == 2
    for i, source in enumerate(sources):
        out = next(v for k, v in outs.items() if k.startswith(f"m{i}"))
        before = pixels(source)
        assert out.shape == before.shape
        top = np.abs(out[:60] - before[:60]).max(axis=2)
        assert (top > 100).sum() > 200  # white text drawn over the top of each image


# ---- meme-generator as a pipeline step ---------------------------------------------------------------

def test_meme_generator_custom_image_is_a_pipeline_step(client):
    assert "meme-generator" in client.get("/api/v1/pipeline/tools").json()["toolIds"]
    steps = [{"toolId": "resize", "settings": {"width": 400}},
             {"toolId": "meme-generator", "settings": {"textBoxes": [{"text": "HELLO"}], "textLayout": "top-only"}}]
    r = client.post("/api/v1/pipeline/execute", files={"file": ("a.png", photo())},
                    data={"pipeline": json.dumps({"steps": steps})})
    assert r.status_code == 200, r.text
    assert [s["toolId"] for s in r.json()["steps"]] == ["resize", "meme-generator"]
    out = pixels(client.get(r.json()["downloadUrl"]).content)
    resized = np.asarray(Image.open(io.BytesIO(photo())).convert("RGB").resize((400, 300))).astype(int)
    assert out.shape[:2] == (300, 400)
    assert (np.abs(out[:80] - resized[:80]).max(axis=2) > 100).sum() > 200  # the caption at the top
    template = client.post("/api/v1/pipeline/execute", files={"file": ("a.png", photo())},
                           data={"pipeline": json.dumps({"steps": [
                               {"toolId": "meme-generator", "settings": {"templateId": "drake"}}]})})
    assert template.status_code == 400 and "template mode" in template.json()["error"]
    assert "Step 1" in template.json()["error"]


# ---- files/save-result as multipart ------------------------------------------------------------------

def test_save_result_accepts_multipart(client):
    up = client.post("/api/v1/files/upload", files={"file": ("orig.png", photo())})
    assert up.status_code == 201, up.text
    parent = up.json()["files"][0]
    result = client.post("/api/v1/tools/image/rotate", files={"file": ("orig.png", photo())},
                         data=settings_field({"angle": 90}))
    rotated = client.get(result.json()["downloadUrl"]).content
    r = client.post("/api/v1/files/save-result", files={"file": ("orig-rotated.png", rotated)},
                    data={"parentId": parent["id"], "toolId": "rotate"})
    assert r.status_code == 201, r.text
    saved = r.json()["file"]
    assert saved["parentId"] == parent["id"] and saved["version"] == 2
    assert saved["toolChain"] == ["rotate"] and (saved["width"], saved["height"]) == (240, 320)
    stored = client.get(f"/api/v1/files/{saved['id']}/download").content
    assert stored == rotated
    # without a parent: a new file; bad shapes are 400/404, never 500
    alone = client.post("/api/v1/files/save-result", files={"file": ("x.png", rotated)})
    assert alone.status_code == 201 and alone.json()["file"]["parentId"] is None
    assert client.post("/api/v1/files/save-result", data={"parentId": parent["id"]},
                       files={"other": ("x.png", rotated)}).status_code == 400
    assert client.post("/api/v1/files/save-result", files={"file": ("x.png", rotated)},
                       data={"parentId": "00000000-0000-4000-8000-000000000000"}).status_code == 404
    # the JSON form still works
    again = client.post("/api/v1/files/save-result", json={"jobId": result.json()["jobId"], "parentId": parent["id"]})
    assert again.status_code == 201 and again.json()["file"]["version"] == 3  # the chain grows
