# Shegong — the two commands a newcomer needs are `make start` and `make test`.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
PYTHON ?= python3
UV := $(PYTHON) -m uv
VENV := .venv/bin
HOST ?= 127.0.0.1:8000
# every process logs in the platform's time zone (settings.TIME_ZONE)
export TZ := Asia/Shanghai

.PHONY: start install setup run test test-fast lint format check-deploy messages test-deps vendor clean spreadsheet-fixtures screenshots

## start: install everything, set up SQLite with Chongqing's divisions and demo users, serve
## (gunicorn, and beside it the background worker that runs imports; both stop together)
start: install
	SHEGONG_DEMO=1 $(VENV)/shegong setup --demo
	@echo "Shegong is starting at http://$(HOST)/ (Ctrl+C to stop)"
	SHEGONG_DEMO=1 $(VENV)/shegong db_worker --no-reload & WORKER=$$!; \
	trap 'kill $$WORKER 2>/dev/null; wait $$WORKER 2>/dev/null' EXIT; \
	SHEGONG_DEMO=1 $(VENV)/gunicorn shegong.config.wsgi --bind $(HOST) --workers 2 --access-logfile - \
	  --access-logformat '%(t)s %(h)s "%(r)s" %(s)s %(b)s %(M)sms'

## install: Python 3.13 virtualenv with the locked dependencies (front-end files are vendored)
install:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	$(UV) sync --frozen

## test: the whole suite (unit, API, scope matrix, browser) on $DATABASE_URL or SQLite, then
## check the run's log ($TEST_LOG, var/test.log) holds no national ID (security.md 14)
TEST_LOG ?= var/test.log
test: install test-deps
	@mkdir -p $(dir $(TEST_LOG))
	$(VENV)/pytest --log-file=$(TEST_LOG) --log-file-level=INFO $(PYTEST_ARGS)
	$(VENV)/shegong logcheck $(TEST_LOG)

## test-fast: everything but the browser tests
test-fast: install
	$(VENV)/pytest -m "not e2e" $(PYTEST_ARGS)

## test-deps: Debian's Chromium and CJK fonts for the browser tests, LibreOffice Calc for the
## spreadsheet tests, GNU gettext for the translation-completeness test (installed if missing)
test-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK" \
	    || ! command -v soffice >/dev/null 2>&1 || ! command -v xgettext >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    chromium fonts-noto-cjk libreoffice-calc-nogui python3-uno gettext >/dev/null; \
	fi

## screenshots: the README's pictures (docs/screenshots/*.png), taken by the browser tests on
## the demo data
screenshots: install test-deps
	SHEGONG_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(VENV)/pytest -q -p no:cacheprovider \
	  tests/e2e/test_page_sweep.py -k screenshots

## spreadsheet-fixtures: remake tests/data/spreadsheets/*.xlsx with LibreOffice (see its README)
spreadsheet-fixtures: install test-deps
	/usr/bin/python3 tests/data/spreadsheets/make_fixtures.py

lint: install
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .

format: install
	$(VENV)/ruff format .
	$(VENV)/ruff check --fix .

## check-deploy: Django's deployment checks with production settings
check-deploy: install
	SHEGONG_PRODUCTION=1 SHEGONG_SECRET_KEY=$$($(VENV)/python -c "import secrets; print(secrets.token_urlsafe(64))") \
	  SHEGONG_ENCRYPTION_KEYS=$$($(VENV)/python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())") \
	  SHEGONG_LOOKUP_KEY=$$($(VENV)/python -c "import secrets; print(secrets.token_hex(32))") \
	  SHEGONG_AUDIT_KEY=$$($(VENV)/python -c "import secrets; print(secrets.token_hex(32))") \
	  SHEGONG_ALLOWED_HOSTS=shegong.example.gov.cn SHEGONG_DATA_DIR=$$(mktemp -d) \
	  $(VENV)/shegong check --deploy --fail-level WARNING

## messages: refresh and compile the Chinese translation (needs GNU gettext)
messages:
	cd src/shegong && ../../$(VENV)/shegong makemessages -l zh_Hans --no-obsolete --add-location file
	cd src/shegong && ../../$(VENV)/shegong compilemessages -l zh_Hans

vendor:
	./scripts/vendor.sh

clean:
	rm -rf .venv var .pytest_cache
