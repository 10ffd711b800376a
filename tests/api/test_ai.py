"""The AI tools and the Features API over HTTP against a real server with its own DATA_DIR."""

from __future__ import annotations

import difflib
import io

import pytest
from PIL import Image, ImageDraw, ImageFont

from tests.helpers import settings_field, wait_job

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SENTENCE = "The quick brown fox jumps over the lazy dog"


@pytest.fixture(scope="module")
def ai(make_server):
    return make_server(concurrent_jobs=2)


@pytest.fixture()
def api(ai):
    with ai.client() as c:
        yield c


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def text_png() -> bytes:
    img = Image.new("RGB", (900, 140), "white")
    ImageDraw.Draw(img).text((30, 50), SENTENCE, fill="black", font=ImageFont.truetype(FONT, 34))
    return png_bytes(img)


def post(api, tool, content, name="in.png", settings=None, section="image", **files):
    parts = {"file": (name, content)}
    parts.update(files)
    return api.post(f"/api/v1/tools/{section}/{tool}", files=parts, data=settings_field(settings or {}))


def outcome(api, r) -> dict:
    """A tool run's end as a terminal frame: AI image tools answer like fast tools (200 when done within
    SYNC_WAIT_MS, a 4xx when they failed in time), else 202 and the job's SSE stream."""
    if r.status_code == 202:
        return wait_job(api, r.json()["jobId"], timeout=300)
    body = r.json()
    if r.status_code == 200:
        return {"jobId": body["jobId"], "status": "completed", "progress": 100, "result": body}
    assert r.status_code in (400, 404, 409, 413, 415, 422, 504), r.text
    return {"status": "failed", "code": body["code"], "error": body["error"]}


def run_long(api, tool, content, name="in.png", settings=None, section="image", **files):
    return outcome(api, post(api, tool, content, name, settings, section, **files))


def install(api, bundle_id):
    r = api.post(f"/api/v1/admin/features/{bundle_id}/install")
    assert r.status_code == 202, r.text
    frame = wait_job(api, r.json()["jobId"], timeout=600)
    assert frame["status"] == "completed", frame
    assert frame["result"]["bundleId"] == bundle_id
    return frame


def bundles(api) -> dict:
    r = api.get("/api/v1/features")
    assert r.status_code == 200
    return {b["id"]: b for b in r.json()["bundles"]}


def test_features_list_shapes(api):
    listed = bundles(api)
    assert {"ocr", "background-removal", "face-detection", "upscale-enhance", "transcription"} <= set(listed)
    ocr = listed["ocr"]
    assert ocr["size"] > 1_000_000 and "ocr" in ocr["enabledTools"]
    assert ocr["status"] in ("installed", "not_installed")


def test_missing_bundle_is_501_then_install_then_ocr(api):
    assert bundles(api)["ocr"]["status"] == "not_installed"
    r = post(api, "ocr", text_png(), settings={"quality": "balanced"})
    assert r.status_code == 501, r.text
    body = r.json()
    assert body["code"] == "FEATURE_NOT_INSTALLED" and "'ocr'" in body["error"] and "MB" in body["error"]
    # the fast tier (Tesseract) needs no bundle
    frame = run_long(api, "ocr", text_png(), settings={"quality": "fast"})
    assert frame["status"] == "completed", frame
    install(api, "ocr")
    assert bundles(api)["ocr"]["status"] == "installed"
    frame = run_long(api, "ocr", text_png(), settings={"quality": "balanced"})
    assert frame["status"] == "completed", frame
    result = frame["result"]
    ratio = difflib.SequenceMatcher(None, SENTENCE, " ".join(result["text"].split())).ratio()
    assert ratio >= 0.95, result["text"]
    assert result["words"] and {"text", "confidence", "box"} <= set(result["words"][0])
    txt = api.get(result["downloadUrl"])
    assert txt.status_code == 200 and "fox" in txt.text
    usage = api.get("/api/v1/admin/features/disk-usage").json()
    assert usage["totalBytes"] > 1_000_000 and any(b["id"] == "ocr" for b in usage["bundles"])


def vision_models(api) -> dict:
    """The vision actor's details in admin health: {"loads": all model loads, "models": {name: entry}}."""
    r = api.get("/api/v1/admin/health")
    assert r.status_code == 200, r.text
    details = r.json()["queue"]["actors"]["vision"]["details"]
    return {"loads": details["modelLoads"], "models": {m["model"]: m for m in details["loadedModels"]}}


def test_second_ocr_request_does_not_reload_the_model(api):
    if bundles(api)["ocr"]["status"] != "installed":
        install(api, "ocr")
    assert run_long(api, "ocr", text_png(), settings={"quality": "balanced"})["status"] == "completed"
    first = vision_models(api)
    engine = first["models"]["ocr/ppocr"]
    assert engine["loads"] == 1 and engine["loadMs"] > 0 and engine["bundle"] == "ocr"
    # what is resident, against the default MODEL_MEMORY_MB
    memory = api.get("/api/v1/admin/health").json()["queue"]["actors"]["vision"]["details"]["modelMemory"]
    assert memory["budgetMb"] == 1024 and memory["residentModelsMb"] >= engine["memoryMb"] > 0
    assert memory["processRssMb"] > memory["residentModelsMb"]
    frame = run_long(api, "ocr", text_png(), settings={"quality": "balanced"})
    assert frame["status"] == "completed" and "fox" in frame["result"]["text"]
    second = vision_models(api)
    assert second["loads"] == first["loads"]  # no model of any kind was loaded for the second job
    again = second["models"]["ocr/ppocr"]
    assert again["loads"] == 1 and again["loadedAt"] == engine["loadedAt"] and again["uses"] == engine["uses"] + 1


def test_uninstall_and_unknown_bundle(api):
    assert api.post("/api/v1/admin/features/nope/install").status_code == 404
    assert api.post("/api/v1/admin/features/nope/uninstall").status_code == 404
    r = api.post("/api/v1/admin/features/upscale-enhance/uninstall")
    assert r.status_code == 200 and r.json()["ok"] is True


def test_features_need_permission(ai, api):
    r = api.post("/api/auth/register", json={"username": "plainuser", "password": "Secret-pass-123",
                                              "role": "user", "mustChangePassword": False})
    assert r.status_code in (200, 201), r.text
    token = ai.login("plainuser", "Secret-pass-123")
    with ai.client(token) as user:
        assert user.get("/api/v1/features").status_code == 200
        assert user.post("/api/v1/admin/features/ocr/install").status_code == 403
        assert user.get("/api/v1/admin/features/disk-usage").status_code == 403
    with ai.client(None) as anon:
        assert anon.get("/api/v1/features").status_code == 401


def test_ocr_wrong_kind_and_bad_settings(api):
    r = post(api, "ocr", b"just some text, not an image", name="notes.txt", settings={"quality": "fast"})
    assert r.status_code == 415 and r.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    r = post(api, "ocr", text_png(), settings={"quality": "ultra"})
    assert r.status_code == 400 and r.json()["code"] == "VALIDATION_ERROR"
    frame = run_long(api, "ocr", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, settings={"quality": "fast"})
    assert frame["status"] == "failed" and frame["code"] == "VALIDATION_ERROR"


def test_ocr_pdf_via_api(api):
    img = Image.open(io.BytesIO(text_png()))
    buf = io.BytesIO()
    img.save(buf, "PDF", resolution=150)
    frame = run_long(api, "ocr-pdf", buf.getvalue(), name="scan.pdf", settings={"quality": "fast"}, section="pdf")
    assert frame["status"] == "completed", frame
    pdf = api.get(frame["result"]["downloadUrl"]).content
    assert pdf.startswith(b"%PDF") and "fox" in frame["result"]["text"]


def figure_png() -> bytes:
    img = Image.new("RGB", (400, 300), (235, 235, 230))
    d = ImageDraw.Draw(img)
    d.ellipse((160, 40, 240, 120), fill=(200, 140, 110))
    d.rounded_rectangle((120, 115, 280, 300), radius=40, fill=(30, 60, 160))
    return png_bytes(img)


def test_remove_background_and_effects_via_api(api):
    r = post(api, "remove-background", figure_png())
    if r.status_code == 501:
        install(api, "background-removal")
        r = post(api, "remove-background", figure_png())
    frame = outcome(api, r)
    assert frame["status"] == "completed", frame
    cut = Image.open(io.BytesIO(api.get(frame["result"]["downloadUrl"]).content))
    assert cut.mode == "RGBA" and cut.getpixel((5, 5))[3] < 20 and cut.getpixel((200, 200))[3] > 230
    # effects: JSON body, reuses the cached mask, answers at once (FAST)
    e = api.post("/api/v1/tools/image/remove-background/effects",
                 json={"jobId": frame["jobId"], "backgroundType": "color", "backgroundColor": "#ff0000"})
    assert e.status_code == 200, e.text
    red = Image.open(io.BytesIO(api.get(e.json()["downloadUrl"]).content)).convert("RGB")
    assert red.getpixel((5, 5)) == (255, 0, 0)
    missing = api.post("/api/v1/tools/image/remove-background/effects",
                       json={"jobId": "00000000-0000-4000-8000-000000000000"})
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
    # a second request does not reload the model: admin health shows one load of ISNet, used twice
    first = vision_models(api)["models"]["background-removal/isnet.onnx"]
    r2 = post(api, "blur-background", figure_png(), settings={"intensity": 30})
    assert outcome(api, r2)["status"] == "completed"
    again = vision_models(api)["models"]["background-removal/isnet.onnx"]
    assert first["loads"] == again["loads"] == 1
    assert again["uses"] == first["uses"] + 1 and again["loadedAt"] == first["loadedAt"]


def astronaut_png() -> bytes:
    from skimage import data

    return png_bytes(Image.fromarray(data.astronaut()))


def test_face_tools_and_worker_tools_via_api(api):
    r = post(api, "blur-faces", astronaut_png())
    if r.status_code == 501:
        assert "face-detection" in r.json()["error"]
        install(api, "face-detection")
        r = post(api, "blur-faces", astronaut_png())
    frame = outcome(api, r)
    assert frame["status"] == "completed" and frame["result"]["facesFound"] >= 1, frame
    # a model-free tool that runs in a worker process, answering synchronously (FAST sub-route)
    a = post(api, "image-enhancement/analyze", astronaut_png())
    assert a.status_code == 200, a.text
    assert 0 < a.json()["metrics"]["brightness"] < 1
    frame = run_long(api, "content-aware-resize", astronaut_png(), settings={"width": 480})
    assert frame["status"] == "completed" and frame["result"]["width"] == 480, frame
    bad = post(api, "content-aware-resize", astronaut_png(), settings={})
    assert bad.status_code == 400


def test_passport_analyze_then_generate_via_api(api):
    for bundle_id in ("face-detection", "background-removal"):
        if bundles(api)[bundle_id]["status"] != "installed":
            install(api, bundle_id)
    frame = run_long(api, "passport-photo/analyze", astronaut_png(), settings={"country": "de"})
    assert frame["status"] == "completed", frame
    analysis = frame["result"]
    assert analysis["chinY"] > analysis["crownY"] and analysis["face"]["width"] > 50
    g = api.post("/api/v1/tools/image/passport-photo/generate",
                 json={"jobId": analysis["jobId"], "country": "de", "printLayout": "A4"})
    assert g.status_code == 200, g.text
    body = g.json()
    assert body["widthPx"] == 413 and body["heightPx"] == 531 and body["copies"] >= 12
    assert api.get(body["downloadUrl"]).content[:2] == b"PK"  # photo + sheet come zipped


def test_url_only_bundles_answer_501_with_name_and_size(api):
    img = png_bytes(Image.new("RGB", (64, 48), "blue"))
    mask = png_bytes(Image.new("L", (64, 48), 255))
    r = post(api, "erase-object", img, mask=("mask.png", mask))
    assert r.status_code == 501, r.text
    assert "object-eraser-colorize" in r.json()["error"] and "MB" in r.json()["error"]
    assert post(api, "colorize", img).status_code == 501
    assert post(api, "enhance-faces", img).status_code == 501
    assert post(api, "remove-background", img, settings={"model": "birefnet"}).status_code == 501
    # the fast canvas tier and default restore-photo need no bundle
    frame = run_long(api, "ai-canvas-expand", img, settings={"extendTop": 10, "tier": "fast"})
    assert frame["status"] == "completed", frame
    listed = bundles(api)
    assert listed["object-eraser-colorize"]["offlineSource"] is False
    assert api.post("/api/v1/tools/image/erase-object", files={"file": ("a.png", img)}).status_code == 400
