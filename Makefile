# Dropout in Keras: build, test and run the book.
#   make book   - create/refresh .venv, build _build/html from the committed notebook outputs (warnings fail)
#   make test   - create/refresh .venv, unit tests + every notebook (papermill quick mode) + nbval
#   make check-html - build the HTML from the committed outputs, link check, headless-Chromium checks
#   make mutation - mutation-test the fast-testable helpers (mutmut); fails below an 85 % score
#   make mutation-sample - estimate the other helpers' mutation score from a sample
# Both create the virtual environment inside the repository on first use.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(BIN):$(PATH)
export PYTHONUNBUFFERED := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# Progress bars are for people at a notebook; outputs made or checked here stay clean.
export DROPOUT_BOOK_QUIET := 1

.PHONY: help venv book test test-fast lint notebooks lab benchmark mutation mutation-sample lock check-html clean

help:
	@grep -E '^#   make' Makefile | sed 's/^#   //'

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if v == (3, 11) else \
		"Python 3.11 is needed (the pinned constraints.txt is tested on 3.11 only); got %d.%d. " \
		"Run: make PYTHON=python3.11 ..." % v)'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[book,test,tune]"
	@touch $(STAMP)

venv: $(STAMP)

# The committed outputs are the book (execute_notebooks: "off"): `make notebooks`
# executes the chapters, `make test` (nbval) proves the outputs still reproduce.
book: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "Open $(CURDIR)/_build/html/index.html"

# Two pytest workers (one notebook or test file each at a time, cells in order):
# the small TensorFlow models here leave a core idle, so this nearly halves the run.
PYTEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python scripts/chapter_map.py --check
	$(BIN)/python -m pytest tests notebooks --ignore=tests/html -n $(PYTEST_WORKERS) --dist loadfile --nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg \
		-p no:cacheprovider --durations=15

test-fast: $(STAMP)
	$(BIN)/python -m pytest tests --ignore=tests/html -m "not notebook" -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff check --select E501 --line-length 79 notebooks
	$(BIN)/nbqa ruff notebooks --ignore=E402,B018,I001
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

# Re-execute the committed notebooks in place at their default parameters
# (NB=notebooks/04_circles.ipynb for one), then refresh the chapter map's run times.
NB ?= notebooks/*.ipynb
notebooks: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=3600 $(NB)
	$(BIN)/python scripts/chapter_map.py >/dev/null

# The reader's view, checked like a product: build the HTML from the committed
# (nbval-verified) outputs without re-executing, run the link check (external
# links are reported as unverified when offline), then open every page in
# headless Chromium. Screenshots land in _build/screenshots/.
check-html: $(STAMP)
	scripts/ensure_chromium.sh
	$(BIN)/jupyter-book build . --all --warningiserror --nitpick --keep-going
	$(BIN)/python scripts/linkcheck.py --config _config.yml
	$(BIN)/python -m pytest tests/html -p no:cacheprovider

lab: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[lab]"
	$(BIN)/jupyter lab notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

benchmark: $(STAMP)  # fast_fit vs fit; also: benchmarks/bench_book_execution.py, bench_cifar_runner.py
	$(BIN)/python benchmarks/bench_fast_fit.py

# Mutation testing (not part of `make test`): mutmut mutates the helpers that hold logic
# testable without training (scope: [tool.mutmut] in pyproject.toml and SCOPE in the
# script), runs the fast unit tests against each mutant in ./mutants, and the script
# scores (killed + allow-listed) / total against tests/mutation_allowlist.txt.
# About 6 minutes on 2 cores; MUTATION_ARGS="--no-run" rescores the last run.
MUTATION_ARGS ?=
mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[mutation]"
	$(BIN)/python scripts/mutation_score.py $(MUTATION_ARGS)

# The rest of src/helpers (training, models, searches, studies: TensorFlow tests, not
# forkable, ~18,000 mutants) is estimated from a uniform sample, each drawn mutant run
# against its module's tests in a fresh process; resumable, writes
# results/mutation/sample.json, which `make mutation` folds into the package's score.
# About 40 s a mutant on 2 cores (two at a time). SAMPLE_ARGS="--n 80 --seed 1" for another sample.
SAMPLE_ARGS ?=
mutation-sample: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[mutation]"
	$(BIN)/python scripts/mutation_sample.py $(SAMPLE_ARGS)

# Regenerate the pinned constraints from the current environment.
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf _build .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
