# Pustaka: `make run` runs the whole system embedded, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
CATALOGS := shared services/enrollment services/assessment services/notification

.PHONY: install run run-distributed test lint bench browser clean translations-update

$(INSTALLED): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

install: $(INSTALLED)
	@for catalog in $(CATALOGS); do $(BIN)/pybabel compile -d $$catalog/translations; done

run: install
	$(BIN)/pustaka run

run-distributed: install
	set -a && . deploy/distributed.env && set +a && $(BIN)/pustaka migrate && $(BIN)/pustaka seed
	$(BIN)/honcho -f deploy/Procfile -e deploy/distributed.env start

# Debian's chromium drives the browser test; a test tool's own browser download cannot be used.
browser:
	@command -v chromium >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium; }

lint: install
	$(BIN)/ruff check shared services tests
	$(BIN)/ruff format --check shared services tests

test: install browser lint
	$(BIN)/pytest

bench: install
	PUSTAKA_BENCH_SCALE=full $(BIN)/pytest -s -q tests/benchmarks

clean:
	rm -rf $(VENV) var

# After changing user-visible text: refresh every catalog, then translate the new entries.
KEYWORDS := -k _l -k N_ -k N_plural:1,2 -k NotFound -k Conflict -k Invalid -k Unauthorized -k Forbidden
translations-update: install
	@for catalog in $(CATALOGS); do \
		$(BIN)/pybabel extract -F babel.cfg $(KEYWORDS) -o $$catalog/translations/messages.pot $$catalog && \
		$(BIN)/pybabel update -i $$catalog/translations/messages.pot -d $$catalog/translations --no-fuzzy-matching && \
		rm $$catalog/translations/messages.pot; done
