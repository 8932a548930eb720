"""The lock files install what pyproject.toml declares: a range changed without re-running scripts/lock.sh
fails here, not later as a CI or image that quietly differs from what the ranges promise."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def _pins(lock: str) -> dict[NormalizedName, Version]:
    """name → version of every ``name==version`` line (environment markers after ``;`` ignored)."""
    pins: dict[NormalizedName, Version] = {}
    for line in (ROOT / lock).read_text(encoding="utf-8").splitlines():
        requirement = line.split(";")[0].strip()
        if requirement and not requirement.startswith("#") and "==" in requirement:
            name, version = requirement.split("==")
            pins[canonicalize_name(name.split("[")[0])] = Version(version)
    return pins


def _declared(*extras: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    listed = list(project["dependencies"])
    for extra in extras:
        listed += project["optional-dependencies"][extra]
    return [Requirement(text) for text in listed]


@pytest.mark.parametrize(
    ("lock", "extras"), [("requirements-lock.txt", ()), ("requirements-test-lock.txt", ("test",))]
)
def test_every_declared_dependency_is_pinned_within_its_range(lock: str, extras: tuple[str, ...]) -> None:
    pins = _pins(lock)
    for requirement in _declared(*extras):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is declared but not in {lock}: run scripts/lock.sh"
        pinned = pins[name]
        assert requirement.specifier.contains(pinned, prereleases=True), (
            f"{lock} pins {name}=={pinned} outside {requirement.specifier}: run scripts/lock.sh"
        )


def test_the_runtime_lock_is_the_test_lock_without_the_test_tools() -> None:
    runtime, test = _pins("requirements-lock.txt"), _pins("requirements-test-lock.txt")
    differing = {
        name: (version, test.get(name)) for name, version in runtime.items() if test.get(name) != version
    }
    assert not differing, f"the image would run other versions than CI tests: {differing}"
