"""LocalStorage: the storage interface (put, open, range read, delete, list by prefix) over a folder."""

from __future__ import annotations

import pytest

from service.storage import InvalidKey, LocalStorage


@pytest.fixture()
def storage(tmp_path):
    return LocalStorage(tmp_path / "root")


def test_put_open_range_list_delete(storage, tmp_path):
    data = bytes(range(256)) * 40
    source = tmp_path / "src.bin"
    source.write_bytes(data)
    assert storage.put("a1/photo.bin", source) == len(data) and source.exists()  # copied
    assert storage.put("a1/thumb.bin", source, move=True) == len(data) and not source.exists()  # moved
    (tmp_path / "x").write_bytes(b"xyz")
    storage.put("b2/x.txt", tmp_path / "x")
    with storage.open("a1/photo.bin") as f:
        assert f.read() == data
    assert storage.read_range("a1/photo.bin", 250, 10) == data[250:260]
    assert storage.read_range("a1/photo.bin", len(data) - 3, 10) == data[-3:]  # short at the end
    assert [(o.key, o.size) for o in storage.list("a1/")] == [("a1/photo.bin", len(data)), ("a1/thumb.bin", len(data))]
    assert [o.key for o in storage.list()] == ["a1/photo.bin", "a1/thumb.bin", "b2/x.txt"]
    assert [o.key for o in storage.list("a")] == ["a1/photo.bin", "a1/thumb.bin"]
    assert storage.list("zz/") == []
    assert storage.delete("a1/thumb.bin") and not storage.delete("a1/thumb.bin")
    assert storage.delete_prefix("a1/") == 1
    assert not (storage.root / "a1").exists() and [o.key for o in storage.list()] == ["b2/x.txt"]


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", "a\\b", "a\x00b"])
def test_keys_never_leave_the_root(storage, key):
    with pytest.raises(InvalidKey):
        storage.local_path(key)
    with pytest.raises(InvalidKey):
        storage.open(key)
