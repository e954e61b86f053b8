# Yiyang — the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
TOOLS := .venv-tools
UV := $(TOOLS)/bin/uv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install install-dev demo test test-browser lint bench serve clean messages

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

# Runtime dependencies from the lock file, compiled translations, static assets.
install: $(UV)
	$(UV) sync --frozen --python $(PYTHON) --no-dev --extra dev --quiet
	$(PY) -m yiyang.tools.compile_messages
	$(PY) manage.py collectstatic --noinput --verbosity 0

install-dev: install

demo: install
	$(PY) -m yiyang.cli demo

test: install
	$(PY) -m yiyang.tools.runtests

# Only the browser tests (Playwright + Debian's Chromium, tests/browser/).
test-browser: install
	$(PY) -m pytest tests/browser -q -p no:cacheprovider

lint: install
	$(VENV)/bin/ruff check yiyang bench tests
	$(VENV)/bin/ruff format --check yiyang bench tests
	$(VENV)/bin/mypy yiyang
	$(PY) manage.py makemigrations --check --dry-run

bench: install
	$(PY) -m bench

serve: install
	$(VENV)/bin/yiyang serve

messages: install
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore ".venv*"

clean:
	rm -rf $(VENV) $(TOOLS) var/static
