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

.PHONY: install install-test test lint demo bench clean

install: $(STAMP)

# Tests and benches also bring pyspark: the Databricks simulator runs every statement through
# Spark's analyzer. `make demo` does not start the simulator, so it does not install it.
install-test: $(TEST_STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/uv pip install --python $(BIN)/python --quiet -e './sandbox[analyzer]'
	touch $(TEST_STAMP)

$(STAMP): $(PYPROJECTS) Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --python $(BIN)/python --quiet \
		$(foreach p,$(PACKAGES),-e ./$(p)) -e '.[dev]'
	touch $(STAMP)

lint: install
	$(BIN)/ruff check .

test: install-test lint
	$(BIN)/python -m pytest

demo: install
	$(BIN)/python -m bench.demo

bench: install-test
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
