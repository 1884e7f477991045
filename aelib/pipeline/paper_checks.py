"""The paper's checks: before compiling, every macro main.tex uses is defined and every figure it includes exists; after, the log has no undefined reference and the PDF's text holds each claim's value."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path


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
