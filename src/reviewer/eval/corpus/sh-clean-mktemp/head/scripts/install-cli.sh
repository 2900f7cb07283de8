#!/usr/bin/env bash
# Install the release archive given on the command line into /usr/local, after checking it
# against the SHA256SUMS file published beside it.
set -euo pipefail

archive="${1:?usage: install-cli.sh ARCHIVE.tar.gz SHA256SUMS}"
sums="${2:?usage: install-cli.sh ARCHIVE.tar.gz SHA256SUMS}"

work="$(mktemp -d)"
trap 'rm -rf -- "$work"' EXIT

cp -- "$archive" "$work/"
grep -F " $(basename -- "$archive")" "$sums" > "$work/SHA256SUMS"
(cd "$work" && sha256sum --check --strict SHA256SUMS)

tar -xzf "$work/$(basename -- "$archive")" -C /usr/local/lib
ln -sfn /usr/local/lib/acme-cli/bin/acme /usr/local/bin/acme
echo "installed $(acme --version)"
