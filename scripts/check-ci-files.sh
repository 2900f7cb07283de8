#!/usr/bin/env bash
# Checks the files that ship reviewer into CI and deployments, offline:
#   - zizmor (GitHub Actions security audit): no finding of medium severity or higher in
#     action.yml, .github/workflows/ and examples/;
#   - check-jsonschema: workflows against GitHub's workflow schema, action.yml against the action
#     schema, compose/ against the compose-spec schema (all vendored in check-jsonschema);
#   - `docker compose config` on the compose files, when the docker compose plugin is installed.
# Uses the tools in .venv/bin; installs the pinned versions there first if they are missing.
# Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

ZIZMOR_VERSION=1.32.0
CHECK_JSONSCHEMA_VERSION=0.39.0
bin=.venv/bin

if [[ ! -x $bin/zizmor || ! -x $bin/check-jsonschema ]]; then
  echo "check-ci-files: installing zizmor and check-jsonschema into .venv" >&2
  [[ -x $bin/python ]] || python3 -m venv .venv
  $bin/python -m pip install -q "zizmor==$ZIZMOR_VERSION" \
    "check-jsonschema==$CHECK_JSONSCHEMA_VERSION"
fi

shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml examples/*.yml examples/*.yaml)
compose_files=(compose/*.yml compose/*.yaml)
shopt -u nullglob
if (( ${#workflows[@]} == 0 || ${#compose_files[@]} == 0 )) || [[ ! -f action.yml ]]; then
  echo "check-ci-files: action.yml, workflows or compose files are missing" >&2
  exit 1
fi

echo "== zizmor (offline, medium and higher)"
# Files are named one by one: given a directory, zizmor only looks in .github/workflows.
$bin/zizmor --offline --config scripts/zizmor.yml --min-severity medium --no-progress \
  --color never action.yml "${workflows[@]}"

echo "== JSON Schemas"
$bin/check-jsonschema --builtin-schema vendor.github-workflows "${workflows[@]}"
$bin/check-jsonschema --builtin-schema vendor.github-actions action.yml
$bin/check-jsonschema --builtin-schema vendor.compose-spec "${compose_files[@]}"

if docker compose version >/dev/null 2>&1; then
  echo "== docker compose config"
  # The reviewer services have no default for these (compose/docker-compose.yml says why);
  # any values let compose interpolate the files, none of them is used.
  export REVIEWER_OUT="${REVIEWER_OUT:-$PWD}" REVIEWER_UID="${REVIEWER_UID:-10001}" \
    REVIEWER_GID="${REVIEWER_GID:-10001}"
  # Override files only make sense on top of the base file.
  for file in "${compose_files[@]}"; do
    case "$file" in
      *.override.y*ml) docker compose -f compose/docker-compose.yml -f "$file" config --quiet ;;
      *) docker compose -f "$file" config --quiet ;;
    esac
  done
else
  echo "== docker compose config: skipped (the docker compose plugin is not installed)"
fi
echo "check-ci-files: ok"
