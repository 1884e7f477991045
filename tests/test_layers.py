"""The import rules between aelib's layers, read from the source with ast (no import runs).

- the trainer imports no other aelib module: it knows no model;
- the models import no trainer, data, pipeline or report;
- the report reads results only (of aelib, it imports aelib.pipeline.results alone), and so does
  the paper (aelib.pipeline.results and the report's reader);
- the machine-learning modules (flat in aelib/) import nothing of aelib.pipeline
  (aelib/__main__.py, the entry point of `python -m aelib`, starts the command line);
- nothing in aelib imports a notebook.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "aelib"
MODEL_MODULES = ("aelib.models", "aelib.batched", "aelib.rank_order", "aelib.vae")


def imports_of(path: Path, module: str) -> set[str]:
    """Every module `path` imports (absolute names; relative imports resolved against `module`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.rsplit(".", node.level)[0]
                base = f"{parent}.{base}" if base else parent
            packages = ("aelib", "aelib.pipeline")  # `from aelib import cli` imports the module aelib.cli
            found |= {f"{base}.{alias.name}" for alias in node.names} if base in packages else {base}
    return found


def modules(package: Path) -> dict[str, Path]:
    """Module name -> file, for every .py file under `package`."""
    names = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def violations(package: Path) -> list[str]:
    """One line per broken import rule in the package at `package` (its folder is named aelib)."""
    found = []
    for module, path in modules(package).items():
        own = {name for name in imports_of(path, module) if name == "aelib" or name.startswith("aelib.")}
        own.discard(module)

        def breaks(rule: str, bad: set[str], module: str = module):
            found.extend(f"{module} imports {name}: {rule}" for name in sorted(bad))

        if module == "aelib.training":
            breaks("the trainer knows no model", {n for n in own if n not in ("aelib",)})
        if module in MODEL_MODULES:
            breaks("models import no trainer, data, pipeline or report",
                   {n for n in own if n.startswith(("aelib.training", "aelib.data", "aelib.pipeline"))})
        if module == "aelib.pipeline.report":
            breaks("the report reads results only",
                   {n for n in own if not n.startswith("aelib.pipeline.results") and n not in ("aelib", "aelib.pipeline")})
        if module == "aelib.pipeline.paper":
            breaks("the paper reads results only",
                   {n for n in own if not n.startswith(("aelib.pipeline.results", "aelib.pipeline.report"))
                    and n not in ("aelib", "aelib.pipeline")})
        if not module.startswith("aelib.pipeline") and module != "aelib.__main__":  # python -m aelib runs the CLI
            breaks("the mathematics imports nothing of the pipeline", {n for n in own if n.startswith("aelib.pipeline")})
        notebook_imports = {n for n in imports_of(path, module) if "notebook" in n.split(".")[0] or "ipynb" in n}
        breaks("nothing in aelib imports a notebook", notebook_imports)
    return found


def test_aelib_keeps_its_import_rules():
    assert violations(PACKAGE) == []


@pytest.mark.parametrize("module, source, rule", [
    ("training.py", "from aelib.models import Autoencoder\n", "the trainer knows no model"),
    ("models.py", "from aelib.training import train\n", "models import no trainer"),
    ("models.py", "import aelib.data\n", "models import no trainer, data"),
    ("pipeline/report.py", "from aelib.models import Autoencoder\n", "the report reads results only"),
    ("pipeline/paper.py", "from aelib.training import train\n", "the paper reads results only"),
    ("metrics.py", "from aelib.pipeline.results import StudyRecord\n", "imports nothing of the pipeline"),
    ("metrics.py", "import import_ipynb\n", "imports a notebook"),
])
def test_a_deliberate_bad_import_is_caught(tmp_path, module, source, rule):
    package = tmp_path / "aelib"
    (package / "pipeline").mkdir(parents=True)
    for name in ("__init__.py", "pipeline/__init__.py", "pipeline/results.py", "pipeline/report.py",
                 "training.py", "models.py", "metrics.py"):
        (package / name).write_text("")
    (package / "pipeline" / "report.py").write_text("from aelib.pipeline.results import write_text_atomic\n")
    assert violations(package) == []  # the clean tree passes
    (package / module).write_text(source)
    found = violations(package)
    assert len(found) == 1 and rule in found[0], found
