"""Artifacts: files a job produced (its result when over the inline limit, or files its handler
wrote), as records; their names; the reference to a result artifact kept in a job's `result`;
and signed links (HMAC over job, name, attempt and expiry). Pure: no I/O.

A stored result reference is `{REF_KEY: {name, attempt, size, sha256, content_type}, "preview":
…}`; the API turns it into the contract's `{"artifact": {url, size, sha256, content_type,
expires_at}, "preview": …}` with a link minted at read time. Handlers cannot return `REF_KEY`
themselves (the worker refuses such output), so a reference is never forged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

from joblane.core.errors import InvalidArtifactName

RESULT_NAME = "_result"  # a user's names start with a letter or digit: never this
REF_KEY = "$joblane_artifact"
PREVIEW_BYTES = 1024
MAX_NAME = 200
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
DEFAULT_CONTENT_TYPE = "application/octet-stream"
_CONTENT_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+(?:\s*;\s*[\w.+-]+=[\w.+\"-]+)*$")


@dataclass(frozen=True, slots=True)
class Artifact:
    """A file of a job, written by attempt `attempt`; `path` is where the store keeps it."""

    job_id: str
    name: str
    attempt: int
    path: str
    size: int
    sha256: str  # hex
    content_type: str
    created_at: float

    @property
    def etag(self) -> str:
        return f'"{self.sha256}"'


@dataclass(frozen=True, slots=True)
class ResultRef:
    """What a job's stored `result` says about its result artifact."""

    name: str
    attempt: int
    size: int
    sha256: str
    content_type: str
    preview: str


def name_problem(name: str) -> str | None:
    """Why `name` cannot name an artifact, or None: letters, digits, `.`, `_`, `-`, starting
    with a letter or digit (no path separators, no `..`, no hidden files), at most 200."""
    if not name:
        return "is empty"
    if len(name) > MAX_NAME:
        return f"is longer than {MAX_NAME} characters"
    if not _NAME.match(name):
        return "must be letters, digits, '.', '_' or '-', starting with a letter or digit"
    return None


def check_name(name: str) -> None:
    problem = name_problem(name)
    if problem is not None:
        shown = name[:100]
        raise InvalidArtifactName(f"artifact name {shown!r} {problem}", details={"name": shown})


def check_content_type(content_type: str) -> None:
    problem = content_type_problem(content_type)
    if problem is not None:
        raise InvalidArtifactName(f"content type {content_type[:100]!r} {problem}")


def content_type_problem(content_type: str) -> str | None:
    if len(content_type) > 200 or not _CONTENT_TYPE.match(content_type):
        return "must look like 'type/subtype' (parameters allowed), at most 200 characters"
    return None


def preview_of(data: bytes, limit: int = PREVIEW_BYTES) -> str:
    """The first `limit` bytes as text (a character cut in half is dropped)."""
    return data[:limit].decode("utf-8", "ignore")


def stored_reference(artifact: Artifact, preview: str) -> dict[str, Any]:
    ref = {
        "name": artifact.name,
        "attempt": artifact.attempt,
        "size": artifact.size,
        "sha256": artifact.sha256,
        "content_type": artifact.content_type,
    }
    return {REF_KEY: ref, "preview": preview}


def reference_of(result: Any) -> ResultRef | None:
    """The result artifact a stored result points to, or None for an inline result."""
    if not isinstance(result, dict) or REF_KEY not in result:
        return None
    ref = result[REF_KEY]
    return ResultRef(
        name=str(ref["name"]),
        attempt=int(ref["attempt"]),
        size=int(ref["size"]),
        sha256=str(ref["sha256"]),
        content_type=str(ref["content_type"]),
        preview=str(result.get("preview", "")),
    )


def is_reserved_output(output: Any) -> bool:
    return isinstance(output, dict) and REF_KEY in output


# -- signed links -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LinkPolicy:
    """Links live `ttl` seconds at least and `ttl + step` at most: their expiry is rounded up
    to a multiple of `step` (a quarter of `ttl`), so every read within one step mints the same
    link, and a job's ETag (which carries the step's number) stays put between steps."""

    ttl: int = 3600

    @property
    def step(self) -> int:
        return max(1, self.ttl // 4)

    def epoch(self, now: float) -> int:
        return int(now) // self.step

    def expires_at(self, now: float) -> int:
        return (self.epoch(now) + 1) * self.step + self.ttl


def _message(job_id: str, name: str, attempt: int, expires: int) -> bytes:
    return f"{job_id}\n{name}\n{attempt}\n{expires}".encode()


def sign(secret: bytes, job_id: str, name: str, attempt: int, expires: int) -> str:
    digest = hmac.new(secret, _message(job_id, name, attempt, expires), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def signature_valid(
    secret: bytes, job_id: str, name: str, attempt: int, expires: int, signature: str
) -> bool:
    expected = sign(secret, job_id, name, attempt, expires)
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def repr_digest(sha256_hex: str) -> str:
    """RFC 9530 `Repr-Digest` value of a sha256 given in hex."""
    return f"sha-256=:{base64.b64encode(bytes.fromhex(sha256_hex)).decode()}:"
