# Yiyang — the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
TOOLS := .venv-tools
UV := $(TOOLS)/bin/uv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install install-dev demo test test-browser fuzz lint bench serve clean messages

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

# Runtime dependencies from the lock file, compiled translations, static assets. The
# stamp makes a second `make install` (or `make test`) a no-op until one of its inputs
# changes, so that .ci/run can run two suites at once without two installs racing.
STAMP := $(VENV)/.yiyang-installed
INSTALL_INPUTS := pyproject.toml uv.lock Makefile $(wildcard yiyang/locale/*/LC_MESSAGES/*.po) \
	$(shell find yiyang -path '*/static/*' -type f 2>/dev/null)

install: $(STAMP)

$(STAMP): $(UV) $(INSTALL_INPUTS)
	$(UV) sync --frozen --python $(PYTHON) --no-dev --extra dev --quiet
	$(PY) -m yiyang.tools.compile_messages
	$(PY) manage.py collectstatic --noinput --verbosity 0
	touch $@

install-dev: install

demo: install
	$(PY) -m yiyang.cli demo

test: install
	$(PY) -m yiyang.tools.runtests

# Only the browser tests (Playwright + Debian's Chromium, tests/browser/).
test-browser: install
	$(PY) -m pytest tests/browser -q -p no:cacheprovider

# Only the API fuzz (tests/fuzz/, Schemathesis; also part of `make test`). A longer run:
# `make fuzz FUZZ_EXAMPLES=200` (generated requests per operation and role).
fuzz: install
	$(PY) -m pytest tests/fuzz -q -p no:cacheprovider

lint: install
	$(VENV)/bin/ruff check yiyang bench tests
	$(VENV)/bin/ruff format --check yiyang bench tests
	$(VENV)/bin/mypy yiyang
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

bench: install
	$(PY) -m bench

serve: install
	$(VENV)/bin/yiyang serve

messages: install
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore ".venv*"

clean:
	rm -rf $(VENV) $(TOOLS) var/static
