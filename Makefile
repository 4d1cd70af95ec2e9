# The fast loop and CI's steps. PYTHON is the virtualenv's interpreter: `make lint PYTHON=/path/to/python`
# uses another one (the checkout still comes first on the import path).
PYTHON ?= .venv/bin/python
SOURCES := kb indexer web kb_cli tests bench
PACKAGES := kb indexer web kb_cli
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

.PHONY: install lint test test-fast check

# The README's test-suite install: a virtualenv with the test extra (pytest, ruff, mypy).
install:
	python3 -m venv .venv && .venv/bin/pip install -e '.[test]'

# Lint, format check and types; all three run, and any failure fails the step.
lint:
	@status=0; \
	echo "ruff check $(SOURCES)"; $(PYTHON) -m ruff check $(SOURCES) || status=1; \
	echo "ruff format --check $(SOURCES)"; $(PYTHON) -m ruff format --check $(SOURCES) || status=1; \
	echo "mypy $(PACKAGES)"; $(PYTHON) -m mypy $(PACKAGES) || status=1; \
	exit $$status

# The whole suite, the tests that load the real model included.
test:
	$(PYTHON) -m pytest

# Everything but the tests marked slow (the real model), defence (minutes of attacks) or browser (Chromium): the loop while editing.
test-fast:
	$(PYTHON) -m pytest -m "not slow and not defence and not browser"

check: lint test
