# The README's two commands: `make demo` and `make test`. Everything installs into .venv from
# pyproject.toml pinned with constraints.txt.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
ARGS ?=
# PostgreSQL of this machine kind (trust auth, database `test`): store and instance tests run there too
export COPILOT_FLOW_TEST_PG_URL ?= postgresql+psycopg2://postgres@127.0.0.1:5432/test
# --dist load, not loadgroup: pytest-xdist 3.8.0's loadgroup/loadscope schedulers hang for good when a
# crashed worker is replaced (pytest-dev/pytest-xdist#1323, #1378); `load` reports the crash as a failure
# and goes on. No test uses xdist_group.
PYTEST_WORKERS ?= 2

.PHONY: install demo test bench lint screenshot clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

demo: install
	$(PY) -m copilot_flow.demo $(ARGS)

test: install
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist load $(ARGS)

bench: install
	@if [ -f bench/run_small.py ]; then $(PY) -m bench.run_small; \
	else echo "bench/ scripts are not written yet (issue 9); see docs/benchmarks.md" >&2; exit 2; fi

screenshot: install
	bash scripts/screenshot.sh

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .copilot-flow .pytest_cache
