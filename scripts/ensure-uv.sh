#!/usr/bin/env bash
# Put uv (from PyPI) at .tools/bin/uv when it is not on PATH: in a venv when Python has one, else
# with pip --target (Debian's python3 without python3-venv).
set -euo pipefail
python="${1:-python3}"
if "$python" -m venv .tools >/dev/null 2>&1 && [ -x .tools/bin/pip ]; then
  .tools/bin/pip install --quiet --disable-pip-version-check uv
  exit 0
fi
rm -rf .tools
"$python" -m pip install --quiet --disable-pip-version-check --target .tools/lib uv
mkdir -p .tools/bin
ln -sf ../lib/bin/uv .tools/bin/uv
