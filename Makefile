# The two set-up commands are `make demo` and `make test`; both install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
PACKAGES := sandbox tap-wave target-databricks-upsert webhook-relay
PYPROJECTS := pyproject.toml $(foreach p,$(PACKAGES),$(p)/pyproject.toml)
# Installs compile bytecode up front (this one, and Meltano's plugin venvs, which use uv too), so
# every short-lived meltano/tap/target process starts fast even where PYTHONDONTWRITEBYTECODE is set.
export UV_COMPILE_BYTECODE := 1

# webhook-relay's status page test drives Debian's chromium (headless) through chromedriver.
BROWSER := /usr/bin/chromium /usr/bin/chromedriver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install install-test test lint demo bench chaos dist clean browser

install: $(STAMP)

# Tests and benches also bring pyspark (the Databricks simulator runs every statement through
# Spark's analyzer) and the test-only tools; `make demo` needs neither, so it does not install them.
install-test: $(TEST_STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/uv pip install --python $(BIN)/python --quiet -e './sandbox[analyzer]' -e '.[dev,test]'
	touch $(TEST_STAMP)

$(STAMP): $(PYPROJECTS) Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --python $(BIN)/python --quiet \
		$(foreach p,$(PACKAGES),-e ./$(p)) -e '.[dev]'
	touch $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy tap-wave/tap_wave target-databricks-upsert/target_databricks_upsert \
		webhook-relay/webhook_relay testkit

# Three workers (CI has two cores, but most tests wait on servers and subprocesses), a file's tests
# kept together so its module fixtures start once. TEST_WORKERS=0 runs them in one process.
TEST_WORKERS ?= 3
test: install-test lint browser
	$(BIN)/python -m pytest --durations=15 $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

browser: $(BROWSER)

$(BROWSER):
	$(SUDO) apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		chromium chromium-driver

demo: install
	$(BIN)/python -m bench.demo

bench: install-test
	$(BIN)/python -m bench

# kill -9 the project's run and the webhook relay at random moments, CHAOS_KILLS times each (a
# few in `make test`), and print what was lost or duplicated; CHAOS_SEED=<seed> replays a run.
# Then the relay's fuzz test with ten times the forged webhooks `make test` sends.
CHAOS_KILLS ?= 20
FUZZ_FORGED ?= 10000
FUZZ_AUTHENTIC ?= 1000
chaos: install-test
	$(BIN)/python -m bench.chaos --kills $(CHAOS_KILLS) $(if $(CHAOS_SEED),--seed $(CHAOS_SEED))
	WEBHOOK_FUZZ_FORGED=$(FUZZ_FORGED) WEBHOOK_FUZZ_AUTHENTIC=$(FUZZ_AUTHENTIC) \
		$(BIN)/python -m pytest -q -s -p no:cacheprovider tests/test_relay_fuzz.py

# The published packages, as PyPI gets them: an sdist and a wheel each (the wheel built from the
# sdist), checked with twine (metadata, README rendering). `make dist DIST=elsewhere` to choose.
DIST ?= dist
PUBLISHED := tap-wave target-databricks-upsert webhook-relay

dist: install-test
	rm -rf $(DIST)
	$(foreach p,$(PUBLISHED),$(BIN)/uv build --quiet --out-dir $(DIST) ./$(p) &&) true
	$(BIN)/twine check --strict $(DIST)/*

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache dist
