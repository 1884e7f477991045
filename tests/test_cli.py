import json
from pathlib import Path

import nbformat
import papermill
import pytest

from aelib.pipeline import arguments, cli, runs


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A tiny checkout with one study whose parameters are epochs (int) and rate (float)."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "aelib"\n')
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('profile = "quick"\nepochs = 2\nrate = 0.1\nsteps = 2 ** 3\nseed = 0\noutput_dir = None',
                                  metadata={"tags": ["parameters"]})])
    notebook.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    (tmp_path / "notebooks").mkdir()
    nbformat.write(notebook, tmp_path / "notebooks" / "01_toy_study.ipynb")
    (tmp_path / "notebooks" / "01_toy_study.full.yaml").write_text("epochs: 20\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *argv):
    code = cli.main(list(argv))
    return code, capsys.readouterr().err


@pytest.fixture
def executed(monkeypatch):
    """Record papermill calls instead of starting a kernel; the 'notebook' writes metrics.json."""
    calls = []

    def execute(source, output, parameters, **kwargs):
        calls.append(parameters)
        out = parameters["output_dir"]
        with open(f"{out}/metrics.json", "w") as file:
            json.dump({"epochs": parameters.get("epochs")}, file)

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    monkeypatch.setattr(cli, "report", lambda profile: None)
    return calls


@pytest.mark.parametrize("argv, message", [
    (["reproduce", "02"], "unknown study '02'; the studies are: 01_toy_study"),
    (["reproduce", "01", "-p", "epoch", "3"], "has no parameter 'epoch'"),
    (["reproduce", "01", "-p", "epochs", "three"], "parameter epochs takes a value of type int"),
    (["reproduce", "01", "-p", "output_dir", "/tmp"], "is set by --profile"),
    (["reproduce", "01", "-p", "rate", "[1"], "cannot read the value of rate"),
    (["data", "fetch", "imagenet"], "unknown data set(s) imagenet"),
])
def test_bad_arguments_fail_with_a_clear_message_before_anything_runs(project, capsys, executed, argv, message):
    code, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert executed == []


def test_an_unknown_profile_is_refused_by_the_parser(project, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["reproduce", "--profile", "huge"])
    assert stop.value.code == 2
    assert "invalid choice: 'huge'" in capsys.readouterr().err


def test_study_names_by_number_stem_or_name(project):
    for name in ("01", "01_toy_study", "toy_study"):
        assert arguments.resolve_studies([name], project) == ["01_toy_study"]


def test_full_profile_reads_its_yaml_and_overrides_win(project, capsys, executed):
    assert arguments.check_run(["01"], "full", {"rate": 1}, None, project) == {"01_toy_study": {"epochs": 20, "rate": 1}}
    assert arguments.check_run(["01"], "quick", {}, [0, 2], project) == {"01_toy_study": {}}
    runs.run_notebook("01_toy_study", "full", {"epochs": 20}, project / "results" / "01_toy_study", project)
    assert executed[0]["epochs"] == 20 and executed[0]["profile"] == "full"
    assert json.loads((project / "results" / "01_toy_study" / "metrics.json").read_text()) == {"epochs": 20}


def test_a_failed_run_leaves_the_record_untouched(project, capsys, executed, monkeypatch):
    record = project / "results" / "01_toy_study"
    runs.run_notebook("01_toy_study", "full", {"epochs": 20}, record, project)

    def crash(*args, **kwargs):
        raise papermill.PapermillExecutionError(0, 1, "", "ValueError", "boom", [])

    monkeypatch.setattr(papermill, "execute_notebook", crash)
    with pytest.raises(papermill.PapermillExecutionError):
        runs.run_notebook("01_toy_study", "full", {"epochs": 3}, record, project)
    assert json.loads((record / "metrics.json").read_text()) == {"epochs": 20}
    assert "unchanged" in capsys.readouterr().err


def test_a_default_that_is_an_expression_takes_any_value(project):
    assert arguments.check_run(["01"], "quick", {"steps": [1, 2]}, None, project)["01_toy_study"]["steps"] == [1, 2]


def test_a_study_without_a_seed_parameter_is_refused(project, capsys):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        'profile = "quick"\noutput_dir = None', metadata={"tags": ["parameters"]})])
    notebook.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nbformat.write(notebook, project / "notebooks" / "01_toy_study.ipynb")
    code, err = run(capsys, "reproduce", "01", "--dry-run")
    assert code == 2 and "has no seed parameter" in err


def test_a_notebook_that_declares_checkpoint_dir_gets_a_folder_a_rerun_finds(project, capsys, executed, monkeypatch):
    notebook = nbformat.read(project / "notebooks" / "01_toy_study.ipynb", as_version=4)
    notebook.cells[0].source += "\ncheckpoint_dir = None"
    nbformat.write(notebook, project / "notebooks" / "01_toy_study.ipynb")
    record = project / "results" / "01_toy_study"
    folder = runs.checkpoint_folder("01_toy_study", "full", {"epochs": 20}, record, project)
    assert folder.parent == project / "results" / "01_toy_study.checkpoints"
    assert folder == runs.checkpoint_folder("01_toy_study", "full", {"epochs": 20}, record, project)  # the same command
    assert folder != runs.checkpoint_folder("01_toy_study", "full", {"epochs": 21}, record, project)
    assert folder != runs.checkpoint_folder("01_toy_study", "quick", {"epochs": 20}, record, project)

    def crash(source, output, parameters, **kwargs):  # a run that checkpoints, then fails
        executed.append(parameters)
        Path(parameters["checkpoint_dir"]).mkdir(parents=True)
        (Path(parameters["checkpoint_dir"]) / "model.pt").write_text("state")
        raise papermill.PapermillExecutionError(0, 1, "", "KeyboardInterrupt", "stopped", [])

    working = papermill.execute_notebook
    monkeypatch.setattr(papermill, "execute_notebook", crash)
    with pytest.raises(papermill.PapermillExecutionError):
        runs.run_notebook("01_toy_study", "full", {"epochs": 20}, record, project)
    monkeypatch.setattr(papermill, "execute_notebook", working)
    assert executed[-1]["checkpoint_dir"] == str(folder)
    assert "rerun the same command to resume" in capsys.readouterr().err
    runs.run_notebook("01_toy_study", "full", {"epochs": 20}, record, project)  # the same command again
    assert "resuming from the checkpoints" in capsys.readouterr().out
    assert executed[-1]["checkpoint_dir"] == str(folder)
    assert json.loads((record / "metrics.json").read_text()) == {"epochs": 20}
    assert not folder.parent.exists()  # recorded: its checkpoints are gone


def test_a_notebook_without_checkpoint_dir_is_not_given_one(project, executed):
    runs.run_notebook("01_toy_study", "full", {"epochs": 20}, project / "results" / "01_toy_study", project)
    assert "checkpoint_dir" not in executed[-1]


def test_a_snapshot_keeps_the_default_seed_whole_and_the_other_seeds_metrics(project, capsys):
    quick = project / "results" / "quick"
    for folder, files in (("01_toy_study", ("metrics.json", "01_toy_study.ipynb", "figures/filters.png")),
                          ("01_toy_study.seed-1", ("metrics.json", "01_toy_study.ipynb"))):
        for name in files:
            (quick / folder / name).parent.mkdir(parents=True, exist_ok=True)
            (quick / folder / name).write_text(f"{folder}/{name}")
    target = project / "results" / "quick-seeds"
    (target / "stale").mkdir(parents=True)  # an older snapshot is replaced, not merged
    assert run(capsys, "snapshot", "--profile", "quick", "--to", str(target)) == (0, "")
    copied = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert copied == ["01_toy_study.seed-1/metrics.json", "01_toy_study/01_toy_study.ipynb",
                      "01_toy_study/figures/filters.png", "01_toy_study/metrics.json"]
    assert (target / "01_toy_study.seed-1" / "metrics.json").read_text() == "01_toy_study.seed-1/metrics.json"


def test_a_snapshot_needs_results_and_a_folder_outside_them(project, capsys):
    code, err = run(capsys, "snapshot", "--profile", "quick", "--to", "results/quick-seeds")
    assert code == 2 and "no results to snapshot" in err and "reproduce --profile quick --seeds" in err
    (project / "results" / "quick" / "01_toy_study").mkdir(parents=True)
    (project / "results" / "quick" / "01_toy_study" / "metrics.json").write_text("{}")
    code, err = run(capsys, "snapshot", "--profile", "quick", "--to", "results/quick/kept")
    assert code == 2 and "must lie outside" in err
