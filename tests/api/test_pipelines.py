"""Pipelines through a real server: execute, batch, progress, validation, saved pipelines, ownership."""

from __future__ import annotations

import io
import json
import time
import zipfile
from urllib.parse import unquote

import pytest

from protocols.tools import REGISTRY
from tests.api._workspace import image_format, image_size, make_pdf, make_user, pdf_pages, pipeline_field
from tests.helpers import wait_job

THREE_STEPS = (("resize", {"width": 200}), ("convert", {"format": "png"}), ("compress", {"quality": 70}))


@pytest.fixture(scope="module")
def other(server):
    _name, token = make_user(server, "user")
    with server.client(token) as c:
        yield c


@pytest.fixture(scope="module")
def async_server(make_server):
    """SYNC_WAIT_MS=0: every pipeline answers 202 at once, so its progress stream can be followed."""
    return make_server(sync_wait_ms="0")


def execute(client, data: bytes, *steps, name: str = "photo.jpg", **extra):
    return client.post("/api/v1/pipeline/execute", files={"file": (name, data)},
                       data={**pipeline_field(*steps), **extra})


def registered(*tool_ids: str) -> bool:
    from actors import catalog

    catalog.load()
    return all(t in REGISTRY for t in tool_ids)


# ---- execute ---------------------------------------------------------------------------------------------

def test_three_steps_chain_outputs(client, server, samples):
    r = execute(client, (samples / "photo.jpg").read_bytes(), *THREE_STEPS)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["stepsCompleted"] == 3
    assert [s["toolId"] for s in body["steps"]] == ["resize", "convert", "compress"]
    assert [s["step"] for s in body["steps"]] == [1, 2, 3]
    assert body["steps"][0]["width"] == 200 and body["steps"][1]["format"] == "png"
    assert body["originalSize"] == (samples / "photo.jpg").stat().st_size
    out = client.get(body["downloadUrl"])
    assert out.status_code == 200 and len(out.content) == body["processedSize"]
    assert image_format(out.content) == "PNG" and image_size(out.content) == (200, 150)
    # intermediates were removed with the job; only the final output is in out/
    job_dir = server.data_dir / "workspace" / body["jobId"]
    assert not (job_dir / "steps").exists()
    assert [p.name for p in (job_dir / "out").iterdir()] == [unquote(body["downloadUrl"].rsplit("/", 1)[-1])]
    # the job is there afterwards, completed, with the same body
    job = client.get(f"/api/v1/jobs/{body['jobId']}").json()
    assert job["status"] == "completed" and job["result"]["stepsCompleted"] == 3


def test_section_prefixed_tool_ids_and_bare_list(client, samples):
    data = (samples / "photo.jpg").read_bytes()
    r = client.post("/api/v1/pipeline/execute", files={"file": ("p.jpg", data)},
                    data={"pipeline": json.dumps([{"toolId": "image/resize", "settings": {"width": 64}}])})
    assert r.status_code == 200, r.text
    assert image_size(client.get(r.json()["downloadUrl"]).content) == (64, 48)


def test_progress_spans_steps_and_names_them(async_server, samples):
    with async_server.client() as c:
        r = execute(c, (samples / "large.jpg").read_bytes(), ("resize", {"width": 3000}),
                    ("rotate", {"angle": 90}), ("resize", {"width": 500}), name="large.jpg")
        assert r.status_code == 202, r.text
        job_id = r.json()["jobId"]
        assert r.json()["async"] is True
        frames = []
        with c.stream("GET", f"/api/v1/jobs/{job_id}/progress") as stream:
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    frames.append(json.loads(line[6:]))
                    if frames[-1]["status"] in ("completed", "failed", "canceled"):
                        break
    last = frames[-1]
    assert last["status"] == "completed", last
    assert last["result"]["stepsCompleted"] == 3 and last["progress"] == 100
    assert last["message"] == "Step 3/3: resize done"
    progress = [f["progress"] for f in frames]
    assert progress == sorted(progress)
    for frame in frames[:-1]:
        if frame.get("message"):
            assert frame["message"].startswith(("Step 1/3", "Step 2/3", "Step 3/3")), frame


def test_cross_family_pipeline_with_fan_out_and_gather(client, samples, tmp_path):
    """documents -> image (one page becomes several files) -> image per page -> image (gathered) -> documents."""
    steps = [("rotate-pdf", {"angle": 90}), ("pdf-to-image", {"dpi": 72}), ("resize", {"width": 150}),
             ("image-to-pdf", {"pageSize": "fit"}), ("rotate-pdf", {"angle": 270})]
    if not registered(*(t for t, _ in steps)):
        pytest.fail("a tool of this pipeline is not registered")
    pdf = make_pdf(tmp_path / "three.pdf", pages=3, size=(400, 300)).read_bytes()
    r = execute(client, pdf, *steps, name="three.pdf")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["stepsCompleted"] == 5
    assert [s["files"] for s in body["steps"]] == [1, 3, 3, 1, 1]
    result = client.get(body["downloadUrl"]).content
    pages = pdf_pages(result)
    assert len(pages) == 3
    # rotated 90 then rasterised (300x400 at 72 dpi), resized to 150 wide, put on fitted pages, rotated back
    width, height = pages[0]
    assert abs(width / height - 400 / 300) < 0.02, pages[0]


def test_cross_family_image_to_document(client, samples):
    if not registered("image-to-pdf", "rotate-pdf"):
        pytest.fail("documents tools are not registered")
    r = execute(client, (samples / "photo.jpg").read_bytes(), ("resize", {"width": 100}),
                ("image-to-pdf", {"pageSize": "fit"}), ("rotate-pdf", {"angle": 90}))
    assert r.status_code == 200, r.text
    (width, height), = pdf_pages(client.get(r.json()["downloadUrl"]).content)
    assert width < height  # 100x75 landscape page turned to portrait


def test_failing_step_is_422_naming_step_and_count(client, samples):
    if not registered("image-to-pdf"):
        pytest.fail("image-to-pdf is not registered")
    r = execute(client, (samples / "photo.jpg").read_bytes(), ("resize", {"width": 100}),
                ("image-to-pdf", {}), ("resize", {"width": 50}))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "PROCESSING_FAILED"
    assert "Step 3 (resize)" in body["error"] and "2 of 3 steps completed" in body["error"]
    assert body["stepsCompleted"] == 2 and body["failedStep"] == 3
    job = client.get(f"/api/v1/jobs/{body['jobId']}").json()
    assert job["status"] == "failed" and "Step 3" in job["error"]


def test_tool_error_mid_way_is_422(client, samples):
    # the crop is larger than the 200x150 image that step 1 produces
    r = execute(client, (samples / "photo.jpg").read_bytes(), ("resize", {"width": 200}),
                ("crop", {"left": 190, "top": 0, "width": 100, "height": 100}))
    assert r.status_code == 422, r.text
    assert r.json()["error"].startswith("Step 2 (crop) failed") and r.json()["stepsCompleted"] == 1


# ---- validation: nothing runs when a step is wrong ---------------------------------------------------------

@pytest.mark.parametrize("pipeline, fragment", [
    ("{not json", "not valid JSON"),
    ('{"steps": []}', "no steps"),
    ('{"steps": "resize"}', "steps"),
    ('{"steps": [{"toolId": "resize", "settings": {"width": 10}}, {"toolId": "no-such-tool"}]}',
     "Step 2: unknown tool 'no-such-tool'"),
    ('{"steps": [{"toolId": "resize", "settings": {"width": 10}}, {"settings": {}}]}', "Step 2 has no toolId"),
    ('{"steps": [{"toolId": "resize", "settings": {"width": 10}}, 7]}', "Step 2 must be an object"),
    ('{"steps": [{"toolId": "resize", "settings": {"width": 10}}, {"toolId": "compress", "settings": {"quality": 0}},'
     ' {"toolId": "convert", "settings": {}}]}', "Step 2 (compress)"),
    ('{"steps": [{"toolId": "resize", "settings": {"width": 10}}, {"toolId": "convert", "settings": {"format": "bmp"}}]}',
     "Step 2 (convert)"),
    ('{"steps": [{"toolId": "resize", "settings": "wide"}]}', "Step 1 (resize)"),
])
def test_bad_pipeline_is_400(client, samples, pipeline, fragment):
    r = client.post("/api/v1/pipeline/execute", files={"file": ("p.jpg", (samples / "photo.jpg").read_bytes())},
                    data={"pipeline": pipeline})
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "VALIDATION_ERROR"
    assert fragment in r.json()["error"]


def test_bad_settings_details_name_the_step(client, samples):
    r = execute(client, (samples / "photo.jpg").read_bytes(), ("resize", {"width": 10}), ("compress", {"quality": 500}))
    assert r.status_code == 400
    assert r.json()["details"][0]["path"] == "steps.1.settings.quality"


@pytest.mark.parametrize("tool_id", ["protect-pdf", "unlock-pdf", "watermark-image", "merge-pdf", "create-zip",
                                     "gif-tools/info", "pdf-to-image/preview", "barcode-generate"])
def test_refused_step_kinds(client, samples, tool_id):
    if not registered(tool_id):
        pytest.fail(f"{tool_id} is not registered")
    r = execute(client, (samples / "photo.jpg").read_bytes(), ("resize", {"width": 10}), (tool_id, {}))
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith(f"Step 2: {tool_id} ")


def test_step_limit_missing_file_and_wrong_kind(client, samples):
    data = (samples / "photo.jpg").read_bytes()
    r = execute(client, data, *[("rotate", {"angle": 90})] * 21)
    assert r.status_code == 400 and "at most 20" in r.json()["error"]
    r = client.post("/api/v1/pipeline/execute", data=pipeline_field(("resize", {"width": 10})))
    assert r.status_code == 400 and r.json()["code"] == "VALIDATION_ERROR"
    r = client.post("/api/v1/pipeline/execute", files={"file": ("p.jpg", data)})
    assert r.status_code == 400 and "pipeline" in r.json()["error"]
    r = execute(client, (samples / "text.png").read_bytes(), ("resize", {"width": 10}), name="text.png")
    assert r.status_code == 415 and r.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    r = client.post("/api/v1/pipeline/execute", files=[("file", ("a.jpg", data)), ("file", ("b.jpg", data))],
                    data=pipeline_field(("resize", {"width": 10})))
    assert r.status_code == 400 and "batch" in r.json()["error"]


def test_pipeline_auto_saves_into_library(client, samples):
    up = client.post("/api/v1/files/upload", files={"files": ("lib.jpg", (samples / "photo.jpg").read_bytes())})
    file_id = up.json()["files"][0]["id"]
    r = execute(client, (samples / "photo.jpg").read_bytes(), *THREE_STEPS, fileId=file_id)
    assert r.status_code == 200, r.text
    saved = client.get(f"/api/v1/files/{r.json()['savedFileId']}").json()["file"]
    assert (saved["version"], saved["parentId"], saved["width"]) == (2, file_id, 200)
    assert saved["toolChain"] == ["resize", "convert", "compress"]
    r = execute(client, (samples / "photo.jpg").read_bytes(), *THREE_STEPS, fileId="missing")
    assert r.status_code == 404


# ---- batch -------------------------------------------------------------------------------------------------

def test_batch_runs_every_file_and_reports_failures(client, server, samples):
    files = [("files", ("a.jpg", (samples / "photo.jpg").read_bytes())),
             ("files", ("b.png", (samples / "small.png").read_bytes())),
             ("files", ("bad.png", (samples / "text.png").read_bytes()))]
    r = client.post("/api/v1/pipeline/batch", files=files, data=pipeline_field(*THREE_STEPS))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    job_id = r.headers["x-job-id"]
    results = json.loads(unquote(r.headers["x-file-results"]))
    assert results == {"0": "a.png", "1": "b.png"}
    errors = json.loads(unquote(r.headers["x-file-errors"]))
    assert [e["filename"] for e in errors] == ["bad.png"]
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        assert sorted(zf.namelist()) == ["a.png", "b.png"]
        assert image_size(zf.read("a.png")) == (200, 150)
        assert image_size(zf.read("b.png")) == (200, 150)
    # downloadable again later, and the job is recorded
    again = client.get(f"/api/v1/download/{job_id}/pipeline-batch.zip")
    assert again.status_code == 200 and again.content == r.content
    job = client.get(f"/api/v1/jobs/{job_id}").json()
    assert job["status"] == "completed" and job["result"]["steps"] == ["resize", "convert", "compress"]
    # every file's intermediates went with the job; out/ keeps the ZIP and each file's result on its own
    job_dir = server.data_dir / "workspace" / job_id
    assert not (job_dir / "steps").exists()
    assert sorted(p.name for p in (job_dir / "out").iterdir()) == ["files", "pipeline-batch.zip"]
    assert sorted(p.name for p in (job_dir / "out" / "files").iterdir()) == ["a.png", "b.png"]
    alone = client.get(f"/api/v1/download/{job_id}/files/a.png")
    assert alone.status_code == 200 and image_size(alone.content) == (200, 150)


def test_batch_with_a_failing_step_per_file(client, samples):
    files = [("files", ("wide.jpg", (samples / "photo.jpg").read_bytes())),
             ("files", ("narrow.png", (samples / "small.png").read_bytes()))]
    # 300 px crop: fits the 400 px photo, not the 200 px one
    r = client.post("/api/v1/pipeline/batch", files=files,
                    data=pipeline_field(("crop", {"left": 0, "top": 0, "width": 300, "height": 100}),
                                        ("convert", {"format": "webp"})))
    assert r.status_code == 200, r.text
    errors = json.loads(unquote(r.headers["x-file-errors"]))
    assert errors[0]["filename"] == "narrow.png" and errors[0]["error"].startswith("Step 1 (crop) failed")
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        assert zf.namelist() == ["wide.webp"] and image_size(zf.read("wide.webp")) == (300, 100)


def test_batch_all_failed_and_bad_requests(client, samples):
    bad = [("files", ("x.png", (samples / "text.png").read_bytes())), ("files", ("y.png", b""))]
    r = client.post("/api/v1/pipeline/batch", files=bad, data=pipeline_field(("resize", {"width": 10})))
    assert r.status_code == 422 and r.json()["code"] == "PROCESSING_FAILED" and len(r.json()["errors"]) == 2
    r = client.post("/api/v1/pipeline/batch", files=[("files", ("a.jpg", (samples / "photo.jpg").read_bytes()))],
                    data=pipeline_field(("resize", {"width": 10}), ("nope", {})))
    assert r.status_code == 400 and "Step 2" in r.json()["error"]
    r = client.post("/api/v1/pipeline/batch", data=pipeline_field(("resize", {"width": 10})))
    assert r.status_code == 400


# ---- saved pipelines ----------------------------------------------------------------------------------------

def test_save_list_delete_and_run_saved(client, other, samples):
    steps = [{"toolId": "resize", "settings": {"width": 120}}, {"toolId": "convert", "settings": {"format": "webp"}}]
    r = client.post("/api/v1/pipeline/save", json={"name": "Web thumbs", "description": "small webp", "steps": steps})
    assert r.status_code == 201, r.text
    saved = r.json()
    assert set(saved) >= {"id", "name", "description", "steps", "createdAt"}
    assert (saved["name"], saved["description"], saved["steps"]) == ("Web thumbs", "small webp", steps)
    listed = client.get("/api/v1/pipeline/list").json()["pipelines"]
    assert saved["id"] in {p["id"] for p in listed}

    # run it by id
    r = client.post("/api/v1/pipeline/execute", files={"file": ("p.jpg", (samples / "photo.jpg").read_bytes())},
                    data={"pipeline": json.dumps({"pipelineId": saved["id"]})})
    assert r.status_code == 200, r.text
    out = client.get(r.json()["downloadUrl"]).content
    assert image_format(out) == "WEBP" and image_size(out) == (120, 90)

    # another user neither sees, runs nor deletes it
    assert saved["id"] not in {p["id"] for p in other.get("/api/v1/pipeline/list").json()["pipelines"]}
    assert other.delete(f"/api/v1/pipeline/{saved['id']}").status_code == 404
    r = other.post("/api/v1/pipeline/execute", files={"file": ("p.jpg", (samples / "photo.jpg").read_bytes())},
                   data={"pipeline": json.dumps({"pipelineId": saved["id"]})})
    assert r.status_code == 404
    # their own pipeline: visible to them and to the admin; the admin may delete it
    theirs = other.post("/api/v1/pipeline/save", json={"name": "mine", "steps": steps}).json()
    assert [p["id"] for p in other.get("/api/v1/pipeline/list").json()["pipelines"]] == [theirs["id"]]
    assert theirs["id"] in {p["id"] for p in client.get("/api/v1/pipeline/list").json()["pipelines"]}
    assert client.delete(f"/api/v1/pipeline/{theirs['id']}").json() == {"ok": True}
    assert other.get("/api/v1/pipeline/list").json()["pipelines"] == []

    assert client.delete(f"/api/v1/pipeline/{saved['id']}").json() == {"ok": True}
    assert client.delete(f"/api/v1/pipeline/{saved['id']}").status_code == 404


@pytest.mark.parametrize("body, fragment", [
    ({"name": "x" * 101, "steps": [{"toolId": "resize", "settings": {"width": 1}}]}, "name"),
    ({"name": "ok", "description": "d" * 501, "steps": [{"toolId": "resize", "settings": {"width": 1}}]},
     "description"),
    ({"name": "ok", "steps": []}, "steps"),
    ({"name": "   ", "steps": [{"toolId": "resize", "settings": {"width": 1}}]}, "name"),
    ({"name": "ok", "steps": [{"toolId": "resize", "settings": {"width": 1}}, {"toolId": "zzz"}]},
     "Step 2: unknown tool"),
    ({"name": "ok", "steps": [{"toolId": "protect-pdf", "settings": {}}]}, "Step 1: protect-pdf"),
    ({"steps": [{"toolId": "resize"}]}, "name"),
    ([1, 2], "JSON object"),
])
def test_save_validation(client, body, fragment):
    if fragment.startswith("Step 1: protect") and not registered("protect-pdf"):
        pytest.fail("protect-pdf is not registered")
    r = client.post("/api/v1/pipeline/save", json=body)
    assert r.status_code == 400, r.text
    assert fragment in r.json()["error"]


def test_save_rejects_malformed_json(client):
    r = client.post("/api/v1/pipeline/save", content=b"{oops", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "VALIDATION_ERROR"


def test_pipeline_tools_list(client):
    tool_ids = client.get("/api/v1/pipeline/tools").json()["toolIds"]
    assert {"resize", "compress", "convert", "crop", "rotate"} <= set(tool_ids)
    assert tool_ids == sorted(tool_ids)
    for refused in ("protect-pdf", "unlock-pdf", "watermark-image", "merge-pdf", "gif-tools/info"):
        assert refused not in tool_ids


def test_disabled_tools_are_left_out_and_refused(make_server, samples):
    srv = make_server()
    with srv.client() as c:
        r = c.put("/api/v1/settings", json={"disabledTools": ["compress"]})
        if r.status_code == 404:
            pytest.fail("the settings API is not registered")
        assert r.status_code == 200, r.text
        assert "compress" not in c.get("/api/v1/pipeline/tools").json()["toolIds"]
        r = execute(c, (samples / "photo.jpg").read_bytes(), ("resize", {"width": 10}), ("compress", {}))
        assert r.status_code == 403 and r.json()["code"] == "TOOL_DISABLED" and "Step 2" in r.json()["error"]


def test_pipeline_jobs_are_private(client, other, samples):
    r = execute(client, (samples / "photo.jpg").read_bytes(), ("resize", {"width": 30}))
    job_id = r.json()["jobId"]
    assert other.get(f"/api/v1/jobs/{job_id}").status_code == 404
    assert other.get(f"/api/v1/jobs/{job_id}/progress").status_code == 404
    assert wait_job(client, job_id)["status"] == "completed"


def test_pipeline_results_and_library_files_of_others_are_out_of_reach(client, other, samples):
    data = (samples / "photo.jpg").read_bytes()
    # a foreign fileId: 404 (not revealed), nothing runs, nothing is saved into the owner's chain
    mine = client.post("/api/v1/files/upload", files={"files": ("owned.jpg", data)}).json()["files"][0]
    r = execute(other, data, ("resize", {"width": 40}), fileId=mine["id"])
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND", r.text
    assert len(client.get(f"/api/v1/files/{mine['id']}").json()["versions"]) == 1
    # a batch job (X-Job-Id) is its owner's: nobody else reads its state or stream, or cancels it
    # (its download URL is a capability URL by design, COMPATIBILITY.md: the random job id is the secret)
    r = client.post("/api/v1/pipeline/batch", files=[("files", ("a.jpg", data))],
                    data=pipeline_field(("resize", {"width": 40})))
    assert r.status_code == 200, r.text
    job_id = r.headers["x-job-id"]
    assert other.get(f"/api/v1/jobs/{job_id}").status_code == 404
    assert other.get(f"/api/v1/jobs/{job_id}/progress").status_code == 404
    assert other.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 404
    assert client.get(f"/api/v1/jobs/{job_id}").json()["status"] == "completed"
    assert client.get(f"/api/v1/download/{job_id}/pipeline-batch.zip").status_code == 200


def test_batch_with_malformed_pipeline_json(client, samples):
    r = client.post("/api/v1/pipeline/batch", files=[("files", ("a.jpg", (samples / "photo.jpg").read_bytes()))],
                    data={"pipeline": "{not json"})
    assert r.status_code == 400 and r.json()["code"] == "VALIDATION_ERROR"
    assert "not valid JSON" in r.json()["error"]


def test_cancel_a_running_pipeline(async_server, samples):
    with async_server.client() as c:
        r = execute(c, (samples / "large.jpg").read_bytes(), *[("rotate", {"angle": 90})] * 15, name="large.jpg")
        job_id = r.json()["jobId"]
        assert c.post(f"/api/v1/jobs/{job_id}/cancel").json() == {"canceled": True}
        final = wait_job(c, job_id)
        assert final["status"] == "canceled" and final["code"] == "CANCELED"
        assert c.post(f"/api/v1/jobs/{job_id}/cancel").json() == {"canceled": False}
        # the coordinator stops; the intermediates go with it
        steps_dir = async_server.data_dir / "workspace" / job_id / "steps"
        for _ in range(200):
            if not steps_dir.exists():
                break
            time.sleep(0.05)
        assert not steps_dir.exists()


def test_unknown_saved_pipeline_is_a_documented_404(client, samples):
    """Found by the contract pass: a {pipelineId} that names no pipeline is a 404, which the OpenAPI document
    must list for both pipeline routes."""
    data = (samples / "photo.jpg").read_bytes()
    unknown = {"pipeline": json.dumps({"pipelineId": "no-such-pipeline"})}
    r = client.post("/api/v1/pipeline/execute", files={"file": ("p.jpg", data)}, data=unknown)
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
    r = client.post("/api/v1/pipeline/batch", files=[("files", ("p.jpg", data))], data=unknown)
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
    doc = client.get("/api/v1/openapi.json").json()
    for path in ("/api/v1/pipeline/execute", "/api/v1/pipeline/batch"):
        assert "404" in doc["paths"][path]["post"]["responses"], path


def test_max_pipeline_steps_is_configurable(make_server, samples):
    srv = make_server(max_pipeline_steps="2")
    with srv.client() as c:
        data = (samples / "photo.jpg").read_bytes()
        r = execute(c, data, ("resize", {"width": 40}), ("rotate", {"angle": 90}), ("rotate", {"angle": 90}))
        assert r.status_code == 400 and "3 steps; this server allows at most 2" in r.json()["error"]
        r = c.post("/api/v1/pipeline/save", json={"name": "long", "steps": [
            {"toolId": "rotate", "settings": {"angle": 90}}] * 3})
        assert r.status_code == 400 and "at most 2" in r.json()["error"]
        r = execute(c, data, ("resize", {"width": 40}), ("rotate", {"angle": 90}))
        assert r.status_code == 200 and r.json()["stepsCompleted"] == 2
