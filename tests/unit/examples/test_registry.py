"""The bundled app registers the five example types with their options and resolutions."""

from __future__ import annotations

import pytest

from joblane.app import load_app
from joblane.examples import app
from joblane.testing import run_handler


def test_default_app_is_the_examples() -> None:
    assert load_app(None) is app
    assert app.names() == ["analytics_query", "enrichment", "extraction", "json_format", "sleep"]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("extraction", "UNREADABLE_DOCUMENT"),
        ("json_format", "INVALID_JSON"),
        ("analytics_query", "UNKNOWN_COLUMN"),
        ("analytics_query", "INVALID_VALUE"),
        ("sleep", "SIMULATED_FAILURE"),
    ],
)
def test_error_codes_have_resolution_hints(name: str, code: str) -> None:
    job_type = app.get(name)
    assert job_type is not None
    assert job_type.resolutions[code]


def test_every_type_has_a_description_and_schemas() -> None:
    for job_type in app:
        schema = job_type.schema()
        assert schema["description"], job_type.name
        assert schema["output_schema"] is not None
        assert job_type.timeout > 0


def test_sleep_is_async_and_outlasts_its_longest_input() -> None:
    sleep = app.get("sleep")
    assert sleep is not None
    assert sleep.is_async
    assert sleep.timeout > 3600


def test_run_handler_rejects_an_unknown_type() -> None:
    with pytest.raises(KeyError, match="no job type 'nope'"):
        run_handler(app, "nope", {})
