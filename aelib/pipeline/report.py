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
import json
import math
import os
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from aelib.pipeline.results import write_text_atomic

REQUIRED_KEYS = ("study", "claims", "provenance")
GPU_CHECK = Path("benchmarks") / "gpu" / "gpu_check.json"  # beside the results folder
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


SEED_FOLDER_MARK = ".seed-"  # results/<study>.seed-<n>/: the study run at another seed (aelib.pipeline.workflow)


def load_results(results_dir: Path) -> list[dict]:
    """Every `results_dir/*/metrics.json` except the other profiles' (`results_dir/quick/`,
    `results_dir/paper/`), sorted by study name. A
    study's runs at other seeds (folders `<study>.seed-<n>`) are attached to its record as
    `seed_runs`; the record itself is the default seed's (or, without it, the lowest seed's)."""
    paths = [p for p in Path(results_dir).glob("*/metrics.json") if p.parent.name not in ("quick", "paper")]
    records = sorted((_read_metrics(p) for p in paths),
                     key=lambda m: (m["study"], SEED_FOLDER_MARK in m["directory"].name, _seed_of(m)))
    studies: dict[str, dict] = {}
    for record in records:
        if record["study"] in studies:
            studies[record["study"]].setdefault("seed_runs", []).append(record)
        else:
            studies[record["study"]] = record
    return list(studies.values())


def _seed_of(record: dict):
    seed = (record.get("provenance") or {}).get("seed", (record.get("params") or {}).get("seed"))
    return seed if isinstance(seed, int) else -1


def _runs(study: dict) -> list[dict]:
    """The study's record and its runs at other seeds."""
    return [study, *study.get("seed_runs", [])]


def verdict_over_seeds(study: dict, claim: dict) -> tuple[bool | None, int, int]:
    """(holds, k, n): the claim holds only if it holds at every one of the study's n seed runs, and it
    holds at k of them; None where no run evaluated it."""
    verdicts = [next((c.get("holds") for c in run["claims"] if c.get("id") == claim.get("id")), None)
                for run in _runs(study)]
    held = sum(v is True for v in verdicts)
    holds = None if all(v is None for v in verdicts) else held == len(verdicts)
    return holds, held, len(verdicts)


def _holds_over_seeds(study: dict, claim: dict) -> tuple[str, str]:
    """(holds marker, 'k/n' seeds at which it holds), as `verdict_over_seeds`."""
    holds, held, runs = verdict_over_seeds(study, claim)
    return HOLDS_MARKER[holds], f"{held}/{runs}"


def _over_seeds_frame(study: dict) -> pd.DataFrame | None:
    """Each numeric headline metric as mean +- sample std over the seed runs (None with one run)."""
    runs = _runs(study)
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
        rows.append({"metric": name, "mean": _format_cell(mean), "std": _format_cell(std), "seeds": len(numbers)})
    return pd.DataFrame(rows, columns=["metric", "mean", "std", "seeds"])


def _read_measurement(path: Path, key: str, kind: type, script: str) -> dict | None:
    """A measurement file as a dict holding `key` (of type `kind`); None when there is no file."""
    if not path.is_file():
        return None
    try:
        measurement = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from error
    if not isinstance(measurement, dict) or not isinstance(measurement.get(key), kind):
        raise ValueError(f"{path}: missing required key {key} (rerun {script})")
    measurement["path"] = path
    return measurement


def load_benchmark(results_dir: Path) -> dict | None:
    """`benchmarks/results.json` of the checkout holding results_dir, if the benchmark was run."""
    return _read_measurement(Path(results_dir).parent / "benchmarks" / "results.json", "targets", list,
                             "benchmarks/run.py")


def load_gpu_check(results_dir: Path) -> dict | None:
    """`benchmarks/gpu/gpu_check.json` of the checkout holding results_dir, if the GPU check was run."""
    return _read_measurement(Path(results_dir).parent / GPU_CHECK, "device", dict, "benchmarks/gpu_check.py")


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
    """One row per claim: claim, statement, paper value, source, ours (the record's seed),
    tolerance, holds (at every seed run) and the seeds at which it holds."""
    rows = []
    for claim in study["claims"]:
        holds, seeds = _holds_over_seeds(study, claim)
        rows.append({**{column: _format_cell(claim.get(key, "")) for key, column in CLAIM_COLUMNS.items()},
                     "holds": holds, "seeds holding": seeds})
    return pd.DataFrame(rows, columns=[*CLAIM_COLUMNS.values(), "holds", "seeds holding"])


def _summary_frame(studies: list[dict]) -> pd.DataFrame:
    """Every claim of every study: holds (at every seed run) and the seeds at which it holds."""
    rows = [{"study": s["study"], "claim": c.get("id", ""), **dict(zip(("holds", "seeds holding"),
                                                                      _holds_over_seeds(s, c)))}
            for s in studies for c in s["claims"]]
    return pd.DataFrame(rows, columns=["study", "claim", "holds", "seeds holding"])


QUICK_RECORD = "quick-seeds"  # results/quick-seeds/: every study's quick profile at seeds 0-4 (make quick-seeds)
QUICK_MARKER = {True: "yes", False: "NO", None: "-"}


def _claim_verdicts(study: dict) -> dict[str, list[bool | None]]:
    """claim id -> its verdict at each of the study's runs, in seed order."""
    runs = sorted(_runs(study), key=_seed_of)
    ids = [c["id"] for run in runs for c in run["claims"]]
    return {claim_id: [next((c.get("holds") for c in run["claims"] if c.get("id") == claim_id), None) for run in runs]
            for claim_id in dict.fromkeys(ids)}


def quick_against_full(full: list[dict], quick: list[dict]) -> pd.DataFrame:
    """Per claim: the full record's verdict over its seeds, the quick profile's verdict at each quick seed
    ('-': not judged at quick scale), and whether they agree. A quick profile agrees when every seed that
    judges the claim gives the full verdict; it is 'not judged' where no quick seed judges it."""
    quick_by_study = {s["study"]: s for s in quick}
    seeds = sorted({_seed_of(run) for s in quick for run in _runs(s)})
    rows = []
    for study in full:
        quick_verdicts = _claim_verdicts(quick_by_study[study["study"]]) if study["study"] in quick_by_study else {}
        for claim_id in _claim_verdicts(study):
            holds, held, runs = verdict_over_seeds(study, {"id": claim_id})
            at_quick = quick_verdicts.get(claim_id, [])
            judged = [v for v in at_quick if v is not None]
            agreement = ("not in the quick record" if not at_quick else "not judged at quick scale" if not judged
                         else "full record does not judge it" if holds is None
                         else "agrees" if all(v == holds for v in judged) else "DISAGREES")
            rows.append({"study": study["study"], "claim": claim_id,
                         "full": f"{HOLDS_MARKER[holds]} ({held}/{runs} seeds)",
                         **{f"quick seed {seed}": QUICK_MARKER[v] for seed, v in zip(seeds, at_quick)},
                         "quick against full": agreement})
    return pd.DataFrame(rows, columns=["study", "claim", "full", *(f"quick seed {s}" for s in seeds), "quick against full"])


def _quick_note(frame: pd.DataFrame) -> str:
    counts = frame["quick against full"].value_counts()
    judged = int(counts.get("agrees", 0) + counts.get("DISAGREES", 0))
    return (f"Every claim's verdict in the full record (over its seeds) beside the quick profile's at each seed of "
            f"`{QUICK_RECORD}/` ('-': the quick profile does not judge it, and says what it would need). "
            f"{judged} of {len(frame)} claims are judged at quick scale: {int(counts.get('agrees', 0))} agree with "
            f"the full record at every quick seed, {int(counts.get('DISAGREES', 0))} disagree; "
            f"{int(counts.get('not judged at quick scale', 0))} are not judged at quick scale.")


def _quick_frame(results_dir: Path, full: list[dict]) -> pd.DataFrame | None:
    folder = Path(results_dir) / QUICK_RECORD
    return quick_against_full(full, load_results(folder)) if folder.is_dir() and any(folder.glob("*/metrics.json")) \
        else None


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


def _rows(part) -> list[dict]:
    """A measured part's rows; none when the part is absent or failed."""
    return part.get("rows") or [] if isinstance(part, dict) else []


def _verdict_agreement(row: dict) -> str:
    """A study run on the GPU against the CPU run: the same verdicts, which differ, or why it has none."""
    if row.get("status") != "ok":
        return f"{row.get('status', 'unknown')}: {row.get('error', 'no error recorded')}"
    if row.get("same"):
        return "same as on the CPU"
    marks = {True: "holds", False: "does not hold", None: "not evaluated"}
    return "differs: " + "; ".join(
        f"{d.get('id')} CPU {marks.get(d.get('cpu'), d.get('cpu'))}, GPU {marks.get(d.get('device'), d.get('device'))}"
        for d in row.get("differing", []))


def _gpu_label(gpu: dict) -> str:
    """What the check ran on, as its tables name it: "GPU", or "CPU check" for a run with --device cpu."""
    kind = str(gpu["device"].get("type", "unknown"))
    return "GPU" if kind == "cuda" else f"{kind.upper()} check"


def _gpu_frames(gpu: dict, benchmark: dict | None) -> dict[str, pd.DataFrame]:
    """The GPU check's throughput (float32 and bf16) beside the CPU benchmark's, its sweep beside the
    CPU's, and each study's verdict agreement, each as a frame of formatted cells."""
    on = _gpu_label(gpu)
    cpu_rate = {r.get("model"): r.get("examples_per_second")
                for r in (benchmark or {}).get("throughput") or [] if not r.get("torch_compile")}
    cpu_sweep = {r.get("variant"): r for r in _rows((benchmark or {}).get("batched_sweep"))}
    rows = _rows(gpu.get("throughput"))
    rate = {(r.get("model"), r.get("precision")): r for r in rows}
    throughput = []
    for model in dict.fromkeys(r.get("model") for r in rows):
        float32, bf16 = rate.get((model, "float32"), {}), rate.get((model, "bf16 autocast"), {})
        cpu, gpu_float32 = cpu_rate.get(model), float32.get("examples_per_second")
        throughput.append({
            "model": model, "CPU float32 examples/s": cpu, f"{on} float32 examples/s": gpu_float32,
            f"{on} bf16 autocast examples/s": bf16.get("examples_per_second"),
            "bf16 / float32": bf16.get("speedup_over_float32"),
            f"{on} / CPU (float32)": gpu_float32 / cpu if cpu and gpu_float32 else None,
            f"{on} float32 epoch s": float32.get("epoch_seconds"),
            "held-out loss, float32 eval (float32 / bf16 training)":
                f"{_format_cell(float32.get('held_out_loss_float32'))} / {_format_cell(bf16.get('held_out_loss_float32'))}"})
    sweep = [{"variant": r.get("variant"), f"{on} images/s": r.get("images_per_second"),
              f"{on} speedup": r.get("speedup"),
              "CPU images/s": cpu_sweep.get(r.get("variant"), {}).get("images_per_second"),
              "CPU speedup": cpu_sweep.get(r.get("variant"), {}).get("speedup"),
              f"{on} max weight difference": r.get("max_weight_difference")} for r in _rows(gpu.get("batched_sweep"))]
    verdicts = [{"study": r.get("study"), "claims": r.get("claims"), f"verdicts, {on}": _verdict_agreement(r),
                 "seconds": r.get("seconds")} for r in _rows(gpu.get("studies"))]
    frames = {f"{on}: aelib training throughput, float32 and bf16 autocast": throughput,
              f"{on}: K=4 DAE sweep, batched vs sequential": sweep,
              f"{on}: each study's quick profile, verdicts against the CPU run": verdicts}
    return {title: pd.DataFrame(rows, dtype=object).map(
                lambda value: "not recorded" if value is None else _format_cell(value))
            for title, rows in frames.items() if rows}


def _gpu_note(gpu: dict) -> str:
    """Where the GPU figures come from: the device, the versions, the commit; and any part that failed."""
    device, commit = gpu["device"], gpu.get("commit") or {}
    failed = [f"{name}: {gpu[name]['error']}" for name in ("throughput", "batched_sweep", "studies")
              if isinstance(gpu.get(name), dict) and gpu[name].get("error")]
    seconds = gpu.get("seconds")
    return (f"{_gpu_label(gpu)}: from `{GPU_CHECK.as_posix()}` ({device.get('name', 'unknown device')}, "
            f"torch {device.get('torch', '?')}, CUDA {device.get('cuda') or 'none'}, "
            f"commit {str(commit.get('git_commit', 'unknown'))[:12]}"
            f"{' (dirty tree)' if commit.get('git_dirty') else ''}, started {gpu.get('started', 'unknown')}, "
            + (f"{seconds:.0f} s in all" if isinstance(seconds, (int, float)) else "incomplete") + "); "
            "rerun with `python benchmarks/gpu_check.py benchmarks/gpu --device cuda`. "
            "Evaluation is in float32 in both precisions."
            + (" A --smoke run: tiny settings, its numbers measure nothing." if gpu.get("smoke") else "")
            + "".join(f" Failed, {line}" for line in failed))


def _performance_parts(benchmark: dict | None, gpu: dict | None) -> list[tuple[str, dict[str, pd.DataFrame]]]:
    """The Performance section as (note, frames) pairs: the CPU benchmark's, then the GPU check's."""
    parts = [] if benchmark is None else [(_performance_note(benchmark), _performance_frames(benchmark))]
    return parts + ([] if gpu is None else [(_gpu_note(gpu), _gpu_frames(gpu, benchmark))])


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
             "## Summary", "", _markdown_table(_summary_frame(studies)), ""]
    quick = _quick_frame(results_dir, studies)
    if quick is not None:
        lines += ["## The quick profile against the full record", "", _quick_note(quick), "", _markdown_table(quick), ""]
    for study in studies:
        folder, name = study["directory"], study["study"]
        notebook = _link(folder / f"{name}.ipynb", report_dir)
        lines += [f"## {html.escape(study.get('title', name), quote=False)}", "",
                  f"Executed notebook: [{name}.ipynb]({notebook})",
                  "", "### Claims", "", _markdown_table(_claims_frame(study)), ""]
        seeds = _over_seeds_frame(study)
        if seeds is not None:
            lines += [f"### Headline numbers over {len(_runs(study))} seeds (mean and sample std)", "",
                      _markdown_table(seeds), ""]
        for table, frame in _table_frames(study).items():
            lines += [f"### {html.escape(table, quote=False)}", "", _markdown_table(frame), ""]
        for figure in study.get("figures") or []:
            caption = html.escape(figure.get("caption", ""), quote=False).replace("\n", " ")
            link = _link(folder / figure["file"], report_dir)
            lines += [f"![{caption.replace(']', '')}]({link})", "", f"*{caption}*", ""]
        lines += ["### Provenance", ""] + [f"- {k}: `{v}`" for k, v in _provenance(study)] + [""]
    performance = _performance_parts(benchmark, gpu)
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
            "<h2>Summary</h2>", table(_summary_frame(studies))]
    quick = _quick_frame(results_dir, studies)
    if quick is not None:
        body += ["<h2>The quick profile against the full record</h2>", f"<p>{esc(_quick_note(quick))}</p>", table(quick)]
    for study in studies:
        folder, name = study["directory"], study["study"]
        notebook = esc(_link(folder / f"{name}.ipynb", report_dir))
        body += [f"<h2>{esc(study.get('title', name))}</h2>",
                 f'<p>Executed notebook: <a href="{notebook}">'
                 f"{esc(name)}.ipynb</a></p>",
                 "<h3>Claims</h3>", table(_claims_frame(study))]
        seeds = _over_seeds_frame(study)
        if seeds is not None:
            body += [f"<h3>Headline numbers over {len(_runs(study))} seeds (mean and sample std)</h3>", table(seeds)]
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
    performance = _performance_parts(benchmark, gpu)
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
