# Two commands: `make dev` runs the local stack, `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: dev test test-unit test-integration bench bench-upload bench-bulk soak clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<26.3"
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

dev: $(STAMP)
	$(PY) -m infra.stack

# Two pytest processes: in-process moto (unit) and moto server (integration) must not share one.
test: test-unit test-integration

test-unit: $(STAMP)
	$(PY) -m pytest -m unit

test-integration: $(STAMP)
	$(PY) -m pytest -m "not unit"

bench: $(STAMP)
	$(PY) -m bench.pages

bench-upload: $(STAMP)
	$(PY) -m bench.upload --size-mib 1024 --rounds 3

bench-bulk: $(STAMP)
	$(PY) -m bench.bulk --files 200 --accounts 5

# Memory soak of the local stack (by hand, ~35 min): RSS samples, exact counts, SIGTERM time.
soak: $(STAMP)
	$(PY) -m bench.soak --minutes 30 --views 3000 --clients 8 --label after

clean:
	rm -rf $(VENV) .kadr .pytest_cache
