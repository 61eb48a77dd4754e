"""Small arithmetic of the theory chapter that the prose states but does not teach.

The teaching code itself (``numpy_dropout``, the ``ClassicDropout`` layer) is
written out in ``notebooks/02_theory.ipynb``; ``tests/test_theory.py`` tests it
there.
"""

from __future__ import annotations

import numpy as np


def binomial_bound(rate: float, n: int, z: float = 3.29) -> float:
    """Half-width of a two-sided ~99.9 % normal-approximation interval for the
    fraction of ``n`` units dropped at ``rate``: ``z * sqrt(rate (1 - rate) / n)``.

    A correct dropout layer's dropped fraction falls outside ``rate ± bound``
    about once in a thousand draws.
    """
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be in [0, 1], got {rate!r}")
    if n < 1:
        raise ValueError(f"n must be a positive number of units, got {n!r}")
    return float(z * np.sqrt(rate * (1.0 - rate) / n))


def paper_p_to_keras_rate(p: float) -> float:
    """The paper's retain probability p -> Keras' drop ``rate`` (``1 - p``)."""
    if not 0.0 < p <= 1.0:
        raise ValueError(f"retain probability p must be in (0, 1], got {p!r}")
    return round(1.0 - p, 10)
