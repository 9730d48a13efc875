# The two commands a newcomer needs (see README):
#   make main   render every fixture job into out/ (embedded default, no services)
#   make test   ruff, mypy and pytest
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: main test lint bench clean

$(STAMP): pyproject.toml
	@scripts/check-system-deps
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

main: $(STAMP)
	$(BIN)/letters render fixtures/jobs -o out/

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/render.py

clean:
	rm -rf $(VENV) out
