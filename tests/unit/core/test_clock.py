"""Clocks and RFC 3339 conversion at the edges."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime

import pytest

from joblane.core.clock import Clock, FakeClock, SystemClock, from_rfc3339, to_rfc3339


def test_epoch_zero_is_z_suffixed_with_milliseconds() -> None:
    assert to_rfc3339(0.0) == "1970-01-01T00:00:00.000Z"


def test_known_instant() -> None:
    assert to_rfc3339(1_767_225_600.25) == "2026-01-01T00:00:00.250Z"
    assert from_rfc3339("2026-01-01T00:00:00.250Z") == 1_767_225_600.25


def test_none_stays_none() -> None:
    assert to_rfc3339(None) is None


@pytest.mark.parametrize(
    "epoch", [0.0, 1.5, 1_700_000_000.0, 1_767_225_600.123, 1_767_225_600.999, 4_102_444_800.5]
)
def test_round_trip_keeps_milliseconds(epoch: float) -> None:
    text = to_rfc3339(epoch)
    assert text is not None
    assert text.endswith("Z")
    assert "+00:00" not in text
    assert from_rfc3339(text) == pytest.approx(epoch, abs=1e-6)


def reference(epoch: float) -> str:
    """RFC 3339 as `datetime` writes it: microseconds rounded, then cut to milliseconds."""
    text = datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def test_formatting_agrees_with_datetime() -> None:
    rng = random.Random(2026)
    millis = [rng.randrange(0, 4_102_444_800_000) / 1000 for _ in range(3000)]
    anything = [rng.uniform(0, 4_102_444_800) for _ in range(3000)]
    edges = [0.0005, 0.9999995, 1.9999999, 59.9995, 1_767_225_599.9999999, 1.007, 0.001]
    for epoch in millis + anything + edges:
        assert to_rfc3339(epoch) == reference(epoch), epoch


def test_millisecond_timestamps_round_trip_exactly() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        epoch = rng.randrange(0, 4_102_444_800_000) / 1000
        text = to_rfc3339(epoch)
        assert text is not None
        assert round(from_rfc3339(text), 3) == epoch, (epoch, text)


def test_sub_millisecond_precision_is_dropped_not_invented() -> None:
    text = to_rfc3339(1_767_225_600.1239)
    assert text is not None
    assert abs(from_rfc3339(text) - 1_767_225_600.1239) < 1e-3


def test_from_rfc3339_accepts_offsets_and_naive_as_utc() -> None:
    assert from_rfc3339("2026-01-01T02:00:00+02:00") == 1_767_225_600.0
    assert from_rfc3339("2026-01-01T00:00:00") == 1_767_225_600.0
    assert from_rfc3339("2026-01-01T00:00:00+00:00") == 1_767_225_600.0


def test_from_rfc3339_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        from_rfc3339("yesterday")


def test_fake_clock_moves_only_by_hand() -> None:
    clock = FakeClock(100.0)
    assert clock.now() == 100.0
    assert clock.now() == 100.0
    clock.advance(2.5)
    assert clock.now() == 102.5
    clock.set(50.0)
    assert clock.now() == 50.0


def test_fake_clock_default_start() -> None:
    assert to_rfc3339(FakeClock().now()) == "2026-01-01T00:00:00.000Z"


def test_system_clock_is_wall_time() -> None:
    clock: Clock = SystemClock()
    before = time.time()
    now = clock.now()
    after = time.time()
    assert before <= now <= after


def test_both_clocks_satisfy_the_protocol() -> None:
    clocks: list[Clock] = [SystemClock(), FakeClock()]
    assert all(isinstance(c.now(), float) for c in clocks)
