"""`Joblane()`: the registry that users decorate with `@app.job_type(...)`."""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

Handler = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class JobType:
    name: str
    handler: Handler
    input_model: type[BaseModel]
    output_model: type[BaseModel] | None
    max_attempts: int = 3
    timeout: float = 600.0
    priority: int = 0
    description: str = ""
    enabled: bool = True
    resolutions: dict[str, str] = field(default_factory=dict)

    is_async: bool = False  # set at registration: the handler is a coroutine function

    def schema(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "enabled": self.enabled,
            "input_schema": self.input_model.model_json_schema(),
            "output_schema": self.output_model.model_json_schema() if self.output_model else None,
            "defaults": {
                "max_attempts": self.max_attempts,
                "timeout": self.timeout,
                "priority": self.priority,
            },
        }


class Joblane:
    """A set of job types. Pass one to `joblane serve|api|worker module:attribute`."""

    def __init__(self, name: str = "joblane") -> None:
        self.name = name
        self._types: dict[str, JobType] = {}

    def job_type(
        self,
        name: str,
        *,
        input: type[BaseModel],
        output: type[BaseModel] | None = None,
        max_attempts: int = 3,
        timeout: float = 600.0,
        priority: int = 0,
        resolutions: dict[str, str] | None = None,
    ) -> Callable[[Handler], Handler]:
        """Register `fn(input, ctx)` (sync or async) as the handler of job type `name`."""

        def register(fn: Handler) -> Handler:
            if name in self._types:
                raise ValueError(f"job type {name!r} is registered twice")
            self._types[name] = JobType(
                name=name,
                handler=fn,
                input_model=input,
                output_model=output,
                max_attempts=max_attempts,
                timeout=timeout,
                priority=priority,
                description=inspect.getdoc(fn) or "",
                is_async=inspect.iscoroutinefunction(fn),
                resolutions=dict(resolutions or {}),
            )
            return fn

        return register

    def get(self, name: str) -> JobType | None:
        return self._types.get(name)

    def include(self, other: Joblane, *names: str) -> None:
        """Register job types of `other` here too (all of them when no names are given), with
        the same handler and options: an app can reuse the bundled types."""
        for name in names or tuple(other.names()):
            job_type = other.get(name)
            if job_type is None:
                raise KeyError(f"{other.name!r} has no job type {name!r}")
            if name in self._types:
                raise ValueError(f"job type {name!r} is registered twice")
            self._types[name] = job_type

    def __iter__(self) -> Iterator[JobType]:
        return iter(sorted(self._types.values(), key=lambda t: t.name))

    def __len__(self) -> int:
        return len(self._types)

    def names(self) -> list[str]:
        return sorted(self._types)

    def disable(self, *names: str) -> None:
        for name in names:
            jt = self._types[name]
            self._types[name] = JobType(**{**_fields(jt), "enabled": False})


def _fields(jt: JobType) -> dict[str, Any]:
    return {f: getattr(jt, f) for f in JobType.__dataclass_fields__}


DEFAULT_APP = "joblane.examples:app"


def load_app(spec: str | None) -> Joblane:
    """Import `module:attribute` (uvicorn style); the bundled examples when `spec` is empty.
    Like uvicorn, modules in the working directory are importable (`joblane serve myapp:app`
    run as a console script would otherwise not see `./myapp.py`)."""
    module_name, _, attr = (spec or DEFAULT_APP).partition(":")
    _working_directory_importable()
    module = importlib.import_module(module_name)
    app = getattr(module, attr or "app")
    if not isinstance(app, Joblane):
        raise TypeError(f"{spec!r} is not a joblane.Joblane instance")
    return app


def _working_directory_importable() -> None:
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
