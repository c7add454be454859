PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench bench-10m bench-http bench-hostile clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m lading.entrypoints.demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python -m bench.run_engine

bench-10m: $(STAMP)
	$(BIN)/python -m bench.run_engine --rows 10000000 --formats csv --no-baseline

bench-http: $(STAMP)
	$(BIN)/python -m bench.http_load

bench-hostile: $(STAMP)
	$(BIN)/python -m bench.hostile_inputs

clean:
	rm -rf $(VENV) var .pytest_cache
