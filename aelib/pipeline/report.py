"""Build the report (Markdown, HTML, LaTeX tables) from a results folder alone.

Each study run writes `results/<study>/metrics.json`; this module gathers them into
`report/README.md` (for GitHub), `report/report.html` (one self-contained page) and
`report/tables/*.tex` (snippets for a paper). Nothing else is read, except the
benchmark's `benchmarks/results.json` beside the results folder when present, which
becomes the "Performance" section, and the GPU check's `benchmarks/gpu/gpu_check.json`
(written by `benchmarks/gpu_check.py`), whose throughput, sweep and verdict agreement
that section then shows beside the CPU figures.
"""

import base64
import html
import math
import os
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from aelib.pipeline.records import (
    HOLDS_MARKER,
    format_cell,
    load_results,
    runs_of,
    seed_of,
    seeds_within_a_run,
    verdict_over_seeds,
)
from aelib.pipeline.report_performance import load_benchmark, load_gpu_check, performance_parts
from aelib.pipeline.report_quick import quick_frame, quick_note
from aelib.pipeline.results import write_text_atomic

CLAIM_COLUMNS = {"id": "claim", "statement": "statement", "paper_value": "paper value",
                 "paper_source": "source", "ours": "ours", "tolerance": "tolerance",
                 "diagnosis": "why (the notebook's measured reason)"}
CSS = ("body{font-family:sans-serif;max-width:60em;margin:auto;padding:1em}"
       "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px}"
       "img{max-width:100%}.NO{color:#b00;font-weight:bold}")


def _holds_over_seeds(study: dict, claim: dict) -> tuple[str, str]:
    """(holds marker, 'k/n' seed runs at which it holds), as `verdict_over_seeds`, saying how many seeds
    each run trains over inside it where that is more than one: '1/1 (3 seeds inside each run)'."""
    holds, held, runs = verdict_over_seeds(study, claim)
    inside = seeds_within_a_run(study)
    return HOLDS_MARKER[holds], f"{held}/{runs}" + (f" ({inside} seeds inside each run)" if inside > 1 else "")


def _over_seeds_frame(study: dict) -> pd.DataFrame | None:
    """Each numeric headline metric as mean +- sample std over the seed runs (None with one run)."""
    runs = runs_of(study)
    if len(runs) < 2:
        return None
    values: dict[str, list[float]] = {}
    for run in runs:
        for key, value in (run.get("metrics") or {}).items():
            entries = value.items() if isinstance(value, dict) else [(None, value)]
            for sub, number in entries:
                if isinstance(number, (int, float)) and not isinstance(number, bool) and math.isfinite(number):
                    values.setdefault(key if sub is None else f"{key}[{sub}]", []).append(float(number))
    rows = []
    for name, numbers in values.items():
        mean = sum(numbers) / len(numbers)
        std = math.sqrt(sum((x - mean) ** 2 for x in numbers) / (len(numbers) - 1)) if len(numbers) > 1 else math.nan
        rows.append({"metric": name, "mean": format_cell(mean), "std": format_cell(std), "seeds": len(numbers)})
    return pd.DataFrame(rows, columns=["metric", "mean", "std", "seeds"])


def _claims_frame(study: dict) -> pd.DataFrame:
    """One row per claim: claim, statement, paper value, source, ours (the record's seed),
    tolerance, holds (at every seed run) and the seeds at which it holds."""
    rows = []
    for claim in study["claims"]:
        holds, seeds = _holds_over_seeds(study, claim)
        rows.append({**{column: format_cell(claim.get(key, "")) for key, column in CLAIM_COLUMNS.items()},
                     "holds": holds, "seeds holding": seeds})
    return pd.DataFrame(rows, columns=[*CLAIM_COLUMNS.values(), "holds", "seeds holding"])


def _summary_frame(studies: list[dict]) -> pd.DataFrame:
    """Every claim of every study: holds (at every seed run) and the seeds at which it holds."""
    rows = [{"study": s["study"], "claim": c.get("id", ""), **dict(zip(("holds", "seeds holding"),
                                                                      _holds_over_seeds(s, c)))}
            for s in studies for c in s["claims"]]
    return pd.DataFrame(rows, columns=["study", "claim", "holds", "seeds holding"])


def _wall_time_frame(studies: list[dict]) -> pd.DataFrame:
    """Per study: the seeds recorded, the wall time of each run (minutes, from its provenance), the
    study's total and the commits the runs were made from; then the total over every study."""
    rows, total = [], 0.0
    for study in studies:
        runs = sorted(runs_of(study), key=seed_of)
        minutes = [(run.get("provenance") or {}).get("duration_seconds") for run in runs]
        known = [m / 60 for m in minutes if isinstance(m, (int, float))]
        total += sum(known)
        commits = sorted({str((run.get("provenance") or {}).get("git_commit", "?"))[:7] for run in runs})
        rows.append({"study": study["study"], "seeds": ", ".join(str(seed_of(run)) for run in runs),
                     "minutes per seed": ", ".join("?" if not isinstance(m, (int, float)) else f"{m / 60:.1f}"
                                                   for m in minutes),
                     "minutes in all": f"{sum(known):.1f}", "commits": ", ".join(commits)})
    rows.append({"study": "all studies", "seeds": "", "minutes per seed": "", "minutes in all": f"{total:.1f}",
                 "commits": ""})
    return pd.DataFrame(rows, columns=["study", "seeds", "minutes per seed", "minutes in all", "commits"])


def _table_frames(study: dict) -> dict[str, pd.DataFrame]:
    """The study's optional `tables`, each as a frame of formatted cells."""
    return {name: pd.DataFrame(rows).map(format_cell)
            for name, rows in (study.get("tables") or {}).items()}


def _provenance(study: dict) -> list[tuple[str, str]]:
    """(label, value) pairs describing where and how the run was made."""
    p = study["provenance"]
    commit = p.get("git_commit", "unknown")
    dirty = {True: " (dirty tree)", False: " (clean tree)"}.get(p.get("git_dirty"), "")
    duration = p.get("duration_seconds")
    versions = ", ".join(f"{k} {v}" for k, v in (p.get("versions") or {}).items())
    data = ", ".join(f"{k} {str(v)[:12]}" for k, v in (p.get("data") or {}).items())
    return [("commit", f"{commit}{dirty}"), ("profile", str(study.get("profile", "unknown"))),
            ("device", f"{p.get('device', 'unknown')}, {p.get('threads', '?')} threads"),
            ("duration", f"{duration:.1f} s" if isinstance(duration, (int, float)) else "unknown"),
            ("seed", str(p.get("seed", study.get("params", {}).get("seed", "unknown")))),
            ("started", str(p.get("started", "unknown"))),
            ("versions", versions or "unknown"), ("data sha256", data or "none recorded")]


def _link(target: Path, report_dir: Path) -> str:
    """Relative, URL-quoted link from report_dir to target."""
    return quote(Path(os.path.relpath(target, report_dir)).as_posix())


def _markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub table; pipes, newlines and HTML in cells are escaped."""
    def clean(text):
        return html.escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ")
    return frame.map(clean).rename(columns=clean).to_markdown(index=False)


def _markdown(studies: list[dict], results_dir: Path, report_dir: Path, benchmark: dict | None = None,
              gpu: dict | None = None) -> str:
    """README.md: header, summary of all claims, then one section per study."""
    source = _link(results_dir, report_dir)
    lines = ["# Autoencoder replications: results", "",
             f"Generated by `python -m aelib report` from [`{source}`]({source}). "
             "Do not edit by hand: rerun the command instead.", "",
             "## Summary", "", _markdown_table(_summary_frame(studies)), "",
             "### Wall time of each run", "", _markdown_table(_wall_time_frame(studies)), ""]
    quick = quick_frame(results_dir, studies)
    if quick is not None:
        lines += ["## The quick profile against the full record", "", quick_note(quick), "", _markdown_table(quick), ""]
    for study in studies:
        folder, name = study["directory"], study["study"]
        notebook = _link(folder / f"{name}.ipynb", report_dir)
        lines += [f"## {html.escape(study.get('title', name), quote=False)}", "",
                  f"Executed notebook: [{name}.ipynb]({notebook})",
                  "", "### Claims", "", _markdown_table(_claims_frame(study)), ""]
        seeds = _over_seeds_frame(study)
        if seeds is not None:
            lines += [f"### Headline numbers over {len(runs_of(study))} seeds (mean and sample std)", "",
                      _markdown_table(seeds), ""]
        for table, frame in _table_frames(study).items():
            lines += [f"### {html.escape(table, quote=False)}", "", _markdown_table(frame), ""]
        for figure in study.get("figures") or []:
            caption = html.escape(figure.get("caption", ""), quote=False).replace("\n", " ")
            link = _link(folder / figure["file"], report_dir)
            lines += [f"![{caption.replace(']', '')}]({link})", "", f"*{caption}*", ""]
        lines += ["### Provenance", ""] + [f"- {k}: `{v}`" for k, v in _provenance(study)] + [""]
    performance = performance_parts(benchmark, gpu)
    lines += ["## Performance", ""] if performance else []
    for note, frames in performance:
        lines += [html.escape(note, quote=False), ""]
        for title, frame in frames.items():
            lines += [f"### {html.escape(title, quote=False)}", "", _markdown_table(frame), ""]
    return "\n".join(lines)


def _html(studies: list[dict], results_dir: Path, report_dir: Path, benchmark: dict | None = None,
          gpu: dict | None = None) -> str:
    """report.html: the same content, figures embedded, every JSON text escaped."""
    esc = html.escape
    table = lambda frame: frame.to_html(index=False, escape=True, border=0)  # noqa: E731
    body = ["<h1>Autoencoder replications: results</h1>",
            f"<p>Generated by <code>python -m aelib report</code> from "
            f"<code>{esc(_link(results_dir, report_dir))}</code>. Do not edit by hand.</p>",
            "<h2>Summary</h2>", table(_summary_frame(studies)),
            "<h3>Wall time of each run</h3>", table(_wall_time_frame(studies))]
    quick = quick_frame(results_dir, studies)
    if quick is not None:
        body += ["<h2>The quick profile against the full record</h2>", f"<p>{esc(quick_note(quick))}</p>", table(quick)]
    for study in studies:
        folder, name = study["directory"], study["study"]
        notebook = esc(_link(folder / f"{name}.ipynb", report_dir))
        body += [f"<h2>{esc(study.get('title', name))}</h2>",
                 f'<p>Executed notebook: <a href="{notebook}">'
                 f"{esc(name)}.ipynb</a></p>",
                 "<h3>Claims</h3>", table(_claims_frame(study))]
        seeds = _over_seeds_frame(study)
        if seeds is not None:
            body += [f"<h3>Headline numbers over {len(runs_of(study))} seeds (mean and sample std)</h3>", table(seeds)]
        for title, frame in _table_frames(study).items():
            body += [f"<h3>{esc(title)}</h3>", table(frame)]
        for figure in study.get("figures") or []:
            png, caption = folder / figure["file"], esc(figure.get("caption", ""))
            if png.is_file():
                data = base64.b64encode(png.read_bytes()).decode("ascii")
                body.append(f'<figure><img src="data:image/png;base64,{data}" alt="{caption}">'
                            f"<figcaption>{caption}</figcaption></figure>")
            else:
                body.append(f"<p>Missing figure <code>{esc(figure['file'])}</code>: {caption}</p>")
        items = "".join(f"<li>{esc(k)}: <code>{esc(v)}</code></li>" for k, v in _provenance(study))
        body += ["<h3>Provenance</h3>", f"<ul>{items}</ul>"]
    performance = performance_parts(benchmark, gpu)
    body += ["<h2>Performance</h2>"] if performance else []
    for note, frames in performance:
        body.append(f"<p>{esc(note)}</p>")
        for title, frame in frames.items():
            body += [f"<h3>{esc(title)}</h3>", table(frame)]
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>Autoencoder replications</title><style>{CSS}</style></head>\n"
            "<body>\n" + "\n".join(body) + "\n</body></html>\n")


def build_report(results_dir: Path, report_dir: Path) -> list[Path]:
    """Write README.md, report.html and tables/*.tex into report_dir; return the paths."""
    results_dir, report_dir = Path(results_dir), Path(report_dir)
    studies = load_results(results_dir) if results_dir.is_dir() else []
    if not studies:
        raise FileNotFoundError(
            f"No results in {results_dir} (no */metrics.json found). "
            "Produce some with `python -m aelib reproduce --profile quick`.")
    benchmark, gpu = load_benchmark(results_dir), load_gpu_check(results_dir)
    written = [write_text_atomic(report_dir / "README.md", _markdown(studies, results_dir, report_dir, benchmark, gpu)),
               write_text_atomic(report_dir / "report.html", _html(studies, results_dir, report_dir, benchmark, gpu))]
    for study in studies:
        frames = {"claims": _claims_frame(study), **_table_frames(study)}
        for name, frame in frames.items():
            latex = frame.to_latex(index=False, escape=True)
            target = report_dir / "tables" / f"{study['study']}_{name}.tex"
            written.append(write_text_atomic(target, latex))
    return written
