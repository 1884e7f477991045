"""The paper's checks: before compiling, every macro main.tex uses is defined, every figure it includes exists, and its text holds no number or verdict typed by hand; after, the log has no undefined reference and the PDF's text holds each claim's value."""

from __future__ import annotations

import re
import unicodedata
import zlib
from pathlib import Path


def used_but_undefined(tex: str, defined: set[str], prefixes) -> list[str]:
    """Macros of a study's prefix that `tex` uses and no result defines (comments ignored)."""
    text = re.sub(r"(?<!\\)%.*", "", tex)
    pattern = re.compile(r"\\((?:" + "|".join(sorted(set(prefixes), key=len, reverse=True)) + r")[A-Z][A-Za-z]*)")
    return sorted({name for name in pattern.findall(text) if name not in defined})


# commands whose braced arguments are names, not text: a digit there is not a fact of the paper
NAME_COMMANDS = ("input", "include", "label", "ref", "eqref", "pageref", "autoref", "cite", "citep", "citet",
                 "citeauthor", "citeyear", "includegraphics", "bibliography", "bibliographystyle", "begin", "end",
                 "url", "texttt", "hspace", "vspace", "resizebox", "setlength")
# a digit that is part of a name (CIFAR-10, SdA-3, CS294A) follows a letter, or a letter and a hyphen
NUMBER_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])(?<![A-Za-z]-)\d[\d.,]*")
VERDICT_WORDS = re.compile(r"\b(?:holds|does not hold|do not hold|not evaluated)\b", re.IGNORECASE)


def hand_typed_facts(tex: str) -> list[str]:
    """Digits and verdict words ('holds', 'does not hold', 'not evaluated') in the text of `tex`'s
    document body (none without one) that no macro gave: numbers and verdicts typed into the prose
    go stale silently when a record changes. Not counted: comments, the arguments of commands that take names or lengths
    (`NAME_COMMANDS`), a command's [options], the name of main.tex's \\studyfigure{name}{caption},
    and digits that are part of a name (`NUMBER_IN_TEXT`). Returns 'line N: excerpt' for each."""
    start, end = tex.find("\\begin{document}"), tex.find("\\end{document}")
    if start < 0:
        return []  # no document body: a fragment, nothing is printed from it
    body = tex[:start].count("\n") * "\n" + tex[start:end if end >= 0 else None]

    def blank(match: re.Match) -> str:  # keep the line numbers
        return "\n" * match.group(0).count("\n")

    body = re.sub(r"(?<!\\)%.*", "", body)
    body = re.sub(r"(\\studyfigure\{)[^{}]*\}", r"\1}", body)
    body = re.sub(r"\\(?:" + "|".join(NAME_COMMANDS) + r")\*?(?:\[[^\]]*\])*(?:\{[^{}]*\})+", blank, body)
    body = re.sub(r"(\\[A-Za-z]+\*?)\[[^\]]*\]", r"\1", body)
    found = []
    for number, line in enumerate(body.split("\n"), 1):
        for match in [*NUMBER_IN_TEXT.finditer(line), *VERDICT_WORDS.finditer(line)]:
            found.append(f"line {number}: {match.group(0)!r} in {line.strip()[:80]!r}")
    return found


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


TEXT_WIDTH_POINTS = 455.24  # main.tex's text width: A4 (210 mm) less two margins of 2.5 cm, in TeX points
SMALLEST_PRINTED_FONT = 7.0  # points: the smallest text a printed figure may hold


def figure_font_sizes(pdf: Path) -> tuple[float, list[float]]:
    """A matplotlib PDF figure's width in points (its MediaBox) and the sizes of the fonts its text is
    set in (the `Tf` operators of its content streams)."""
    data = Path(pdf).read_bytes()
    box = re.search(rb"/MediaBox\s*\[\s*([-\d.]+)\s+[-\d.]+\s+([-\d.]+)", data)
    width = float(box.group(2)) - float(box.group(1)) if box else 0.0
    sizes = []
    for start in re.finditer(rb"stream\r?\n", data):
        chunk = data[start.end():data.find(b"endstream", start.end())]
        try:
            chunk = zlib.decompress(chunk)
        except zlib.error:
            pass
        sizes += [float(size) for size in re.findall(rb"/\w+\s+([\d.]+)\s+Tf", chunk)]
    return width, sizes


def small_printed_fonts(tex: str, paper_dir: Path) -> list[str]:
    """The figures `tex` includes by \\studyfigure whose smallest text prints below
    `SMALLEST_PRINTED_FONT`: main.tex prints a figure at its own size, shrunk to the text width where
    it is wider, so a figure's text prints at its size times min(1, text width / figure width).
    Every text counts, superscripts too (a log axis labelled 10^k sets k at 70% of its size:
    `aelib.plotting.plain_log_ticks` writes plain numbers instead)."""
    found = []
    for name in re.findall(r"\\studyfigure\{([^}#]+)\}", re.sub(r"(?<!\\)%.*", "", tex)):
        pdf = paper_dir / "generated" / "figures" / f"{name}.pdf"
        if not pdf.exists():
            continue
        width, sizes = figure_font_sizes(pdf)
        if width > 0 and sizes:
            printed = min(sizes) * min(1.0, TEXT_WIDTH_POINTS / width)
            if printed < SMALLEST_PRINTED_FONT:
                found.append(f"{name} ({width / 72:.1f} in wide): its smallest text prints at {printed:.1f} pt")
    return found


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
