"""The start of a study (aelib.pipeline.study) and notebooks without run metadata (aelib.pipeline.notebooks)."""

from __future__ import annotations

import json

import pytest
import torch

from aelib.pipeline.notebooks import strip_run_metadata
from aelib.pipeline.study import full_scale_shortfall, parameter_names, start_study

PARAMETERS = '''profile = "quick"   # the profile
data_dir = None
n_hidden = 5
rates: list = [0.1, 0.2]
threads = 1
seed = 3
device = "cpu"
output_dir = None
'''


def write_notebook(path, parameters=PARAMETERS, tags=("parameters",)):
    cells = [{"cell_type": "markdown", "id": "a", "metadata": {"papermill": {"duration": 0.1}}, "source": ["# x"]},
             {"cell_type": "code", "id": "b", "metadata": {"tags": list(tags), "execution": {"iopub": "t"},
                                                           "papermill": {"duration": 0.2}},
              "execution_count": 1, "outputs": [], "source": parameters.splitlines(keepends=True)}]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": cells, "metadata": {"papermill": {"end_time": "t"}, "kernelspec": {}},
                                "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_parameter_names_are_read_from_the_tagged_cell_in_order(tmp_path):
    notebook = write_notebook(tmp_path / "notebooks" / "09_x.ipynb")
    assert parameter_names(notebook) == ["profile", "data_dir", "n_hidden", "rates", "threads", "seed", "device",
                                         "output_dir"]
    with pytest.raises(ValueError, match="exactly one cell tagged 'parameters'"):
        parameter_names(write_notebook(tmp_path / "untagged.ipynb", tags=()))


def test_start_study_seeds_sets_threads_and_records_the_parameters_cell(tmp_path):
    write_notebook(tmp_path / "notebooks" / "09_x.ipynb")
    namespace = dict(profile="quick", data_dir="/somewhere", n_hidden=7, rates=[0.3], threads=1, seed=3,
                     device="cpu", output_dir=str(tmp_path / "out"), unrelated=object())
    before = torch.get_num_threads()
    try:
        record, device = start_study("09_x", "A title", namespace, root=tmp_path)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    assert device == torch.device("cpu")
    assert record.params == {"n_hidden": 7, "rates": [0.3], "threads": 1, "seed": 3, "device": "cpu"}
    assert record.dir == tmp_path / "out" and record.provenance.seed == 3
    torch.manual_seed(3)
    expected = torch.rand(2)
    start_study("09_x", "A title", namespace, root=tmp_path)
    assert torch.equal(torch.rand(2), expected)


def test_start_study_names_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="09_x.ipynb does not exist"):
        start_study("09_x", "t", {}, root=tmp_path)
    write_notebook(tmp_path / "notebooks" / "09_x.ipynb", parameters="profile = 'quick'\nseed = 0\n")
    with pytest.raises(ValueError, match="must define device, output_dir"):
        start_study("09_x", "t", {"profile": "quick", "seed": 0}, root=tmp_path)


def test_strip_run_metadata_removes_timestamps_and_keeps_tags(tmp_path):
    path = write_notebook(tmp_path / "n.ipynb")
    assert strip_run_metadata(path) is True
    notebook = json.loads(path.read_text())
    assert "papermill" not in notebook["metadata"] and "kernelspec" in notebook["metadata"]
    assert notebook["cells"][1]["metadata"] == {"tags": ["parameters"]}
    assert notebook["cells"][0]["metadata"] == {}
    text = path.read_text()
    assert strip_run_metadata(path) is False and path.read_text() == text  # a second pass changes nothing


def test_full_scale_shortfall_names_each_parameter_below_the_full_profile(tmp_path):
    write_notebook(tmp_path / "notebooks" / "09_x.ipynb")
    (tmp_path / "notebooks" / "09_x.full.yaml").write_text("n_hidden: 50\nrates: [0.1]\n")
    namespace = dict(profile="quick", data_dir=None, n_hidden=5, rates=[0.3], threads=1, seed=3,
                     device="cpu", output_dir=str(tmp_path / "out"))
    record, _ = start_study("09_x", "A title", namespace, root=tmp_path)
    assert full_scale_shortfall(record, ["n_hidden", "seed"], root=tmp_path) == "the full profile's n_hidden 50 (here 5)"
    assert full_scale_shortfall(record, ["rates"], root=tmp_path) == "the full profile's rates [0.1] (here [0.3])"
    record.params["n_hidden"] = 80  # larger than the full profile's: judged
    assert full_scale_shortfall(record, ["n_hidden"], root=tmp_path) is None
    with pytest.raises(KeyError, match="batch_size"):
        full_scale_shortfall(record, ["batch_size"], root=tmp_path)
