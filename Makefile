# The two commands of the README: `make run` and `make test`. Only Python 3.11+ and make are needed.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
export FLASK_APP := wsgi.py

.PHONY: run run-prod test install install-dev migrate seed check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
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

TRIAL_DB    ?= gtac_trial
TRIAL_ENV   := instance/trial.env

## run-prod: the production set (Procfile: gunicorn, RQ workers, the scheduler) on this machine's
## PostgreSQL (database $(TRIAL_DB), trust auth) and Redis, with demo data and generated secrets
## kept in $(TRIAL_ENV); the sandbox payments provider stands in for the bank. For a trial only.
run-prod: install
	@mkdir -p instance
	@[ -f $(TRIAL_ENV) ] || { \
	  echo "SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(48))')"; \
	  echo "PAYMENTS_WEBHOOK_SECRET=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(32))')"; \
	  echo "PAYEE_ENCRYPTION_KEYS=$$($(BIN)/flask payments generate-key)"; \
	  echo "SR_WEBHOOK_SECRET_KEYS=$$($(BIN)/flask srs generate-key)"; \
	  echo "INTEGRATION_SECRET_KEYS=$$($(BIN)/flask srs generate-key)"; \
	  echo "METRICS_TOKEN=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(24))')"; \
	  } > $(TRIAL_ENV)
	@psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$(TRIAL_DB)'" | grep -q 1 \
	  || createdb -h 127.0.0.1 -U postgres $(TRIAL_DB)
	set -a; . ./$(TRIAL_ENV); set +a; \
	export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/$(TRIAL_DB) REDIS_URL=redis://127.0.0.1:6379/0; \
	$(BIN)/flask db upgrade && $(BIN)/flask demo seed && \
	export GTAC_ENV=production PAYMENTS_SANDBOX_URL=http://127.0.0.1:$(SANDBOX_PORT) \
	  PROMETHEUS_MULTIPROC_DIR=$$(mktemp -d) PATH=$(CURDIR)/$(BIN):$$PATH; \
	$(BIN)/python -m sandbox --port $(SANDBOX_PORT) --secret "$$PAYMENTS_WEBHOOK_SECRET" \
	  --webhook-url http://127.0.0.1:8000/webhooks/payments/sandbox & \
	sandbox=$$!; trap 'kill $$sandbox 2>/dev/null' EXIT INT TERM; \
	$(BIN)/honcho start

## test: install the dev dependencies, check the import contracts (pyproject.toml), run the whole suite
test: install-dev
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## check: models and migrations agree on the configured database
check: install
	$(BIN)/flask db check

clean:
	rm -rf $(VENV) instance .pytest_cache
