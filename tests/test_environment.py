"""environment.yml, pyproject.toml and requirements.lock describe one environment."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_deps() -> set[str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = meta["dependencies"] + meta["optional-dependencies"]["dev"]
    return {norm(re.split(r"[<>=!~\[ ;]", d, maxsplit=1)[0]) for d in deps}


def lock() -> dict[str, str]:
    out = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            out[norm(name)] = version
    return out


def conda() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            assert dep == {"pip": ["-e ."]}, "the pip section installs the package editable, nothing else"
            continue
        name, _, version = dep.partition("=")
        if name not in ("python", "pip"):
            out[norm(name)] = version
    return out


def test_environment_yml_has_the_same_dependency_set_as_pyproject():
    assert set(conda()) == pyproject_deps()


def test_environment_yml_pins_the_locked_versions():
    locked = lock()
    assert {k: v for k, v in conda().items()} == {k: locked[k] for k in conda()}


def test_lock_pins_every_dependency_exactly():
    locked = lock()
    assert pyproject_deps() <= set(locked)
    assert len(locked) > len(pyproject_deps())  # transitive ones too


def test_python_versions_agree():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert meta["requires-python"] == ">=3.11" and "python=3.11" in env["dependencies"]
