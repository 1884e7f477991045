"""The set-up files agree with each other, so pyproject.toml stays the one list of dependencies."""

import re
from pathlib import Path

import tomllib
import yaml
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]


def pins():
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    return dict(line.split("==") for line in lines if line and not line.startswith("#"))


def test_environment_yml_installs_this_package_with_the_pinned_versions_only():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert environment["channels"] == ["conda-forge"]
    conda, pip = [d for d in environment["dependencies"] if isinstance(d, str)], \
        [d for d in environment["dependencies"] if isinstance(d, dict)][0]["pip"]
    assert sorted(re.split("[=<>]", d)[0] for d in conda) == ["pip", "python"]
    assert pip == ["--constraint constraints.txt", "--editable .[test]"]
    python = next(d for d in conda if d.startswith("python"))
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minor = python.split("=")[1]
    assert SpecifierSet(requires).contains(minor), f"environment.yml pins python {minor}, pyproject requires {requires}"


def test_the_package_admits_the_pythons_and_torch_versions_a_gpu_server_has():
    """The exact pins live in constraints.txt (this machine); the package's own metadata must not
    refuse a supported Python or an existing CUDA build of torch."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for python in ("3.10", "3.11", "3.12", "3.13"):
        assert SpecifierSet(project["requires-python"]).contains(python)
    torch_requirement = next(d for d in project["dependencies"] if re.split("[=<>]", d)[0] == "torch")
    for version in ("2.4.0", "2.6.0+cu124", "2.13.0"):
        assert SpecifierSet(torch_requirement.removeprefix("torch")).contains(version, prereleases=True)


def test_every_dependency_is_pinned_and_torch_is_the_cpu_build_on_disk():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + project["optional-dependencies"]["test"]
    pinned = {name.lower() for name in pins()}
    for requirement in names:
        name = re.split("[=<>\\[ ]", requirement)[0].lower()
        assert name in pinned, f"{name} is a dependency in pyproject.toml but has no pin in constraints.txt"
    assert pins()["torch"] == "2.13.0"
