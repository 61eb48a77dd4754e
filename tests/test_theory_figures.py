"""The theory chapter's figures draw what their captions say."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers.plotting.style import COLORS  # noqa: E402
from helpers.plotting.theory import (  # noqa: E402
    plot_paper_results,
    plot_thinned_networks,
    thinned_masks,
)
from helpers.studies.theory import PAPER_RESULTS  # noqa: E402


def test_masks_keep_inputs_and_outputs_and_about_p_of_hidden_units():
    nets = thinned_masks(np.random.default_rng(0), sizes=(3, 200, 200, 2), keep=0.25,
                         n_networks=20)
    assert all(m[0].all() and m[-1].all() for m in nets)
    hidden = np.concatenate([h for m in nets for h in m[1:-1]])
    assert abs(hidden.mean() - 0.25) < 0.02
    with pytest.raises(ValueError):
        thinned_masks(np.random.default_rng(0), keep=0.0)


def test_thinned_networks_draw_only_connections_between_kept_units():
    sizes = (4, 6, 6, 1)
    fig, masks = plot_thinned_networks(seed=3, sizes=sizes)
    assert len(fig.axes) == len(masks) == 3
    for ax, m in zip(fig.axes, masks, strict=True):
        dark = [ln for ln in ax.lines if ln.get_gid() == "on"]
        expected = sum(int(m[i].sum()) * int(m[i + 1].sum()) for i in range(len(sizes) - 1))
        assert len(dark) == expected
        assert len(ax.lines) == sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        kept = sum(len(c.get_offsets()) for c in ax.collections if c.get_gid() == "kept")
        dropped = [c for c in ax.collections if c.get_gid() == "dropped"]
        assert kept == sum(int(x.sum()) for x in m)
        n_hidden_kept = sum(int(x.sum()) for x in m[1:-1])
        assert ax.get_title() == f"{n_hidden_kept} of 12 hidden units kept"
        for c in dropped:
            if len(c.get_offsets()):
                assert matplotlib.colors.to_hex(c.get_edgecolor()[0]) == COLORS["dropout"]
    plt.close(fig)


def test_paper_results_bars_are_the_reported_errors_on_shared_axes():
    fig = plot_paper_results(PAPER_RESULTS)
    assert len(fig.axes) == len(PAPER_RESULTS)
    for ax, (title, entries) in zip(fig.axes, PAPER_RESULTS.items(), strict=True):
        widths = sorted(round(p.get_width(), 4) for p in ax.patches)
        assert widths == sorted(e for _, e, _ in entries)
        assert ax.get_title(loc="left") == title
        colors = [matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches]
        assert set(colors) <= set(COLORS.values())
    mnist = [ax for ax, t in zip(fig.axes, PAPER_RESULTS, strict=True) if t.startswith("MNIST")]
    assert len({ax.get_xlim() for ax in mnist}) == 1  # same data set, same axis
    plt.close(fig)
