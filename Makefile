# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv and install everything.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Why pinned: torch 2.13.0 is a local CPU wheel here; any other torch requirement downloads a multi-GB CUDA build.
TORCH := torch==2.13.0

.PHONY: demo test lint install clean bench-quality bench-speed

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[train,plots,test,dbt,bench]'
	# psql is a client the server tests use (tests/test_server.py fails, not skips, without it).
	command -v psql >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -q && apt-get install -y -q postgresql-client; } \
		|| echo "WARNING: psql missing; install postgresql-client (as root) for tests/test_server.py"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/transactions/demo.py

# Why two workers (pytest-xdist): most tests wait on one core (subprocess starts, imports, servers); two halve the
# suite's time on 2 cores. Why not three: the cores are already 185-190% busy, and three measured within the
# run-to-run noise (fresh clones: 883 s against 902 s; worktrees: 875 s against 913-930 s). TEST_WORKERS=0 runs it
# in one process; --durations lists the 25 slowest tests.
TEST_WORKERS ?= 2

# Why bytecode is written (env -u PYTHONDONTWRITEBYTECODE, which a machine may set): the suite starts hundreds of
# processes that import the package, and each compiled its modules from source again (0.5 s CPU apiece), as each
# worker did its test files (collection 21 -> 7 s).
test: $(STAMP)
	$(BIN)/ruff check ad_duckdb tests examples bench
	$(BIN)/mypy
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --durations=25 tests

lint: $(STAMP)
	$(BIN)/ruff check ad_duckdb tests examples bench
	$(BIN)/mypy

bench-quality: $(STAMP)
	$(BIN)/python bench/quality.py

bench-speed: $(STAMP)
	$(BIN)/python bench/speed.py --quick

clean:
	rm -rf $(VENV) examples/transactions/out
