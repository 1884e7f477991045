"""Tests for aelib.pipeline.report: the report is built from a results folder alone."""

import json
import re
from pathlib import Path
from urllib.parse import unquote

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import aelib.pipeline.results  # noqa: E402
from aelib.pipeline import report, report_quick  # noqa: E402

SCRIPT = "<script>alert('x')</script>"


def write_study(folder: Path, study: str, claims: list[dict], figure: bool = False, **extra) -> Path:
    """A fake study run: metrics.json, optionally one real PNG figure."""
    directory = folder / study
    (directory / "figures").mkdir(parents=True)
    figures = []
    if figure:
        fig, ax = plt.subplots(figsize=(1, 1))
        ax.plot([0, 1], [1, 0])
        fig.savefig(directory / "figures" / "filters_noise_25.png")
        plt.close(fig)
        figures = [{"file": "figures/filters_noise_25.png", "caption": "Filters at 25% noise"}]
    metrics = {
        "study": study, "title": f"Title of {study}", "profile": "full", "params": {"seed": 0},
        "claims": claims, "figures": figures,
        "provenance": {"git_commit": "abc123", "git_dirty": True, "versions": {"python": "3.11.7"},
                       "device": "cpu", "threads": 2, "data": {"train.gz": "f" * 64},
                       "seed": 0, "started": "2026-11-23T13:40:00+00:00", "duration_seconds": 512.3},
        **extra,
    }
    (directory / "metrics.json").write_text(json.dumps(metrics))
    return directory


def claim(claim_id: str, holds, statement: str = "a statement") -> dict:
    return {"id": claim_id, "statement": statement, "paper_value": "5% error",
            "paper_source": "Vincent et al. 2008, fig. 3", "ours": "4.9%",
            "tolerance": "within 1%", "holds": holds}


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """Two studies (one failing claim, one not evaluated) plus a quick run that must be ignored."""
    folder = tmp_path / "results"
    write_study(folder, "01_denoising_filters", [claim("filters_localize", True, SCRIPT)], figure=True,
                tables={"reconstruction_by_noise": [{"noise_level": 0.0, "test_cross_entropy": 60.1234567},
                                                    {"noise_level": 0.25, "test_cross_entropy": 63.0}]})
    write_study(folder, "02_sparse_kl", [claim("sparsity_reached", False), claim("codes_sparse", None)])
    write_study(folder / "quick", "03_only_quick", [claim("quick_claim", True)])
    return folder


def summary_rows(readme: str) -> dict[str, str]:
    """claim id -> holds marker, read from the summary table of README.md."""
    section = readme.split("## Summary", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    rows = [line.strip("|").split("|") for line in section.splitlines() if line.startswith("|")]
    return {cells[1].strip(): cells[2].strip() for cells in rows[2:]}


def test_summary_lists_every_claim_with_its_marker(results, tmp_path):
    report.build_report(results, tmp_path / "report")
    readme = (tmp_path / "report" / "README.md").read_text()
    assert summary_rows(readme) == {"filters_localize": "yes", "sparsity_reached": "NO",
                                    "codes_sparse": "not evaluated"}
    assert "python -m aelib report" in readme and "../results" in readme


def test_quick_folder_is_skipped_but_can_be_built_alone(results, tmp_path):
    assert [s["study"] for s in report.load_results(results)] == ["01_denoising_filters", "02_sparse_kl"]
    report.build_report(results / "quick", tmp_path / "report" / "quick")
    quick = (tmp_path / "report" / "quick" / "README.md").read_text()
    assert summary_rows(quick) == {"quick_claim": "yes"}


@pytest.mark.parametrize("report_subdir, results_subdir", [("report", ""), ("report/quick", "quick")])
def test_figure_links_resolve_from_report_folder(results, tmp_path, report_subdir, results_subdir):
    if results_subdir:
        write_study(results / results_subdir, "04_quick_figure", [claim("c", True)], figure=True)
    report_dir = tmp_path / report_subdir
    report.build_report(results / results_subdir, report_dir)
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", (report_dir / "README.md").read_text())
    assert len(links) == 1
    assert links[0].endswith("filters_noise_25.png")
    assert (report_dir / unquote(links[0])).resolve().is_file()


def test_html_embeds_figure_and_escapes_json_text(results, tmp_path):
    report.build_report(results, tmp_path / "report")
    page = (tmp_path / "report" / "report.html").read_text()
    assert "data:image/png;base64,iVBORw0KGgo" in page  # base64 of the PNG signature
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(" in page  # the statement is shown, escaped
    assert "<script" not in (tmp_path / "report" / "README.md").read_text().lower()


def test_tables_rendered_with_rounded_numbers(results, tmp_path):
    report.build_report(results, tmp_path / "report")
    readme = (tmp_path / "report" / "README.md").read_text()
    assert "### reconstruction_by_noise" in readme
    assert re.search(r"\|\s*60\.12\s*\|", readme) and "60.123" not in readme
    noise_tex = (tmp_path / "report" / "tables" / "01_denoising_filters_reconstruction_by_noise.tex")
    assert "60.12 " in noise_tex.read_text() and "60.123" not in noise_tex.read_text()


def test_latex_snippets_exist_and_escape_special_characters(results, tmp_path):
    written = report.build_report(results, tmp_path / "report")
    tables = tmp_path / "report" / "tables"
    claims = tables / "01_denoising_filters_claims.tex"
    noise = tables / "01_denoising_filters_reconstruction_by_noise.tex"
    assert {claims, noise, tables / "02_sparse_kl_claims.tex"} <= set(written)
    claims_tex, noise_tex = claims.read_text(), noise.read_text()
    assert r"\begin{tabular}" in claims_tex
    assert r"5\% error" in claims_tex and r"filters\_localize" in claims_tex
    assert "5% error" not in claims_tex
    assert r"noise\_level" in noise_tex and "noise_level" not in noise_tex.replace(r"\_", "")


@pytest.mark.parametrize("content, message", [("{not json", "not valid JSON"),
                                              (json.dumps({"study": "x", "claims": []}), "provenance")])
def test_malformed_metrics_names_the_file(results, tmp_path, content, message):
    bad = results / "05_broken" / "metrics.json"
    bad.parent.mkdir()
    bad.write_text(content)
    with pytest.raises(ValueError, match=message) as error:
        report.build_report(results, tmp_path / "report")
    assert str(bad) in str(error.value)


@pytest.mark.parametrize("make_folder", [True, False])
def test_empty_results_folder_gives_clear_error(tmp_path, make_folder):
    empty = tmp_path / "results"
    if make_folder:
        (empty / "quick" / "01_x").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="aelib reproduce --profile quick") as error:
        report.build_report(empty, tmp_path / "report")
    assert str(empty) in str(error.value)
    assert not (tmp_path / "report").exists()


def test_interrupted_write_keeps_previous_report(results, tmp_path, monkeypatch):
    report_dir = tmp_path / "report"
    report.build_report(results, report_dir)
    before = (report_dir / "README.md").read_text()
    write_study(results, "06_new_study", [claim("new_claim", True)])

    def disk_full(descriptor):
        raise OSError("disk full")

    monkeypatch.setattr(aelib.pipeline.results.os, "fsync", disk_full)  # fails after half the writing
    with pytest.raises(OSError, match="disk full"):
        report.build_report(results, report_dir)
    assert (report_dir / "README.md").read_text() == before
    assert sorted(p.name for p in report_dir.iterdir()) == ["README.md", "report.html", "tables"]


def write_benchmark(root: Path, **measurements) -> Path:
    """A benchmark result beside the results folder: one target met, one not, one table."""
    path = root / "benchmarks" / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**measurements,
        "profile": "full", "started": "2026-11-23T16:00:00+00:00", "threads": 2, "platform": "Linux",
        "targets": [{"target": "VAE epoch vs peer", "required": ">= 1.5x", "measured": "1.83x", "met": True},
                    {"target": "K=4 sweep <b>", "required": ">= 2x", "measured": "0.74x", "met": False}],
        "tables": {"aelib training throughput": [{"model": "DAE", "examples/s": 13980.19359, "GFLOP/s": 54.8023}],
                   "Study wall times": [{"study": "01", "full s": 439.31}, {"study": "06", "full s": None}]},
    }))
    return path


def test_performance_section_renders_the_benchmark_targets_and_tables(results, tmp_path):
    write_benchmark(tmp_path)
    report.build_report(results, tmp_path / "report")
    readme = (tmp_path / "report" / "README.md").read_text()
    section = readme.split("## Performance", 1)[1]
    targets = section.split("### Targets", 1)[1].split("###", 1)[0]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in targets.splitlines()
            if line.startswith("|")]
    assert rows[2:] == [["VAE epoch vs peer", "&gt;= 1.5x", "1.83x", "met"],
                        ["K=4 sweep &lt;b&gt;", "&gt;= 2x", "0.74x", "NOT MET"]]
    assert "### aelib training throughput" in section and "13980.2" in section and "54.8" in section
    assert "439.3" in section and "not recorded" in section and "nan" not in section
    page = (tmp_path / "report" / "report.html").read_text()
    assert "<h2>Performance</h2>" in page and "NOT MET" in page and "<b>" not in page


def test_no_performance_section_without_a_benchmark_and_a_broken_one_is_named(results, tmp_path):
    report.build_report(results, tmp_path / "report")
    assert "Performance" not in (tmp_path / "report" / "README.md").read_text()
    write_benchmark(tmp_path).write_text("{not json")
    with pytest.raises(ValueError, match=r"benchmarks/results.json: not valid JSON"):
        report.build_report(results, tmp_path / "report")


DAE, VAE = "DAE 784-500 tied, batch 20", "VAE 784-500-20, batch 100"


def write_gpu_check(root: Path) -> Path:
    """A GPU check beside the results folder: two models in two precisions, a sweep, three studies."""
    path = root / "benchmarks" / "gpu" / "gpu_check.json"
    path.parent.mkdir(parents=True)
    throughput = [{"model": model, "precision": precision, "examples_per_second": rate, "epoch_seconds": 60000 / rate,
                   "speedup_over_float32": rate / float32, "held_out_loss_float32": loss}
                  for model, float32, rows in ((DAE, 100000.0, ((100000.0, 70.25), (150000.0, 70.5))),
                                               (VAE, 200000.0, ((200000.0, 101.0), (300000.0, 101.25))))
                  for precision, (rate, loss) in zip(("float32", "bf16 autocast"), rows)]
    path.write_text(json.dumps({
        "smoke": False, "complete": True, "started": "2026-12-01T10:00:00+00:00", "seconds": 412.0,
        "device": {"type": "cuda", "name": "NVIDIA H200", "torch": "2.6.0+cu124", "cuda": "12.4"},
        "commit": {"git_commit": "0123456789abcdef" * 2, "git_dirty": False},
        "throughput": {"rows": throughput, "seconds": 20.0},
        "batched_sweep": {"rows": [{"variant": "4 sequential runs", "images_per_second": 50000.0, "speedup": 1.0,
                                    "max_weight_difference": 0.0},
                                   {"variant": "batched K=4, bmm", "images_per_second": 200000.0, "speedup": 4.0,
                                    "max_weight_difference": 2e-07}], "seconds": 5.0},
        "studies": {"rows": [
            {"study": "01_denoising_filters", "status": "ok", "claims": 4, "same": True, "differing": [], "seconds": 30.0},
            {"study": "03_saturating", "status": "ok", "claims": 7, "same": False, "seconds": 20.0,
             "differing": [{"id": "worst_case_falls", "cpu": False, "device": True}]},
            {"study": "05_vae", "status": "failed", "error": "RuntimeError: <b>CUDA</b> out of memory (In [7])",
             "seconds": 3.0}], "seconds": 300.0},
    }))
    return path


def table_rows(section: str, title: str) -> list[list[str]]:
    """The body rows of the Markdown table under `### title` in `section`."""
    table = section.split(f"### {title}", 1)[1].split("###", 1)[0]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()
            if line.startswith("|")][2:]


def test_the_gpu_check_is_shown_beside_the_cpu_figures(results, tmp_path):
    write_benchmark(tmp_path, throughput=[{"model": DAE, "torch_compile": False, "examples_per_second": 20000.0},
                                          {"model": DAE, "torch_compile": True, "examples_per_second": 1.0}],
                    batched_sweep={"rows": [{"variant": "batched K=4, bmm", "images_per_second": 18000.0,
                                             "speedup": 0.91}]})
    report.build_report(results, tmp_path / "report")
    cpu_only = (tmp_path / "report" / "README.md").read_text()
    write_gpu_check(tmp_path)
    report.build_report(results, tmp_path / "report")
    readme = (tmp_path / "report" / "README.md").read_text()
    assert readme.startswith(cpu_only.rstrip("\n"))  # the CPU figures as they were, the GPU's after them
    section = readme.split("## Performance", 1)[1]
    assert "NVIDIA H200" in section and "benchmarks/gpu/gpu_check.json" in section and "412 s" in section
    throughput = table_rows(section, "GPU: aelib training throughput, float32 and bf16 autocast")
    # model, CPU float32, GPU float32, GPU bf16, bf16 / float32, GPU / CPU, epoch s, held-out losses
    # (tabulate writes a column of numbers only, such as 100000.0, as 100000)
    assert throughput == [[DAE, "20000.0", "100000", "150000", "1.5", "5", "0.6", "70.25 / 70.5"],
                          [VAE, "not recorded", "200000", "300000", "1.5", "not recorded", "0.3", "101 / 101.2"]]
    sweep = table_rows(section, "GPU: K=4 DAE sweep, batched vs sequential")
    assert sweep == [["4 sequential runs", "50000", "1", "not recorded", "not recorded", "0"],
                     ["batched K=4, bmm", "200000", "4", "18000.0", "0.91", "2e-07"]]
    verdicts = table_rows(section, "GPU: each study's quick profile, verdicts against the CPU run")
    assert [row[2] for row in verdicts] == [
        "same as on the CPU", "differs: worst_case_falls CPU does not hold, GPU holds",
        "failed: RuntimeError: &lt;b&gt;CUDA&lt;/b&gt; out of memory (In [7])"]
    page = (tmp_path / "report" / "report.html").read_text()
    assert "GPU: aelib training throughput" in page and "NVIDIA H200" in page and "<b>CUDA" not in page


def test_without_a_gpu_check_nothing_changes_and_a_broken_one_is_named(results, tmp_path):
    report.build_report(results, tmp_path / "report")
    assert "Performance" not in (tmp_path / "report" / "README.md").read_text()
    path = write_gpu_check(tmp_path)  # alone, without the CPU benchmark: the section shows the GPU's figures
    report.build_report(results, tmp_path / "report")
    assert "## Performance" in (tmp_path / "report" / "README.md").read_text()
    path.write_text(json.dumps({"throughput": {}}))
    with pytest.raises(ValueError, match=r"gpu/gpu_check.json: missing required key device"):
        report.build_report(results, tmp_path / "report")


def test_other_seeds_join_their_study_and_a_claim_holds_only_at_every_seed(tmp_path):
    folder = tmp_path / "results"
    write_study(folder, "01_denoising_filters", [claim("steady", True), claim("fragile", True)],
                metrics={"median_locality": 0.5, "by_level": {"0.3": 0.25}})
    for seed, fragile, locality in ((1, True, 0.7), (2, False, 0.6)):
        directory = write_study(folder, f"01_denoising_filters.seed-{seed}", [claim("steady", True),
                                                                              claim("fragile", fragile)],
                                metrics={"median_locality": locality, "by_level": {"0.3": 0.25}})
        metrics = json.loads((directory / "metrics.json").read_text())
        metrics["study"], metrics["provenance"]["seed"] = "01_denoising_filters", seed
        (directory / "metrics.json").write_text(json.dumps(metrics))
    studies = report.load_results(folder)
    assert [s["study"] for s in studies] == ["01_denoising_filters"] and len(studies[0]["seed_runs"]) == 2
    summary = report._summary_frame(studies).set_index("claim")
    assert summary.loc["steady", "holds"] == "yes" and summary.loc["steady", "seeds holding"] == "3/3"
    assert summary.loc["fragile", "holds"] == "NO" and summary.loc["fragile", "seeds holding"] == "2/3"
    studies[0]["params"]["n_seeds"] = 3  # each run repeats its training over 3 seeds inside it (06, 07, 08)
    assert report._summary_frame(studies).set_index("claim").loc["fragile", "seeds holding"] == \
        "2/3 (3 seeds inside each run)"
    del studies[0]["params"]["n_seeds"]
    spread = report._over_seeds_frame(studies[0]).set_index("metric")
    assert spread.loc["median_locality", "mean"] == "0.6" and spread.loc["median_locality", "std"] == "0.1"
    assert spread.loc["by_level[0.3]", "seeds"] == 3
    report.build_report(folder, tmp_path / "report")
    text = (tmp_path / "report" / "README.md").read_text()
    assert "Headline numbers over 3 seeds" in text and "| fragile " in text


def test_quick_against_full_shows_each_quick_seed_and_whether_it_agrees():
    def run(seed, verdicts):
        return {"study": "01_x", "provenance": {"seed": seed},
                "claims": [{"id": claim_id, "holds": holds} for claim_id, holds in verdicts.items()]}

    def study(runs):
        return {**runs[0], "seed_runs": runs[1:]}

    full = [study([run(0, {"a": True, "b": False, "c": True, "d": None}),
                   run(1, {"a": True, "b": False, "c": True, "d": None})])]
    quick = [study([run(0, {"a": True, "b": True, "c": None, "d": None}),
                    run(1, {"a": None, "b": False, "c": None, "d": True})])]
    frame = report_quick.quick_against_full(full, quick).set_index("claim")
    assert list(frame.columns) == ["study", "full", "quick seed 0", "quick seed 1", "quick against full"]
    assert frame.loc["a", "full"] == "yes (2/2 seeds)" and list(frame.loc["a", ["quick seed 0", "quick seed 1"]]) == ["yes", "-"]
    assert dict(frame["quick against full"]) == {"a": "agrees", "b": "DISAGREES", "c": "not judged at quick scale",
                                                 "d": "full record does not judge it"}


def test_the_summary_gives_every_runs_wall_time_and_the_total(tmp_path):
    folder = tmp_path / "results"
    for name, seed, seconds in (("01_denoising_filters", None, 120.0), ("01_denoising_filters.seed-1", 1, 180.0),
                                ("02_sparse_kl", None, 30.0)):
        directory = write_study(folder, name, [claim("steady", True)])
        metrics = json.loads((directory / "metrics.json").read_text())
        metrics["study"] = name.split(".")[0]
        metrics["provenance"].update(duration_seconds=seconds, git_commit="abcdef1234", seed=seed or 0)
        (directory / "metrics.json").write_text(json.dumps(metrics))
    frame = report._wall_time_frame(report.load_results(folder)).set_index("study")
    assert frame.loc["01_denoising_filters", "seeds"] == "0, 1"
    assert frame.loc["01_denoising_filters", "minutes per seed"] == "2.0, 3.0"
    assert frame.loc["01_denoising_filters", "minutes in all"] == "5.0" and frame.loc["all studies", "minutes in all"] == "5.5"
    assert frame.loc["02_sparse_kl", "commits"] == "abcdef1"
    report.build_report(folder, tmp_path / "report")
    assert "Wall time of each run" in (tmp_path / "report" / "README.md").read_text()
