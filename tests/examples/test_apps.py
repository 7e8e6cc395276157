"""How the example apps are found and built: `load_app` sees modules in the working directory
(as `joblane serve examples.x.app:app` run from the repository root needs), and
`Joblane.include` reuses job types of another app."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from joblane.app import Joblane, load_app
from joblane.examples import app as bundled

APPS = {
    "examples.enrichment.app:app": ["enrichment"],
    "examples.documents.app:app": ["document"],
    "examples.invoices.app:app": ["extraction"],
    "examples.converter.app:app": ["json_format"],
    "examples.analytics.app:app": ["analytics_query"],
}


@pytest.mark.parametrize(("spec", "types"), APPS.items())
def test_each_example_app_loads_with_its_job_types(spec: str, types: list[str]) -> None:
    app = load_app(spec)

    assert app.names() == types
    assert all(job_type.schema()["description"] for job_type in app)


def test_load_app_imports_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "h6_myapp.py").write_text("from joblane import Joblane\napp = Joblane('mine')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    monkeypatch.delitem(sys.modules, "h6_myapp", raising=False)

    assert load_app("h6_myapp:app").name == "mine"
    assert sys.path[0] == str(tmp_path)


def test_include_reuses_the_same_job_types() -> None:
    app = Joblane("mine")

    app.include(bundled, "extraction", "sleep")

    assert app.names() == ["extraction", "sleep"]
    assert app.get("extraction") is bundled.get("extraction")


def test_include_without_names_takes_them_all() -> None:
    app = Joblane("mine")

    app.include(bundled)

    assert app.names() == bundled.names()


def test_include_refuses_unknown_and_duplicate_names() -> None:
    app = Joblane("mine")
    app.include(bundled, "sleep")

    with pytest.raises(KeyError, match="has no job type 'nope'"):
        app.include(bundled, "nope")
    with pytest.raises(ValueError, match="'sleep' is registered twice"):
        app.include(bundled, "sleep")
