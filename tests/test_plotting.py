"""plot_history: repeated seeds become a mean with a band; legends never cover the curves when asked."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers.plotting import curve_band, plot_history  # noqa: E402

H1 = {"accuracy": [0.5, 0.6], "val_accuracy": [0.4, 0.5], "loss": [1.0, 0.8], "val_loss": [1.1, 1.0]}
H2 = {"accuracy": [0.7, 0.8], "val_accuracy": [0.6, 0.7], "loss": [0.8, 0.6], "val_loss": [0.9, 0.8]}


def test_band_is_mean_and_sd_of_seeds():
    mean, std, n = curve_band([H1, H2], "accuracy")
    assert n == 2
    np.testing.assert_allclose(mean, [0.6, 0.7])
    np.testing.assert_allclose(std, [0.1, 0.1])


def test_legend_below_is_shared_and_outside_the_panels():
    fig = plot_history([[H1, H2], H1], labels=["two seeds", "one seed"], legend="below")
    assert all(ax.get_legend() is None for ax in fig.axes)
    assert len(fig.legends) == 1
    names = [t.get_text() for t in fig.legends[0].get_texts()]
    assert names == ["two seeds, train (mean of 2)", "two seeds, test (mean of 2)",
                     "one seed, train", "one seed, test"]
    plt.close(fig)


def test_legend_in_each_panel_by_default():
    fig = plot_history(H1)
    assert all(ax.get_legend() is not None for ax in fig.axes) and not fig.legends
    plt.close(fig)


@pytest.mark.parametrize("kw", [{"legend": "inside"}, {"labels": ["x", "y"]}])
def test_bad_arguments(kw):
    with pytest.raises(ValueError):
        plot_history(H1, **kw)


def _png_width(fig):
    import io

    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")  # as the notebook's inline backend does
    return Image.open(io.BytesIO(buf.getvalue())).size[0]


@pytest.mark.parametrize("make", ["history", "boundary", "scatter", "subplots"])
def test_book_figures_fit_the_column_with_legible_text(make):
    from helpers import plotting
    from helpers.plotting import style

    x = np.array([[0.0, 0.0], [1.0, 1.0], [0.5, -0.5]], "float32")
    y = np.array([0, 1, 0])
    if make == "history":
        fig = plot_history([H1, [H1, H2]], labels=["one", "two"])
    elif make == "boundary":
        cs = plotting.plot_decision_boundary(lambda a: np.full(len(a), 0.3), x, y, colorbar=True,
                                             lim=(-2, 2))
        fig = cs.axes.figure
        assert fig.axes[0].get_xlim() == (-2.0, 2.0)
    elif make == "scatter":
        fig = plotting.scatter_classes(x, y).figure
    else:
        fig, _ = plotting.subplots(2, 2)
    w, _ = fig.get_size_inches()
    assert w == pytest.approx(style.WIDTH) and fig.dpi == style.DPI
    width = _png_width(fig)
    assert width <= 720, "wider than the content column: the browser would shrink its text"
    if make in ("history", "subplots"):  # square-aspect maps are narrower, never scaled up
        assert width >= 560, "a full-width figure should use the column"
    for text in fig.findobj(matplotlib.text.Text):
        if text.get_text():
            assert text.get_fontsize() >= style.MIN_FONT_PT, (text.get_text(), text.get_fontsize())
    plt.close(fig)


def test_subplots_refuses_figsize():
    from helpers.plotting import subplots

    with pytest.raises(TypeError, match="height"):
        subplots(figsize=(10, 3))
