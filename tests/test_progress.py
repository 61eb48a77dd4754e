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


def test_chunked_training_equals_one_piece(monkeypatch):
    """With a bar, the compiled loops run in pieces; the numbers must not change."""
    import numpy as np

    from helpers.batched import batched_fit
    from helpers.data import load_circles
    from helpers.fastfit import fast_fit
    from helpers.models import circles_mlp

    (xtr, ytr), (xte, yte) = load_circles()
    results = {}
    for mode in ("1", ""):
        monkeypatch.setenv(progress.QUIET_ENV, mode)
        monkeypatch.setattr(sys, "stderr", io.StringIO())
        fast = fast_fit([circles_mlp(rate=0.4, seed=s) for s in range(2)], xtr, ytr, 45,
                        validation_data=(xte, yte))
        stacked = batched_fit([circles_mlp(rate=0.4, seed=s) for s in range(2)], xtr, ytr, 45,
                              validation_data=(xte, yte))
        results[mode] = (fast, stacked, sys.stderr.getvalue())
    assert "epoch" in results[""][2] and results["1"][2] == ""
    for quiet_h, bar_h in zip(results["1"][0] + results["1"][1], results[""][0] + results[""][1],
                              strict=True):
        for key in quiet_h:
            assert len(bar_h[key]) == 45
            np.testing.assert_allclose(bar_h[key], quiet_h[key], rtol=0, atol=1e-6, err_msg=key)


def test_keras_bar_is_silent_when_quiet(monkeypatch):
    import keras
    import numpy as np

    monkeypatch.setenv(progress.QUIET_ENV, "1")
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 2)), np.ones(4), epochs=2, verbose=0, callbacks=[progress.keras_bar(2)])
    assert err.getvalue() == ""
    monkeypatch.setenv(progress.QUIET_ENV, "")
    model.fit(np.ones((4, 2)), np.ones(4), epochs=2, verbose=0, callbacks=[progress.keras_bar(2, "live")])
    assert "live" in err.getvalue()
