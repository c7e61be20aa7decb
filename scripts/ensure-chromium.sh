#!/usr/bin/env bash
# The browser tests drive Debian's Chromium with playwright (from PyPI; playwright's own browser
# download cannot work offline). Install Chromium from Debian's packages when it is missing (as
# root), or say what to install.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Chromium missing: installing Debian's chromium package for the browser tests" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "make test needs Chromium for the browser tests: sudo apt-get install chromium" >&2
exit 1
