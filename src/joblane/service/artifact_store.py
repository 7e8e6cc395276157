"""The artifact store: where the bytes of artifacts live, by URL.

`file:///var/lib/joblane/artifacts` or a plain path is a local directory; any other URL goes
to an fsspec filesystem (`s3://bucket/prefix` with the `s3` extra, `memory://name` for tests),
options (credentials, `endpoint_url`, …) passed through. One interface either way; its methods
block, so async callers run them in a thread.

Writes are atomic: a reader never sees half a file. Locally the bytes go to a temporary file
beside the target, fsynced, then renamed over it; an object store (S3, GCS, Azure…) makes an
object visible only once its upload completed; any other fsspec filesystem gets a temporary
file moved into place. Every write gets a path of its own,
`{job_id}/{attempt}-{nonce}/{name}`, so a later attempt (or a worker that lost its job) never
overwrites a file someone may be reading, and removing a write means removing its directory
(with any temporary file a crash left in it).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import secrets
from dataclasses import dataclass
from typing import Any, BinaryIO

import fsspec

from joblane.core.errors import ArtifactNotFound, JoblaneError


class ArtifactTooLarge(JoblaneError):
    """A handler wrote more than the largest file allowed (a worker-side error)."""

    code = "ARTIFACT_TOO_LARGE"


# stores whose objects become visible only once their upload completed (written in place)
OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "abfs", "az", "adl", "oci", "oss"})


@dataclass(frozen=True, slots=True)
class Written:
    size: int
    sha256: str  # hex


class FileWriter:
    """One file being written: `write` chunks, then `commit` (atomic) or `abort`."""

    def __init__(self, store: ArtifactStore, path: str, max_bytes: int) -> None:
        self._store = store
        self._final = store.full_path(path)
        self._max_bytes = max_bytes
        self._hash = hashlib.sha256()
        self._stopped = False
        self.size = 0
        if store.local:
            directory = os.path.dirname(self._final)
            os.makedirs(directory, exist_ok=True)
            self._target = os.path.join(directory, f".{_nonce()}.tmp")
            self._file: Any = open(self._target, "wb")  # noqa: SIM115 (closed by commit/abort)
        elif store.object_store:
            self._target = self._final  # an object appears only once its upload completed
            self._file = store.fs.open(self._final, "wb")
        else:  # another filesystem: a temporary file, moved into place once whole
            self._target = posixpath.join(posixpath.dirname(self._final), f".{_nonce()}.tmp")
            self._file = store.fs.open(self._target, "wb")

    def stop(self) -> None:
        """Make the next `write` fail (from another thread: the write was given up)."""
        self._stopped = True

    def write(self, chunk: bytes) -> None:
        if self._stopped:
            raise InterruptedError("the artifact write was given up")
        self.size += len(chunk)
        if self.size > self._max_bytes:
            raise ArtifactTooLarge(f"artifact is larger than the limit of {self._max_bytes} bytes")
        self._hash.update(chunk)
        self._file.write(chunk)

    def commit(self) -> Written:
        if self._store.local:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self._target, self._final)
            _fsync_directory(os.path.dirname(self._final))
        else:
            self._file.close()  # an object store publishes the object now, whole
            if self._target != self._final:
                self._store.fs.mv(self._target, self._final)
        return Written(self.size, self._hash.hexdigest())

    def abort(self) -> None:
        discard = getattr(self._file, "discard", None)
        with contextlib.suppress(Exception):
            if discard is not None and self._store.object_store:
                discard()  # e.g. s3fs: abort the multipart upload, publish nothing
            self._file.close()
        with contextlib.suppress(Exception):
            if self._store.local:
                os.unlink(self._target)
            elif self._store.fs.exists(self._target):
                self._store.fs.rm(self._target)


def _nonce() -> str:
    return secrets.token_hex(6)


def _fsync_directory(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ArtifactStore:
    def __init__(self, fs: Any, root: str, url: str) -> None:
        self.fs = fs
        self.root = root.rstrip("/") or "/"
        self.url = url
        protocols = set(fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))
        self.local = "file" in protocols
        self.object_store = bool(protocols & OBJECT_STORES)

    @classmethod
    def from_url(cls, url: str, options: dict[str, Any] | None = None) -> ArtifactStore:
        fs, root = fsspec.core.url_to_fs(url, **(options or {}))
        return cls(fs, root, url)  # a local directory is made by the first write

    def new_path(self, job_id: str, attempt: int, name: str) -> str:
        """A path no other write ever gets (content addressed by job, attempt and name)."""
        return f"{job_id}/{attempt}-{secrets.token_hex(4)}/{name}"

    def full_path(self, path: str) -> str:
        parts = path.split("/")
        if path.startswith("/") or any(part in ("", ".", "..") for part in parts):
            raise ValueError(f"not an artifact path: {path!r}")
        return f"{self.root}/{path}" if self.root != "/" else f"/{path}"

    # -- blocking operations (run them in a thread from async code) ---------------------------
    def writer(self, path: str, max_bytes: int) -> FileWriter:
        return FileWriter(self, path, max_bytes)

    def open_read(self, path: str) -> BinaryIO:
        full = self.full_path(path)
        try:
            if self.local:
                return open(full, "rb")
            handle: BinaryIO = self.fs.open(full, "rb")
            return handle
        except FileNotFoundError:
            raise ArtifactNotFound(f"the file of artifact {path!r} is gone") from None

    def exists(self, path: str) -> bool:
        return bool(self.fs.exists(self.full_path(path)))

    def remove(self, path: str) -> None:
        """Remove one write: its directory (the file, and any temporary file a crash left);
        the job's directory too once empty. Already gone is fine."""
        directory = posixpath.dirname(self.full_path(path))
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(directory, recursive=True)
        if self.local:
            with contextlib.suppress(OSError):  # not empty: another write of the job
                os.rmdir(posixpath.dirname(directory))
