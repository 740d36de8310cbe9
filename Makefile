# Two commands do all the set-up: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

.PHONY: run test venv browser pg-extensions check-deploy bench clean-embedded

venv: $(STAMP)

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

# Debian's chromium drives the browser tests (Playwright never downloads a browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: install Debian's chromium package for the browser tests"; fi; }

# plpgsql_check for the dependency oracle (tests/engines_deps/oracle.py checks every PL/pgSQL
# body with it), for each Debian PostgreSQL server on the machine; the embedded server has none.
pg-extensions:
	@for dir in /usr/lib/postgresql/*/bin/postgres; do \
	  [ -x "$$dir" ] || continue; v=$$(basename $$(dirname $$(dirname $$dir))); \
	  [ -e /usr/share/postgresql/$$v/extension/plpgsql_check.control ] && continue; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-$$v-plpgsql-check >/dev/null || true; \
	  else echo "plpgsql_check is missing: install Debian's postgresql-$$v-plpgsql-check for the dependency oracle tests"; fi; \
	done

run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput -v 0
	bash bin/run-dev

test: venv browser pg-extensions
	$(PY) -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

check-deploy: venv
	DATAFLOW_DEBUG=false DATAFLOW_SECRET_KEY=$$($(PY) -c 'import secrets;print(secrets.token_urlsafe(60))') \
	DATAFLOW_FERNET_KEYS=$$($(PY) -c 'from cryptography.fernet import Fernet;print(Fernet.generate_key().decode())') \
	DATAFLOW_ALLOWED_HOSTS=dataflow.example.com $(PY) manage.py check --deploy --fail-level WARNING

clean-embedded:
	$(PY) -c 'from pathlib import Path; from dataflow_site.embedded_pg import stop; stop(Path(".dataflow/pgdata"))'
