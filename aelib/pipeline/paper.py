"""The paper draft: every number, table and figure of paper/main.tex generated from results/ alone.

`paper/main.tex` is the writer's: committed, edited by hand, prose around macros. `python -m aelib
paper` (and `make paper`) writes, from the results folder alone, `paper/generated/`:

- `macros.tex`: a named macro for every claim of every study (``\\DaeLocalityMatchesTutorialOurs``,
  ``...Verdict``, ``...Tolerance``, ``...PaperValue``), every number of its metrics
  (``\\DaeMedianLocalityThirty``: study prefix, then the key's words, a fraction as its percent) and
  of its parameters (``\\VaeParamSamplesPerLatentSize``), each after a comment that gives its source
  (study, key, commit);
- `limitations.tex`: every claim that does not hold or was not evaluated, as a list;
- `claims/<study>.tex`: the study's claims as a list, verdict first (hyphenation off, so that the
  text check below finds each value whole); `tables/<study>_<table>.tex`: the record's tables in
  booktabs; `tables/comparison.tex`: the cross-regularizer table of study 07, mean +- std;
- `figures/<study>/<name>.pdf`: the records' vector figures (the PNG where a record has no PDF);

and `paper/references.bib` (every paper the studies cite), then compiles `paper/main.pdf` with
latexmk. Before compiling, a macro of a study's prefix that main.tex uses and no result defines is
an error that names it, as is a figure it includes that no record has; after compiling, an
undefined reference or citation in the log is an error; then the PDF's text (pdftotext) must hold
each claim's value as metrics.json records it.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

from aelib.pipeline.report import load_results, verdict_over_seeds
from aelib.pipeline.results import write_text_atomic

STUDY_PREFIXES = {"01_denoising_filters": "Dae", "02_sparse_features": "Sparse",
                  "03_saturating_perturbations": "Saturating", "04_rank_order_cifar_patches": "RankOrdered",
                  "05_vae": "Vae", "06_contractive": "Contractive", "07_regularizer_comparison": "Comparison",
                  "08_layerwise_pretraining": "Pretraining"}
VERDICTS = {True: "holds", False: "does not hold", None: "not evaluated"}
# text characters that LaTeX must be told how to set; the unicode ones the records use, as pdflatex sets them
LATEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                 "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                 "±": r"\ensuremath{\pm}", "×": r"\ensuremath{\times}", "→": r"\ensuremath{\rightarrow}",
                 "≤": r"\ensuremath{\leq}", "≥": r"\ensuremath{\geq}", "≈": r"\ensuremath{\approx}",
                 "−": "-", "–": "--", "—": "---", "’": "'", "‘": "`", "“": "``", "”": "''", "…": r"\dots{}",
                 "ν": r"\ensuremath{\nu}", "λ": r"\ensuremath{\lambda}", "α": r"\ensuremath{\alpha}",
                 "β": r"\ensuremath{\beta}", "ρ": r"\ensuremath{\rho}", "μ": r"\ensuremath{\mu}",
                 "σ": r"\ensuremath{\sigma}", "²": r"\textsuperscript{2}", "‖": r"\ensuremath{\|}", "°": r"\textdegree{}"}
ONES = ("Zero One Two Three Four Five Six Seven Eight Nine Ten Eleven Twelve Thirteen Fourteen Fifteen Sixteen "
        "Seventeen Eighteen Nineteen").split()
TENS = "_ _ Twenty Thirty Forty Fifty Sixty Seventy Eighty Ninety".split()


class PaperError(ValueError):
    """What is wrong with the draft or its build, and what to do."""


def latex_text(text: str) -> str:
    """`text` set as LaTeX text: its special characters escaped, the unicode of the records mapped
    to LaTeX; any other non-ASCII character is an error that names it."""
    out = []
    for char in str(text):
        if char in LATEX_ESCAPES:
            out.append(LATEX_ESCAPES[char])
        elif ord(char) < 128:
            out.append(char)
        else:
            raise PaperError(f"no LaTeX for the character {char!r} (U+{ord(char):04X}) in {text!r}: add it to "
                             f"aelib.pipeline.paper.LATEX_ESCAPES")
    # "--" and "<<"-style ligatures would merge in T1 fonts: keep a record's characters as they are
    return "".join(out).replace("--", "-{}-").replace("<<", "<{}<").replace(">>", ">{}>")


def number_words(n: int) -> str:
    """0 <= n < 10**6 in words, CamelCase (macro names take no digits): 25 -> TwentyFive."""
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + (ONES[n % 10] if n % 10 else "")
    if n < 1000:
        return ONES[n // 100] + "Hundred" + (number_words(n % 100) if n % 100 else "")
    if n < 10**6:
        return number_words(n // 1000) + "Thousand" + (number_words(n % 1000) if n % 1000 else "")
    raise PaperError(f"no macro name for the number {n}")


def name_words(key: str) -> str:
    """A key of a record as CamelCase words for a macro name: 'median_locality' -> MedianLocality,
    a fraction with at most two decimals as its percent ('0.3' -> Thirty), an integer in words
    ('200' -> TwoHundred), any other number digit by digit ('1e-05' -> OneEMinusZeroFive)."""
    words = []
    for token in re.split(r"[^A-Za-z0-9.+-]+", str(key)):
        if not token:
            continue
        try:
            value = float(token)
        except ValueError:
            words += [piece.capitalize() if piece.isalpha() else "".join(ONES[int(d)] for d in piece)
                      for piece in re.findall(r"[A-Za-z]+|[0-9]+", token)]
            continue
        if math.isfinite(value) and value == int(value) and abs(value) < 10**6 and "e" not in token.lower():
            words.append(("Minus" if value < 0 else "") + number_words(abs(int(value))))
        elif 0 < value < 1 and round(value * 100, 9) == int(round(value * 100, 9)):
            words.append(number_words(int(round(value * 100))))
        else:
            spelled = {".": "Point", "-": "Minus", "+": "Plus", "e": "E", "E": "E"}
            words.append("".join(spelled.get(c) or ONES[int(c)] for c in token))
    return "".join(words)


def format_number(value) -> str:
    """A metric as the paper prints it: integers whole (thousands separated), others to 3 significant digits."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.3g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"


def _numbers(metrics: dict, path: tuple = ()) -> list[tuple[tuple, object]]:
    """Every number of a record's metrics, with its key path (nested mappings followed)."""
    found = []
    for key, value in metrics.items():
        if isinstance(value, dict):
            found += _numbers(value, (*path, key))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            found.append(((*path, key), value))
    return found


def macro_definitions(studies: list[dict]) -> tuple[str, dict[str, str]]:
    """macros.tex's text, and each macro's name (without the backslash) -> its source. Two sources
    with one name are an error that names both."""
    lines, sources = ["% Generated by `python -m aelib paper` from results/: do not edit, rerun the command.", ""], {}

    def define(name: str, value: str, source: str):
        if name in sources:
            raise PaperError(f"two results want the macro \\{name}: {sources[name]} and {source}; rename a key")
        sources[name] = source
        lines.extend([f"% {source}", f"\\newcommand{{\\{name}}}{{{value}}}"])

    for study in studies:
        prefix = STUDY_PREFIXES.get(study["study"]) or name_words(study["study"].split("_", 1)[-1])
        commit = (study.get("provenance") or {}).get("git_commit", "unknown")[:12]
        define(prefix + "SeedRuns", str(1 + len(study.get("seed_runs") or [])),
               f"{study['study']}: its runs at different seeds (the record and results/{study['study']}.seed-*), "
               f"commit {commit}")
        for claim in study["claims"]:
            claim_name = prefix + name_words(claim["id"])
            for field, value in (("Ours", latex_text(claim.get("ours", ""))),
                                 ("Verdict", verdict_words(study, claim)),
                                 ("Tolerance", latex_text(claim.get("tolerance", ""))),
                                 ("PaperValue", latex_text(claim.get("paper_value", "")))):
                define(claim_name + field, value, f"{study['study']} claim {claim['id']} {field.lower()}, commit {commit}")
        for part, infix in (("metrics", ""), ("params", "Param")):
            for path, value in _numbers(study.get(part) or {}):
                key = "".join(f"[{p!r}]" if i else p for i, p in enumerate(path))
                define(prefix + infix + "".join(name_words(p) for p in path), latex_text(format_number(value)),
                       f"{study['study']} {part} {key}, commit {commit}")
    return "\n".join(lines) + "\n", sources


def verdict_words(study: dict, claim: dict) -> str:
    """'holds', 'does not hold' or 'not evaluated', over every seed run of the study (a claim holds only
    if it holds at each), with the count where there are several: 'does not hold (2 of 3 seeds)'."""
    holds, held, runs = verdict_over_seeds(study, claim)
    return VERDICTS[holds] + (f" ({held} of {runs} seeds)" if runs > 1 else "")


def claims_list(study: dict) -> str:
    """The study's claims, one item each: verdict (over its seeds), id, our value at the record's seed,
    tolerance (no hyphenation)."""
    seed = (study.get("provenance") or {}).get("seed")
    record_seed = f" (seed {seed})" if study.get("seed_runs") and seed is not None else ""
    items = [f"\\item \\textbf{{{verdict_words(study, c)}}}: \\texttt{{{latex_text(c['id'])}}}. "
             f"{latex_text(c.get('statement', ''))} Ours{record_seed}: {latex_text(c.get('ours', ''))}. "
             f"Tolerance: {latex_text(c.get('tolerance', ''))}." for c in study["claims"]]
    return "\n".join(["\\begin{claimlist}", *items, "\\end{claimlist}", ""])


def limitations_list(studies: list[dict]) -> str:
    """Every claim that does not hold or was not evaluated, with its study, value and tolerance."""
    items = [f"\\item \\texttt{{{latex_text(s['study'])}}}, \\texttt{{{latex_text(c['id'])}}} "
             f"({verdict_words(s, c)}): {latex_text(c.get('ours', ''))} (tolerance: {latex_text(c.get('tolerance', ''))})."
             for s in studies for c in s["claims"] if verdict_over_seeds(s, c)[0] is not True]
    return "\n".join(["\\begin{claimlist}", *(items or ["\\item Every claim holds."]), "\\end{claimlist}", ""])


def booktabs_table(rows: list[dict], columns: list[str] | None = None) -> str:
    """A record's table (a list of rows) as a booktabs tabular, numbers as `format_number` sets them."""
    columns = columns or list(dict.fromkeys(key for row in rows for key in row))
    def cell(value):
        return latex_text(format_number(value) if isinstance(value, (int, float)) and not isinstance(value, bool)
                          else "" if value is None else value)
    body = [" & ".join(cell(row.get(c)) for c in columns) + r" \\" for row in rows]
    return "\n".join([f"\\begin{{tabular}}{{{'l' * len(columns)}}}", r"\toprule",
                      " & ".join(latex_text(c.replace("_", " ")) for c in columns) + r" \\", r"\midrule",
                      *body, r"\bottomrule", r"\end{tabular}", ""])


COMPARISON_COLUMNS = ("reconstruction_error", "jacobian_norm", "random_sensitivity", "hoyer_sparsity", "probe_accuracy")


def comparison_table(study: dict) -> str:
    """Study 07's cross-regularizer table: one row per method, mean +- std over seeds."""
    rows = (study.get("tables") or {}).get("regularizer_comparison") or []
    header = ["method", "setting", *[c.replace("_", " ") for c in COMPARISON_COLUMNS]]
    body = []
    for row in rows:
        cells = [latex_text(row["method"]), latex_text(row.get("setting", ""))]
        cells += [f"{format_number(row[c])} \\ensuremath{{\\pm}} {format_number(row.get(c + '_std'))}"
                  for c in COMPARISON_COLUMNS]
        body.append(" & ".join(cells) + r" \\")
    return "\n".join([r"\begin{tabular}{ll" + "r" * len(COMPARISON_COLUMNS) + "}", r"\toprule",
                      " & ".join(header) + r" \\", r"\midrule", *body, r"\bottomrule", r"\end{tabular}", ""])


PREAMBLE = r"""% Generated by `python -m aelib paper`: what the generated files need. \input it in the preamble.
\newenvironment{claimlist}{\begin{itemize}\raggedright\hyphenpenalty=10000\exhyphenpenalty=10000}{\end{itemize}}
"""

# Every paper the studies cite, as BibTeX (keys used by main.tex).
REFERENCES = r"""@inproceedings{vincent2008,
  author    = {Vincent, Pascal and Larochelle, Hugo and Bengio, Yoshua and Manzagol, Pierre-Antoine},
  title     = {Extracting and Composing Robust Features with Denoising Autoencoders},
  booktitle = {Proceedings of the 25th International Conference on Machine Learning (ICML)},
  pages     = {1096--1103},
  year      = {2008}
}

@techreport{ng2011sparse,
  author      = {Ng, Andrew},
  title       = {Sparse Autoencoder},
  institution = {Stanford University},
  type        = {CS294A Lecture Notes},
  year        = {2011}
}

@inproceedings{goroshin2013,
  author    = {Goroshin, Ross and LeCun, Yann},
  title     = {Saturating Auto-Encoders},
  booktitle = {International Conference on Learning Representations (ICLR)},
  note      = {arXiv:1301.3577},
  year      = {2013}
}

@misc{bertens2016,
  author = {Bertens, Paul},
  title  = {Rank Ordered Autoencoders},
  note   = {arXiv:1605.01749},
  year   = {2016}
}

@inproceedings{kingma2014,
  author    = {Kingma, Diederik P. and Welling, Max},
  title     = {Auto-Encoding Variational {Bayes}},
  booktitle = {International Conference on Learning Representations (ICLR)},
  note      = {arXiv:1312.6114},
  year      = {2014}
}

@inproceedings{rifai2011,
  author    = {Rifai, Salah and Vincent, Pascal and Muller, Xavier and Glorot, Xavier and Bengio, Yoshua},
  title     = {Contractive Auto-Encoders: Explicit Invariance During Feature Extraction},
  booktitle = {Proceedings of the 28th International Conference on Machine Learning (ICML)},
  pages     = {833--840},
  year      = {2011}
}

@inproceedings{bengio2007,
  author    = {Bengio, Yoshua and Lamblin, Pascal and Popovici, Dan and Larochelle, Hugo},
  title     = {Greedy Layer-Wise Training of Deep Networks},
  booktitle = {Advances in Neural Information Processing Systems 19 (NIPS 2006)},
  pages     = {153--160},
  publisher = {MIT Press},
  year      = {2007}
}

@inproceedings{larochelle2007,
  author    = {Larochelle, Hugo and Erhan, Dumitru and Courville, Aaron and Bergstra, James and Bengio, Yoshua},
  title     = {An Empirical Evaluation of Deep Architectures on Problems with Many Factors of Variation},
  booktitle = {Proceedings of the 24th International Conference on Machine Learning (ICML)},
  pages     = {473--480},
  year      = {2007}
}

@inproceedings{burda2016,
  author    = {Burda, Yuri and Grosse, Roger and Salakhutdinov, Ruslan},
  title     = {Importance Weighted Autoencoders},
  booktitle = {International Conference on Learning Representations (ICLR)},
  note      = {arXiv:1509.00519},
  year      = {2016}
}

@article{hoyer2004,
  author  = {Hoyer, Patrik O.},
  title   = {Non-negative Matrix Factorization with Sparseness Constraints},
  journal = {Journal of Machine Learning Research},
  volume  = {5},
  pages   = {1457--1469},
  year    = {2004}
}

@article{lecun1998,
  author  = {LeCun, Yann and Bottou, L{\'e}on and Bengio, Yoshua and Haffner, Patrick},
  title   = {Gradient-Based Learning Applied to Document Recognition},
  journal = {Proceedings of the IEEE},
  volume  = {86},
  number  = {11},
  pages   = {2278--2324},
  year    = {1998}
}

@techreport{krizhevsky2009,
  author      = {Krizhevsky, Alex},
  title       = {Learning Multiple Layers of Features from Tiny Images},
  institution = {University of Toronto},
  year        = {2009}
}

@inproceedings{glorot2010,
  author    = {Glorot, Xavier and Bengio, Yoshua},
  title     = {Understanding the Difficulty of Training Deep Feedforward Neural Networks},
  booktitle = {Proceedings of the 13th International Conference on Artificial Intelligence and Statistics (AISTATS)},
  pages     = {249--256},
  year      = {2010}
}

@inproceedings{kingma2015adam,
  author    = {Kingma, Diederik P. and Ba, Jimmy},
  title     = {Adam: A Method for Stochastic Optimization},
  booktitle = {International Conference on Learning Representations (ICLR)},
  note      = {arXiv:1412.6980},
  year      = {2015}
}

@article{duchi2011,
  author  = {Duchi, John and Hazan, Elad and Singer, Yoram},
  title   = {Adaptive Subgradient Methods for Online Learning and Stochastic Optimization},
  journal = {Journal of Machine Learning Research},
  volume  = {12},
  pages   = {2121--2159},
  year    = {2011}
}

@misc{theano2013dae,
  author       = {{LISA lab}},
  title        = {Denoising Autoencoders ({dA}), Deep Learning Tutorials, release 0.1},
  howpublished = {University of Montreal},
  year         = {2013}
}
"""


def copy_figures(studies: list[dict], target: Path) -> list[Path]:
    """Each record's figures into target/<study>/: the PDF where the record has one, else the PNG."""
    copied = []
    for study in studies:
        for figure in study.get("figures") or []:
            source = study["directory"] / (figure.get("pdf") or figure["file"])
            if not source.exists():
                source = study["directory"] / figure["file"]
            destination = target / study["study"] / source.name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
            copied.append(destination)
    return copied


def used_but_undefined(tex: str, defined: set[str], prefixes) -> list[str]:
    """Macros of a study's prefix that `tex` uses and no result defines (comments ignored)."""
    text = re.sub(r"(?<!\\)%.*", "", tex)
    pattern = re.compile(r"\\((?:" + "|".join(sorted(set(prefixes), key=len, reverse=True)) + r")[A-Z][A-Za-z]*)")
    return sorted({name for name in pattern.findall(text) if name not in defined})


def missing_figures(tex: str, paper_dir: Path) -> list[str]:
    """Files that `tex` includes, by \\includegraphics or by main.tex's \\studyfigure{<study>/<name>}
    (generated/figures/<study>/<name>), and that do not exist (an extension may be left out)."""
    text = re.sub(r"(?<!\\)%.*", "", tex)
    names = re.findall(r"\\includegraphics(?:\[[^\]]*\])?\{([^}#]+)\}", text)
    names += [f"generated/figures/{name}" for name in re.findall(r"\\studyfigure\{([^}#]+)\}", text)]
    missing = []
    for name in names:
        path = paper_dir / name
        if not (path.exists() or any(path.with_suffix(s).exists() for s in (".pdf", ".png"))):
            missing.append(name)
    return missing


def normalized(text: str) -> str:
    """Text compared whitespace-free, with ligatures and typographic quotes undone."""
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "`").replace("−", "-")
    return re.sub(r"\s+", "", text)


def rendered(text: str) -> str:
    """What pdftotext gives back for a record's text set by `latex_text` (pdflatex, T1 fonts)."""
    return text.replace("−", "-").replace("–", "--").replace("—", "---")


def values_missing_from(pdf_text: str, studies: list[dict]) -> list[str]:
    """The claims whose value (`ours`, as metrics.json records it) the PDF's text does not hold. A value
    may run over a page break: its start ends one page (before the page's number) and its rest is on the
    next, after whatever floats LaTeX put at that page's top (a figure's own text, with vector figures)."""
    pages = [normalized(re.sub(r"\n\s*\d+$", "", page.rstrip())) for page in pdf_text.split("\f")]
    whole = "".join(pages)

    def found(value: str) -> bool:
        return value in whole or any(page.endswith(value[:k]) and value[k:] in next_page
                                     for page, next_page in zip(pages, pages[1:]) for k in range(1, len(value)))

    return [f"{s['study']} {c['id']}: {c.get('ours', '')!r}" for s in studies for c in s["claims"]
            if not found(normalized(rendered(c.get("ours", ""))))]


def log_problems(log: str) -> list[str]:
    """Undefined references, citations and control sequences named in a LaTeX log."""
    problems = re.findall(r"(?:Reference|Citation) `[^']+' on page \d+ undefined", log)
    problems += [f"undefined control sequence {m}" for m in re.findall(r"Undefined control sequence\.\s*\nl\.\d+ .*?(\\\w+)", log)]
    return sorted(set(problems))


def generate(results_dir: Path, paper_dir: Path) -> list[dict]:
    """Write paper/generated/ and paper/references.bib from the results; return the studies."""
    studies = load_results(results_dir) if Path(results_dir).is_dir() else []
    if not studies:
        raise PaperError(f"no results in {results_dir} (no */metrics.json): make some with "
                         "`python -m aelib reproduce --profile full` (or run `make paper` from a checkout with its record)")
    generated = paper_dir / "generated"
    macros, _ = macro_definitions(studies)
    write_text_atomic(generated / "macros.tex", macros)
    write_text_atomic(generated / "preamble.tex", PREAMBLE)
    write_text_atomic(generated / "limitations.tex", limitations_list(studies))
    for study in studies:
        write_text_atomic(generated / "claims" / f"{study['study']}.tex", claims_list(study))
        for name, rows in (study.get("tables") or {}).items():
            if rows and isinstance(rows, list) and all(isinstance(r, dict) for r in rows):
                write_text_atomic(generated / "tables" / f"{study['study']}_{name}.tex", booktabs_table(rows))
        if study["study"] == "07_regularizer_comparison":
            write_text_atomic(generated / "tables" / "comparison.tex", comparison_table(study))
    shutil.rmtree(generated / "figures", ignore_errors=True)
    copy_figures(studies, generated / "figures")
    write_text_atomic(paper_dir / "references.bib", REFERENCES)
    return studies


def build_paper(results_dir: Path, paper_dir: Path, *, compile_pdf: bool = True) -> Path:
    """Generate the draft's numbers, tables and figures, check main.tex against them, compile it
    with latexmk (pdflatex, bibtex) and check the PDF's text; returns paper/main.pdf."""
    paper_dir = Path(paper_dir)
    main = paper_dir / "main.tex"
    if not main.exists():
        raise PaperError(f"{main} is missing: the draft is the writer's file, restore it from git")
    studies = generate(Path(results_dir), paper_dir)
    _, sources = macro_definitions(studies)
    tex = main.read_text(encoding="utf-8")
    prefixes = {STUDY_PREFIXES.get(s["study"]) or name_words(s["study"].split("_", 1)[-1]) for s in studies}
    prefixes |= set(STUDY_PREFIXES.values())
    undefined = used_but_undefined(tex, set(sources), prefixes)
    if undefined:
        raise PaperError("main.tex uses numbers that no result defines: " + ", ".join("\\" + n for n in undefined)
                         + f" (the defined ones are in {paper_dir / 'generated' / 'macros.tex'})")
    absent = missing_figures(tex, paper_dir)
    if absent:
        raise PaperError("main.tex includes figures that no record has: " + ", ".join(absent))
    if not compile_pdf:
        return main
    for tool in ("latexmk", "pdflatex", "bibtex", "pdftotext"):
        if shutil.which(tool) is None:
            raise PaperError(f"{tool} is not installed: install TeX Live and poppler, e.g. on Debian or Ubuntu "
                             "`apt-get install latexmk texlive-latex-recommended texlive-latex-extra "
                             "texlive-fonts-recommended poppler-utils` (see the README)")
    environment = {**os.environ, "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"}  # the same PDF from the same results
    command = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error", "main.tex"]
    done = subprocess.run(command, cwd=paper_dir, env=environment, capture_output=True, text=True)
    log_path = paper_dir / "main.log"
    log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    if done.returncode != 0:
        errors = [line for line in log.splitlines() if line.startswith(("!", "./main.tex:"))][:5]
        raise PaperError(f"latexmk failed (exit {done.returncode}); see {log_path}:\n" + "\n".join(errors or [done.stdout[-2000:]]))
    problems = log_problems(log)
    if problems:
        raise PaperError(f"{paper_dir / 'main.pdf'} has problems (see {log_path}): " + "; ".join(problems))
    pdf = paper_dir / "main.pdf"
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    missing = values_missing_from(text, studies)
    if missing:
        raise PaperError(f"{pdf} does not say what the results say; these claims' values are not in its text:\n  "
                         + "\n  ".join(missing))
    return pdf
