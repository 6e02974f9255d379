r"""The reports' mathematics as notation: ASCII pseudo-TeX to Unicode text or to HTML.

Checks, claims and readings are written in ASCII (``sigma_{t-1}``, ``chi2_{n-1}``,
``psi((n-1)/2)``, ``E[sigma_T^2]``, ``->``) so that the JSON stays plain; the human
renderings convert it when they draw it, with one small set of rules:

* Greek names ``sigma``, ``mu``, ``psi``, ``Phi``, ``chi2`` (χ²) and ``sigma0``/``mu0``
  (σ₀, μ₀) become their symbols, as whole words only (``gamma-function`` stays prose);
  ``sqrt(`` becomes ``√(`` and ``sum_`` becomes ``∑`` with its subscript.
* ``X_{...}``, ``X_(...)`` and ``X_abc`` after a one-letter or Greek base are subscripts
  (snake_case words such as ``log_var`` are left alone); ``^{...}``, ``^(...)`` and
  ``^2`` are superscripts.
* ``->`` → ``→``, ``>=`` → ``≥``, ``<=`` → ``≤``, ``!=`` → ``≠``, ``+-`` → ``±``,
  ``R*T`` → ``R·T``; a minus between math operands (``n-1``, ``t-1``, ``n-ddof``, a
  spaced `` - ``, a leading ``-0.5``) → ``−`` while hyphens of prose
  (``one-sample``, ``t-test``) stay.

:func:`to_text` gives Unicode text (sub- and superscripts as Unicode characters where
every character has one, else ``_``/``^`` kept), for Markdown and plot labels;
:func:`to_html` gives escaped HTML with ``<sub>``/``<sup>``, for the HTML reports. Both
are pure functions of their input.
"""

from __future__ import annotations

import html
import re

__all__ = ["quantity_label", "reading_steps", "to_html", "to_text"]

_GREEK = {"sigma": "σ", "mu": "μ", "psi": "ψ", "Phi": "Φ", "chi2": "χ²"}
_ZERO = {"sigma0": ("σ", "0"), "mu0": ("μ", "0")}
_OPS = (("->", "→"), (">=", "≥"), ("<=", "≤"), ("!=", "≠"), ("+-", "±"))

_SUB = dict(zip("0123456789+-−=()aehijklmnoprstuvx",
                "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True))
_SUP = dict(zip("0123456789+-−=()n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ⁿ", strict=True))

# A token: a word (letters, digits) or one other character.
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*|[0-9]+(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?")


def _group(s: str, i: int) -> tuple[str, int] | None:
    """The script group starting at ``s[i]`` (just after ``_`` or ``^``): ``{...}`` or
    ``(...)`` balanced (content without the outer braces; parentheses kept out too), or a
    run of letters/digits. Returns (content, index after it), or None."""
    if i >= len(s):
        return None
    if s[i] in "{(":
        close = "}" if s[i] == "{" else ")"
        depth = 0
        for j in range(i, len(s)):
            if s[j] == s[i]:
                depth += 1
            elif s[j] == close:
                depth -= 1
                if depth == 0:
                    return s[i + 1:j], j + 1
        return None
    m = re.compile(r"[A-Za-z0-9]+").match(s, i)
    return (m.group(), m.end()) if m else None


def _minus(s: str) -> str:
    """``-`` to ``−`` where it is a minus between math operands (see module doc)."""
    s = re.sub(r"(?<=\s)-(?=\s)", "−", s)
    s = re.sub(r"(?:(?<=^)|(?<=[\s(\[=,/]))-(?=[0-9.])", "−", s)
    operand = r"(?:[0-9]+(?:\.[0-9]+)?|[A-Za-z](?![A-Za-z])|ddof\b)"
    return re.sub(rf"(?<=[0-9A-Za-z)\]])(?<![A-Za-z]{{2}})(?<![0-9.]e)-(?={operand})", "−",
                  s)


def _parse(s: str) -> list[tuple[str, str]]:
    """Split ``s`` into ``("text", str)``, ``("sub", str)`` and ``("sup", str)`` parts
    (script contents already converted to text)."""
    for a, b in _OPS:
        s = s.replace(a, b)
    s = re.sub(r"(?<=[A-Za-z0-9)\]])( ?)\*( ?)(?=[A-Za-z0-9(∑√])", r"\1·\2", s)
    s = re.sub(r"\bsqrt(?=\()", "√", s)
    s = re.sub(r"\bsum_", "∑_", s)
    out: list[tuple[str, str]] = []
    i, base_ok = 0, False
    while i < len(s):
        c = s[i]
        if c == "_" and base_ok:
            g = _group(s, i + 1)
            if g is not None:
                out.append(("sub", _text_of(g[0])))
                i, base_ok = g[1], True
                continue
        if c == "^" and out:
            g = _group(s, i + 1)
            if g is not None:
                out.append(("sup", _text_of(g[0])))
                i, base_ok = g[1], False
                continue
        m = _WORD.match(s, i)
        if m and (i == 0 or not (s[i - 1].isalnum() or s[i - 1] == "_")):
            w = m.group()
            nxt = s[m.end()] if m.end() < len(s) else ""
            # part of a dotted id or a snake_case name (regimes.mu_var, mu_var): as is
            if (i > 0 and s[i - 1] == ".") or (
                    nxt == "_" and re.match(r"_[A-Za-z]{3,}", s[m.end():])
                    and (w in _GREEK or w in _ZERO)):
                out.append(("text", w))
                i, base_ok = m.end(), False
                continue
            if w in _ZERO:
                out += [("text", _ZERO[w][0]), ("sub", "0")]
                i, base_ok = m.end(), False
                continue
            if w in _GREEK:
                out.append(("text", _GREEK[w]))
                i, base_ok = m.end(), True
                continue
            out.append(("text", w))
            i, base_ok = m.end(), len(w) == 1 and w.isalpha()
            continue
        out.append(("text", c))
        i, base_ok = i + 1, c in "σμψΦ∑"
    return out


def _text_of(s: str) -> str:
    """A script's content as text (a script inside a script is flattened)."""
    return "".join(v for _, v in _parse(s)) if s else s


def _script(v: str, table: dict[str, str], mark: str) -> str:
    """A sub- or superscript as Unicode characters where each has one and it is not a
    word (σₜ₋₁, σ²), else with its mark (``_T``, ``^(j−1)``, ``_sim``)."""
    if v and all(ch in table for ch in v) and not re.search(r"[a-z]{2}", v):
        return "".join(table[ch] for ch in v)
    return f"{mark}{v}" if len(v) == 1 or v.isalnum() else f"{mark}({v})"


def to_text(s: object) -> str:
    """``s`` with its pseudo-TeX as Unicode text (no markup): ``sigma_{t-1}`` → ``σₜ₋₁``,
    ``E[sigma_T^2]`` → ``E[σ_T²]`` (T has no subscript character), ``psi((n-1)/2)`` →
    ``ψ((n−1)/2)``."""
    parts = _parse(_minus(str(s)))
    return "".join(v if k == "text" else _script(v, _SUB if k == "sub" else _SUP,
                                                  "_" if k == "sub" else "^")
                   for k, v in parts)


def to_html(s: object) -> str:
    """``s`` as escaped HTML with real sub- and superscripts: ``sigma_{t-1}`` →
    ``σ<sub>t−1</sub>``. Every character of ``s`` is escaped; only ``<sub>`` and
    ``<sup>`` tags are added."""
    parts = _parse(_minus(str(s)))
    return "".join(html.escape(v, quote=True) if k == "text"
                   else f"<{k}>{html.escape(v, quote=True)}</{k}>" for k, v in parts)


# -- quantity names ---------------------------------------------------------------------

_WORDS = {
    "sigma": "σ", "sigma2": "σ²", "mu": "μ", "log": "log", "var": "variance",
    "sd": "SD", "se": "SE", "ci95": "95% CI", "ci": "CI", "ks": "KS", "pvalue": "p-value",
    "mean": "mean", "exact": "exact", "ddof": "ddof", "tost": "TOST", "ols": "OLS",
    "gof": "goodness of fit", "iid": "i.i.d.", "n": "n", "t": "t", "T": "T",
}


def quantity_label(name: object) -> str:
    """A snake_case quantity name as words with its symbols: ``sigma2_mean`` → ``σ² mean``,
    ``drift_se_cluster`` → ``drift SE cluster``, ``median_sigma_T2`` → ``median σ T2``.
    Names with spaces or symbols are taken as already readable and only converted by
    :func:`to_text`."""
    s = str(name)
    if not re.fullmatch(r"[A-Za-z0-9_.]+", s) or ("_" not in s and "." in s):
        return to_text(s)
    return " ".join(_WORDS.get(w, _WORDS.get(w.lower(), w)) for w in s.split("_") if w)


# -- long readings ----------------------------------------------------------------------

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(“\"])")


def reading_steps(s: object, *, long: int = 240) -> list[str]:
    """A reading cut at its sentences (and a long sentence at its semicolons) when it is
    longer than ``long`` characters; a short one is returned whole. Joining the parts
    with single spaces gives back the text (whitespace runs folded)."""
    text = " ".join(str(s).split())
    if len(text) <= long:
        return [text] if text else []
    steps: list[str] = []
    for sentence in _SENTENCE.split(text):
        if len(sentence) > long and "; " in sentence:
            pieces = sentence.split("; ")
            steps += [p + ";" for p in pieces[:-1]] + [pieces[-1]]
        else:
            steps.append(sentence)
    return [p for p in steps if p]
