"""The paper's generated summaries: each claim's verdict over its seeds, the summary table of every claim
against the paper's value, the count of claims that hold, and the budget table (the papers' budgets
against ours, with each record's wall time per seed)."""

from __future__ import annotations

import re
import statistics

from aelib.pipeline.latex import PaperError, format_duration, format_mean_sd, format_number, latex_text
from aelib.pipeline.records import runs_of, seeds_within_a_run, verdict_over_seeds

VERDICTS = {True: "holds", False: "does not hold", None: "not evaluated"}


def verdict_words(study: dict, claim: dict) -> str:
    """'holds', 'does not hold' or 'not evaluated', over every seed run of the study (a claim holds only
    if it holds at each), with the count where there are several: 'does not hold (2 of 3 seeds)', and the
    seeds each run trains over inside it where there are several: 'holds (one run over 3 seeds)'."""
    holds, held, runs = verdict_over_seeds(study, claim)
    inside = seeds_within_a_run(study)
    if inside > 1:
        return VERDICTS[holds] + (f" ({held} of {runs} runs, each over {inside} seeds)" if runs > 1
                                  else f" (one run over {inside} seeds)")
    return VERDICTS[holds] + (f" ({held} of {runs} seeds)" if runs > 1 else "")


def claim_counts(studies: list[dict]) -> dict[str, int]:
    """How many claims there are, and how many hold at every seed, fail at some, are not evaluated."""
    verdicts = [verdict_over_seeds(study, claim)[0] for study in studies for claim in study["claims"]]
    return {"total": len(verdicts), "holding": verdicts.count(True), "failing": verdicts.count(False),
            "not_evaluated": verdicts.count(None)}


NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?")


def ours_over_seeds(values: list[str]) -> str:
    """One claim's measured values (its `ours` at each seed run) as one text: where every run wrote the
    same words around its numbers, each number that differs between runs becomes its mean +- sd over
    the runs (`format_mean_sd`), a count (integers) the list of its values; a number the runs share stays
    as written. Texts of other shapes, or holding a +- already, are given as the first run's, marked
    "(first seed)"."""
    values = [value or "" for value in values]
    if len(values) == 1:
        return values[0]
    templates = {NUMBER.sub("#", value) for value in values}
    if len(templates) > 1 or "±" in values[0]:
        return f"{values[0]} (first seed)"
    numbers = [NUMBER.findall(value) for value in values]
    pieces = NUMBER.split(values[0])
    out = [pieces[0]]
    for position, piece in enumerate(pieces[1:]):
        written = [row[position] for row in numbers]
        if len(set(written)) == 1:
            out.append(written[0])
        elif all(re.fullmatch(r"[-+]?\d[\d,]*", text) for text in written):
            out.append("[" + ", ".join(written) + "]")
        else:
            floats = [float(text.replace(",", "")) for text in written]
            out.append(format_mean_sd(statistics.mean(floats), statistics.stdev(floats)))
        out.append(piece)
    return "".join(out)


def first_sentence(text: str) -> str:
    """A diagnosis's first sentence (up to a full stop followed by a space and a capital, or the end)."""
    return re.split(r"(?<=[.!?])\s+(?=[A-Z])", text.strip(), maxsplit=1)[0]


def diagnosis(study: dict, claim: dict) -> str:
    """The measured reason a claim does not hold: the diagnosis of the first of its runs that recorded
    one ('' where none did)."""
    for run in runs_of(study):
        for other in run["claims"]:
            if other.get("id") == claim.get("id") and other.get("diagnosis"):
                return other["diagnosis"]
    return ""


def summary_table(studies: list[dict]) -> str:
    """Every claim in one longtable: study and claim, the paper's value and source, ours over the seed
    runs, the tolerance, the verdict over seeds; under a claim that does not hold, its reason."""
    lines = [r"\begin{footnotesize}\begin{longtable}{@{}p{0.16\linewidth}p{0.2\linewidth}p{0.26\linewidth}"
             r"p{0.17\linewidth}p{0.1\linewidth}@{}}",
             r"\caption{Every claim of every study: the paper's value (or the outside reference's), ours over the "
             r"seed runs (mean $\pm$ standard deviation where the runs differ, a count's values in brackets), the "
             r"tolerance set before the run, and the verdict over seeds.}\label{tab:summary}\\",
             r"\toprule claim & paper (source) & ours & tolerance & verdict \\ \midrule\endhead",
             r"\bottomrule\endfoot"]
    for study in studies:
        number = study["study"].split("_", 1)[0]
        for claim in study["claims"]:
            ours = [next((c.get("ours", "") for c in run["claims"] if c.get("id") == claim.get("id")), "")
                    for run in runs_of(study)]
            cells = [f"{number} \\texttt{{{latex_text(claim['id'])}}}",
                     latex_text((claim.get("paper_value") or "-")
                                + (f" ({claim['paper_source']})" if claim.get("paper_source") else "")),
                     latex_text(ours_over_seeds(ours)), latex_text(claim.get("tolerance") or ""),
                     latex_text(verdict_words(study, claim))]
            fails = verdict_over_seeds(study, claim)[0] is False
            lines.append(" & ".join(cells) + (r" \\*" if fails else r" \\"))  # a failing row keeps its reason
            if fails:
                lines.append(r"\multicolumn{5}{@{}p{0.95\linewidth}@{}}{\hspace{1em}\emph{Why:} "
                             + latex_text(first_sentence(diagnosis(study, claim)) or "no diagnosis recorded") + r"} \\")
    return "\n".join([*lines, r"\end{longtable}\end{footnotesize}", ""])


def our_budget(study: dict, template: str) -> str:
    """`template` with each {parameter} replaced by the record's value of it (thousands separated); a
    parameter the record lacks (an older record's) as 'n/a'."""
    params = study.get("params") or {}
    return re.sub(r"\{(\w+)\}", lambda match: format_number(params.get(match.group(1))), template)


def budget_table(studies: list[dict], budgets: dict[str, dict]) -> str:
    """Per study: the paper's budget and its source, ours (from the record's parameters), each seed run's
    wall time and the machine it ran on (device and threads, from the provenance). `budgets` maps a
    study to {"paper": ..., "source": ..., "ours": template} (paper/original_budgets.yaml)."""
    lines = [r"\begin{footnotesize}\begin{longtable}{@{}p{0.12\linewidth}p{0.29\linewidth}p{0.29\linewidth}"
             r"p{0.1\linewidth}p{0.09\linewidth}@{}}",
             r"\caption{Each paper's budget beside ours, the wall time of every seed run of our record (a study "
             r"that repeats its training over seeds inside one run has one), the machine and the commit of the "
             r"code that made the record.}\label{tab:budgets}\\",
             r"\toprule study & the paper's budget (source) & ours & wall time per seed & machine, commit \\ "
             r"\midrule\endhead",
             r"\bottomrule\endfoot"]
    for study in studies:
        budget = budgets.get(study["study"])
        if budget is None:
            raise PaperError(f"paper/original_budgets.yaml has no entry for {study['study']}: add its paper's "
                             "budget, the source, and ours as a template of its parameters")
        runs = runs_of(study)
        times = ", ".join(format_duration((run.get("provenance") or {}).get("duration_seconds") or 0) for run in runs)
        provenance = study.get("provenance") or {}
        machine = (f"{provenance.get('device', 'unknown')}, {provenance.get('threads', '?')} threads, "
                   f"{(provenance.get('git_commit') or 'unknown')[:7]}")
        cells = [latex_text(study["study"]), f"{latex_text(budget['paper'])} ({latex_text(budget['source'])})",
                 latex_text(our_budget(study, budget["ours"])), latex_text(times), latex_text(machine)]
        lines.append(" & ".join(cells) + r" \\")
    total = sum((run.get("provenance") or {}).get("duration_seconds") or 0 for study in studies for run in runs_of(study))
    lines.append(r"\midrule all & & & " + latex_text(format_duration(total)) + r" & \\")
    return "\n".join([*lines, r"\end{longtable}\end{footnotesize}", ""])
