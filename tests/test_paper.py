import difflib
import json
import re
import shutil
import subprocess

import pytest
import yaml

from aelib.pipeline.latex import PaperError, format_duration, format_mean_sd, format_number, latex_text, name_words
from aelib.pipeline.paper import build_paper, claims_list, limitations_list, macro_definitions
from aelib.pipeline.paper_checks import (
    hand_typed_facts,
    log_problems,
    small_printed_fonts,
    used_but_undefined,
    values_missing_from,
)
from aelib.pipeline.paper_tables import budget_table, claim_counts, ours_over_seeds, summary_table
from aelib.pipeline.results import project_root

ROOT = project_root()


def study(name="01_denoising_filters", ours="median 0.47 vs 0.58 (−0.11)", holds=False, metrics=None):
    return {"study": name, "claims": [{"id": "locality_matches_tutorial", "statement": "s", "ours": ours,
                                       "tolerance": "within 0.1", "paper_value": "0.58", "holds": holds}],
            "metrics": metrics if metrics is not None else {"median_locality": {"0.0": 0.14, "0.3": 0.47}},
            "provenance": {"git_commit": "abcdef1234567890"}, "tables": {}, "figures": []}


def test_keys_become_macro_words_without_digits():
    assert name_words("median_locality") == "MedianLocality"
    assert name_words("0.3") == "Thirty" and name_words("0.25") == "TwentyFive" and name_words("200") == "TwoHundred"
    assert name_words("1e-05") == "OneEMinusZeroFive"
    assert name_words("N_z 20") == "NZTwenty"
    assert not any(c.isdigit() for c in name_words("code_ratio_random_0.5 l1"))


def test_every_claim_and_metric_gets_a_macro_with_its_source():
    text, sources = macro_definitions([study()])
    assert r"\newcommand{\DaeLocalityMatchesTutorialOurs}{median 0.47 vs 0.58 (-0.11)}" in text
    assert r"\newcommand{\DaeLocalityMatchesTutorialVerdict}{does not hold}" in text
    assert r"\newcommand{\DaeMedianLocalityThirty}{0.47}" in text
    assert "% 01_denoising_filters metrics median_locality['0.3'], commit abcdef123456" in text
    assert sources["DaeMedianLocalityZero"].startswith("01_denoising_filters metrics")


def test_a_claim_holds_in_the_draft_only_if_it_holds_at_every_seed():
    record = study(holds=True)
    record["provenance"]["seed"] = 0
    record["seed_runs"] = [study(holds=True), study(holds=False)]
    text, _ = macro_definitions([record])
    assert r"\newcommand{\DaeLocalityMatchesTutorialVerdict}{does not hold (2 of 3 seeds)}" in text
    assert r"\newcommand{\DaeSeedRuns}{3}" in text
    assert r"\textbf{does not hold (2 of 3 seeds)}" in claims_list(record) and "Ours (seed 0):" in claims_list(record)
    assert "locality" in limitations_list([record])
    record["seed_runs"] = [study(holds=True)]
    assert "holds (2 of 2 seeds)" in claims_list(record) and limitations_list([record]).count(r"\item") == 1
    assert "Every claim holds" in limitations_list([record])


def test_a_run_over_several_seeds_says_so_beside_its_verdict():
    record = study(holds=False)
    record["params"] = {"n_seeds": 3}  # as 06 and 08: one run that repeats its training over 3 seeds
    assert r"\textbf{does not hold (one run over 3 seeds)}" in claims_list(record)
    record["seed_runs"] = [study(holds=False), study(holds=False)]
    assert r"\textbf{does not hold (0 of 3 runs, each over 3 seeds)}" in claims_list(record)


def test_two_keys_with_one_macro_name_are_an_error_that_names_both():
    with pytest.raises(PaperError, match=r"two results want the macro \\DaeRadiusOne"):
        macro_definitions([study(metrics={"radius": {"1": 1.0, "1.0": 2.0}})])


def test_text_is_escaped_and_unknown_unicode_named():
    assert latex_text("50% of x_1 & y") == r"50\% of x\_1 \& y"
    assert latex_text("2.8 ± 0.1") == r"2.8 \ensuremath{\pm} 0.1"
    with pytest.raises(PaperError, match="U\\+263A"):
        latex_text("☺")


def test_a_number_no_result_defines_is_found_by_name():
    tex = r"Our median is \DaeMedianLocalityThirty, and \DaeMedianLocalityNinety is a typo. % \DaeInComment"
    _, sources = macro_definitions([study()])
    assert used_but_undefined(tex, set(sources), ["Dae"]) == ["DaeMedianLocalityNinety"]


def test_the_pdf_text_must_hold_every_claims_value():
    studies = [study(ours="0.47 -> 0.58 ± 0.02")]
    assert values_missing_from("Ours: 0.47 ->\n0.58 ± 0.02. Tolerance", studies) == []
    assert values_missing_from("Ours: 0.47 ->\n3\n\f0.58 ± 0.02.", studies) == []  # a page break, its number
    # over a page break, with a figure's own text at the top of the next page
    assert values_missing_from("Ours: 0.47 ->\n3\n\faxis 0.2 0.4 legend\n0.58 ± 0.02. Tolerance", studies) == []
    assert values_missing_from("Ours: 0.47 ->\n3\n\faxis 0.2 0.4 legend\n0.59 ± 0.02.", studies) != []
    assert values_missing_from("Ours: 0.47 -> 0.59 ± 0.02.", studies) == [
        "01_denoising_filters locality_matches_tutorial: '0.47 -> 0.58 ± 0.02'"]


def test_log_problems_name_undefined_citations_and_macros():
    log = ("LaTeX Warning: Citation `vincent2009' on page 2 undefined on input line 40.\n"
           "! Undefined control sequence.\nl.57 we find \\DaeTypo\n")
    assert log_problems(log) == ["Citation `vincent2009' on page 2 undefined", "undefined control sequence \\DaeTypo"]


def one_study_draft(tmp_path):
    """A results folder holding `study()`, and an empty paper folder: (results, paper)."""
    results = tmp_path / "results" / "01_denoising_filters"
    results.mkdir(parents=True)
    (results / "metrics.json").write_text(json.dumps(study()))
    (tmp_path / "paper").mkdir()
    return tmp_path / "results", tmp_path / "paper"


def test_a_draft_using_an_undefined_number_fails_before_latex(tmp_path):
    results, paper = one_study_draft(tmp_path)
    (paper / "main.tex").write_text(r"\documentclass{article}\begin{document}\DaeMedianLocalityNinety\end{document}")
    with pytest.raises(PaperError, match=r"no result defines: \\DaeMedianLocalityNinety"):
        build_paper(results, paper, compile_pdf=False)
    (paper / "main.tex").write_text(r"\documentclass{article}\begin{document}\DaeMedianLocalityThirty\end{document}")
    assert build_paper(results, paper, compile_pdf=False) == paper / "main.tex"
    assert (paper / "generated" / "macros.tex").exists() and (paper / "references.bib").exists()


@pytest.mark.skipif(shutil.which("latexmk") is None or shutil.which("pdftotext") is None,
                    reason="TeX Live and poppler not installed (.ci/run installs them)")
def test_the_committed_draft_builds_from_the_committed_record(tmp_path):
    paper = tmp_path / "paper"
    shutil.copytree(ROOT / "paper", paper, ignore=shutil.ignore_patterns(  # what a fresh clone has: the draft alone
        "generated", "*.pdf", "*.aux", "*.log", "*.fls", "*.fdb_latexmk", "*.bbl", "*.blg", "*.out"))
    pdf = build_paper(ROOT / "results", paper)
    assert pdf.stat().st_size > 10_000


def test_a_figure_no_record_has_is_named(tmp_path):
    results, paper = one_study_draft(tmp_path)
    (paper / "main.tex").write_text("\\newcommand{\\studyfigure}[1]{\\includegraphics{generated/figures/#1}}\n"
                                    "\\studyfigure{01_denoising_filters/filters_noise_90}")
    with pytest.raises(PaperError, match="figures that no record has: generated/figures/01_denoising_filters/filters_noise_90"):
        build_paper(results, paper, compile_pdf=False)


def changed_words(before: str, after: str) -> list[tuple[list[str], list[str]]]:
    """The runs of words that differ between two texts (difflib on whitespace-separated words)."""
    a, b = before.split(), after.split()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return [(a[i1:i2], b[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


@pytest.mark.skipif(shutil.which("latexmk") is None or shutil.which("pdftotext") is None,
                    reason="TeX Live and poppler not installed (.ci/run installs them)")
def test_a_rerun_with_other_numbers_changes_those_numbers_and_nothing_else(tmp_path):
    results, paper = one_study_draft(tmp_path)
    (paper / "main.tex").write_text(
        "\\documentclass{article}\\input{generated/preamble}\\input{generated/macros}\\begin{document}\n"
        "At the tutorial's noise our median locality is \\DaeMedianLocalityThirty{} and at none \\DaeMedianLocalityZero.\n"
        "\\input{generated/claims/01_denoising_filters}\\end{document}\n")
    texts = []
    for locality, ours in ((0.47, "median 0.47 vs 0.58"), (0.52, "median 0.52 vs 0.58")):
        rerun = study(ours=ours, metrics={"median_locality": {"0.0": 0.14, "0.3": locality}})
        (results / "01_denoising_filters" / "metrics.json").write_text(json.dumps(rerun))
        texts.append(subprocess.run(["pdftotext", str(build_paper(results, paper)), "-"], capture_output=True,
                                    text=True, check=True).stdout)
    changes = changed_words(*texts)
    assert changes and all(re.fullmatch(r"[-+]?[\d.,]+", word) for run in changes for words in run for word in words), changes


def test_a_mean_and_its_sd_are_written_to_the_sd_s_two_significant_figures():
    assert format_mean_sd(0.914, 7.02e-4) == "0.91400 ± 0.00070"
    assert format_mean_sd(3.7173, 0.0757) == "3.717 ± 0.076"
    assert format_mean_sd(1234.5, 123.0) == "1,230 ± 120"
    assert format_mean_sd(4.0, 0.0) == "4" and format_mean_sd(4.0, None) == "4"
    assert format_number(2612.3) == "2,612" and format_number(0.914) == "0.914" and format_number(12000) == "12,000"
    assert [format_duration(s) for s in (12.3, 2928.0, 3645.5, 21000.0)] == ["12 s", "48.8 min", "60.8 min", "5.8 h"]


def test_values_over_seeds_become_mean_and_sd_where_the_runs_differ():
    assert ours_over_seeds(["0.19 at 0%, 0.52 at 30%", "0.19 at 0%, 0.64 at 30%", "0.19 at 0%, 0.59 at 30%"]) == \
        "0.19 at 0%, 0.583 ± 0.060 at 30%"
    assert ours_over_seeds(["lower at 4/16", "lower at 5/16", "lower at 3/16"]) == "lower at [4, 5, 3]/16"
    assert ours_over_seeds(["one shape 1.0", "another 2.0"]) == "one shape 1.0 (first seed)"
    assert ours_over_seeds(["2.9 ± 0.1", "3.0 ± 0.2"]) == "2.9 ± 0.1 (first seed)"
    assert ours_over_seeds(["SdA-3 0.5"]) == "SdA-3 0.5"


def test_the_summary_table_gives_every_claim_and_the_reason_of_each_that_fails():
    failing, holding = study(ours="0.47", holds=False), study(ours="0.61", holds=True)
    failing["claims"][0]["diagnosis"] = "Trained too briefly. More text."
    failing["seed_runs"] = [study(ours="0.49", holds=True)]
    holding["study"], holding["claims"][0]["id"] = "02_sparse_features", "gradient_check"
    table = summary_table([failing, holding])
    assert r"0.480 \ensuremath{\pm} 0.014" in table and "does not hold (1 of 2 seeds)" in table
    assert r"\emph{Why:} Trained too briefly." in table and "More text" not in table
    assert table.count(r"\emph{Why:}") == 1 and r"\label{tab:summary}" in table
    assert claim_counts([failing, holding]) == {"total": 2, "holding": 1, "failing": 1, "not_evaluated": 0}


def test_the_budget_table_fills_our_budget_from_the_record_and_times_every_seed():
    record = study()
    record["params"] = {"epochs": 15, "train_size": 50000}
    record["provenance"].update(duration_seconds=984.0, device="cpu (x86_64)", threads=2)
    record["seed_runs"] = [dict(study(), provenance={"duration_seconds": 815.0})]
    budgets = {"01_denoising_filters": {"paper": "15 epochs", "source": "the tutorial",
                                        "ours": "{epochs} epochs over {train_size} digits, {missing} units"}}
    table = budget_table([record], budgets)
    assert "15 epochs over 50,000 digits, n/a units" in table and "16.4 min, 13.6 min" in table
    assert "29.98 min" not in table and "30.0 min" in table and "abcdef1" in table
    with pytest.raises(PaperError, match="no entry for 01_denoising_filters"):
        budget_table([record], {})


def test_the_draft_types_no_number_and_no_verdict_and_a_planted_one_is_found():
    tex = (ROOT / "paper" / "main.tex").read_text(encoding="utf-8")
    assert hand_typed_facts(tex) == []
    body = tex.index("\\section{Introduction}")
    planted = tex[:body] + "We train 784 units on CIFAR-10 \\citep{x2008}.\n" + tex[body:]
    found = hand_typed_facts(planted)
    assert len(found) == 1 and "'784'" in found[0]
    assert hand_typed_facts(tex[:body] + "That noise helps holds.\n" + tex[body:]) != []
    assert hand_typed_facts("\\begin{document}\\label{fig:07_x} SdA-3 \\ref{tab:1} % 45 minutes\n\\end{document}") == []


def test_the_journal_s_metadata_names_this_article_and_its_originals():
    metadata = yaml.safe_load((ROOT / "paper" / "metadata.yaml").read_text(encoding="utf-8"))
    tex = (ROOT / "paper" / "main.tex").read_text(encoding="utf-8")
    title = re.search(r"\\title\{(.*?)\}\n", tex, re.S).group(1)
    assert " ".join(title.split()) == metadata["title"] and metadata["title"].startswith("[Re] ")
    keys = set(re.findall(r"^@\w+\{([^,]+),", (ROOT / "paper" / "references.bib").read_text(), re.M))
    assert metadata["type"] == "Replication" and {r["bib"] for r in metadata["replication"]} <= keys
    assert len(metadata["replication"]) == 7


def test_a_draft_from_another_record_builds_in_its_own_folder(tmp_path):
    from aelib.pipeline.cli import main
    results, _ = one_study_draft(tmp_path)
    tracked = (ROOT / "paper" / "generated" / "macros.tex").read_bytes()
    other = tmp_path / "elsewhere-record"
    results.rename(other)
    code = main(["paper", "--results-dir", str(other), "--no-compile"])
    built = ROOT / "paper" / "builds" / "elsewhere-record"
    try:
        assert (built / "generated" / "macros.tex").exists()
        assert (ROOT / "paper" / "generated" / "macros.tex").read_bytes() == tracked
    finally:
        shutil.rmtree(built, ignore_errors=True)
    assert code == 1  # the draft uses the record's macros, which a one-study record lacks: named, not built


def test_a_figure_whose_text_prints_too_small_is_named(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from aelib.plotting import plain_log_ticks
    folder = tmp_path / "generated" / "figures" / "01_denoising_filters"
    folder.mkdir(parents=True)
    for name, width, size in (("wide", 12.6, 10), ("printable", 6.0, 8), ("tiny_text", 5.0, 5)):
        figure, ax = plt.subplots(figsize=(width, 3))
        ax.set_xlabel("x", fontsize=size)
        ax.tick_params(labelsize=size)
        ax.set_xscale("log")
        plain_log_ticks(ax)  # no superscripts: a power 10^k sets k at 70% of the tick size
        ax.plot([1, 1000], [0, 1])
        figure.savefig(folder / f"{name}.pdf")
        plt.close(figure)
    tex = "".join(f"\\studyfigure{{01_denoising_filters/{name}}}{{caption}}\n" for name in ("wide", "printable", "tiny_text"))
    found = small_printed_fonts(tex, tmp_path)
    assert [line.split(" ")[0] for line in found] == ["01_denoising_filters/wide", "01_denoising_filters/tiny_text"]
    assert "prints at 5.0 pt" in found[0]  # 10 pt shrunk to the text width, half the figure's
