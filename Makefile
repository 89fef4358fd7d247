# The two commands of the README: `make run` and `make test`. Only Python 3.11+ and make are needed.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
export FLASK_APP := wsgi.py

.PHONY: run test install install-dev migrate seed check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

# The browser tests inject the axe-core accessibility engine (package.json) into the pages they check.
$(VENV)/.installed-dev: $(VENV)/.installed package.json package-lock.json
	$(BIN)/pip install --quiet -e '.[dev]'
	if command -v npm >/dev/null; then npm ci --no-audit --no-fund --silent; \
	else echo "npm not found: the accessibility checks of the browser tests cannot run"; fi
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask demo seed

SANDBOX_PORT ?= 5055

## run: migrate the embedded SQLite database, seed the demo data, serve on 127.0.0.1:$PORT,
## with the sandbox payments provider beside it (stopped when the server stops)
run: seed
	PAYMENTS_WEBHOOK_SECRET=$$($(BIN)/flask payments webhook-secret) $(BIN)/python -m sandbox --port $(SANDBOX_PORT) \
		--webhook-url http://127.0.0.1:$(PORT)/webhooks/payments/sandbox & \
	sandbox=$$!; trap 'kill $$sandbox 2>/dev/null' EXIT INT TERM; \
	PAYMENTS_SANDBOX_URL=http://127.0.0.1:$(SANDBOX_PORT) $(BIN)/flask run --host 127.0.0.1 --port $(PORT)

## test: install the dev dependencies, check the import contracts (pyproject.toml), run the whole suite
test: install-dev
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## check: models and migrations agree on the configured database
check: install
	$(BIN)/flask db check

clean:
	rm -rf $(VENV) instance .pytest_cache
