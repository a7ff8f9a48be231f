# Two commands for a new user: `make run` (the main job) and `make test` (every test).
# Both create .venv and install the pinned dependencies on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Every distribution under services/: lznews-common, the services, and lznews-devstack (the
# local stack, lznews-run and the fixture mirror; never in a service image).
SERVICES := $(wildcard services/*/pyproject.toml)

.PHONY: install run test lint bench eval clean stack-down

$(STAMP): requirements.lock requirements-test.txt $(SERVICES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock \
		$(foreach s,$(SERVICES),-e $(dir $(s))) \
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

# Accuracy on the real-page dev set (eval/devset/) against trafilatura and GNE; writes
# docs/accuracy.md. Not part of `make test`.
EVAL_STAMP := $(VENV)/.eval-stamp

$(EVAL_STAMP): requirements-eval.txt $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock \
		-r requirements-eval.txt
	touch $(EVAL_STAMP)

eval: install $(EVAL_STAMP)
	$(BIN)/python eval/accuracy.py

stack-down:
	$(BIN)/lznews-stack down

clean:
	rm -rf $(VENV) .lznews
