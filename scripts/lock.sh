#!/usr/bin/env bash
# Re-pins every dependency after a change to pyproject.toml's ranges: requirements-test-lock.txt (the
# package, its test extra and all they pull in; scripts/test.sh and CI install it) and requirements-lock.txt
# (the runtime subset at the same versions; the Dockerfile installs it). Commit both files.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || python3 -m venv .venv
[ -x .venv/bin/uv ] || .venv/bin/python -m pip install -q uv
compile=(.venv/bin/uv pip compile pyproject.toml --universal --python-version 3.11 --quiet "$@")
"${compile[@]}" --extra test -o requirements-test-lock.txt
"${compile[@]}" -c requirements-test-lock.txt -o requirements-lock.txt
