"""ZIP archives of results (a tool's several outputs, batches, pipelines): one writer for all of them."""

from __future__ import annotations

import zipfile

from actors.archive import Archive, unique_name, write_zip


def test_entries_get_unique_names_and_keep_their_bytes(tmp_path):
    a = tmp_path / "a" / "photo.jpg"
    b = tmp_path / "b" / "photo.jpg"
    notes = tmp_path / "notes"
    for path, data in ((a, b"\xff\xd8first"), (b, b"\xff\xd8second"), (notes, b"plain")):
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
    with Archive(tmp_path / "out.zip") as archive:
        names = [archive.add(a), archive.add(b), archive.add(notes), archive.add(notes, "notes")]
    assert names == ["photo.jpg", "photo_1.jpg", "notes", "notes_1"]
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert zf.namelist() == names
        assert zf.read("photo.jpg") == b"\xff\xd8first" and zf.read("photo_1.jpg") == b"\xff\xd8second"
        assert zf.read("notes_1") == b"plain"


def test_compressed_media_is_stored_and_text_is_deflated(tmp_path):
    jpeg, csv = tmp_path / "x.JPG", tmp_path / "table.csv"
    jpeg.write_bytes(b"\xff\xd8" + bytes(range(256)) * 40)
    csv.write_text("id,name\n" + "1,same line\n" * 500)
    write_zip(tmp_path / "both.zip", [jpeg, csv])
    with zipfile.ZipFile(tmp_path / "both.zip") as zf:
        kinds = {info.filename: info.compress_type for info in zf.infolist()}
        assert kinds == {"x.JPG": zipfile.ZIP_STORED, "table.csv": zipfile.ZIP_DEFLATED}
        assert zf.getinfo("table.csv").compress_size < csv.stat().st_size // 10
        assert zf.read("table.csv") == csv.read_bytes()


def test_unique_name_counts_up_and_keeps_the_extension():
    used: set[str] = set()
    assert [unique_name(n, used) for n in ("a.tar.gz", "a.tar.gz", "a", "a", "a")] == \
        ["a.tar.gz", "a.tar_1.gz", "a", "a_1", "a_2"]
