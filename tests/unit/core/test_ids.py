"""Prefixed ULID ids: shape, Crockford alphabet, time order and validation messages."""

from __future__ import annotations

import re
import time

import pytest

from joblane.core import ids

CROCKFORD = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def decode_time(body: str) -> int:
    """The millisecond timestamp in the first 10 characters of a ULID."""
    value = 0
    for char in body[:10]:
        value = value * 32 + ids.ALPHABET.index(char)
    return value


def test_alphabet_is_crockford_base32() -> None:
    assert len(ids.ALPHABET) == 32
    assert len(set(ids.ALPHABET)) == 32
    assert not set("ILOU") & set(ids.ALPHABET)
    assert list(ids.ALPHABET) == sorted(ids.ALPHABET)


@pytest.mark.parametrize("prefix", [ids.JOB, ids.KEY, ids.REQUEST, ids.BATCH])
def test_new_id_has_prefix_and_26_crockford_chars(prefix: str) -> None:
    value = ids.new_id(prefix)
    assert value.startswith(prefix + "_")
    body = value[len(prefix) + 1 :]
    assert len(body) == 26
    assert CROCKFORD.match(body)
    assert ids.id_problem(value, prefix) is None
    assert ids.is_valid(value, prefix)


def test_ulid_encodes_the_given_millisecond() -> None:
    ms = 1_767_225_600_123
    assert decode_time(ids.ulid(ms)) == ms
    assert decode_time(ids.ulid(0)) == 0
    assert ids.ulid(0).startswith("0000000000")


def test_ulid_without_argument_uses_now() -> None:
    before = int(time.time() * 1000)
    body = ids.ulid()
    after = int(time.time() * 1000)
    assert before <= decode_time(body) <= after


def test_ids_made_at_increasing_milliseconds_sort_in_order() -> None:
    base = 1_767_225_600_000
    made = [ids.ulid(base + step) for step in (0, 1, 2, 31, 32, 33, 1000, 1024, 86_400_000)]
    assert sorted(made) == made
    prefixed = [f"job_{body}" for body in made]
    assert sorted(prefixed) == prefixed


def test_ids_in_the_same_millisecond_are_distinct() -> None:
    made = {ids.ulid(1_767_225_600_000) for _ in range(200)}
    assert len(made) == 200
    assert len({body[:10] for body in made}) == 1


def test_new_ids_are_unique() -> None:
    assert len({ids.new_id(ids.JOB) for _ in range(1000)}) == 1000


def test_ids_made_together_are_valid_unique_and_in_order_between_single_ids() -> None:
    before = ids.new_id(ids.JOB)
    made = ids.new_ids(ids.JOB, 5000)
    after = ids.new_id(ids.JOB)
    assert len(set(made)) == 5000
    assert made == sorted(made)
    assert before < made[0] and made[-1] < after
    assert all(ids.is_valid(value, ids.JOB) for value in made)


def test_ids_made_together_carry_into_the_leading_characters() -> None:
    """The last 8 characters are encoded per id and the rest once per run: a run that crosses
    a 40-bit boundary must still count up (the leading characters change mid-run)."""
    future_ms = int(time.time() * 1000) + 60_000  # keeps the reservation on this value
    ids._last[0] = (future_ms << 80) | ((1 << 40) - 3)
    made = ids.new_ids(ids.BATCH, 6)
    bodies = [value.removeprefix("bat_") for value in made]
    assert made == sorted(made)
    assert [int_of(body) for body in bodies] == list(
        range((future_ms << 80) | ((1 << 40) - 2), ((future_ms << 80) | ((1 << 40) - 2)) + 6)
    )
    assert len({body[:18] for body in bodies}) == 2


def int_of(body: str) -> int:
    value = 0
    for char in body:
        value = value * 32 + ids.ALPHABET.index(char)
    return value


def test_wrong_prefix() -> None:
    body = ids.ulid()
    assert ids.id_problem(f"key_{body}", "job") == "must start with 'job_'"
    assert ids.id_problem(body, "job") == "must start with 'job_'"
    assert ids.id_problem(f"jobs_{body}", "job") == "must start with 'job_'"
    assert not ids.is_valid(f"key_{body}", "job")


@pytest.mark.parametrize("length", [0, 1, 25, 27, 40])
def test_wrong_length(length: int) -> None:
    value = "job_" + "0" * length
    assert ids.id_problem(value, "job") == (f"must have 26 characters after 'job_', got {length}")


@pytest.mark.parametrize("bad", ["I", "L", "O", "U", "a", "z", "-", "_", " ", "é"])
def test_wrong_characters(bad: str) -> None:
    body = "0" * 25 + bad
    assert ids.id_problem("job_" + body, "job") == (
        "must use Crockford base32 characters (0-9, A-Z without I, L, O, U)"
    )


def test_lowercase_is_rejected() -> None:
    body = ids.ulid().lower()
    problem = ids.id_problem("job_" + body, "job")
    assert problem is not None
    assert "Crockford" in problem


def test_first_character_above_seven_overflows_128_bits() -> None:
    assert ids.id_problem("job_8" + "0" * 25, "job") == "timestamp part out of range"
    assert ids.id_problem("job_7" + "Z" * 25, "job") is None
