#!/usr/bin/env bash
# Deploy the current build to the named environment.
set -euo pipefail

target="${1:?usage: deploy.sh ENVIRONMENT}"
release="$(git rev-parse --short HEAD)"

case "$target" in
  staging|production) ;;
  *) echo "unknown environment: $target" >&2; exit 2 ;;
esac

# EXTRA_ENV: space-separated NAME=value settings passed in by the pipeline.
for setting in ${EXTRA_ENV:-}; do
  eval "export ${setting}"
done

echo "deploying $release to $target"
rsync -a --delete build/ "deploy@${target}.internal:/srv/app/releases/${release}/"
ssh "deploy@${target}.internal" "ln -sfn /srv/app/releases/${release} /srv/app/current"
ssh "deploy@${target}.internal" "sudo systemctl reload app"
