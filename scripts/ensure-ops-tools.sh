#!/usr/bin/env bash
# What running enlist in production uses besides Python (docs/how-to/run-in-production.md), and
# what the tests of deploy/ run: `systemd-analyze` (Debian's systemd) checks the units in
# deploy/systemd/, and the `sqlite3` shell (Debian's sqlite3) takes deploy/enlist-backup's online
# copies of SQLite databases. Nothing is started. Install what is missing (as root), or say what
# to install.
set -euo pipefail
declare -A wanted=([systemd-analyze]=systemd [sqlite3]=sqlite3)
missing=()
for command in "${!wanted[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${wanted[$command]}")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's ${missing[*]} for deploy/ (systemd-analyze, sqlite3)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "enlist's deploy/ tools need Debian's ${missing[*]}: sudo apt-get install ${missing[*]}" >&2
exit 1
