"""`live`: one real server per backend for a whole test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from client.live import Live, live_server
from conftest import BACKENDS


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    with live_server(request.param, tmp_path_factory.mktemp(f"live-{request.param}")) as server:
        yield server
