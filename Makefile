PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Test processes: most tests wait on servers they started, so more processes than cores pay (ADR 0009).
TEST_WORKERS ?= 3

.PHONY: run test typecheck bench bench-10m bench-http bench-hostile bench-scale clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m lading.entrypoints.demo

test: $(STAMP) typecheck
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --maxschedchunk 4

bench: $(STAMP)
	$(BIN)/python -m bench.run_engine --rounds $(or $(ROUNDS),1)

bench-10m: $(STAMP)
	$(BIN)/python -m bench.run_engine --rows 10000000 --formats csv --no-baseline --no-postgres

bench-scale: $(STAMP)
	$(BIN)/python -m bench.run_scale

bench-http: $(STAMP)
	$(BIN)/python -m bench.http_load

bench-hostile: $(STAMP)
	$(BIN)/python -m bench.hostile_inputs

clean:
	rm -rf $(VENV) var .pytest_cache

# mypy cannot follow setuptools' package-dir mapping, so it reads the layers through a small
# tree of links shaped like the installed package (ADR 0005).
typecheck: $(STAMP)
	rm -rf .typecheck && mkdir -p .typecheck/lading
	cp lading/__init__.py lading/py.typed .typecheck/lading/
	for d in domain application adapters entrypoints; do ln -s ../../$$d .typecheck/lading/$$d; done
	cd .typecheck && ../$(BIN)/mypy --config-file ../pyproject.toml -p lading.domain -p lading.application
