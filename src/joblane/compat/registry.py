"""Profiles by name. The built-in ones are modules `joblane.compat.profiles.<name>` with a
`PROFILE`, imported on first use; `register` adds another (an application's own)."""

from __future__ import annotations

import importlib
import re

from joblane.compat.profile import Profile

BUILTIN = ("walkerst", "wickson", "docurift", "apidatatools", "toolkitapi")
_NAME = re.compile(r"^[a-z][a-z0-9]{0,31}$")
_registered: dict[str, Profile] = {}


class UnknownProfile(ValueError):
    pass


def register(profile: Profile) -> Profile:
    if not _NAME.match(profile.name):
        raise ValueError(f"profile name {profile.name!r}: lowercase letters and digits only")
    _registered[profile.name] = profile
    return profile


def names() -> tuple[str, ...]:
    return (*BUILTIN, *sorted(set(_registered) - set(BUILTIN)))


def available() -> tuple[str, ...]:
    """Every name whose profile loads (a built-in module not written yet is left out)."""
    found = []
    for name in names():
        try:
            get(name)
        except ModuleNotFoundError as exc:
            if exc.name != f"joblane.compat.profiles.{name}":
                raise
            continue
        found.append(name)
    return tuple(found)


def get(name: str) -> Profile:
    if name in _registered:
        return _registered[name]
    if name not in BUILTIN:
        raise UnknownProfile(f"unknown profile {name!r}; known: {', '.join(names())}")
    module = importlib.import_module(f"joblane.compat.profiles.{name}")
    profile: Profile = module.PROFILE
    return register(profile)


def parse_enabled(spec: str) -> tuple[str, ...]:
    """`JOBLANE_COMPAT`: "all", "none" (or empty), or names separated by commas."""
    value = spec.strip().lower()
    if value == "all":
        return available()
    if value in ("", "none"):
        return ()
    chosen = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [name for name in chosen if name not in names()]
    if unknown:
        raise UnknownProfile(
            f"unknown profile(s) {', '.join(unknown)}; known: {', '.join(names())}"
        )
    return chosen


def check_name(name: str) -> str:
    if name not in names():
        raise UnknownProfile(f"unknown profile {name!r}; known: {', '.join(names())}")
    return name
