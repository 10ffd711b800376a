"""The file library, auto-save, workspace upload and preview, through a real server."""

from __future__ import annotations

import io
import json
import secrets
import time
from pathlib import Path

import pytest

from tests.api._workspace import image_format, image_size, make_pdf, make_user, make_video
from tests.helpers import Server


@pytest.fixture(scope="module")
def other(server):
    """A second, ordinary user: (username, client)."""
    name, token = make_user(server, "user")
    with server.client(token) as c:
        yield name, c


def upload(client, *items: tuple[str, bytes], field: str = "files"):
    return client.post("/api/v1/files/upload", files=[(field, item) for item in items])


def uploaded(client, name: str, data: bytes) -> dict:
    r = upload(client, (name, data))
    assert r.status_code == 201, r.text
    return r.json()["files"][0]


def uniq(stem: str, ext: str) -> str:
    return f"{stem}-{secrets.token_hex(3)}.{ext}"


# ---- upload / get / download ------------------------------------------------------------------------

def test_upload_several_files_records_metadata(client, samples):
    jpg, png = uniq("a", "jpg"), uniq("b", "png")
    r = upload(client, (jpg, (samples / "photo.jpg").read_bytes()), (png, (samples / "alpha.png").read_bytes()))
    assert r.status_code == 201, r.text
    files = r.json()["files"]
    assert [f["originalName"] for f in files] == [jpg, png]
    first = files[0]
    assert set(first) >= {"id", "originalName", "mimeType", "size", "width", "height", "version", "parentId",
                          "toolChain", "createdAt"}
    assert (first["mimeType"], first["width"], first["height"]) == ("image/jpeg", 400, 300)
    assert first["size"] == (samples / "photo.jpg").stat().st_size
    assert (first["version"], first["parentId"], first["toolChain"]) == (1, None, [])
    assert files[1]["mimeType"] == "image/png"

    got = client.get(f"/api/v1/files/{first['id']}")
    assert got.status_code == 200
    assert got.json()["file"] == first
    assert got.json()["versions"] == [first]

    down = client.get(f"/api/v1/files/{first['id']}/download")
    assert down.status_code == 200
    assert down.content == (samples / "photo.jpg").read_bytes()
    assert jpg in down.headers["content-disposition"]


def test_upload_is_all_or_nothing(client, samples):
    good, bad = uniq("keep", "jpg"), uniq("empty", "png")
    r = upload(client, (good, (samples / "photo.jpg").read_bytes()), (bad, b""))
    assert r.status_code == 400 and r.json()["code"] == "VALIDATION_ERROR"
    assert bad in r.json()["error"]
    listed = client.get("/api/v1/files", params={"search": good}).json()
    assert listed["total"] == 0 and listed["files"] == []


def test_upload_needs_files(client):
    r = client.post("/api/v1/files/upload", files={"other": ("x.txt", b"hi")}, data={"name": "x"})
    assert r.status_code == 400 and r.json()["code"] == "VALIDATION_ERROR"
    r = client.post("/api/v1/files/upload", json={"files": []})
    assert r.status_code == 400


def test_requires_authentication(server):
    with server.client(token=None) as anon:
        assert anon.get("/api/v1/files").status_code == 401
        assert anon.post("/api/v1/files/upload", files={"files": ("a.jpg", b"x")}).status_code == 401


def test_unknown_file_is_404(client):
    for path in ("", "/download", "/thumbnail"):
        r = client.get(f"/api/v1/files/00000000-0000-4000-8000-000000000000{path}")
        assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"


# ---- list ---------------------------------------------------------------------------------------------

def test_list_paginates_and_searches(client, samples):
    tag = secrets.token_hex(4)
    data = (samples / "small.png").read_bytes()
    ids = [uploaded(client, f"page-{tag}-{i}.png", data)["id"] for i in range(3)]
    first = client.get("/api/v1/files", params={"search": f"page-{tag}", "limit": 2}).json()
    assert (first["total"], first["limit"], first["offset"]) == (3, 2, 0)
    assert len(first["files"]) == 2
    rest = client.get("/api/v1/files", params={"search": f"page-{tag}", "limit": 2, "offset": 2}).json()
    assert len(rest["files"]) == 1
    assert {f["id"] for f in first["files"] + rest["files"]} == set(ids)
    # search is by name and treats % and _ literally
    assert client.get("/api/v1/files", params={"search": f"page-{tag}-1"}).json()["total"] == 1
    assert client.get("/api/v1/files", params={"search": f"page%{tag}"}).json()["total"] == 0
    assert client.get("/api/v1/files", params={"limit": 0}).status_code == 400
    assert client.get("/api/v1/files", params={"limit": "x"}).status_code == 400


# ---- versions, auto-save, save-result ----------------------------------------------------------------------

def test_auto_save_makes_versions_and_list_shows_newest(client, samples):
    name = uniq("chain", "jpg")
    original = uploaded(client, name, (samples / "photo.jpg").read_bytes())
    # fileId as a multipart field
    r = client.post("/api/v1/tools/image/resize", files={"file": (name, (samples / "photo.jpg").read_bytes())},
                    data={"settings": json.dumps({"width": 200}), "fileId": original["id"]})
    assert r.status_code == 200, r.text
    v2_id = r.json()["savedFileId"]
    # fileId inside the settings
    r = client.post("/api/v1/tools/image/rotate", files={"file": (name, (samples / "photo.jpg").read_bytes())},
                    data={"settings": json.dumps({"angle": 90, "fileId": v2_id})})
    assert r.status_code == 200, r.text
    v3_id = r.json()["savedFileId"]

    detail = client.get(f"/api/v1/files/{original['id']}").json()
    versions = detail["versions"]
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert [v["id"] for v in versions] == [original["id"], v2_id, v3_id]
    assert versions[1]["parentId"] == original["id"] and versions[2]["parentId"] == v2_id
    assert versions[1]["toolChain"] == ["resize"]
    assert versions[2]["toolChain"] == ["resize", "rotate"]
    assert (versions[1]["width"], versions[1]["height"]) == (200, 150)
    assert (versions[2]["width"], versions[2]["height"]) == (300, 400)
    # the saved bytes are the tool's result
    saved = client.get(f"/api/v1/files/{v2_id}/download").content
    assert image_size(saved) == (200, 150)

    listed = client.get("/api/v1/files", params={"search": name}).json()
    assert [f["id"] for f in listed["files"]] == [v3_id]


def test_auto_save_bad_file_ids(client, other, samples):
    data = (samples / "photo.jpg").read_bytes()
    r = client.post("/api/v1/tools/image/resize", files={"file": ("p.jpg", data)},
                    data={"settings": json.dumps({"width": 50}), "fileId": "no-such-file"})
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
    # another user's file is not revealed
    mine = uploaded(client, uniq("private", "jpg"), data)
    _, other_client = other
    r = other_client.post("/api/v1/tools/image/resize", files={"file": ("p.jpg", data)},
                          data={"settings": json.dumps({"width": 50, "fileId": mine["id"]})})
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
    assert len(client.get(f"/api/v1/files/{mine['id']}").json()["versions"]) == 1


def test_save_result(client, other, samples):
    data = (samples / "photo.jpg").read_bytes()
    job = client.post("/api/v1/tools/image/resize", files={"file": ("s.jpg", data)},
                      data={"settings": json.dumps({"width": 120})}).json()
    base = uploaded(client, uniq("base", "jpg"), data)
    r = client.post("/api/v1/files/save-result", json={"jobId": job["jobId"], "parentId": base["id"],
                                                       "toolId": "resize"})
    assert r.status_code == 201, r.text
    saved = r.json()["file"]
    assert (saved["version"], saved["parentId"], saved["toolChain"]) == (2, base["id"], ["resize"])
    assert (saved["width"], saved["height"]) == (120, 90)
    # without a parent: a new chain whose toolChain names the job's tool
    r = client.post("/api/v1/files/save-result", json={"jobId": job["jobId"]})
    assert r.status_code == 201
    assert (r.json()["file"]["version"], r.json()["file"]["toolChain"]) == (1, ["resize"])
    # the job result is still downloadable (copied, not moved)
    assert client.get(job["downloadUrl"]).status_code == 200

    assert client.post("/api/v1/files/save-result", json={}).status_code == 400
    unknown = client.post("/api/v1/files/save-result", json={"jobId": "00000000-0000-4000-8000-000000000000"})
    assert unknown.status_code == 404
    bad_parent = client.post("/api/v1/files/save-result", json={"jobId": job["jobId"], "parentId": "nope"})
    assert bad_parent.status_code == 404
    _, other_client = other
    foreign_job = other_client.post("/api/v1/files/save-result", json={"jobId": job["jobId"]})
    assert foreign_job.status_code == 404
    traversal = client.post("/api/v1/files/save-result", json={"jobId": job["jobId"], "filename": "../x"})
    assert traversal.status_code == 400
    # the other user's own job saved under a foreign parent: 404, and the owner's chain is untouched
    their_job = other_client.post("/api/v1/tools/image/resize", files={"file": ("o.jpg", data)},
                                  data={"settings": json.dumps({"width": 60})}).json()
    foreign_parent = other_client.post("/api/v1/files/save-result",
                                       json={"jobId": their_job["jobId"], "parentId": base["id"]})
    assert foreign_parent.status_code == 404 and foreign_parent.json()["code"] == "NOT_FOUND"
    assert [v["version"] for v in client.get(f"/api/v1/files/{base['id']}").json()["versions"]] == [1, 2]
    # a malformed body
    malformed = client.post("/api/v1/files/save-result", content=b"{oops",
                            headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["code"] == "VALIDATION_ERROR"


# ---- thumbnails -------------------------------------------------------------------------------------------

def test_thumbnail_of_image_is_300px_jpeg_and_cached(client, server, samples):
    f = uploaded(client, uniq("big", "jpg"), (samples / "large.jpg").read_bytes())
    r = client.get(f"/api/v1/files/{f['id']}/thumbnail")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert image_format(r.content) == "JPEG"
    assert image_size(r.content) == (300, 225)
    cached = server.data_dir / "files" / f["id"] / ".thumbnail.jpg"
    assert cached.is_file()
    stamp = cached.stat().st_mtime_ns
    again = client.get(f"/api/v1/files/{f['id']}/thumbnail")
    assert again.content == r.content and cached.stat().st_mtime_ns == stamp


def test_thumbnail_of_heic_and_pdf_and_video(client, samples, tmp_path):
    heic = uploaded(client, uniq("phone", "heic"), (samples / "photo.heic").read_bytes())
    r = client.get(f"/api/v1/files/{heic['id']}/thumbnail")
    assert r.status_code == 200 and image_size(r.content) == (300, 225)

    pdf = uploaded(client, uniq("doc", "pdf"), make_pdf(tmp_path / "d.pdf", pages=3, size=(600, 800)).read_bytes())
    assert pdf["mimeType"] == "application/pdf"
    r = client.get(f"/api/v1/files/{pdf['id']}/thumbnail")
    assert r.status_code == 200 and image_format(r.content) == "JPEG"
    assert image_size(r.content) == (300, 400)
    # the first page, not another one: a wide first page followed by a tall one
    from PIL import Image

    mixed = tmp_path / "mixed.pdf"
    Image.new("RGB", (800, 200), (200, 30, 30)).save(mixed, "PDF", resolution=72, save_all=True,
                                                      append_images=[Image.new("RGB", (200, 800), (30, 30, 200))])
    pdf = uploaded(client, uniq("mixed", "pdf"), mixed.read_bytes())
    r = client.get(f"/api/v1/files/{pdf['id']}/thumbnail")
    assert r.status_code == 200 and image_size(r.content) == (300, 75)
    with Image.open(io.BytesIO(r.content)) as thumb:
        red, _green, blue = thumb.convert("RGB").getpixel((150, 37))
    assert red > 150 and blue < 100  # the red first page

    video = uploaded(client, uniq("clip", "mp4"), make_video(tmp_path / "v.mp4").read_bytes())
    assert (video["mimeType"], video["width"], video["height"]) == ("video/mp4", 320, 240)
    r = client.get(f"/api/v1/files/{video['id']}/thumbnail")
    assert r.status_code == 200 and image_size(r.content) == (300, 226)


def test_thumbnail_refused_for_text_and_corrupt_images(client, samples):
    text = uploaded(client, uniq("notes", "txt"), b"just words\n")
    r = client.get(f"/api/v1/files/{text['id']}/thumbnail")
    assert r.status_code == 415 and r.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    broken = uploaded(client, uniq("broken", "jpg"), (samples / "truncated.jpg").read_bytes()[:600])
    r = client.get(f"/api/v1/files/{broken['id']}/thumbnail")
    assert 400 <= r.status_code < 500 and set(r.json()) >= {"error", "code"}


INTERNAL_JOBS = ("library-thumbnail", "library-preview", "library-probe", "library-video-thumbnail",
                 "library-video-probe")


def test_thumbnails_and_probes_are_internal_jobs_of_the_image_and_media_actors(client, samples, tmp_path):
    """Each counts in its actor's stats like any tool job, and no route, listing or OpenAPI offers them."""
    def completed() -> tuple[int, int]:
        actors = client.get("/api/v1/admin/health").json()["queue"]["actors"]
        return actors["image"]["completed"], actors["media"]["completed"]

    image_before, media_before = completed()
    picture = uploaded(client, uniq("counted", "jpg"), (samples / "large.jpg").read_bytes())  # a probe
    assert client.get(f"/api/v1/files/{picture['id']}/thumbnail").status_code == 200
    video = uploaded(client, uniq("counted", "mp4"), make_video(tmp_path / "c.mp4").read_bytes())  # a probe
    assert client.get(f"/api/v1/files/{video['id']}/thumbnail").status_code == 200
    image_after, media_after = completed()
    assert (image_after - image_before, media_after - media_before) == (2, 2)

    listed = {t["id"] for t in client.get("/api/v1/tools").json()["tools"]}
    document = client.get("/api/v1/openapi.json").text
    for job in INTERNAL_JOBS:
        assert job not in listed and job not in document
        r = client.post(f"/api/v1/tools/{job}", files={"file": ("a.jpg", (samples / "large.jpg").read_bytes())})
        assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"


# ---- delete -----------------------------------------------------------------------------------------------

def test_bulk_delete_removes_whole_chains(client, server, samples):
    data = (samples / "photo.jpg").read_bytes()
    a = uploaded(client, uniq("del-a", "jpg"), data)
    b = uploaded(client, uniq("del-b", "jpg"), data)
    r = client.post("/api/v1/tools/image/resize", files={"file": ("x.jpg", data)},
                    data={"settings": json.dumps({"width": 100}), "fileId": a["id"]})
    a2 = r.json()["savedFileId"]
    # deleting the newest version removes the whole chain (and its folders)
    r = client.request("DELETE", "/api/v1/files", json={"ids": [a2, b["id"]]})
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True and r.json()["deleted"] == 3
    for file_id in (a["id"], a2, b["id"]):
        assert client.get(f"/api/v1/files/{file_id}").status_code == 404
        assert not (server.data_dir / "files" / file_id).exists()
    assert client.request("DELETE", "/api/v1/files", json={"ids": [a["id"]]}).status_code == 404
    assert client.request("DELETE", "/api/v1/files", json={"ids": []}).status_code == 400
    assert client.request("DELETE", "/api/v1/files", json={"nope": 1}).status_code == 400
    assert client.request("DELETE", "/api/v1/files", content=b"{not json",
                          headers={"Content-Type": "application/json"}).status_code == 400


# ---- ownership ------------------------------------------------------------------------------------------

def test_users_see_only_their_own_files(client, other, samples):
    data = (samples / "small.png").read_bytes()
    admins = uploaded(client, uniq("admins", "png"), data)
    name, other_client = other
    theirs = uploaded(other_client, uniq("theirs", "png"), data)
    assert theirs["version"] == 1

    for path in ("", "/download", "/thumbnail"):
        r = other_client.get(f"/api/v1/files/{admins['id']}{path}")
        assert r.status_code == 404, path
    listed = other_client.get("/api/v1/files", params={"limit": 100}).json()
    assert admins["id"] not in {f["id"] for f in listed["files"]}
    assert theirs["id"] in {f["id"] for f in listed["files"]}
    # a foreign id in a bulk delete: 404 and nothing is deleted
    r = other_client.request("DELETE", "/api/v1/files", json={"ids": [theirs["id"], admins["id"]]})
    assert r.status_code == 404
    assert other_client.get(f"/api/v1/files/{theirs['id']}").status_code == 200
    assert client.get(f"/api/v1/files/{admins['id']}").status_code == 200
    # the admin (files:all) sees everyone's files
    assert client.get(f"/api/v1/files/{theirs['id']}").status_code == 200
    assert theirs["id"] in {f["id"] for f in client.get("/api/v1/files", params={"search": theirs["originalName"]})
                            .json()["files"]}


# ---- workspace upload and preview -----------------------------------------------------------------------

def test_workspace_upload(client, server, samples):
    r = client.post("/api/v1/upload", files=[("files", ("a.jpg", (samples / "photo.jpg").read_bytes())),
                                             ("files", ("b.heic", (samples / "photo.heic").read_bytes()))])
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["jobId"]) == 36
    assert body["files"] == [
        {"name": "a.jpg", "size": (samples / "photo.jpg").stat().st_size, "format": "jpeg"},
        {"name": "b.heic", "size": (samples / "photo.heic").stat().st_size, "format": "heic"},
    ]
    assert (server.data_dir / "workspace" / body["jobId"]).is_dir()
    assert client.post("/api/v1/upload", data={"settings": "{}"}, files={"x": ("a", b"1")}).status_code == 400


def test_preview_is_webp_inside_1200(client, samples, tmp_path):
    r = client.post("/api/v1/preview", files={"file": ("p.heic", (samples / "photo.heic").read_bytes())})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/webp" and image_format(r.content) == "WEBP"
    assert image_size(r.content) == (400, 300)
    r = client.post("/api/v1/preview", files={"file": ("big.jpg", (samples / "large.jpg").read_bytes())})
    assert image_size(r.content) == (1200, 900)
    import pyvips

    tall = tmp_path / "tall.tif"
    pyvips.Image.black(500, 3000).tiffsave(str(tall))
    r = client.post("/api/v1/preview", files={"file": ("tall.tif", tall.read_bytes())})
    assert r.status_code == 200 and image_size(r.content) == (200, 1200)


def test_preview_bad_input(client, samples):
    r = client.post("/api/v1/preview", files={"file": ("t.png", (samples / "text.png").read_bytes())})
    assert r.status_code == 415 and r.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    r = client.post("/api/v1/preview", files={"file": ("e.png", b"")})
    assert r.status_code == 400
    r = client.post("/api/v1/preview", files={"file": ("c.jpg", (samples / "corrupt.jpg").read_bytes()[:300])})
    assert 400 <= r.status_code < 500 and "error" in r.json()


# ---- quota and disk guard (their own servers) ----------------------------------------------------------------

def test_over_quota_upload_is_413(make_server, samples):
    srv: Server = make_server(max_storage_per_user_mb="0.2")
    png = (samples / "photo.png").read_bytes()  # ~125 kB
    assert len(png) > 100_000
    with srv.client() as c:
        assert upload(c, ("one.png", png)).status_code == 201
        r = upload(c, ("two.png", png))
        assert r.status_code == 413 and r.json()["code"] == "PAYLOAD_TOO_LARGE"
        assert "0.1 MB used of 0.2 MB" in r.json()["error"]
        assert c.get("/api/v1/files").json()["total"] == 1
        # two at once over the limit: neither is kept
        small = (samples / "photo.jpg").read_bytes()
        r = upload(c, ("s1.jpg", small), ("big.png", png))
        assert r.status_code == 413
        assert c.get("/api/v1/files").json()["total"] == 1
        # an auto-save over the quota: the tool result is still returned, the save is refused
        fid = c.get("/api/v1/files").json()["files"][0]["id"]
        r = c.post("/api/v1/tools/image/convert", files={"file": ("p.png", png)},
                   data={"settings": json.dumps({"format": "png"}), "fileId": fid})
        assert r.status_code == 200 and "savedFileId" not in r.json()
        assert "quota" in r.json()["saveError"]
        leftovers = [p for p in (srv.data_dir / "files").iterdir()]
        assert len(leftovers) == 1


def test_low_disk_refuses_new_work_with_503(make_server, samples):
    srv: Server = make_server(min_free_disk_mb=str(10**12))
    data = (samples / "photo.jpg").read_bytes()
    # the body is refused unread, so the server closes the connection: one connection per request
    for path, files, extra in (
        ("/api/v1/files/upload", {"files": ("a.jpg", data)}, {}),
        ("/api/v1/upload", {"files": ("a.jpg", data)}, {}),
        ("/api/v1/preview", {"file": ("a.jpg", data)}, {}),
        ("/api/v1/tools/image/resize", {"file": ("a.jpg", data)}, {"settings": '{"width": 10}'}),
        ("/api/v1/pipeline/execute", {"file": ("a.jpg", data)},
         {"pipeline": '{"steps":[{"toolId":"resize","settings":{"width":10}}]}'}),
        ("/api/v1/pipeline/batch", {"files": ("a.jpg", data)},
         {"pipeline": '{"steps":[{"toolId":"resize","settings":{"width":10}}]}'}),
        ("/api/v1/tools/image/resize/batch", {"files": ("a.jpg", data)}, {"settings": '{"width": 10}'}),
    ):
        with srv.client() as c:
            r = c.post(path, files=files, data=extra)
        assert r.status_code == 503, (path, r.text)
        assert r.json()["code"] == "BUSY" and r.headers.get("retry-after")
    assert not job_folders(srv)


def test_refused_uploads_leave_no_job_folder_and_one_off_uploads_none_at_all(make_server, samples):
    """Every route that receives an upload into a job folder removes it when it refuses the request after
    reading it; library uploads and previews remove theirs when done."""
    srv: Server = make_server()
    data = (samples / "photo.jpg").read_bytes()
    pipeline = '{"steps":[{"toolId":"resize","settings":{"width":10}}]}'
    refused = (
        ("/api/v1/tools/image/resize", {"file": ("a.jpg", data)}, {"settings": '{"width": -5}'}, 400),
        ("/api/v1/tools/image/resize/batch", {"other": ("a.jpg", data)}, {"settings": '{"width": 10}'}, 400),
        ("/api/v1/pipeline/execute", {"file": ("a.jpg", data)}, {"pipeline": "not json"}, 400),
        ("/api/v1/pipeline/batch", {"other": ("a.jpg", data)}, {"pipeline": pipeline}, 400),
        ("/api/v1/upload", {"other": ("a.jpg", data)}, {}, 400),
        ("/api/v1/files/upload", {"files": ("empty.jpg", b"")}, {}, 400),
        ("/api/v1/preview", {"file": ("notes.txt", b"plain words, not an image")}, {}, 415),
    )
    with srv.client() as c:
        for path, files, extra, status in refused:
            r = c.post(path, files=files, data=extra)
            assert r.status_code == status, (path, r.text)
            assert r.json()["code"] and r.json()["error"], path
        assert c.post("/api/v1/files/upload", files={"files": ("kept.jpg", data)}).status_code == 201
        preview = c.post("/api/v1/preview", files={"file": ("a.jpg", data)})
        assert preview.status_code == 200 and preview.headers["content-type"] == "image/webp"
    assert job_folders(srv) == []


# ---- the sweep never touches the library ---------------------------------------------------------------------

def test_sweep_removes_old_workspace_but_never_library(tmp_path):
    from service.config import Config
    from service.jobs import JobManager

    config = Config(data_dir=tmp_path, file_max_age_hours=1)
    old_job = config.workspace / "old-job"
    new_job = config.workspace / "new-job"
    library = tmp_path / "files" / "some-file"
    for folder in (old_job, new_job, library):
        folder.mkdir(parents=True)
        (folder / "data.bin").write_bytes(b"x")
    import os

    past = time.time() - 7200
    os.utime(old_job, (past, past))
    os.utime(library, (past, past))
    manager = JobManager(config, store=None, supervisor=None)  # the sweep needs neither
    assert manager.sweep_once() == 1
    assert not old_job.exists() and new_job.exists()
    assert (library / "data.bin").read_bytes() == b"x"
    assert Path(tmp_path / "files").is_dir()


def test_running_server_sweeps_old_workspace_jobs_and_keeps_old_library_files(tmp_path, samples):
    """The sweep is wired into the server (it runs at start-up, then periodically): an old workspace job goes,
    a fresh one stays, and a library file older than FILE_MAX_AGE_HOURS is never touched."""
    import os

    from tests.helpers import wait_for

    data_dir = tmp_path / "data"
    srv = Server(data_dir, {"FILE_MAX_AGE_HOURS": "1"}).start()
    try:
        with srv.client() as c:
            photo = (samples / "photo.jpg").read_bytes()
            kept = uploaded(c, "old-but-kept.jpg", photo)
    finally:
        srv.stop()
    past = time.time() - 100 * 3600
    for path in [*(data_dir / "files").rglob("*"), *(data_dir / "files").iterdir()]:
        os.utime(path, (past, past))
    old_job = data_dir / "workspace" / "11111111-1111-4111-8111-111111111111"
    fresh_job = data_dir / "workspace" / "22222222-2222-4222-8222-222222222222"
    for job in (old_job, fresh_job):
        (job / "out").mkdir(parents=True)
        (job / "out" / "result.bin").write_bytes(b"x")
    os.utime(old_job, (past, past))

    srv = Server(data_dir, {"FILE_MAX_AGE_HOURS": "1"}).start()
    try:
        wait_for(lambda: not old_job.exists(), 30, "the sweep to remove the old workspace job")
        assert fresh_job.is_dir()
        with srv.client() as c:
            assert c.get(f"/api/v1/files/{kept['id']}/download").content == photo
    finally:
        srv.stop()


# ---- camera RAW (a DNG the test writes: an RGGB sensor mosaic of a red scene) ---------------------------------

def make_dng(path: Path, width: int = 800, height: int = 600) -> Path:
    import numpy as np
    import tifffile

    cfa = np.empty((height, width), np.uint16)
    cfa[0::2, 0::2] = 3500  # R sites bright
    cfa[0::2, 1::2] = 300  # G
    cfa[1::2, 0::2] = 300  # G
    cfa[1::2, 1::2] = 200  # B
    identity = (10000, 10000, 0, 10000, 0, 10000, 0, 10000, 10000, 10000, 0, 10000, 0, 10000, 0, 10000, 10000, 10000)
    tifffile.imwrite(path, cfa, photometric=32803, subfiletype=0, extratags=[
        (33421, "H", 2, (2, 2)),  # CFARepeatPatternDim
        (33422, "B", 4, (0, 1, 1, 2)),  # CFAPattern: RGGB
        (50706, "B", 4, (1, 4, 0, 0)),  # DNGVersion
        (50707, "B", 4, (1, 1, 0, 0)),  # DNGBackwardVersion
        (50708, "s", 0, "Lutra Test Camera"),  # UniqueCameraModel
        (50714, "H", 1, 0),  # BlackLevel
        (50717, "H", 1, 4095),  # WhiteLevel
        (50721, "2i", 9, identity),  # ColorMatrix1
        (50728, "2I", 3, (1, 1, 1, 1, 1, 1)),  # AsShotNeutral
        (50778, "H", 1, 21),  # CalibrationIlluminant1: D65
    ])
    return path


def _centre_rgb(data: bytes) -> tuple[int, int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        rgb = img.convert("RGB")
        return rgb.getpixel((rgb.width // 2, rgb.height // 2))


def test_preview_of_camera_raw_is_demosaiced(client, tmp_path):
    """A DNG is a TIFF underneath: read as one it is a grey sensor mosaic. The preview demosaics it (LibRaw)."""
    dng = make_dng(tmp_path / "shot.dng").read_bytes()
    for name in ("shot.dng", "shot.tif"):  # by its name, and a DNG under a TIFF name (its DNGVersion tag)
        r = client.post("/api/v1/preview", files={"file": (name, dng)})
        assert r.status_code == 200, (name, r.text)
        assert image_format(r.content) == "WEBP"
        assert image_size(r.content) == (400, 300), name  # half-size decode, inside 1200x1200
        red, green, blue = _centre_rgb(r.content)
        assert red > 150 and green < 90 and blue < 120, (name, red, green, blue)
    r = client.post("/api/v1/preview", files={"file": ("broken.nef", b"NOT A RAW FILE" * 100)})
    assert r.status_code == 415 and r.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    r = client.post("/api/v1/preview", files={"file": ("cut.dng", dng[:2000])})
    assert 400 <= r.status_code < 500 and set(r.json()) >= {"error", "code"}


def test_thumbnail_of_camera_raw(client, tmp_path):
    f = uploaded(client, uniq("raw", "dng"), make_dng(tmp_path / "r.dng").read_bytes())
    r = client.get(f"/api/v1/files/{f['id']}/thumbnail")
    assert r.status_code == 200 and image_format(r.content) == "JPEG"
    assert image_size(r.content) == (300, 225)
    red, green, blue = _centre_rgb(r.content)
    assert red > 150 and green < 90 and blue < 120, (red, green, blue)


def job_folders(srv) -> list[str]:
    """The workspace's job folders (not the confined image workers' scratch folder, `.tmp`)."""
    return [p.name for p in (srv.data_dir / "workspace").iterdir() if not p.name.startswith(".")]
