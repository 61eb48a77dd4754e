"""Small helpers for the book's pages."""

from __future__ import annotations


class _Text:
    """Shows as its text, without the quotes a ``str`` repr adds."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def glue(name: str, value, display: bool = False):
    """``myst_nb.glue`` that renders strings bare (``0.757``, not ``'0.757'``) in the prose."""
    from myst_nb import glue as _glue

    if isinstance(value, str):
        value = _Text(value)
    return _glue(name, value, display=display)
