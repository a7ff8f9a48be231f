# Two commands for a new user: `make run` (the main job) and `make test` (every test).
# Both create .venv and install the pinned dependencies on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SERVICES := $(wildcard services/*/pyproject.toml)

.PHONY: install run test lint bench clean stack-down

$(STAMP): requirements.lock requirements-test.txt $(SERVICES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock \
		-e 'services/common[stack]' $(foreach s,$(filter-out services/common/%,$(SERVICES)),-e $(dir $(s))) \
		-r requirements-test.txt
	scripts/fetch-promtool $(BIN)
	$(BIN)/lznews-stack fetch-kafka
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/lznews-run $(if $(OFFLINE),--offline,)

test: install
	$(BIN)/ruff check .
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/run_all.py

stack-down:
	$(BIN)/lznews-stack down

clean:
	rm -rf $(VENV) .lznews
