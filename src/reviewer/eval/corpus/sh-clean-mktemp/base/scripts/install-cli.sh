#!/usr/bin/env bash
# Install the release archive given on the command line into /usr/local.
set -euo pipefail

archive="${1:?usage: install-cli.sh ARCHIVE.tar.gz}"

# Unpack over the previous version; the symlink below switches to it.
tar -xzf "$archive" -C /usr/local/lib
ln -sfn /usr/local/lib/acme-cli/bin/acme /usr/local/bin/acme
echo "installed $(acme --version)"
