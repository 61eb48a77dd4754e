"""helpers.tune: argument validation, the search space, and a real distributed search
(a chief and two workers on localhost, one of them killed mid-trial and restarted)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from helpers import tune
from helpers.tune import TuneError, parse_settings

BASE = ["digits", "--space", "rate-maxnorm", "--dir", "unused"]


def _kt():
    return pytest.importorskip(
        "keras_tuner", reason="keras-tuner is not installed: pip install -e '.[tune]' to test helpers.tune")


# --------------------------------------------------------------------------- validation
def test_defaults_and_overrides():
    s = parse_settings(["cifar10", "--space", "rate-maxnorm-lr", "--dir", "d"])
    assert (s.dataset, s.config, s.optimizer, s.role) == ("cifar10", "b", "adam", "single")
    assert (s.epochs, s.batch_size, s.train_samples) == (55, 250, 50000)
    assert s.values["max_norm"][0] is None and s.fixed == {}
    assert s.max_trials == s.grid_size == 4 * 4 * 3
    s = parse_settings([*BASE, "--rates", "0,0.5", "--max-norms", "none,2", "--tuner", "bayes"])
    assert s.values == {"rate": (0.0, 0.5), "max_norm": (None, 2.0)} and s.fixed == {"learning_rate": 1e-3}
    assert s.max_trials == 4  # capped at the space's size
    s = parse_settings(["--dataset", "cifar10", "--space", "rate", "--dir", "d", "--config", "a"])
    assert s.fixed == {"max_norm": 2.0, "learning_rate": 1e-3} and s.values == {"rate": (0.0, 0.25, 0.5, 0.65)}
    s = parse_settings([*BASE, "--worker", "[::1]:8476", "--worker-id", "gpu0"])
    assert (s.role, s.host, s.port, s.tuner_id) == ("worker", "::1", 8476, "gpu0")
    assert parse_settings([*BASE, "--chief", "0.0.0.0:9000"]).tuner_id == "chief"


@pytest.mark.parametrize("argv, match", [
    (["--space", "rate", "--dir", "d"], "name the data set"),
    (["cifar10", "--dataset", "digits", "--space", "rate", "--dir", "d"], "two data sets"),
    (["digits", "--space", "dropout", "--dir", "d"], "invalid choice"),
    (["digits", "--space", "rate"], "required: --dir"),
    ([*BASE, "--rates", "0,1"], r"\[0, 1\)"),
    ([*BASE, "--rates", "0,abc"], "not a number"),
    ([*BASE, "--rates", "0.5,0.5"], "twice"),
    ([*BASE, "--rates", ""], "comma-separated"),
    ([*BASE, "--max-norms", "none,-2"], "positive"),
    ([*BASE, "--learning-rates", "1e-3"], "does not tune learning_rate"),
    ([*BASE, "--epochs", "0"], "--epochs must be a positive integer"),
    ([*BASE, "--batch-size", "0"], "--batch-size must be a positive integer"),
    ([*BASE, "--executions", "0"], "--executions"),
    ([*BASE, "--seed", "-1"], "--seed"),
    ([*BASE, "--train-samples", "5000"], "from 10 to 1257"),
    ([*BASE, "--max-trials", "10"], "more than the grid's 9"),
    ([*BASE, "--tuner", "bayes", "--max-trials", "10"], "more than the space's 9"),
    ([*BASE, "--tuner", "hyperband", "--max-trials", "3"], "does not apply to hyperband"),
    ([*BASE, "--tuner", "hyperband", "--factor", "1"], "at least 2"),
    ([*BASE, "--factor", "2"], "hyperband only"),
    ([*BASE, "--config", "b"], "cifar10 only"),
    ([*BASE, "--data", "x.npz"], "cifar10 only"),
    ([*BASE, "--chief", "host"], "HOST:PORT"),
    ([*BASE, "--chief", "host:99999"], "1 to 65535"),
    ([*BASE, "--chief", "h:1", "--worker", "h:1"], "not allowed with"),
    ([*BASE, "--worker", "h:1"], "needs --worker-id"),
    ([*BASE, "--worker", "h:1", "--worker-id", "my worker"], "worker-id must be"),
    ([*BASE, "--worker", "h:1", "--worker-id", "chief2"], "not contain 'chief'"),
    ([*BASE, "--worker", "h:1", "--worker-id", "w", "--overwrite"], "not a worker"),
    ([*BASE, "--worker-id", "w"], "--worker only"),
    (["cifar10", "--space", "rate", "--dir", "d", "--config", "z"], "--config must be one of"),
    (["cifar10", "--space", "rate", "--dir", "d", "--train-samples", "60000"], "from 10 to 50000"),
])
def test_bad_arguments(argv, match):
    with pytest.raises(TuneError, match=match):
        parse_settings(argv)


def test_precision_and_xla_options():
    s = parse_settings(BASE)
    assert (s.mixed_precision, s.jit_compile) == (False, "auto")
    s = parse_settings([*BASE, "--mixed-precision", "--jit-compile", "on"])
    assert (s.mixed_precision, s.jit_compile) == (True, True)
    assert parse_settings([*BASE, "--jit-compile"]).jit_compile is True  # the bare flag: on
    assert parse_settings([*BASE, "--jit-compile", "off"]).jit_compile is False
    identity = s.search_identity()
    assert identity["mixed_precision"] is True and identity["jit_compile"] is True
    with pytest.raises(TuneError, match="invalid choice"):
        parse_settings([*BASE, "--jit-compile", "yes"])


def test_precision_is_part_of_the_search_identity(tmp_path):
    d = str(tmp_path / "s")
    tune._prepare_state(parse_settings([*BASE[:-1], d]))
    with pytest.raises(TuneError, match="differs in: jit_compile, mixed_precision"):
        tune._prepare_state(parse_settings([*BASE[:-1], d, "--mixed-precision", "--jit-compile", "off"]))


def test_digits_mlp_precision_arguments_are_checked():
    with pytest.raises(TypeError, match="mixed_precision"):
        tune.digits_mlp(mixed_precision="yes")
    with pytest.raises(ValueError, match="jit_compile"):
        tune.digits_mlp(jit_compile=1)


def test_environment_variables_are_refused(monkeypatch):
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    with pytest.raises(TuneError, match="use --chief/--worker"):
        parse_settings(BASE)


def test_cli_reports_errors_cleanly(capsys):
    assert tune.main([*BASE, "--rates", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --rates:") and "Traceback" not in err


def test_state_of_another_search_is_refused(tmp_path):
    d = str(tmp_path / "s")
    tune._prepare_state(parse_settings([*BASE[:-1], d, "--epochs", "2"]))
    tune._prepare_state(parse_settings([*BASE[:-1], d, "--epochs", "2"]))  # the same search: fine
    with pytest.raises(TuneError, match="differs in: epochs"):
        tune._prepare_state(parse_settings([*BASE[:-1], d, "--epochs", "3"]))
    tune._prepare_state(parse_settings([*BASE[:-1], d, "--epochs", "3", "--overwrite"]))


# --------------------------------------------------------------------------- the search space
def test_hypermodel_builds_the_chapter_convnet():
    kt = _kt()
    from helpers.models import cifar_convnet, describe

    s = parse_settings(["cifar10", "--space", "rate-maxnorm-lr", "--dir", "d", "--rates", "0.3",
                        "--max-norms", "3", "--learning-rates", "3e-4"])
    model = tune.DropoutHyperModel(s).build(kt.HyperParameters())
    want = describe(cifar_convnet(rate=0.3, max_norm_value=3.0))
    got = describe(model)
    assert got["optimizer"]["learning_rate"] == pytest.approx(3e-4)
    got["optimizer"]["learning_rate"] = want["optimizer"]["learning_rate"]
    assert got == want
    s = parse_settings(["cifar10", "--space", "rate-maxnorm", "--dir", "d", "--rates", "0",
                        "--max-norms", "none"])
    layers = [entry["class"] for entry in describe(tune.DropoutHyperModel(s).build(kt.HyperParameters()))["layers"]]
    assert "Dropout" not in layers
    assert describe(tune.DropoutHyperModel(s).build(kt.HyperParameters())) == describe(
        cifar_convnet(dropout=False, max_norm=False))


def test_mixed_precision_models_keep_a_float32_output_layer():
    kt = _kt()
    import keras

    for argv in (["digits", "--space", "rate", "--rates", "0.5"],
                 ["cifar10", "--space", "rate-maxnorm-lr", "--rates", "0.3", "--max-norms", "3",
                  "--learning-rates", "3e-4"]):
        s = parse_settings([*argv, "--dir", "d", "--mixed-precision", "--jit-compile", "on"])
        model = tune.DropoutHyperModel(s).build(kt.HyperParameters())
        policies = {layer.name: layer.dtype_policy.name for layer in model.layers
                    if layer.__class__.__name__ != "InputLayer"}
        assert policies.pop("class") == "float32", "the softmax output layer computes in float32"
        assert set(policies.values()) == {"mixed_float16"}, policies
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
        assert model.jit_compile is True
        if s.dataset == "cifar10":
            assert float(model.optimizer.inner_optimizer.learning_rate) == pytest.approx(3e-4)
    s = parse_settings(["digits", "--space", "rate", "--dir", "d", "--jit-compile", "off"])
    model = tune.DropoutHyperModel(s).build(kt.HyperParameters())
    assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}
    assert model.jit_compile is False and not isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)


def test_a_mixed_precision_search_runs_and_is_recorded(tmp_path):
    _kt()
    s = parse_settings(["digits", "--space", "rate-maxnorm", "--rates", "0,0.5", "--max-norms", "none",
                        "--epochs", "2", "--train-samples", "100", "--dir", str(tmp_path / "mp"),
                        "--mixed-precision", "--jit-compile", "off"])
    table = tune.run(s, verbose=False)
    assert table["n_completed"] == table["n_trials"] == 2
    assert all(0.0 <= t["val_accuracy"] <= 1.0 for t in table["trials"])
    prov = table["provenance"]
    assert (prov["mixed_precision"], prov["dtype_policy"], prov["jit_compile"]) == (True, "mixed_float16", False)
    assert prov["jit_compile_resolved"] == {"tuner0": False}
    assert table["settings"]["mixed_precision"] is True
    assert json.loads((tmp_path / "mp" / "trials.json").read_text())["provenance"]["dtype_policy"] == "mixed_float16"


def test_an_interrupted_search_keeps_the_table_of_its_finished_trials(tmp_path, monkeypatch):
    """After every trial the table so far is on disk (marked unfinished); interrupted, the
    same command continues without re-running a finished trial and ends marked finished."""
    _kt()
    import helpers.experiments
    from helpers.studies import tuning as study

    argv = [*GRID, "--dir", str(tmp_path / "s")]
    real_write = tune.atomic_write_json
    commit = iter(["1111111", "2222222"])  # the code's commit, read once per run (a clean tree)
    monkeypatch.setattr(helpers.experiments, "_git_commit", lambda: next(commit))

    def write_then_interrupt(path, obj):
        real_write(path, obj)
        if obj.get("finished") is False:
            raise KeyboardInterrupt  # as if Ctrl-C came right after the first trial

    monkeypatch.setattr(tune, "atomic_write_json", write_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        tune.run(parse_settings(argv), verbose=False)
    monkeypatch.setattr(tune, "atomic_write_json", real_write)
    path = tmp_path / "s" / "trials.json"
    partial = json.loads(path.read_text())
    assert partial["finished"] is False and partial["n_completed"] == 1
    assert partial["trials"][0]["seconds"] > 0 and partial["provenance"]["trial_seconds"] > 0
    rec = study.load_recorded("s", root=tmp_path)
    assert (rec["status"], rec["reason"]) == ("incomplete", "1 of 4 trials completed; the search has not ended")
    first = partial["trials"][0]
    table = tune.run(parse_settings(argv), verbose=False)
    assert table["finished"] is True and table["n_completed"] == 4
    again = next(t for t in table["trials"] if t["trial_id"] == first["trial_id"])
    assert again["starts"] == 1 and again["val_accuracy"] == first["val_accuracy"], "a finished trial re-ran"
    prov = table["provenance"]
    assert (prov["git_commit"], prov["git_commits"]) == ("2222222", ["1111111", "2222222"])
    assert "commits 1111111, 2222222" in study.recorded_sentence(study.load_recorded("s", root=tmp_path), "cmd")
    assert table["provenance"]["trial_seconds"] == pytest.approx(sum(t["seconds"] for t in table["trials"]),
                                                                 abs=0.2)
    assert study.load_recorded("s", root=tmp_path)["status"] == "complete"


def test_trial_seconds_come_from_the_last_start():
    ev = [{"event": "begin", "trial_id": "0", "time": 10.0}, {"event": "begin", "trial_id": "1", "time": 11.0},
          {"event": "begin", "trial_id": "0", "time": 20.0}, {"event": "end", "trial_id": "0", "time": 25.5}]
    assert tune._trial_seconds(ev, "0") == 5.5  # restarted at 20: the first start's time was lost
    assert tune._trial_seconds(ev, "1") is None  # not ended
    again = ev + [{"event": "begin", "trial_id": "0", "time": 30.0}, {"event": "end", "trial_id": "0", "time": 32.0}]
    assert tune._trial_seconds(again, "0") == 2.0  # retried after it ended: the last attempt
    assert tune._trial_seconds(again[:-1], "0") is None  # the retry has not ended


def test_search_data_never_touches_the_test_set():
    s = parse_settings([*BASE, "--train-samples", "100"])
    (x, y), (xv, yv) = tune.load_search_data(s)
    assert (len(x), len(xv)) == (80, 20) and x.shape[1:] == (64,)
    from helpers.data import load_digits_split

    (x_all, _), _ = load_digits_split()  # the train part: validation is its 81st-100th images
    assert (x == x_all[:80]).all() and (xv == x_all[80:100]).all()


# --------------------------------------------------------------------------- distributed, for real
GRID = ["digits", "--space", "rate-maxnorm", "--rates", "0,0.5", "--max-norms", "none,1",
        "--epochs", "2", "--train-samples", "400"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env():
    env = dict(os.environ, DROPOUT_BOOK_QUIET="1", CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2",
               TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1", PYTHONUNBUFFERED="1")
    for k in ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"):
        env.pop(k, None)
    return env


def _events(state):
    out = []
    for p in sorted(state.glob("events-*.jsonl")):
        for line in p.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return out


# Four TensorFlow processes and a restart: about 16 s on an idle 2-core machine, 1-2 min on a
# loaded one (not marked `notebook`: under a minute when the machine is free).
def test_distributed_search_survives_a_killed_worker(tmp_path):
    _kt()
    procs, logs = {}, {}

    def start(name, *args):
        logs[name] = open(tmp_path / f"{name}.log", "ab")
        procs[name] = subprocess.Popen([sys.executable, "-m", "helpers.tune", *args], env=_env(),
                                       stdout=logs[name], stderr=subprocess.STDOUT, cwd=tmp_path)
        return procs[name]

    def tails():
        return "\n".join(f"--- {n}.log\n" + (tmp_path / f"{n}.log").read_text()[-2000:] for n in logs)

    dist, single = tmp_path / "dist", tmp_path / "single"
    addr = f"127.0.0.1:{_free_port()}"
    try:
        start("w1", *GRID, "--dir", str(dist), "--worker", addr, "--worker-id", "w1")  # waits for the chief
        start("chief", *GRID, "--dir", str(dist), "--chief", addr)
        start("w2", *GRID, "--dir", str(dist), "--worker", addr, "--worker-id", "w2")
        start("single", *GRID, "--dir", str(single))
        deadline = time.monotonic() + 150
        while not any(e["event"] == "begin" and e["tuner_id"] == "w1" for e in _events(dist / "state")):
            assert procs["w1"].poll() is None, "w1 ended before it got a trial\n" + tails()
            assert time.monotonic() < deadline, "w1 never started a trial\n" + tails()
            time.sleep(0.05)
        procs["w1"].send_signal(signal.SIGKILL)  # mid-trial: its model is still being built or trained
        procs["w1"].wait(30)
        killed = [e["trial_id"] for e in _events(dist / "state") if e["event"] == "begin" and e["tuner_id"] == "w1"]
        assert len(killed) == 1
        start("w1b", *GRID, "--dir", str(dist), "--worker", addr, "--worker-id", "w1")
        for name in ("chief", "w1b", "w2", "single"):
            assert procs[name].wait(max(1, deadline + 60 - time.monotonic())) == 0, f"{name} failed\n" + tails()
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait(10)
        for f in logs.values():
            f.close()

    table = json.loads((dist / "trials.json").read_text())  # complete JSON, or this raises
    assert table["finished"] is True and all(t["seconds"] > 0 for t in table["trials"])
    assert "was not written" not in (tmp_path / "chief.log").read_text(), "a table of the trials so far failed"
    ref = json.loads((single / "trials.json").read_text())
    assert not list(dist.glob(".trials.json.*")), "a temporary file was left behind"
    grid = {(r, m) for r in (0.0, 0.5) for m in (None, 1.0)}
    rows = table["trials"]
    assert {(t["rate"], t["max_norm"]) for t in rows} == grid and len(rows) == 4
    assert all(t["status"] == "COMPLETED" for t in rows) and table["n_completed"] == 4
    ends = [e["trial_id"] for e in _events(dist / "state") if e["event"] == "end"]
    assert sorted(ends) == sorted(t["trial_id"] for t in rows), "every trial ends exactly once"
    resumed = next(t for t in rows if t["trial_id"] == killed[0])
    assert resumed["starts"] == 2 and resumed["ran_on"] == "w1", "the restarted worker re-ran its trial"
    assert {t["ran_on"] for t in rows} == {"w1", "w2"}
    key = ("rate", "max_norm", "learning_rate")
    assert {k: table["best"][k] for k in key} == {k: ref["best"][k] for k in key}
    by_hp = {tuple(t[k] for k in key): t["val_accuracy"] for t in ref["trials"]}
    for t in rows:  # seeded per execution: a trial scores the same on any worker, resumed or not
        assert t["val_accuracy"] == pytest.approx(by_hp[tuple(t[k] for k in key)], abs=1e-6)
    prov = table["provenance"]
    assert prov["command"].startswith("python -m helpers.tune digits") and "--chief" in prov["command"]
    assert set(prov["workers"]) == {"w1", "w2"} and prov["versions"]["keras_tuner"]
    assert prov["dataset"]["sha256_arrays"] == ref["provenance"]["dataset"]["sha256_arrays"]


def test_gpu_script_checks_its_arguments(root, tmp_path):
    script = root / "scripts" / "tune_on_gpus.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUDA")}

    def run(*args, **extra):
        return subprocess.run(["bash", str(script), *args], env={**env, **extra}, capture_output=True,
                              text=True, timeout=30)

    r = run("digits", "--space", "rate", "--dir", str(tmp_path), CUDA_VISIBLE_DEVICES="")
    assert r.returncode == 2 and "no GPU visible" in r.stderr and "helpers.tune digits" in r.stderr
    r = run("digits", "--space", "rate", "--dir", str(tmp_path), "--worker", "h:1", CUDA_VISIBLE_DEVICES="0")
    assert r.returncode == 2 and "--worker is set by this script" in r.stderr
    r = run("digits", "--space", "rate", CUDA_VISIBLE_DEVICES="0")
    assert r.returncode == 2 and "--dir DIR is required" in r.stderr
