# The README's two commands: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: run test lint format bench bench-web browser-deps diagram-deps clean venv screenshots messages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

## make run: upgrade the database, seed the demo clinic once, serve on http://127.0.0.1:8000.
## A second `make run` keeps the data (LDNKIT_DATABASE_URL picks another database).
## The demo serves the CDS Hooks services as an open sandbox on loopback (logged at start);
## a real deployment lists its EHRs in LDNKIT_CDS_CLIENTS instead.
run: $(STAMP) diagram-deps
	$(BIN)/ldnkit db upgrade
	$(BIN)/ldnkit seed-demo --url http://127.0.0.1:8000
	LDNKIT_CDS_OPEN_SANDBOX=$${LDNKIT_CDS_OPEN_SANDBOX-1} $(BIN)/ldnkit serve --host 127.0.0.1 --port 8000 --no-upgrade-db

## Debian's chromium for the browser tests, installed only when missing (CI runs as root).
## Never a downloaded browser: Playwright drives /usr/bin/chromium.
browser-deps: diagram-deps
	@test -x /usr/bin/chromium || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

## Graphviz (`dot`) lays out the diagrams; installed from Debian when missing and we are root.
## Without it the app still runs and shows every diagram as its text alternative.
diagram-deps:
	@command -v dot >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y graphviz; } || echo "note: Graphviz not installed (apt-get install graphviz); diagrams are shown as text"

## make test: lint, then the whole suite (unit, property, database, API, browser).
test: $(STAMP) browser-deps
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/engine.py

bench-web: $(STAMP)
	$(BIN)/python benchmarks/web.py

## make screenshots: the phone and desktop screenshots in docs/img/web/ (docs/web.md shows them).
screenshots: $(STAMP) browser-deps
	$(BIN)/python -m tests.web.screenshots

## make messages: extract the patient-facing text (babel.cfg) and merge it into the Spanish
## catalogue; translate the new empty msgstr entries (tests/web/test_i18n.py fails until then).
## No compile step: ldnkit.i18n compiles the .po in memory at start-up.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output --project ldnkit -o src/ldnkit/locale/messages.pot .
	$(BIN)/pybabel update -i src/ldnkit/locale/messages.pot -d src/ldnkit/locale -D messages -l es --width 100 --ignore-obsolete --no-fuzzy-matching

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache test-artifacts
