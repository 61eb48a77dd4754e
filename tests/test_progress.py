"""helpers.progress: a bar for readers, nothing in the book's outputs."""

import io
import sys

from helpers import progress


def test_quiet_returns_the_iterable_itself(monkeypatch):
    monkeypatch.setenv(progress.QUIET_ENV, "1")
    items = [1, 2, 3]
    assert progress.progress(items, "seeds") is items


def test_interactive_shows_a_bar(monkeypatch):
    monkeypatch.delenv(progress.QUIET_ENV, raising=False)
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert list(progress.progress(range(3), "seeds")) == [0, 1, 2]
    assert "seeds" in err.getvalue()
