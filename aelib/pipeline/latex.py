"""LaTeX from values: escaped text, numbers in words (macro names hold no digits), formatted numbers, booktabs tables."""

from __future__ import annotations

import math
import re


class PaperError(ValueError):
    """What is wrong with the draft or its build, and what to do."""


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
                             f"aelib.pipeline.latex.LATEX_ESCAPES")
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
    """A metric as the paper prints it: integers, and floats of 1,000 or more, whole with thousands
    separated (2612.3 -> '2,612'); others to 3 significant digits."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if value is None or not math.isfinite(value):
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"


def _decimals(value: float, figures: int) -> int:
    """The decimal place that shows `value` to `figures` significant figures (negative: tens, hundreds)."""
    return figures - 1 - math.floor(math.log10(abs(value)))


def format_mean_sd(mean: float, sd: float | None) -> str:
    """A mean and its standard deviation as a reader expects them: the sd to two significant figures
    and the mean to the same decimal place, thousands separated (0.914, 0.000702 -> '0.91400 ± 0.00070';
    1234.5, 56.7 -> '1,230 ± 57'); the mean alone, as `format_number` sets it, where the sd is 0 or missing."""
    if sd is None or not math.isfinite(sd) or sd == 0 or not math.isfinite(mean):
        return format_number(mean)
    decimals = _decimals(sd, 2)
    shown = max(decimals, 0)
    return f"{round(mean, decimals):,.{shown}f} ± {round(abs(sd), decimals):,.{shown}f}"


def format_duration(seconds: float) -> str:
    """A wall time in the unit a reader expects: '95 s' under 100 seconds, '48.8 min' under 100 minutes,
    '3.1 h' beyond."""
    if seconds < 100:
        return f"{seconds:.0f} s"
    if seconds < 6000:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


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
