"""Build the report (Markdown, HTML, LaTeX tables) from a results folder alone.

Each study run writes `results/<study>/metrics.json`; this module gathers them into
`report/README.md` (for GitHub), `report/report.html` (one self-contained page) and
`report/tables/*.tex` (snippets for a paper). Nothing else is read, except the
benchmark's `benchmarks/results.json` beside the results folder when present, which
becomes the "Performance" section.
"""

import base64
import html
import json
import math
import os
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from aelib.pipeline.results import write_text_atomic

REQUIRED_KEYS = ("study", "claims", "provenance")
HOLDS_MARKER = {True: "yes", False: "NO", None: "not evaluated"}
CLAIM_COLUMNS = {"id": "claim", "statement": "statement", "paper_value": "paper value",
                 "paper_source": "source", "ours": "ours", "tolerance": "tolerance"}
CSS = ("body{font-family:sans-serif;max-width:60em;margin:auto;padding:1em}"
       "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px}"
       "img{max-width:100%}.NO{color:#b00;font-weight:bold}")


def _read_metrics(path: Path) -> dict:
    """Parse one metrics.json; a broken file is an error that names it."""
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from error
    missing = [key for key in REQUIRED_KEYS if not isinstance(metrics, dict) or key not in metrics]
    if missing:
        raise ValueError(f"{path}: missing required key(s) {', '.join(missing)}")
    metrics["directory"] = path.parent
    return metrics


def load_results(results_dir: Path) -> list[dict]:
    """Every `results_dir/*/metrics.json` except `results_dir/quick/`, sorted by study name."""
    paths = [p for p in Path(results_dir).glob("*/metrics.json") if p.parent.name != "quick"]
    return sorted((_read_metrics(p) for p in paths), key=lambda m: m["study"])


def load_benchmark(results_dir: Path) -> dict | None:
    """`benchmarks/results.json` of the checkout holding results_dir, if the benchmark was run."""
    path = Path(results_dir).parent / "benchmarks" / "results.json"
    if not path.is_file():
        return None
    try:
        benchmark = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from error
    if not isinstance(benchmark, dict) or not isinstance(benchmark.get("targets"), list):
        raise ValueError(f"{path}: missing required key targets (rerun benchmarks/run.py)")
    benchmark["path"] = path
    return benchmark


def _format_cell(value) -> str:
    """A table cell as text: floats to four significant digits, nested values as JSON."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.1f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _claims_frame(study: dict) -> pd.DataFrame:
    """One row per claim: claim, statement, paper value, source, ours, tolerance, holds."""
    rows = [{**{column: _format_cell(claim.get(key, "")) for key, column in CLAIM_COLUMNS.items()},
             "holds": HOLDS_MARKER.get(claim.get("holds"), "not evaluated")}
            for claim in study["claims"]]
    return pd.DataFrame(rows, columns=[*CLAIM_COLUMNS.values(), "holds"])


def _summary_frame(studies: list[dict]) -> pd.DataFrame:
    """Every claim of every study with its holds marker."""
    rows = [{"study": s["study"], "claim": c.get("id", ""),
             "holds": HOLDS_MARKER.get(c.get("holds"), "not evaluated")}
            for s in studies for c in s["claims"]]
    return pd.DataFrame(rows, columns=["study", "claim", "holds"])


def _table_frames(study: dict) -> dict[str, pd.DataFrame]:
    """The study's optional `tables`, each as a frame of formatted cells."""
    return {name: pd.DataFrame(rows).map(_format_cell)
            for name, rows in (study.get("tables") or {}).items()}


def _performance_frames(benchmark: dict) -> dict[str, pd.DataFrame]:
    """The benchmark's targets (met or not) and its tables, each as a frame of formatted cells."""
    targets = [{"target": t.get("target", ""), "required": t.get("required", ""),
                "measured": t.get("measured", ""), "met": "met" if t.get("met") else "NOT MET"}
               for t in benchmark["targets"]]
    frames = {"Targets": pd.DataFrame(targets, columns=["target", "required", "measured", "met"])}
    frames.update({name: pd.DataFrame(rows, dtype=object).map(
                       lambda value: "not recorded" if value is None else _format_cell(value))
                   for name, rows in (benchmark.get("tables") or {}).items()})
    return frames


def _performance_note(benchmark: dict) -> str:
    """Where the numbers come from: the file, when, how many threads, which machine."""
    return (f"From `benchmarks/results.json` ({benchmark.get('profile', 'unknown')} settings, "
            f"started {benchmark.get('started', 'unknown')}, {benchmark.get('threads', '?')} threads, "
            f"{benchmark.get('platform', 'unknown platform')}); rerun with `python benchmarks/run.py`. "
            "Timings depend on the machine and on its load."
            + (f" Note: {benchmark['note']}" if benchmark.get("note") else ""))


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


def _markdown(studies: list[dict], results_dir: Path, report_dir: Path, benchmark: dict | None = None) -> str:
    """README.md: header, summary of all claims, then one section per study."""
    source = _link(results_dir, report_dir)
    lines = ["# Autoencoder replications: results", "",
             f"Generated by `python -m aelib report` from [`{source}`]({source}). "
             "Do not edit by hand: rerun the command instead.", "",
             "## Summary", "", _markdown_table(_summary_frame(studies)), ""]
    for study in studies:
        folder, name = study["directory"], study["study"]
        notebook = _link(folder / f"{name}.ipynb", report_dir)
        lines += [f"## {html.escape(study.get('title', name), quote=False)}", "",
                  f"Executed notebook: [{name}.ipynb]({notebook})",
                  "", "### Claims", "", _markdown_table(_claims_frame(study)), ""]
        for table, frame in _table_frames(study).items():
            lines += [f"### {html.escape(table, quote=False)}", "", _markdown_table(frame), ""]
        for figure in study.get("figures") or []:
            caption = html.escape(figure.get("caption", ""), quote=False).replace("\n", " ")
            link = _link(folder / figure["file"], report_dir)
            lines += [f"![{caption.replace(']', '')}]({link})", "", f"*{caption}*", ""]
        lines += ["### Provenance", ""] + [f"- {k}: `{v}`" for k, v in _provenance(study)] + [""]
    if benchmark is not None:
        lines += ["## Performance", "", html.escape(_performance_note(benchmark), quote=False), ""]
        for title, frame in _performance_frames(benchmark).items():
            lines += [f"### {html.escape(title, quote=False)}", "", _markdown_table(frame), ""]
    return "\n".join(lines)


def _html(studies: list[dict], results_dir: Path, report_dir: Path, benchmark: dict | None = None) -> str:
    """report.html: the same content, figures embedded, every JSON text escaped."""
    esc = html.escape
    table = lambda frame: frame.to_html(index=False, escape=True, border=0)  # noqa: E731
    body = ["<h1>Autoencoder replications: results</h1>",
            f"<p>Generated by <code>python -m aelib report</code> from "
            f"<code>{esc(_link(results_dir, report_dir))}</code>. Do not edit by hand.</p>",
            "<h2>Summary</h2>", table(_summary_frame(studies))]
    for study in studies:
        folder, name = study["directory"], study["study"]
        notebook = esc(_link(folder / f"{name}.ipynb", report_dir))
        body += [f"<h2>{esc(study.get('title', name))}</h2>",
                 f'<p>Executed notebook: <a href="{notebook}">'
                 f"{esc(name)}.ipynb</a></p>",
                 "<h3>Claims</h3>", table(_claims_frame(study))]
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
    if benchmark is not None:
        body += ["<h2>Performance</h2>", f"<p>{esc(_performance_note(benchmark))}</p>"]
        for title, frame in _performance_frames(benchmark).items():
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
    benchmark = load_benchmark(results_dir)
    written = [write_text_atomic(report_dir / "README.md", _markdown(studies, results_dir, report_dir, benchmark)),
               write_text_atomic(report_dir / "report.html", _html(studies, results_dir, report_dir, benchmark))]
    for study in studies:
        frames = {"claims": _claims_frame(study), **_table_frames(study)}
        for name, frame in frames.items():
            latex = frame.to_latex(index=False, escape=True)
            target = report_dir / "tables" / f"{study['study']}_{name}.tex"
            written.append(write_text_atomic(target, latex))
    return written
