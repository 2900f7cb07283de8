#!/usr/bin/env bash
# Checks the files that ship reviewer into CI and deployments, offline:
#   - zizmor (GitHub Actions security audit): no finding of medium severity or higher in
#     action.yml, .github/workflows/ and examples/;
#   - check-jsonschema: workflows (and the Gitea/Forgejo example) against GitHub's workflow
#     schema, action.yml against the action schema, compose/ against the compose-spec schema (all
#     vendored in check-jsonschema), and the GitLab examples (examples/gitlab-*.yml) against
#     GitLab's CI schema as vendored in tests/data/gitlab-ci.schema.json;
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
# Every example is a GitHub Actions workflow (Gitea and Forgejo run the same format) except the
# GitLab ones, which GitLab's own schema checks (tests/deploy/shipfiles.py splits them the same way).
gitlab_files=(examples/gitlab-*.yml examples/gitlab-*.yaml)
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
for file in examples/*.yml examples/*.yaml; do
  [[ $file == examples/gitlab-* ]] || workflows+=("$file")
done
compose_files=(compose/*.yml compose/*.yaml)
shopt -u nullglob
if (( ${#workflows[@]} == 0 || ${#compose_files[@]} == 0 || ${#gitlab_files[@]} == 0 )) \
  || [[ ! -f action.yml ]]; then
  echo "check-ci-files: action.yml, workflows, GitLab examples or compose files are missing" >&2
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
# The same options as check-jsonschema's own gitlab-ci hook (`!reference` tags, GitLab's regexes).
$bin/check-jsonschema --schemafile tests/data/gitlab-ci.schema.json --data-transform gitlab-ci \
  --regex-variant nonunicode "${gitlab_files[@]}"

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
