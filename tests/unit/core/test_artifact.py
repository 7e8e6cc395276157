"""Artifact names, result references, signed links and their expiry (pure functions)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from joblane.core.artifact import (
    REF_KEY,
    RESULT_NAME,
    Artifact,
    LinkPolicy,
    check_name,
    content_type_problem,
    is_reserved_output,
    name_problem,
    preview_of,
    reference_of,
    repr_digest,
    sign,
    signature_valid,
    stored_reference,
)
from joblane.core.errors import InvalidArtifactName

SECRET = b"s" * 32


@pytest.mark.parametrize("name", ["report.txt", "a", "A-1_b.tar.gz", "0", "x" * 200, "data..csv"])
def test_good_names(name: str) -> None:
    assert name_problem(name) is None
    check_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "..",
        "../etc/passwd",
        "a/b",
        "a\\b",
        ".hidden",
        "_result",
        "-x",
        "x" * 201,
        "sp ace",
        "nul\x00",
        "é.txt",
        "a%2Fb",
    ],
)
def test_bad_names(name: str) -> None:
    assert name_problem(name) is not None
    with pytest.raises(InvalidArtifactName):
        check_name(name)


def test_the_result_name_is_never_a_users() -> None:
    assert name_problem(RESULT_NAME) is not None


@pytest.mark.parametrize("value", ["text/plain", "application/json", "text/csv; charset=utf-8"])
def test_good_content_types(value: str) -> None:
    assert content_type_problem(value) is None


@pytest.mark.parametrize(
    "value", ["", "text", "text/plain\r\nX-Evil: 1", "a/b c", "x/" + "y" * 300]
)
def test_bad_content_types(value: str) -> None:
    assert content_type_problem(value) is not None


def test_a_reference_round_trips_and_is_recognised() -> None:
    artifact = Artifact("job_x", RESULT_NAME, 2, "p", 10, "ab" * 32, "application/json", 1.0)
    stored = stored_reference(artifact, '{"a":')

    ref = reference_of(stored)

    assert ref is not None
    assert (ref.name, ref.attempt, ref.size, ref.sha256) == (RESULT_NAME, 2, 10, "ab" * 32)
    assert ref.preview == '{"a":'
    assert is_reserved_output(stored)
    assert reference_of({"artifact": {"url": "x"}, "preview": ""}) is None  # a user's own dict
    assert reference_of([REF_KEY]) is None and reference_of(None) is None


def test_a_preview_never_cuts_a_character_in_half() -> None:
    data = ("é" * 600).encode()  # two bytes each
    assert preview_of(data, 1023) == "é" * 511
    assert preview_of(b"abc") == "abc"


def test_links_expire_between_ttl_and_ttl_plus_a_step() -> None:
    policy = LinkPolicy(ttl=3600)
    for now in (0.0, 1.0, 899.9, 900.0, 1_700_000_123.4):
        expires = policy.expires_at(now)
        assert now + 3600 < expires <= now + 3600 + 900
        assert expires % 900 == 0


def test_every_read_within_a_step_mints_the_same_expiry() -> None:
    policy = LinkPolicy(ttl=3600)
    assert policy.expires_at(900.0) == policy.expires_at(1799.9)
    assert policy.epoch(900.0) == policy.epoch(1799.9) != policy.epoch(1800.0)
    assert policy.expires_at(1800.0) == policy.expires_at(900.0) + 900


def test_a_signature_covers_job_name_attempt_and_expiry() -> None:
    signature = sign(SECRET, "job_a", "f.txt", 1, 1000)

    assert signature_valid(SECRET, "job_a", "f.txt", 1, 1000, signature)
    for changed in (
        ("job_b", "f.txt", 1, 1000),
        ("job_a", "g.txt", 1, 1000),
        ("job_a", "f.txt", 2, 1000),
        ("job_a", "f.txt", 1, 1001),
    ):
        assert not signature_valid(SECRET, *changed, signature)
    assert not signature_valid(b"t" * 32, "job_a", "f.txt", 1, 1000, signature)
    assert not signature_valid(SECRET, "job_a", "f.txt", 1, 1000, signature[:-1] + "A")
    assert not signature_valid(SECRET, "job_a", "f.txt", 1, 1000, "ü")


def test_repr_digest_is_base64_of_the_raw_digest() -> None:
    digest = hashlib.sha256(b"hello").digest()
    expected = f"sha-256=:{base64.b64encode(digest).decode()}:"
    assert repr_digest(digest.hex()) == expected
