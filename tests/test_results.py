import json

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from aelib.pipeline import results
from aelib.pipeline.results import StudyRecord, study_dir, write_json_atomic


def test_profiles_write_to_separate_places(tmp_path):
    assert study_dir("01_x", "full", tmp_path) == tmp_path / "results" / "01_x"
    assert study_dir("01_x", "quick", tmp_path) == tmp_path / "results" / "quick" / "01_x"
    assert study_dir("01_x", "paper", tmp_path) == tmp_path / "results" / "paper" / "01_x"
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        study_dir("01_x", "huge", tmp_path)


def test_record_holds_the_schema_the_report_reads(tmp_path):
    record = StudyRecord("01_x", "A title", "quick", {"epochs": 2}, seed=3, device=torch.device("cpu"),
                         output_dir=tmp_path)
    record.metrics["loss"] = torch.tensor(0.5)
    record.tables["by_level"] = [{"level": 0.0, "value": float("nan")}]
    figure, _ = plt.subplots()
    record.save_figure(figure, "curve", "a caption")
    record.claim("c1", "a statement", paper_value="1", paper_source="paper", ours="1.0", tolerance="0.1",
                 holds=True)
    written = json.loads(record.write().read_text())
    assert {"study", "title", "profile", "params", "metrics", "tables", "claims", "figures",
            "provenance"} <= written.keys()
    assert written["metrics"]["loss"] == 0.5
    assert written["tables"]["by_level"][0]["value"] is None  # NaN stored as null
    assert written["figures"] == [{"file": "figures/curve.png", "pdf": "figures/curve.pdf", "caption": "a caption"}]
    assert (tmp_path / "figures" / "curve.png").exists()
    pdf = (tmp_path / "figures" / "curve.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"CreationDate" not in pdf  # vector, and the same bytes from a rerun
    provenance = written["provenance"]
    assert {"git_commit", "git_dirty", "versions", "device", "threads", "data", "seed", "started",
            "duration_seconds"} <= provenance.keys()
    assert provenance["versions"]["torch"].startswith("2.")
    assert provenance["seed"] == 3


def test_claim_verdicts_say_whether_each_holds(capsys, tmp_path):
    record = StudyRecord("01_x", "t", "quick", {}, seed=0, device=torch.device("cpu"), output_dir=tmp_path)
    common = dict(paper_value="p", paper_source="s", tolerance="t")
    record.claim("a", "s", ours="1", holds=True, **common)
    record.claim("b", "s", ours="2", holds=False, **common)
    record.claim("a", "s", ours="3", holds=None, **common)  # replaces the first "a"
    record.print_claims()
    assert capsys.readouterr().out.splitlines() == [
        "[DOES NOT HOLD] b: 2 (tolerance: t)", "[not evaluated] a: 3 (tolerance: t)"]


def test_a_claim_this_scale_cannot_judge_is_not_judged_and_says_what_it_needs(tmp_path):
    record = StudyRecord("01_x", "t", "quick", {}, seed=0, device=torch.device("cpu"), output_dir=tmp_path)
    claim = record.claim("a", "s", paper_value="p", paper_source="s", tolerance="t", ours="0.4", holds=False,
                         needs="10^7 samples")
    assert claim.holds is None
    assert claim.verdict() == "[not evaluated] a: not judged at quick scale: needs 10^7 samples; measured 0.4 (tolerance: t)"


def test_a_diagnosis_is_printed_under_its_verdict_and_written_with_the_claim(tmp_path):
    record = StudyRecord("01_x", "t", "quick", {}, seed=0, device=torch.device("cpu"), output_dir=tmp_path)
    claim = record.claim("a", "s", paper_value="p", paper_source="s", tolerance="t", ours="0.4", holds=False,
                         diagnosis="the grid is too coarse")
    assert claim.verdict().splitlines() == ["[DOES NOT HOLD] a: 0.4 (tolerance: t)", "    why: the grid is too coarse"]
    record.claim("b", "s", paper_value="p", paper_source="s", tolerance="t", ours="1", holds=True)
    written = json.loads(record.write().read_text())["claims"]
    assert [c["diagnosis"] for c in written] == ["the grid is too coarse", None]


def test_an_interrupted_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "metrics.json"
    write_json_atomic(path, {"old": 1})

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(results.os, "fsync", fail)
    with pytest.raises(KeyboardInterrupt):
        write_json_atomic(path, {"new": 2})
    assert json.loads(path.read_text()) == {"old": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_values_json_cannot_hold_are_refused_by_name(tmp_path):
    with pytest.raises(TypeError, match="cannot store object"):
        write_json_atomic(tmp_path / "m.json", {"x": object()})
    assert not (tmp_path / "m.json").exists()
