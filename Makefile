# The two commands of the README: `make run` (set up, crawl once into SQLite) and
# `make test` (set up, start the local services the tests use, lint, run the tests).
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: run test demo lint format bench services clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The health table is what one wants after failures too: shown whatever the crawl's exit
# status (see `newswatch crawl --help`), which `make run` then returns.
run: $(BIN)/.installed
	$(BIN)/newswatch crawl; status=$$?; $(BIN)/newswatch sources; exit $$status

demo: $(BIN)/.installed
	$(BIN)/newswatch demo --keep demo

test: $(BIN)/.installed services
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	NEWSWATCH_REQUIRE_POSTGRES=1 $(BIN)/python -m pytest

services:
	@bash scripts/services.sh
	@bash scripts/browser.sh

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(BIN)/.installed
	$(BIN)/python bench/crawl.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
