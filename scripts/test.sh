#!/usr/bin/env bash
# Installs everything the test suite needs into .venv, checks lint, formatting and types, then runs the suite with
# pytest. Extra arguments go to pytest (quick local loop: -m "not slow and not browser").
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian chromium for the browser tests..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# The pinned set (scripts/lock.sh writes it from pyproject.toml's ranges), then the project itself on top.
.venv/bin/python -m pip install -q -r requirements-test-lock.txt
.venv/bin/python -m pip install -q --no-deps -e .
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
# One pytest worker more than there are cores (each with its own databases): much of the suite waits on
# servers, subprocesses and the browser, and on 2 cores 3 workers ran it in 615 s where 2 took 882 s.
# Files stay whole on one worker, so a module's session fixtures (a live site, a search server) are built
# once per worker at most.
exec .venv/bin/python -m pytest -n "${FAIRMARKET_TEST_WORKERS:-$(($(nproc) + 1))}" --dist loadfile "$@"
