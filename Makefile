# The door to every routine. `make run` and `make test` work on a fresh clone: each creates the virtualenv
# and installs what it needs. Nothing else has to be installed or started for them.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTEST_ARGS ?=

.PHONY: run test lint format check messages docs screenshots prod-smoke bench bench-catalog bench-review bench-curation bench-mirror bench-inspect bench-load clean

$(VENV)/.installed-runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed-runtime
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## Set up, load demo data and start the portal (web + Celery worker + beat + offline dev Hub).
run: $(VENV)/.installed-runtime
	$(PY) manage.py migrate --noinput
	$(PY) manage.py loaddemo
	$(PY) manage.py loadcatalogdemo
	$(PY) manage.py runportal 127.0.0.1:8000

## Set up and run the whole test suite (SQLite and a filesystem broker unless DATABASE_URL/CELERY_BROKER_URL say otherwise).
test: $(VENV)/.installed-dev
	HF_HUB_DISABLE_XET=1 $(VENV)/bin/pytest -n auto $(PYTEST_ARGS)

## Lint, format check and the architecture contracts of .importlinter (one-way dependencies, no cycles).
lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check: $(VENV)/.installed-dev
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

## Gather the translatable strings of the product into locale/fr/LC_MESSAGES/django.po and compile it (.mo,
## committed so that `make run` needs no GNU gettext). Needs gettext's xgettext and msgfmt.
messages: $(VENV)/.installed-dev
	$(PY) manage.py makemessages -l fr --no-obsolete --no-location --ignore=.venv --ignore=var --ignore=docs --ignore=tests --ignore=bench --ignore=devhub
	$(PY) manage.py compilemessages -l fr --ignore=.venv

## The documentation site (docs/, mkdocs.yml), built strictly into var/site: a broken link or a missing page fails.
docs: $(VENV)/.installed-dev
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

## Take the guides' screenshots again from a demo of their own (free ports, its own var folder), one demo per
## language: docs/images/en/ and docs/images/fr/. One language: `make screenshots SCREENSHOT_LANGUAGES=fr`.
SCREENSHOT_LANGUAGES ?= en fr
screenshots: $(VENV)/.installed-dev
	for lang in $(SCREENSHOT_LANGUAGES); do HF_HUB_DISABLE_XET=1 $(PY) docs/scripts/screenshots.py --lang $$lang || exit 1; done

## The production stack on this machine (gunicorn, a worker per queue, beat, Redis, PostgreSQL, dev Hub, DEBUG off)
## driven over HTTP from the form to publication; stops all it started. Needs PostgreSQL (SMOKE_DATABASE_SERVER).
prod-smoke: $(VENV)/.installed-dev
	HF_HUB_DISABLE_XET=1 $(PY) -m devhub.prod_smoke

bench: bench-review bench-review-page bench-curation bench-catalog bench-mirror bench-inspect bench-load

bench-review: $(VENV)/.installed-dev
	$(PY) bench/review_queue.py

bench-review-page: $(VENV)/.installed-dev
	$(PY) bench/review_page.py

bench-curation: $(VENV)/.installed-dev
	$(PY) bench/curation_dashboard.py

bench-catalog: $(VENV)/.installed-dev
	$(PY) bench/catalog.py

bench-mirror: $(VENV)/.installed-dev
	$(PY) bench/mirror.py

bench-inspect: $(VENV)/.installed-dev
	$(PY) bench/inspection.py

bench-load: $(VENV)/.installed-dev
	HF_HUB_DISABLE_XET=1 $(PY) bench/load.py

clean:
	rm -rf var/ .pytest_cache .ruff_cache
