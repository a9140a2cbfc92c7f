# Vox: `make run` to try it, `make test` to test it.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# web worker processes for `make serve`: 2 per core, each serving one request at a time, so
# that one can run Python while another waits on the database (docs/workbench.md).
WEB_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) * 2 )))

.PHONY: install run serve worker beat test lint format migrate seed clean

# Vox, its test tools, and its Python client with the `vox` command (client/), which
# tests/client drives against a live server.
$(VENV)/.installed: pyproject.toml client/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Vox needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	$(PY) -m pip install -q -e client/
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	PORT=$(PORT) $(PY) manage.py seed_demo

# Embedded with no environment (SQLite, jobs on a thread in the server);
# with DATABASE_URL and REDIS_URL set, a Celery worker runs beside the server.
run: seed
	@if [ -n "$$REDIS_URL" ]; then \
		$(PY) -m celery -A config worker --loglevel=INFO --concurrency=2 & \
		trap "kill $$! 2>/dev/null" EXIT INT TERM; \
		$(PY) manage.py runserver $(HOST):$(PORT); \
	else \
		$(PY) manage.py runserver $(HOST):$(PORT); \
	fi

worker: install
	$(PY) -m celery -A config worker --loglevel=INFO

beat: install
	$(PY) -m celery -A config beat --loglevel=INFO --schedule var/celerybeat-schedule

# The production shape without Docker: granian, a Celery worker and beat.
serve: install
	@test -n "$$DATABASE_URL" -a -n "$$REDIS_URL" || { echo "make serve needs DATABASE_URL and REDIS_URL"; exit 2; }
	bin/serve $(HOST) $(PORT) $(WEB_WORKERS)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean:
	rm -rf $(VENV) var
