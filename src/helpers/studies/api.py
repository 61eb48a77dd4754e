"""Bookkeeping of the chapter "Dropout in the Keras API".

What the chapter runs but does not teach: running a line of old Keras code and
saying what happened (works, warns, fails), the log of an LSTM cell's dropout
masks as a table, the statistics of the noise layers, and the results table.
"""

from __future__ import annotations

import ast
import numbers
import warnings

import numpy as np

__all__ = ["describe_value", "idiom_table", "mask_log_facts", "mask_log_table",
           "noise_stats", "results_table", "run_code", "run_idioms"]


def _first_line(text: str, limit: int = 200) -> str:
    line = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def describe_value(value) -> str:
    """A short description of what a line of code returned."""
    if value is None:
        return "runs"
    if isinstance(value, np.generic):  # NumPy scalars show as Python numbers
        value = value.item()
    if isinstance(value, (bool, numbers.Number, str)):
        return f"returns {value!r}"
    if isinstance(value, (list, tuple)) and len(repr(value)) <= 60:
        return f"returns {value!r}"
    shape = getattr(value, "shape", None)
    if shape is not None:
        shape = tuple(int(s) for s in shape)
        if shape == ():
            return f"returns {round(float(np.asarray(value)), 6)!r}"
        return f"returns an array of shape {shape}"
    return f"returns an instance of {type(value).__name__}"


def run_code(code: str, namespace: dict) -> dict:
    """Run ``code`` (statements; the last may be an expression) in ``namespace``.

    Returns ``kind`` ("runs", "warns" or "fails"), ``phrase`` ("runs", "runs
    with a UserWarning", "raises KeyError") and ``text``: what a reader of an
    old tutorial would see -- the exception or the first warning, with its
    type and first line, else what the code returned.
    """
    tree = ast.parse(code)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exec(compile(tree, "<idiom>", "exec"), namespace)
            value = None
            if last is not None:
                value = eval(compile(ast.Expression(last.value), "<idiom>", "eval"), namespace)
        except Exception as exc:  # noqa: BLE001 -- reporting the failure is the point
            name = type(exc).__name__
            return {"kind": "fails", "phrase": f"raises {name}",
                    "text": f"raises {name}: {_first_line(exc)}"}
    if caught:
        w = caught[0]
        name = w.category.__name__
        # warning categories (UserWarning, DeprecationWarning, ...) all take "a"
        return {"kind": "warns", "phrase": f"runs with a {name}",
                "text": f"{describe_value(value)}, with a {name}: {_first_line(w.message)}"}
    return {"kind": "runs", "phrase": "runs", "text": describe_value(value)}


def run_idioms(idioms: dict, namespace: dict, version: str | None = None):
    """Run each ``name: (old code, current code)`` pair; one row per pair.

    Columns: ``key`` (the name), the old code, what it does now, the current
    code, what that does; and, for the prose, ``old_phrase`` (see
    :func:`run_code`), ``old_kind`` and ``new_kind``. Each piece of code runs
    in its own copy of ``namespace``, so one cannot affect another.
    """
    import pandas as pd

    if version is None:
        import keras

        version = keras.__version__
    rows = []
    for key, (old, new) in idioms.items():
        r_old, r_new = run_code(old, dict(namespace)), run_code(new, dict(namespace))
        rows.append({"key": key, "old code": old, f"on Keras {version}": r_old["text"],
                     "current code": new, "current code does": r_new["text"],
                     "old_phrase": r_old["phrase"], "old_kind": r_old["kind"],
                     "new_kind": r_new["kind"]})
    return pd.DataFrame(rows)


HIDDEN_COLUMNS = ("key", "old_phrase", "old_kind", "new_kind")


def idiom_table(df):
    """The four columns a reader needs: old code, what it does, current code,
    what that does."""
    return df[[c for c in df.columns if c not in HIDDEN_COLUMNS]]


def mask_log_table(events):
    """The log of a logging LSTM cell as a table: one row per event.

    ``events`` holds ``(label, mask)`` pairs; ``mask`` is an array (one row per
    sample; the first sample is shown, 1 = kept, 0 = dropped) or None.
    """
    import pandas as pd

    rows = []
    for label, mask in events:
        if mask is None:
            shown = ""
        else:
            first = np.asarray(mask).reshape(np.asarray(mask).shape[0], -1)[0]
            shown = " ".join("1" if v != 0 else "0" for v in first)
        rows.append({"event": label, "input mask of sample 1 (1 = kept)": shown})
    return pd.DataFrame(rows)


def mask_log_facts(events) -> dict:
    """What a logging cell's events show.

    ``events`` are ``(label, mask)`` pairs as for :func:`mask_log_table`; a
    label ending in " starts" opens a call, one ending in " returns" closes
    it, one starting with "reset" marks a reset of the cached mask, and every
    other event carries the mask handed out. Returns the number of calls, the
    masks handed out per call, and whether (a) all masks within each call are
    identical, (b) each call's mask differs from the previous call's, and
    (c) each call reset its mask before it returned.
    """
    calls = []
    for label, mask in events:
        if label.endswith(" starts"):
            calls.append({"masks": [], "reset": False, "reset_before_return": False})
        elif not calls:
            raise ValueError(f"event {label!r} comes before any call starts")
        elif label.startswith("reset"):
            calls[-1]["reset"] = True
        elif label.endswith(" returns"):
            calls[-1]["reset_before_return"] = calls[-1]["reset"]
        elif mask is not None:
            calls[-1]["masks"].append(np.asarray(mask))
    if not calls or not all(c["masks"] for c in calls):
        raise ValueError("every call needs at least one logged mask")
    same_within = all(all(np.array_equal(m, c["masks"][0]) for m in c["masks"])
                      for c in calls)
    new_each_call = all(not np.array_equal(calls[i]["masks"][0], calls[i - 1]["masks"][0])
                        for i in range(1, len(calls)))
    return {"calls": len(calls),
            "masks per call": [len(c["masks"]) for c in calls],
            "one mask within each call": same_within,
            "new mask in each later call": new_each_call,
            "reset before each call returns": all(c["reset_before_return"] for c in calls)}


def noise_stats(name: str, layer, data, data_name: str) -> dict:
    """Mean and standard deviation of ``data`` and of ``layer(data, training=True)``,
    and whether the layer is the identity at inference."""
    import keras

    data = np.asarray(data, dtype="float32")
    out = keras.ops.convert_to_numpy(layer(data, training=True))
    inference = keras.ops.convert_to_numpy(layer(data, training=False))
    return {"layer": name, "input": data_name,
            "mean in": float(data.mean()), "mean out": float(out.mean()),
            "sd in": float(data.std()), "sd out": float(out.std()),
            "identity at inference": "yes" if np.array_equal(inference, data) else "no"}


def results_table(results):
    """``{model: test accuracy}`` as a two-column DataFrame, in insertion order."""
    import pandas as pd

    if not results:
        raise ValueError("no results to show")
    return pd.DataFrame({"model": list(results), "test accuracy": [float(v) for v in results.values()]})
