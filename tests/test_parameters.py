import json
import re
from pathlib import Path

import pytest

from aelib.pipeline.parameters import require_sweep


@pytest.mark.parametrize("values", [[0.0, 0.1], [0, 0.5, 2]])
def test_a_sweep_from_zero_is_accepted(values):
    require_sweep("alphas", values)


@pytest.mark.parametrize("values", [[0.1, 0.3],            # no unregularized model first
                                    [0.0],                 # nothing to sweep
                                    [0.0, 0.3, 0.3],       # not increasing
                                    [0.0, -0.1],           # negative
                                    [0.0, True],           # not a number
                                    "0.0, 0.1",            # not a list
                                    ])
def test_a_bad_sweep_is_refused_with_its_name_and_value(values):
    with pytest.raises(ValueError, match=r"parameter alphas must be at least 2 increasing non-negative numbers, "
                                         r"starting at 0.0, got"):
        require_sweep("alphas", values)


def test_a_sweep_may_start_anywhere_when_asked():
    require_sweep("noise", [0.25, 0.4], start=None)
    with pytest.raises(ValueError, match="parameter noise must be at least 2 increasing"):
        require_sweep("noise", [0.4, 0.25], start=None)


NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_papermill_reads_every_parameter_of_each_notebook(notebook):
    """A comment papermill cannot parse (it gave up on `k(x, x') = ...`) hides its parameter from `-p` and the
    profiles: every assignment of the parameters cell must be one papermill reads."""
    import papermill
    cell = next(c for c in json.loads(notebook.read_text())["cells"] if "parameters" in c["metadata"].get("tags", []))
    assigned = re.findall(r"^(\w+)\s*=", "".join(cell["source"]), re.MULTILINE)
    assert list(papermill.inspect_notebook(str(notebook))) == assigned
