#!/usr/bin/env bash
# Set up bench/gateway_overhead: wrk (Debian) and the LiteLLM proxy in its own venv.
# Usage: bash bench/gateway_overhead/setup.sh   (idempotent)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bench="$(dirname "$here")"
venv="$bench/.venv-litellm"
python="${PYTHON:-python3}"

if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq wrk
  else
    echo "wrk is missing: install it (Debian/Ubuntu: sudo apt-get install -y wrk)" >&2
    exit 1
  fi
fi
command -v taskset >/dev/null 2>&1 || { echo "taskset (util-linux) is missing" >&2; exit 1; }

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q \
  -r "$bench/requirements-litellm.txt" -c "$bench/requirements-litellm.lock.txt"

# litellm[proxy] must not pull torch (or any CUDA wheel) into the venv.
if "$venv/bin/python" -m pip list 2>/dev/null | grep -iqE '^(torch|nvidia-)'; then
  echo "torch or CUDA wheels ended up in $venv: refusing" >&2
  exit 1
fi
echo "litellm $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))') ready in $venv"
