#!/usr/bin/env bash
# Installs reviewer into a fresh virtualenv with nothing decided at install time:
#   install-reviewer.sh PYTHON VENV
# Every dependency comes from requirements/action.txt (exact versions, sha256 of each file) as a
# wheel, without the resolver (--no-deps); reviewer itself is built from this checkout by the
# build backend pinned in requirements/build.txt, in a separate throwaway virtualenv, and the
# wheel is installed with --no-index --no-deps. A file that does not match its hash, a missing
# pin or an sdist stops the install. Used by action.yml and the Dockerfile.
# Regenerate the locks with scripts/lock-action-deps.sh.
set -euo pipefail
if (( $# != 2 )); then
  echo "usage: install-reviewer.sh PYTHON VENV" >&2
  exit 2
fi
python=$1
venv=$2
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
# Start from nothing: `python -m venv` keeps what a directory already holds, and a .pth file or
# sitecustomize.py planted there by code that ran earlier in the job would run in every later
# step that uses this virtualenv, the token-holding post step included.
rm -rf "$venv"
# Dependencies: only wheels whose sha256 is in the lock, at the locked versions, no resolver.
"$python" -m venv "$build/venv"
"$build/venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes \
  --no-deps --only-binary=:all: -r "$root/requirements/build.txt"
"$build/venv/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps \
  --no-build-isolation --no-index --wheel-dir "$build/dist" "$root"

"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes \
  --no-deps --only-binary=:all: -r "$root/requirements/action.txt"
# reviewer itself: the wheel just built from this checkout, from no index. The distribution is
# reviewer-ci (pyproject.toml), so the wheel is reviewer_ci-VERSION-py3-none-any.whl.
wheels=("$build"/dist/reviewer_ci-*.whl)
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index --no-deps \
  "${wheels[0]}"
"$venv/bin/reviewer" --version
