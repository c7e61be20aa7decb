#!/usr/bin/env bash
# The conformance suite runs Microsoft's SCIM collection with newman, which needs Node.js and npm.
# Install them from Debian's packages when they are missing (as root), or say what to install.
set -euo pipefail
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Node.js/npm missing: installing Debian's nodejs and npm packages" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  exit 0
fi
echo "make test needs Node.js and npm (for newman): sudo apt-get install nodejs npm" >&2
exit 1
