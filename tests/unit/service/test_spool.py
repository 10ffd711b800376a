"""The upload spool: a finished job's upload files are written over by new uploads, which then hold
exactly their own bytes; a file with another name (a hard link) is never taken; the spool stays bounded."""

from __future__ import annotations

import os

from service.spool import Spool
from service.uploads import Upload, UploadedFile, _FileSink


def job_upload(tmp_path, job: str, name: str, data: bytes):
    folder = tmp_path / "workspace" / job / "in"
    folder.mkdir(parents=True)
    path = folder / name
    path.write_bytes(data)
    return folder, path


def write_upload(spool: Spool, path, chunks: list[bytes]) -> tuple[UploadedFile, bool]:
    path.parent.mkdir(parents=True, exist_ok=True)
    upload = Upload()
    sink = _FileSink(upload, UploadedFile(path=path, name=path.name, field="file"), spool)
    reused = sink.reused
    for chunk in chunks:
        sink.write(chunk)
    sink.close()
    return upload.files[0], reused


def test_a_new_upload_overwrites_a_reclaimed_file_and_holds_only_its_own_bytes(tmp_path):
    spool = Spool(tmp_path / "spool")
    spool.reset()
    old = os.urandom(300_000)
    folder, _ = job_upload(tmp_path, "job1", "0000_big.jpg", old)
    spool.reclaim(folder)
    assert not folder.exists() and len(list(spool.folder.iterdir())) == 1

    new = b"\x89PNG\r\n\x1a\n" + os.urandom(50_000)
    target = tmp_path / "workspace" / "job2" / "in" / "0000_small.png"
    item, reused = write_upload(spool, target, [new[:8], new[8:20_000], new[20_000:]])
    assert reused
    assert target.read_bytes() == new  # nothing of the earlier, larger upload is left past its end
    assert item.size == len(new) and item.kind == "image"
    assert list(spool.folder.iterdir()) == []

    item, reused = write_upload(spool, tmp_path / "workspace" / "job3" / "in" / "0000_x.png", [new])
    assert not reused  # the spool is empty: a new file


def test_a_hard_linked_upload_is_removed_not_reused(tmp_path):
    """remove-background keeps the upload for /effects as a hard link: writing over that inode would
    change the kept copy."""
    spool = Spool(tmp_path / "spool")
    spool.reset()
    data = os.urandom(10_000)
    folder, path = job_upload(tmp_path, "job1", "0000_a.jpg", data)
    kept = tmp_path / "cache" / "source.upload"
    kept.parent.mkdir()
    kept.hardlink_to(path)
    spool.reclaim(folder)
    assert not folder.exists() and list(spool.folder.iterdir()) == []
    write_upload(spool, tmp_path / "workspace" / "job2" / "in" / "0000_b.jpg", [os.urandom(20_000)])
    assert kept.read_bytes() == data


def test_the_spool_is_bounded_in_files_size_and_bytes(tmp_path):
    spool = Spool(tmp_path / "spool", max_files=3, max_file_bytes=1000, max_bytes=1500)
    spool.reset()
    folder = tmp_path / "workspace" / "job" / "in"
    folder.mkdir(parents=True)
    for i, size in enumerate((2000, 600, 600, 600, 10)):
        (folder / f"{i:04d}").write_bytes(b"x" * size)
    spool.reclaim(folder)
    kept = sorted(p.stat().st_size for p in spool.folder.iterdir())
    assert not folder.exists()
    assert 2000 not in kept and len(kept) <= 3 and sum(kept) <= 1500 and kept  # over MAX_FILE_BYTES: removed


def test_reset_starts_empty(tmp_path):
    spool = Spool(tmp_path / "spool")
    spool.reset()
    folder, _ = job_upload(tmp_path, "job1", "0000_a.jpg", b"abc")
    spool.reclaim(folder)
    spool.reset()
    assert list(spool.folder.iterdir()) == [] and spool.held_bytes == 0
    _, reused = write_upload(spool, tmp_path / "workspace" / "job2" / "in" / "0000_b.jpg", [b"abcd"])
    assert not reused


def test_a_scratch_file_gone_missing_falls_back_to_a_new_file(tmp_path):
    spool = Spool(tmp_path / "spool")
    spool.reset()
    folder, _ = job_upload(tmp_path, "job1", "0000_a.jpg", b"abc")
    spool.reclaim(folder)
    for scratch in spool.folder.iterdir():
        scratch.unlink()
    target = tmp_path / "workspace" / "job2" / "in" / "0000_b.jpg"
    _, reused = write_upload(spool, target, [b"hello"])
    assert not reused and target.read_bytes() == b"hello"
