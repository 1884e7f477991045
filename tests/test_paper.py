import difflib
import json
import re
import shutil
import subprocess

import pytest

from aelib.pipeline.latex import PaperError, latex_text, name_words
from aelib.pipeline.paper import build_paper, claims_list, limitations_list, macro_definitions
from aelib.pipeline.paper_checks import log_problems, used_but_undefined, values_missing_from
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
        "At 30\\% noise our median locality is \\DaeMedianLocalityThirty{} and at none \\DaeMedianLocalityZero.\n"
        "\\input{generated/claims/01_denoising_filters}\\end{document}\n")
    texts = []
    for locality, ours in ((0.47, "median 0.47 vs 0.58"), (0.52, "median 0.52 vs 0.58")):
        rerun = study(ours=ours, metrics={"median_locality": {"0.0": 0.14, "0.3": locality}})
        (results / "01_denoising_filters" / "metrics.json").write_text(json.dumps(rerun))
        texts.append(subprocess.run(["pdftotext", str(build_paper(results, paper)), "-"], capture_output=True,
                                    text=True, check=True).stdout)
    changes = changed_words(*texts)
    assert changes and all(re.fullmatch(r"[-+]?[\d.,]+", word) for run in changes for words in run for word in words), changes
