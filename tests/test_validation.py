import keras
import numpy as np
import pytest

from helpers import models
from helpers._validate import check_rate


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, float("nan")])
def test_rate_out_of_range_names_the_argument(bad):
    with pytest.raises(ValueError, match="rate must be in \\[0, 1\\)"):
        check_rate(bad)


@pytest.mark.parametrize("bad", ["0.5", None, True])
def test_rate_wrong_type(bad):
    with pytest.raises(TypeError, match="rate"):
        check_rate(bad)


def test_rate_error_mentions_paper_convention():
    with pytest.raises(ValueError, match="1-p"):
        check_rate(1.0)


@pytest.mark.parametrize(
    "kwargs, name",
    [({"rate": 1.0}, "rate"), ({"input_rate": -0.2}, "input_rate"), ({"hidden": 0}, "hidden"),
     ({"max_norm": -1}, "max_norm"), ({"optimizer": "rmsprop"}, "optimizer")],
)
def test_circles_mlp_rejects_bad_arguments(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        models.circles_mlp(**kwargs)


def test_circles_mlp_layers():
    m = models.circles_mlp(rate=0.4, input_rate=0.1, max_norm=3.0, seed=0)
    names = [layer.name for layer in m.layers]
    assert names == ["xy", "input_dropout", "hidden", "dropout", "output"]
    assert m.get_layer("dropout").rate == pytest.approx(0.4)
    assert isinstance(m.get_layer("hidden").kernel_constraint, keras.constraints.MaxNorm)
    assert m.output_shape == (None, 1)


def test_same_seed_same_weights():
    a = models.circles_mlp(seed=3).get_weights()
    b = models.circles_mlp(seed=3).get_weights()
    c = models.circles_mlp(seed=4).get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])


def test_mlp_classifier_shapes_and_params():
    m = models.mlp_classifier()
    assert m.output_shape == (None, 10)
    # 784*128+128 + 128*64+64 + 64*10+10
    assert m.count_params() == 109386
    assert [layer.rate for layer in m.layers if isinstance(layer, keras.layers.Dropout)] == [0.5, 0.5]


@pytest.mark.parametrize("config", sorted(models.CIFAR_CONFIGS))
def test_cifar_convnet_configs(config):
    spec = models.CIFAR_CONFIGS[config]
    m = models.cifar_convnet(dropout=spec["dropout"], max_norm=spec["max_norm"], optimizer=spec["optimizer"])
    assert m.output_shape == (None, 10)
    has_dropout = any(isinstance(layer, keras.layers.Dropout) for layer in m.layers)
    assert has_dropout == spec["dropout"]
    conv = m.get_layer("conv1")
    if spec["max_norm"]:
        assert list(conv.kernel_constraint.axis) == [0, 1, 2]
        assert m.get_layer("dense").kernel_constraint.axis == 0
    else:
        assert conv.kernel_constraint is None
    assert type(m.optimizer).__name__.lower() == spec["optimizer"].split("_")[0]
    assert bool(getattr(m.optimizer, "nesterov", False)) == spec["optimizer"].endswith("nesterov")


def test_maxnorm_axis_bounds_each_filter():
    """MaxNorm(axis=[0,1,2]) on a Conv2D kernel (h, w, in, out) caps each output filter."""
    c = keras.constraints.MaxNorm(2.0, axis=[0, 1, 2])
    k = np.random.default_rng(0).normal(size=(3, 3, 4, 5)).astype("float32") * 3
    capped = keras.ops.convert_to_numpy(c(k))
    norms = models.unit_norms(capped, axis=[0, 1, 2])
    assert norms.shape == (5,)
    assert np.all(norms <= 2.0 + 1e-4)


def test_set_seed_validates():
    from helpers.seeding import set_seed

    with pytest.raises(ValueError, match="seed"):
        set_seed(-1)


def test_book_glue_renders_strings_without_quotes():
    from helpers.book import _Text

    assert repr(_Text("0.757")) == "0.757"


@pytest.mark.parametrize(("builder", "kwargs", "name"), [
    ("mlp_regressor", {"rate": 1.0}, "rate"),
    ("mlp_regressor", {"hidden": (0,)}, "hidden"),
    ("bn_convnet", {"position": "middle"}, "position"),
    ("bn_convnet", {"rate": -0.1}, "rate"),
    ("bn_convnet", {"bn_momentum": 1.0}, "bn_momentum"),
])
def test_new_builders_reject_bad_arguments(builder, kwargs, name):
    from helpers import models

    with pytest.raises(ValueError, match=name):
        getattr(models, builder)(**kwargs)


@pytest.mark.parametrize("position", ["none", "after_bn", "before_bn"])
def test_bn_convnet_layer_order(position):
    from helpers.models import bn_convnet

    names = [layer.name for layer in bn_convnet(position=position, seed=0).layers]
    if position == "none":
        assert "dropout" not in names
    else:
        before = names.index("dropout") < names.index("bn")
        assert before == (position == "before_bn")


def test_load_digits_split():
    from helpers.data import load_digits_split

    (xtr, ytr), (xte, yte) = load_digits_split(test_size=0.3, random_state=0)
    assert xtr.shape[1] == 64 and len(xtr) + len(xte) == 1797
    assert 0.0 <= xtr.min() and xtr.max() <= 1.0
    assert set(np.unique(yte)) == set(range(10))
    (xi, _), _ = load_digits_split(images=True)
    assert xi.shape[1:] == (8, 8, 1)
    with pytest.raises(ValueError, match="test_size"):
        load_digits_split(test_size=1.5)
