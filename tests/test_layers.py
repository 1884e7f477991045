"""The import rules between aelib's parts, read from the source with ast (no import runs).

The parts, and what each may import of aelib:
- data (datasets, MNIST-basic, natural images, patches, references): no other part;
- models (activations, autoencoders, VAE, rank-ordered, batched, losses): no other part;
- penalties (the regularizer registry and each penalty's mathematics): models;
- training: data, models, penalties, measures (a study's run trains, then measures what it trained); its loop (aelib.training.loop) imports nothing of aelib:
  the trainer knows no model;
- measures: models, penalties;
- plotting (aelib.plotting, figures): no other part;
- pipeline (command line, studies, workflow, results, report, paper): data, and itself; the report
  reads results only (of aelib, the results and their reader aelib.pipeline.records, and its own
  sections), and so does the paper (the results, their reader, its LaTeX and its checks); no other part imports the pipeline (aelib/__main__.py, the entry
  point of `python -m aelib`, starts the command line);
- nothing in aelib imports a notebook.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "aelib"
PARTS = ("data", "models", "penalties", "training", "measures", "plotting", "pipeline")
MAY_IMPORT = {
    "data": set(),
    "models": set(),
    "penalties": {"models"},
    "training": {"data", "models", "penalties", "measures"},
    "measures": {"models", "penalties"},
    "plotting": set(),
    "pipeline": {"data"},
}
RECORD_READERS = ("aelib.pipeline.results", "aelib.pipeline.records")
READS_RESULTS_ONLY = {  # module -> the aelib modules it may import
    "aelib.pipeline.report": (*RECORD_READERS, "aelib.pipeline.report_"),
    "aelib.pipeline.report_performance": RECORD_READERS,
    "aelib.pipeline.report_quick": RECORD_READERS,
    "aelib.pipeline.paper": (*RECORD_READERS, "aelib.pipeline.latex", "aelib.pipeline.paper_"),
    "aelib.pipeline.paper_checks": (*RECORD_READERS, "aelib.pipeline.latex"),
    "aelib.pipeline.paper_tables": (*RECORD_READERS, "aelib.pipeline.latex"),
}


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
            # `from aelib.pipeline import cli` imports the module aelib.pipeline.cli
            packaged = base == "aelib" or base.count(".") == 1 and base.split(".")[1] in PARTS
            found |= {f"{base}.{alias.name}" for alias in node.names} if packaged else {base}
    return found


def modules(package: Path) -> dict[str, Path]:
    """Module name -> file, for every .py file under `package`."""
    names = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def part_of(module: str) -> str | None:
    """The part a module belongs to (aelib.penalties.contractive -> penalties), None for aelib itself."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 and pieces[1] in PARTS else None


def violations(package: Path) -> list[str]:
    """One line per broken import rule in the package at `package` (its folder is named aelib)."""
    found = []
    for module, path in modules(package).items():
        own = {name for name in imports_of(path, module) if name == "aelib" or name.startswith("aelib.")}
        own.discard(module)

        def breaks(rule: str, bad: set[str], module: str = module):
            found.extend(f"{module} imports {name}: {rule}" for name in sorted(bad))

        part = part_of(module)
        if part is not None:
            allowed = MAY_IMPORT[part] | {part}
            breaks(f"{part} may import only {', '.join(sorted(allowed))}",
                   {n for n in own if n != "aelib" and part_of(n) not in allowed})
        elif module == "aelib.__main__":
            breaks("python -m aelib starts the command line only",
                   {n for n in own if not n.startswith("aelib.pipeline")})
        elif module != "aelib":
            breaks(f"every module lies in one of the parts {', '.join(PARTS)}", {module})
        if module == "aelib.training.loop":
            breaks("the trainer knows no model", {n for n in own if n != "aelib"})
        if module in READS_RESULTS_ONLY:
            breaks("the report and the paper read results only",
                   {n for n in own if not n.startswith(READS_RESULTS_ONLY[module]) and n not in ("aelib", "aelib.pipeline")})
        notebook_imports = {n for n in imports_of(path, module) if "notebook" in n.split(".")[0] or "ipynb" in n}
        breaks("nothing in aelib imports a notebook", notebook_imports)
    return found


def test_aelib_keeps_its_import_rules():
    assert violations(PACKAGE) == []


def test_every_part_is_a_package_with_its_rule():
    for part in PARTS:
        assert (PACKAGE / part / "__init__.py").is_file() or (PACKAGE / f"{part}.py").is_file(), part
    assert set(MAY_IMPORT) == set(PARTS)


@pytest.mark.parametrize("module, source, rule", [
    ("training/loop.py", "from aelib.models.autoencoders import Autoencoder\n", "the trainer knows no model"),
    ("models/autoencoders.py", "from aelib.training.loop import train\n", "models may import only models"),
    ("models/autoencoders.py", "import aelib.data.datasets\n", "models may import only models"),
    ("penalties/contractive.py", "from aelib.measures.locality import filter_locality\n",
     "penalties may import only models, penalties"),
    ("measures/locality.py", "from aelib.training.loop import train\n", "measures may import only"),
    ("pipeline/report.py", "from aelib.pipeline.study import start_study\n", "read results only"),
    ("pipeline/study.py", "from aelib.models.autoencoders import Autoencoder\n", "pipeline may import only data"),
    ("pipeline/paper.py", "from aelib.pipeline import workflow\n", "read results only"),
    ("measures/locality.py", "from aelib.pipeline.results import StudyRecord\n", "measures may import only"),
    ("measures/locality.py", "from aelib.pipeline import results\n", "measures may import only"),
    ("measures/locality.py", "import import_ipynb\n", "imports a notebook"),
    ("stray.py", "", "lies in one of the parts"),
])
def test_a_deliberate_bad_import_is_caught(tmp_path, module, source, rule):
    package = tmp_path / "aelib"
    for part in ("pipeline", "training", "models", "measures", "penalties", "data"):
        (package / part).mkdir(parents=True)
        (package / part / "__init__.py").write_text("")
    for name in ("__init__.py", "pipeline/results.py", "training/loop.py", "models/autoencoders.py",
                 "measures/locality.py", "penalties/contractive.py"):
        (package / name).write_text("")
    (package / "pipeline" / "report.py").write_text("from aelib.pipeline.results import write_text_atomic\n")
    (package / "measures" / "spectra.py").write_text("from aelib.penalties.contractive import encoder_jacobian\n")
    assert violations(package) == []  # the clean tree passes
    (package / module).write_text(source)
    found = violations(package)
    assert len(found) == 1 and rule in found[0], found
