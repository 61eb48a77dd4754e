"""The models a chapter shows are the models its repeated experiments use.

Each chapter builds its first model of each kind with visible Keras code (a
function in a cell); the helpers' builders repeat it for many seeds. These tests
build both and compare :func:`helpers.models.describe` (layer types, sizes,
rates, constraints, initialisers, parameter count, optimizer, loss), so the page
and the experiments cannot drift apart. The last test shows that a one-number
change in a chapter's model is caught.
"""

import pytest

from helpers import models
from helpers.models import CIFAR_CONFIGS, describe

from .chapter_code import chapter_namespace

CIFAR_KWARGS = {k: {key: v[key] for key in ("dropout", "max_norm", "optimizer")}
                for k, v in CIFAR_CONFIGS.items()}

# (notebook, the chapter's builder, the helper's builder, keyword arguments for both)
CHAPTER_MODELS = [
    ("03_keras_api", "make_classifier", "mlp_classifier", {}),
    ("03_keras_api", "make_classifier", "mlp_classifier", {"rate": 0.2}),
    ("04_circles", "make_mlp", "circles_mlp", {}),
    ("04_circles", "make_mlp", "circles_mlp", {"rate": 0.4}),
    ("04_circles", "make_mlp", "circles_mlp", {"input_rate": 0.2}),
    ("04_circles", "make_mlp", "circles_mlp", {"rate": 0.4, "max_norm": 0.5}),
    *[("05_cifar10", "make_convnet", "cifar_convnet", kw) for kw in CIFAR_KWARGS.values()],
    *[("10_regularisers", "make_cifar_model", "cifar_regularised", kw) for kw in (
        {}, {"rate": 0.35}, {"l2": 1e-3}, {"noise": 0.1}, {"max_norm": 2.0}, {"shift": 0.1},
        {"rate": 0.2, "l2": 1e-4}, {"rate": 0.5, "max_norm": 4.0}, {"rate": 0.35, "shift": 0.05})],
    ("06_ensembles_uncertainty", "make_bn_convnet", "bn_convnet", {"filters": 8, "bn_momentum": 0.9}),
    *[("07_inside_the_network", "make_bn_convnet", "bn_convnet",
       {"position": p, "filters": 8, "bn_momentum": 0.9}) for p in ("none", "after_bn", "before_bn")],
]


def _ids(entry):
    nb, fn, _, kw = entry
    return f"{nb}:{fn}({','.join(f'{k}={v}' for k, v in kw.items())})"


@pytest.mark.parametrize("entry", CHAPTER_MODELS, ids=[_ids(e) for e in CHAPTER_MODELS])
def test_chapter_model_equals_helper(entry):
    notebook, chapter_fn, helper_fn, kwargs = entry
    ns = chapter_namespace(notebook, [chapter_fn])
    page = describe(ns[chapter_fn](**kwargs))
    helper = describe(getattr(models, helper_fn)(**kwargs))
    assert page == helper


@pytest.mark.parametrize("notebook,fn,kwargs,replace", [
    ("04_circles", "make_mlp", {"rate": 0.4}, ("500", "499")),
    ("05_cifar10", "make_convnet", CIFAR_KWARGS["b"], ("256", "255")),
    ("10_regularisers", "make_cifar_model", {"l2": 1e-3}, ("kernel_regularizer=reg)(h)", ")(h)")),
    ("10_regularisers", "make_cifar_model", {"shift": 0.1}, ('"horizontal"', '"vertical"')),
])
def test_a_changed_chapter_model_is_caught(notebook, fn, kwargs, replace):
    ns = chapter_namespace(notebook, [fn], replace=replace)
    helper = {"04_circles": models.circles_mlp, "05_cifar10": models.cifar_convnet,
              "10_regularisers": models.cifar_regularised}[notebook]
    assert describe(ns[fn](**kwargs)) != describe(helper(**kwargs))


def test_describe_sees_rate_constraint_and_optimizer():
    base = describe(models.circles_mlp(rate=0.4))
    assert base != describe(models.circles_mlp(rate=0.3))
    assert base != describe(models.circles_mlp(rate=0.4, max_norm=3.0))
    assert base != describe(models.circles_mlp(rate=0.4, optimizer="sgd"))
    assert base == describe(models.circles_mlp(rate=0.4, seed=3))  # seeds and names do not count
    b, e = describe(models.cifar_convnet()), describe(models.cifar_convnet(optimizer="sgd_nesterov"))
    assert e["optimizer"]["nesterov"] is True and b["optimizer"]["class"] == "Adam"
