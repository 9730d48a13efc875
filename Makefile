# The two commands a newcomer needs (see README):
#   make main   run every fixture job through the whole pipeline in one process
#               (in-memory broker, SQLite ledger in var/, print batch in out/print/), as of
#               the fixtures' letter date (the pipeline refuses letters dated in the past) and
#               with the interest-rate confirmations the rehearsal assumes (fixtures/rules)
#   make test   ruff, mypy and pytest
# and, once set up, the quick loop while developing:
#   make quick  ruff, mypy, then pytest without the tests marked slow, stopping at the
#               first failure (make test still runs everything)
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: main test quick lint bench clean

$(STAMP): pyproject.toml
	@scripts/check-system-deps
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

main: $(STAMP)
	LETTERS_CLOCK_DATE=2026-11-20 LETTERS_REHEARSAL_RULES=fixtures/rules $(BIN)/letters run fixtures/jobs

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -n 2 --dist loadfile

quick: lint
	$(BIN)/pytest -n 2 --dist loadfile -m "not slow" -x

bench: $(STAMP)
	@$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/render.py

clean:
	rm -rf $(VENV) out
