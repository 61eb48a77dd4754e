"""``glue`` for the book's prose, usable where myst-nb is not installed.

Jupyter Book renders ``{glue:}`name``` from values a cell glued with myst-nb.
In Colab, Binder or a bare JupyterLab, myst-nb may be absent: then ``glue``
does nothing except return the value, so the notebook still runs.
"""

from __future__ import annotations

import numbers
import re

#: Every value glued in this kernel, in order: what :func:`glue_report` prints.
GLUED: dict[str, object] = {}
#: Glued names whose values are timings of this machine, not the book's
#: results: reported by name only, never compared.
VOLATILE = re.compile(r"seconds|_ms$|minutes|speedup")


class _Text:
    """Shows as its text, without the quotes a ``str`` repr adds."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def glue(name: str, value, display: bool = False):
    """``myst_nb.glue`` that renders strings bare (``0.757``, not ``'0.757'``).

    Returns ``value``; without myst-nb it only returns ``value``. Either way the
    value is recorded for :func:`glue_report`.
    """
    GLUED[name] = value
    try:
        from myst_nb import glue as _glue
    except ImportError:
        return value
    _glue(name, _Text(value) if isinstance(value, str) else value, display=display)
    return value


def _shown(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | numbers.Number):
        return str(value)
    if hasattr(value, "tolist") and getattr(value, "ndim", 1) == 0:  # a NumPy scalar
        return str(value.tolist())
    return f"<{type(value).__name__}>"


def glue_report() -> str:
    """Every glued value as the prose shows it, one ``name: value`` per line.

    A chapter ends with a hidden cell that prints this, and the notebook tests
    compare that output with the committed one, so a changed result anywhere in
    the prose fails them. Values matching :data:`VOLATILE` (timings)
    are listed by name only.
    """
    lines = [f"{len(GLUED)} glued values"]
    for name, value in GLUED.items():
        shown = "(measured on this machine, not compared)" if VOLATILE.search(name) else _shown(value)
        lines.append(f"{name}: {shown}")
    return "\n".join(lines)


def table(df, digits: int = 3, percent=(), caption: str | None = None):
    """A results table for the page: HTML without the 0..n index, floats rounded to
    ``digits`` (no "-0.000"), integers as integers, columns in ``percent`` as %.

    Returns a pandas ``Styler``; make it the cell's last expression to show it.
    """

    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"table() takes a pandas DataFrame, got {type(df).__name__}")

    def fmt_float(x):
        if isinstance(x, numbers.Integral):
            return f"{x:d}"
        if not isinstance(x, numbers.Real):
            return str(x)
        if x != x:  # NaN
            return "–"
        text = f"{x:.{digits}f}"
        return text[1:] if text.startswith("-") and float(text) == 0 else text

    def fmt_pct(x):
        return "–" if x != x else f"{100 * x:.1f} %"

    formats = {c: (fmt_pct if c in percent else fmt_float) for c in df.columns
               if pd.api.types.is_numeric_dtype(df[c])}
    styler = df.style.hide(axis="index").format(formats)
    if caption:
        styler = styler.set_caption(caption)
    return styler
