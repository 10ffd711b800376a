"""AI request shapes that real clients send (issue 18): AI image tools answer 200 when done within SYNC_WAIT_MS,
multipart bodies for passport-photo/generate and remove-background/effects, landmarks in /analyze's answer,
country codes in any case, batch of remove-background, upscale's faceEnhance. Against a real server."""

from __future__ import annotations

import io
import json
import zipfile
from urllib.parse import unquote

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.api.test_ai import astronaut_png, bundles, figure_png, install, outcome, png_bytes, post
from tests.helpers import settings_field, wait_job


@pytest.fixture(scope="module")
def ai(make_server):
    """SYNC_WAIT_MS of 10 minutes: an AI image tool's request waits for its result like a fast tool's, however
    busy the machine (what SYNC_WAIT_MS is, is tested with the fast tools; here: that AI tools wait too)."""
    return make_server(concurrent_jobs=2, sync_wait_ms=600_000)


@pytest.fixture(scope="module")
def api(ai):
    with ai.client(timeout=300) as c:
        for bundle_id in ("face-detection", "background-removal"):
            if bundles(c)[bundle_id]["status"] != "installed":
                install(c, bundle_id)
        yield c


def settings_part(settings: dict) -> dict:
    """A multipart body of a `settings` part alone (as a browser's FormData sends it; httpx would send a
    urlencoded form for `data=` without files)."""
    return {"settings": (None, json.dumps(settings), "application/json")}


def pixels(api, url: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(api.get(url).content)).convert("RGBA")).astype(int)


def test_ai_image_tool_answers_200_when_done_in_time(api):
    r = post(api, "remove-background", figure_png())
    assert r.status_code == 200, r.text  # done within SYNC_WAIT_MS: 200 with the result, as a fast tool
    body = r.json()
    assert {"jobId", "downloadUrl", "originalSize", "processedSize", "subjectCoverage"} <= set(body)
    cut = pixels(api, body["downloadUrl"])
    assert cut[5, 5, 3] < 20 and cut[200, 200, 3] > 230
    # the job's record says the same (GET /jobs/:id, as after a 202)
    assert api.get(f"/api/v1/jobs/{body['jobId']}").json()["result"] == body
    # a model-free AI image tool (seam carving, in a worker process) too
    car = post(api, "content-aware-resize", figure_png(), settings={"width": 300})
    assert car.status_code == 200 and car.json()["width"] == 300, car.text
    # long tools of other sections keep answering 202 at once
    pdf = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(pdf, "PDF")
    r = api.post("/api/v1/tools/pdf/ocr-pdf", files={"file": ("a.pdf", pdf.getvalue())},
                 data=settings_field({"quality": "fast"}))
    assert r.status_code == 202 and r.json()["async"] is True


def test_ai_image_tool_answers_202_when_not_done_in_time(make_server):
    srv = make_server(sync_wait_ms=0)
    with srv.client() as c:
        r = post(c, "remove-background", figure_png())  # no bundle: refused up front, as before
        assert r.status_code == 501 and r.json()["code"] == "FEATURE_NOT_INSTALLED"
        r = post(c, "content-aware-resize", figure_png(), settings={"width": 300})
        assert r.status_code == 202 and r.json()["async"] is True
        frame = outcome(c, r)
        assert frame["status"] == "completed" and frame["result"]["width"] == 300


def test_effects_accept_multipart_with_a_background_image(api):
    first = outcome(api, post(api, "remove-background", figure_png()))
    assert first["status"] == "completed", first
    job_id = first["jobId"]
    # multipart: a settings part, and a backgroundImage file for backgroundType=image
    background = png_bytes(Image.new("RGB", (64, 64), (0, 200, 0)))
    r = api.post("/api/v1/tools/image/remove-background/effects",
                 files={"backgroundImage": ("bg.png", background)},
                 data=settings_field({"jobId": job_id, "backgroundType": "image"}))
    assert r.status_code == 200, r.text
    out = pixels(api, r.json()["downloadUrl"])
    assert tuple(out[5, 5, :3]) == (0, 200, 0)  # the new background where the old one was
    assert abs(out[200, 200, 2] - 160) < 30  # the subject (blue body) kept
    # multipart with settings only, and JSON, both still work
    red = api.post("/api/v1/tools/image/remove-background/effects",
                   files=settings_part({"jobId": job_id, "backgroundType": "color", "backgroundColor": "#ff0000"}))
    assert red.status_code == 200, red.text
    assert tuple(pixels(api, red.json()["downloadUrl"])[5, 5, :3]) == (255, 0, 0)
    as_json = api.post("/api/v1/tools/image/remove-background/effects",
                       json={"jobId": job_id, "backgroundType": "color", "backgroundColor": "#0000ff"})
    assert as_json.status_code == 200 and tuple(pixels(api, as_json.json()["downloadUrl"])[5, 5, :3]) == (0, 0, 255)
    # an image background without the image is a 400 that says what to send; a non-image is a 415
    bare = api.post("/api/v1/tools/image/remove-background/effects",
                    files=settings_part({"jobId": job_id, "backgroundType": "image"}))
    assert bare.status_code == 400 and "backgroundImage" in bare.json()["error"]
    text = api.post("/api/v1/tools/image/remove-background/effects", files={"backgroundImage": ("a.txt", b"hello")},
                    data=settings_field({"jobId": job_id, "backgroundType": "image"}))
    assert text.status_code == 415


def test_passport_landmarks_in_the_answer_any_case_country_and_multipart_generate(api):
    r = post(api, "passport-photo/analyze", astronaut_png(), settings={"country": "DE"})
    assert r.status_code == 200, r.text  # the landmarks in the answer, not only in a JSON file to download
    analysis = r.json()
    marks = analysis["landmarks"]
    assert marks["chinY"] > marks["crownY"] and marks["face"]["width"] > 50
    assert 0 <= marks["face"]["x"] < marks["face"]["x"] + marks["face"]["width"] <= 512  # astronaut: 512x512
    assert analysis["country"]["code"] == "de"
    g = api.post("/api/v1/tools/image/passport-photo/generate",
                 files=settings_part({"jobId": analysis["jobId"], "country": "De", "printLayout": "4x6",
                                      "crownY": marks["crownY"], "chinY": marks["chinY"]}))
    assert g.status_code == 200, g.text
    body = g.json()
    assert (body["widthPx"], body["heightPx"]) == (413, 531) and body["copies"] >= 4
    with zipfile.ZipFile(io.BytesIO(api.get(body["downloadUrl"]).content)) as archive:
        assert len(archive.namelist()) == 2
    whole = post(api, "passport-photo", astronaut_png(), settings={"country": "US"})
    done = outcome(api, whole)
    assert done["status"] == "completed", done
    assert (done["result"]["widthPx"], done["result"]["heightPx"]) == (600, 600)  # US: 2x2 in at 300 dpi
    bad = post(api, "passport-photo", astronaut_png(), settings={"country": "XX"})
    assert bad.status_code == 400


def test_remove_background_batch(api):
    light = Image.new("RGB", (400, 300), (235, 235, 230))
    ImageDraw.Draw(light).ellipse((120, 60, 280, 280), fill=(150, 40, 40))
    r = api.post("/api/v1/tools/image/remove-background/batch",
                 files=[("files", ("a.png", figure_png())), ("files", ("b.png", png_bytes(light)))],
                 data=settings_field({"backgroundType": "color", "backgroundColor": "#00ff00"}))
    assert r.status_code == 200, r.text
    results = json.loads(unquote(r.headers["X-File-Results"]))
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        assert len(archive.namelist()) == 2
        for name in archive.namelist():
            out = np.asarray(Image.open(io.BytesIO(archive.read(name))).convert("RGB")).astype(int)
            assert tuple(out[5, 5]) == (0, 255, 0), name  # background replaced in every file
            assert out[200, 200, 1] < 120, name  # the subject kept
    assert set(results) == {"0", "1"}


def test_upscale_face_enhance_needs_the_face_bundles(api):
    """faceEnhance is the reference's setting: without photo-restoration it is refused up front with the usual
    501 naming that bundle (never silently ignored); without faceEnhance no face bundle is needed."""
    listed = bundles(api)
    assert listed["photo-restoration"]["status"] == "not_installed"
    if listed["upscale-enhance"]["status"] != "installed":
        install(api, "upscale-enhance")
    img = png_bytes(Image.new("RGB", (48, 32), (90, 120, 200)))
    r = post(api, "upscale", img, settings={"scale": 2, "faceEnhance": True})
    assert r.status_code == 501, r.text
    assert r.json()["code"] == "FEATURE_NOT_INSTALLED" and "photo-restoration" in r.json()["error"]
    plain = outcome(api, post(api, "upscale", img, settings={"scale": 2}))
    assert plain["status"] == "completed" and plain["result"]["width"] == 96, plain


def test_bundle_list_says_installing_once_the_install_is_accepted(api):
    assert bundles(api)["ocr"]["status"] == "not_installed"
    r = api.post("/api/v1/admin/features/ocr/install")
    assert r.status_code == 202, r.text
    assert bundles(api)["ocr"]["status"] in ("installing", "installed")  # never not_installed after the 202
    assert wait_job(api, r.json()["jobId"], timeout=600)["status"] == "completed"
    assert bundles(api)["ocr"]["status"] == "installed"
