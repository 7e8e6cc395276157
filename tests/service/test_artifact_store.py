"""The artifact store over a local directory and over an fsspec URL (memory://): atomic
writes, sizes and sha256, reads, removal of a write's directory."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from joblane.core import ids
from joblane.core.errors import ArtifactNotFound
from joblane.service.artifact_store import ArtifactStore, ArtifactTooLarge


@pytest.fixture(params=["local", "file-url", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArtifactStore]:
    if request.param == "local":
        yield ArtifactStore.from_url(str(tmp_path / "files"))
    elif request.param == "file-url":
        yield ArtifactStore.from_url(f"file://{tmp_path}/by-url")
    else:
        built = ArtifactStore.from_url(f"memory://store-tests/{ids.ulid()}")
        yield built
        with contextlib.suppress(FileNotFoundError):
            built.fs.rm(built.root, recursive=True)


def files_in(store: ArtifactStore) -> list[str]:
    found = store.fs.find(store.root)
    return sorted(str(path)[len(store.root) + 1 :] for path in found)


def write(store: ArtifactStore, path: str, chunks: list[bytes], limit: int = 1 << 30) -> str:
    writer = store.writer(path, limit)
    for chunk in chunks:
        writer.write(chunk)
    return writer.commit().sha256


def test_a_write_is_invisible_until_committed(store: ArtifactStore) -> None:
    path = store.new_path("job_x", 1, "a.bin")
    writer = store.writer(path, 1 << 20)
    writer.write(b"half")

    assert not store.exists(path)
    writer.write(b" and the rest")
    written = writer.commit()

    assert store.exists(path)
    assert written.size == 17
    assert written.sha256 == hashlib.sha256(b"half and the rest").hexdigest()
    with store.open_read(path) as handle:
        assert handle.read() == b"half and the rest"
    assert files_in(store) == [path]  # no temporary file left beside it


def test_every_write_gets_a_path_of_its_own(store: ArtifactStore) -> None:
    first, second = store.new_path("job_x", 1, "a"), store.new_path("job_x", 1, "a")
    assert first != second
    assert first.startswith("job_x/1-") and first.endswith("/a")


def test_an_aborted_write_leaves_nothing(store: ArtifactStore) -> None:
    path = store.new_path("job_x", 1, "a.bin")
    writer = store.writer(path, 1 << 20)
    writer.write(b"partial")
    writer.abort()

    assert not store.exists(path)
    assert [p for p in files_in(store) if not p.endswith("/")] == []


def test_a_file_over_the_limit_is_refused(store: ArtifactStore) -> None:
    path = store.new_path("job_x", 1, "a.bin")
    writer = store.writer(path, 10)
    writer.write(b"0123456789")
    with pytest.raises(ArtifactTooLarge):
        writer.write(b"!")
    writer.abort()
    assert not store.exists(path)


def test_reads_seek(store: ArtifactStore) -> None:
    path = store.new_path("job_x", 1, "a.bin")
    write(store, path, [bytes(range(256))])
    with store.open_read(path) as handle:
        handle.seek(250)
        assert handle.read(100) == bytes(range(250, 256))


def test_removing_a_write_removes_its_directory_and_is_idempotent(store: ArtifactStore) -> None:
    keep = store.new_path("job_x", 1, "keep.bin")
    drop = store.new_path("job_x", 2, "drop.bin")
    write(store, keep, [b"k"])
    write(store, drop, [b"d"])

    store.remove(drop)
    store.remove(drop)  # already gone: fine

    assert store.exists(keep) and not store.exists(drop)
    with pytest.raises(ArtifactNotFound):
        store.open_read(drop)
    store.remove(keep)
    assert [p for p in files_in(store) if not p.endswith("/")] == []


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "a//b", "a/./b", ""])
def test_paths_outside_the_store_are_refused(store: ArtifactStore, path: str) -> None:
    with pytest.raises(ValueError, match="not an artifact path"):
        store.full_path(path)


def test_a_local_store_leaves_no_empty_job_directory(tmp_path: Path) -> None:
    store = ArtifactStore.from_url(str(tmp_path / "files"))
    path = store.new_path("job_x", 1, "a.bin")
    write(store, path, [b"a"])
    store.remove(path)
    assert os.listdir(tmp_path / "files") == []
